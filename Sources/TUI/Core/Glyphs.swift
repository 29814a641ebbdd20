/// Every non-ASCII glyph the dashboard draws, with an ASCII fallback for terminals that
/// cannot show them (`Glyphs.current` is chosen at start-up).
public struct Glyphs: Sendable {
    public var horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: String
    /// Sparkline levels, lowest first.
    public var levels: [String]
    /// Bar fill: full block and eighths for partial cells (ASCII has no eighths).
    public var barFull: String
    public var barPartials: [String]
    public var barEmpty: String
    public var slotBusy, slotFree, slotWaiting: String
    public var ellipsis: String
    public var arrowUp, arrowDown, pointer: String

    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        levels: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        barFull: "█", barPartials: ["▏", "▎", "▍", "▌", "▋", "▊", "▉"], barEmpty: "░",
        slotBusy: "■", slotFree: "□", slotWaiting: "·", ellipsis: "…", arrowUp: "▲", arrowDown: "▼", pointer: "▶")

    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        levels: ["_", ".", "-", "=", "+", "*", "#", "@"],
        barFull: "#", barPartials: [], barEmpty: ".",
        slotBusy: "#", slotFree: "o", slotWaiting: ".", ellipsis: "~", arrowUp: "^", arrowDown: "v", pointer: ">")
}

/// Truncates `text` to `width` columns, ending with an ellipsis when it had to cut.
public func truncate(_ text: String, to width: Int, glyphs: Glyphs) -> String {
    guard width > 0 else { return "" }
    if CellWidth.of(text) <= width { return text }
    var out = ""
    var used = 0
    let room = width - CellWidth.of(glyphs.ellipsis)
    for character in text {
        let w = CellWidth.of(character)
        if used + w > room { break }
        out.append(character)
        used += w
    }
    return out + glyphs.ellipsis
}

/// Pads `text` with spaces to `width` columns (after truncating it), aligned as asked.
public func pad(_ text: String, to width: Int, right: Bool = false, glyphs: Glyphs) -> String {
    let t = truncate(text, to: width, glyphs: glyphs)
    let gap = String(repeating: " ", count: max(0, width - CellWidth.of(t)))
    return right ? gap + t : t + gap
}

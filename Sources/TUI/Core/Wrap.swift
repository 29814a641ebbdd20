/// Word-wraps `text` to `width` columns.
public func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        let w = String(word)
        if line.isEmpty {
            line = w
        } else if CellWidth.of(line) + 1 + CellWidth.of(w) <= width {
            line += " " + w
        } else {
            lines.append(line)
            line = w
        }
        while CellWidth.of(line) > width {
            lines.append(String(line.prefix(width)))
            line = String(line.dropFirst(width))
        }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

/// Word-wraps each line; empty lines stay (paragraph breaks).
public func wrapLines(_ lines: [String], width: Int) -> [String] {
    lines.flatMap { $0.isEmpty ? [""] : wrap($0, width: width) }
}

/// The footer: keys and what they do, `q quit  ? help  space pause`, most important first.
/// What does not fit is left out, never cut in the middle; a later, shorter hint may still
/// fit, and the `pinned` key (help, which lists the rest) is always kept.
public struct KeyHints: Widget {
    public var hints: [(key: String, action: String)]
    public var pinned: String?
    public init(_ hints: [(key: String, action: String)], pinned: String? = "?") {
        self.hints = hints
        self.pinned = pinned
    }

    static func width(_ hint: (key: String, action: String)) -> Int { CellWidth.of(hint.key) + CellWidth.of(hint.action) + 3 }

    /// The hints that fit in `width` columns, in their order (each takes its width and a
    /// space after it, which the last one may lack).
    public func fitting(_ width: Int) -> [(key: String, action: String)] {
        var left = width + 1 - hints.filter { $0.key == pinned }.map { Self.width($0) + 1 }.reduce(0, +)
        var keep = [Bool](repeating: false, count: hints.count)
        for (i, hint) in hints.enumerated() {
            if hint.key == pinned {
                keep[i] = left >= 0
            } else if Self.width(hint) + 1 <= left {
                keep[i] = true
                left -= Self.width(hint) + 1
            }
        }
        return hints.indices.filter { keep[$0] }.map { hints[$0] }
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        buffer.fill(area.row(0))
        var x = area.x
        for hint in fitting(area.width) {
            let need = Self.width(hint)
            if x + need > area.right { break }
            x += buffer.put(" \(hint.key) ", x: x, y: area.y, style: Theme.key, clip: area)
            x += buffer.put(" \(hint.action)", x: x, y: area.y, style: .plain, clip: area)
            x += 1
        }
    }
}

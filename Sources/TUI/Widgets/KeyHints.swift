/// The footer: keys and what they do, `q quit  ? help  space pause`, cut to fit.
public struct KeyHints: Widget {
    public var hints: [(key: String, action: String)]
    public init(_ hints: [(key: String, action: String)]) { self.hints = hints }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        buffer.fill(area.row(0))
        var x = area.x
        for hint in hints {
            let need = CellWidth.of(hint.key) + CellWidth.of(hint.action) + 3
            if x + need > area.right { break }
            x += buffer.put(" \(hint.key) ", x: x, y: area.y, style: Theme.key, clip: area)
            x += buffer.put(" \(hint.action)", x: x, y: area.y, style: .plain, clip: area)
            x += 1
        }
    }
}

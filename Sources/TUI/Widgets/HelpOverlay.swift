/// A modal box over the screen: a title and lines, closed by any key.
public struct HelpOverlay: Widget {
    public var title: String
    public var lines: [String]
    public var glyphs: Glyphs

    public init(title: String, lines: [String], glyphs: Glyphs) {
        self.title = title
        self.lines = lines
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let width = min(area.width, max(30, (lines.map { CellWidth.of($0) }.max() ?? 0) + 4))
        let box = area.centered(width: width, height: lines.count + 3)
        guard box.width >= 4, box.height >= 3 else { return }
        Panel(title, focused: true, glyphs: glyphs).render(in: box, into: &buffer)
        let inner = Panel.inner(box)
        for (i, line) in lines.prefix(inner.height - 1).enumerated() {
            buffer.put(truncate(line, to: inner.width - 1, glyphs: glyphs), x: inner.x + 1, y: inner.y + i, clip: inner)
        }
        buffer.put("press any key to close", x: inner.x + 1, y: inner.bottom - 1, style: Theme.label, clip: inner)
    }
}

/// The newest lines of a log, newest last, with a count of what is not shown.
public struct LogView: Widget {
    public var lines: [(text: String, style: Style)]
    /// Lines hidden below because the view is scrolled up.
    public var scrolledBack: Int
    /// Events that happened but are no longer kept.
    public var dropped: Int
    public var glyphs: Glyphs

    public init(lines: [(text: String, style: Style)], scrolledBack: Int = 0, dropped: Int = 0, glyphs: Glyphs) {
        self.lines = lines
        self.scrolledBack = scrolledBack
        self.dropped = dropped
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        let hidden = dropped + max(0, lines.count - scrolledBack - area.height + 1)
        let room = hidden > 0 ? area.height - 1 : area.height
        let end = max(0, lines.count - scrolledBack)
        let visible = lines[max(0, end - room)..<end]
        var y = area.y
        if hidden > 0 {
            buffer.put(
                truncate("\(glyphs.arrowUp) \(hidden) earlier events not shown", to: area.width, glyphs: glyphs),
                x: area.x, y: y, style: Theme.label, clip: area)
            y += 1
        }
        for line in visible {
            buffer.put(truncate(line.text, to: area.width, glyphs: glyphs), x: area.x, y: y, style: line.style, clip: area)
            y += 1
        }
    }
}

/// A bordered box with a title in the top edge; its content goes in `inner(area)`.
public struct Panel: Widget {
    public var title: String
    public var focused: Bool
    public var glyphs: Glyphs

    public init(_ title: String, focused: Bool = false, glyphs: Glyphs) {
        self.title = title
        self.focused = focused
        self.glyphs = glyphs
    }

    /// Where the content goes: the area inside the border.
    public static func inner(_ area: Rect) -> Rect { area.inset(1) }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard area.width >= 2, area.height >= 2 else {
            buffer.fill(area)
            return
        }
        let style = focused ? Theme.focusedBorder : Theme.border
        buffer.fill(area)
        let edge = String(repeating: glyphs.horizontal, count: area.width - 2)
        buffer.put(glyphs.topLeft + edge + glyphs.topRight, x: area.x, y: area.y, style: style, clip: area)
        buffer.put(glyphs.bottomLeft + edge + glyphs.bottomRight, x: area.x, y: area.bottom - 1, style: style, clip: area)
        for y in (area.y + 1)..<(area.bottom - 1) {
            buffer.put(glyphs.vertical, x: area.x, y: y, style: style, clip: area)
            buffer.put(glyphs.vertical, x: area.right - 1, y: y, style: style, clip: area)
        }
        if !title.isEmpty, area.width > 4 {
            let text = truncate(" \(title) ", to: area.width - 2, glyphs: glyphs)
            buffer.put(text, x: area.x + 1, y: area.y, style: focused ? Theme.title.reversed() : Theme.title, clip: area)
        }
    }
}

/// " · text" for a pane title, or nothing.
public func titleNote(_ note: String?) -> String {
    note.map { " · \($0)" } ?? ""
}

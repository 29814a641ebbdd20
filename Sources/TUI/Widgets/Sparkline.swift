/// The recent history of a value in one row: `▁▂▄▇█▅▃`, newest at the right.
public struct Sparkline: Widget {
    public var values: [Double]
    /// The value drawn as a full block; nil scales to the largest value shown.
    public var maximum: Double?
    public var style: Style
    public var glyphs: Glyphs

    public init(_ values: [Double], maximum: Double? = nil, style: Style = Theme.accent, glyphs: Glyphs) {
        self.values = values
        self.maximum = maximum
        self.style = style
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        let shown = values.suffix(area.width)
        let top = maximum ?? shown.max() ?? 0
        var x = area.right - shown.count
        for value in shown {
            let level: String
            if top <= 0 || value <= 0 {
                level = " "
            } else {
                let i = min(glyphs.levels.count - 1, max(0, Int(saturating: (value / top * Double(glyphs.levels.count)).rounded(.up)) - 1))
                level = glyphs.levels[i]
            }
            buffer.put(level, x: x, y: area.y + area.height - 1, style: style, clip: area)
            x += 1
        }
    }
}

/// A horizontal bar of `value` out of `maximum`, with a label before and the numbers after:
/// `depth [██████▍     ] 37/64`. Turns yellow past 75% and red when full.
public struct Gauge: Widget {
    public var label: String
    public var value: Double
    public var maximum: Double
    public var text: String?
    public var glyphs: Glyphs

    public init(_ label: String, value: Double, maximum: Double, text: String? = nil, glyphs: Glyphs) {
        self.label = label
        self.value = value
        self.maximum = maximum
        self.text = text
        self.glyphs = glyphs
    }

    public var fraction: Double { maximum > 0 ? min(1, max(0, value / maximum)) : 0 }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        let numbers = text ?? "\(formatCount(value))/\(formatCount(maximum))"
        var x = area.x
        if !label.isEmpty {
            x += buffer.put(label + " ", x: x, y: area.y, style: Theme.label, clip: area)
        }
        let barWidth = area.right - x - CellWidth.of(numbers) - 1
        if barWidth >= 3 {
            let style = fraction >= 1 ? Theme.bad : fraction >= 0.75 ? Theme.warn : Theme.good
            x += Bar(fraction: fraction, glyphs: glyphs, style: style).draw(x: x, y: area.y, width: barWidth, into: &buffer, clip: area)
            x += 1
        }
        buffer.put(numbers, x: x, y: area.y, style: Theme.value, clip: area)
    }
}

/// The filled part of a gauge or progress bar, with eighth-cell precision where the glyphs
/// allow it.
public struct Bar {
    public var fraction: Double
    public var glyphs: Glyphs
    public var style: Style

    public init(fraction: Double, glyphs: Glyphs, style: Style) {
        self.fraction = fraction
        self.glyphs = glyphs
        self.style = style
    }

    @discardableResult
    public func draw(x: Int, y: Int, width: Int, into buffer: inout Buffer, clip: Rect) -> Int {
        guard width > 0 else { return 0 }
        let eighths = Int(saturating: (fraction * Double(width) * 8).rounded(.down))
        // A negative fraction (a hostile agent's depth of -1) draws an empty bar, not a trap.
        var full = min(width, max(0, eighths / 8))
        var partial = ""
        if !glyphs.barPartials.isEmpty, eighths % 8 > 0, full < width {
            partial = glyphs.barPartials[eighths % 8 - 1]
        } else if glyphs.barPartials.isEmpty, fraction > 0, full == 0 {
            full = 1  // ASCII: show at least one mark for anything above zero
        }
        let bar = String(repeating: glyphs.barFull, count: full) + partial
        let used = buffer.put(bar, x: x, y: y, style: style, clip: clip)
        buffer.put(String(repeating: glyphs.barEmpty, count: max(0, width - used)), x: x + used, y: y, style: Theme.border, clip: clip)
        return width
    }
}

/// 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.2M".
public func formatCount(_ value: Double) -> String {
    let v = abs(value)
    let sign = value < 0 ? "-" : ""
    if v < 10_000 { return sign + (v == v.rounded() ? String(Int(saturating: v)) : formatOne(v)) }
    if v < 1_000_000 { return sign + formatOne(v / 1000) + "k" }
    if v < 1_000_000_000 { return sign + formatOne(v / 1_000_000) + "M" }
    return sign + formatOne(v / 1_000_000_000) + "G"
}

/// One decimal place: 12.34 -> "12.3"; 3.0 -> "3".
public func formatOne(_ v: Double) -> String {
    let tenths = Int(saturating: (v * 10).rounded())
    return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(abs(tenths % 10))"
}

/// Nanoseconds as a short latency: 850ns, 12µs, 3.4ms, 1.2s.
public func formatNanos(_ nanos: UInt64) -> String {
    let n = Double(nanos)
    if n < 1_000 { return "\(nanos)ns" }
    if n < 1_000_000 { return formatOne(n / 1_000) + "µs" }
    if n < 1_000_000_000 { return formatOne(n / 1_000_000) + "ms" }
    return formatOne(n / 1_000_000_000) + "s"
}

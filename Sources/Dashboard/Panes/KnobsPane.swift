import AsyncPatterns
import TUI

/// The knobs of the running scenario, the selected one highlighted, with its range.
public struct KnobsPane: Widget {
    public var specs: [KnobSpec]
    public var values: [String: Double]
    public var selected: Int
    /// The speed line; nil for a source that runs on its own time.
    public var speed: Double?
    /// The last change, shown under the list ("consumers 2 -> 3").
    public var lastChange: String?
    public var focused: Bool
    public var glyphs: Glyphs

    public init(
        specs: [KnobSpec], values: [String: Double], selected: Int, speed: Double?, lastChange: String? = nil,
        focused: Bool = true, glyphs: Glyphs
    ) {
        self.specs = specs
        self.values = values
        self.selected = selected
        self.speed = speed
        self.lastChange = lastChange
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel("Knobs", focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        var y = inner.y
        for (i, spec) in specs.enumerated() where y < inner.bottom {
            let value = spec.format(values[spec.name] ?? spec.defaultValue)
            let isSelected = i == selected
            let marker = isSelected ? glyphs.pointer + " " : "  "
            let nameWidth = max(0, inner.width - 2 - CellWidth.of(value) - 1)
            let line = marker + pad(spec.name, to: nameWidth, glyphs: glyphs) + " " + value
            buffer.put(
                truncate(line, to: inner.width, glyphs: glyphs), x: inner.x, y: y,
                style: isSelected ? (focused ? Theme.selected : Theme.value) : .plain, clip: inner)
            y += 1
        }
        if y < inner.bottom, specs.indices.contains(selected) {
            let spec = specs[selected]
            buffer.put(
                truncate("  \(spec.rangeText) step \(spec.format(spec.step))", to: inner.width, glyphs: glyphs),
                x: inner.x, y: y, style: Theme.label, clip: inner)
            y += 1
        }
        if y < inner.bottom, let speed {
            buffer.put(
                truncate("  speed \(formatDecimal(speed))x", to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: Theme.label,
                clip: inner)
            y += 1
        }
        // Wrapped, not cut: "pause: not available for this source" must be read whole.
        for line in wrap(lastChange ?? "", width: inner.width - 2) where y < inner.bottom {
            buffer.put("  " + line, x: inner.x, y: y, style: Theme.accent, clip: inner)
            y += 1
        }
    }
}

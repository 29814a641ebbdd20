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
        // The last change is read whole ("not a time: ...", "pause: not available for this
        // source"): it takes the bottom rows first, wrapped; the list gets what is left and
        // scrolls to keep the selected knob in view, and the detail lines go last.
        let note = Array(wrap(lastChange ?? "", width: max(1, inner.width - 2)).prefix(max(1, inner.height - 1)))
        var detail: [String] = []
        if specs.indices.contains(selected) {
            let spec = specs[selected]
            detail.append("\(spec.rangeText) step \(spec.format(spec.step))")
            switch spec.timing {
            case .now: break
            case .nextRound: detail.append("from the next round")
            case .seedOnly: detail.append("seed preset only")
            }
        }
        if let speed { detail.append("speed \(formatDecimal(speed))x") }
        let listRows = min(specs.count, max(0, inner.height - note.count))
        let first = min(max(0, selected - listRows + 1), max(0, specs.count - listRows))
        var y = inner.y
        for i in specs.indices.dropFirst(first).prefix(listRows) {
            let spec = specs[i]
            let value = spec.format(values[spec.name] ?? spec.defaultValue)
            let isSelected = i == selected
            let marker = isSelected ? glyphs.pointer + " " : "  "
            let name = spec.name + (spec.timing.tag.map { " (\($0))" } ?? "")
            let nameWidth = max(0, inner.width - 2 - CellWidth.of(value) - 1)
            let line = marker + pad(name, to: nameWidth, glyphs: glyphs) + " " + value
            buffer.put(
                truncate(line, to: inner.width, glyphs: glyphs), x: inner.x, y: y,
                style: isSelected ? (focused ? Theme.selected : Theme.value) : .plain, clip: inner)
            y += 1
        }
        for line in detail.prefix(max(0, inner.bottom - note.count - y)) {
            buffer.put(truncate("  " + line, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: Theme.label, clip: inner)
            y += 1
        }
        for line in note where y < inner.bottom {
            buffer.put("  " + line, x: inner.x, y: y, style: Theme.accent, clip: inner)
            y += 1
        }
    }
}

extension KnobTiming {
    /// The list's mark after a knob's name; nil for a knob that acts at once.
    var tag: String? {
        switch self {
        case .now: nil
        case .nextRound: "next"
        case .seedOnly: "seed"
        }
    }
}

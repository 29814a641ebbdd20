import AsyncPatterns
import TUI

/// Loop lag (how late the heartbeat runs) and the warnings found in the snapshot.
public struct HealthPane: Widget {
    public var health: HealthSnapshot
    public var lagHistory: [Double]
    public var warnings: [Warning]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(
        health: HealthSnapshot, lagHistory: [Double], warnings: [Warning], focused: Bool = false, note: String? = nil, glyphs: Glyphs
    ) {
        self.note = note
        self.health = health
        self.lagHistory = lagHistory
        self.warnings = warnings
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel("Health" + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        var y = inner.y
        if health.beats > 0 {
            let lagMs = Double(health.lastLagNanos) / 1e6
            Gauge(
                "loop lag", value: min(lagMs, 200), maximum: 200,
                text: "\(formatOne(lagMs)) ms (max \(formatOne(Double(health.maxLagNanos) / 1e6)))", glyphs: glyphs
            )
            .render(in: inner.row(0), into: &buffer)
            y += 1
            if y < inner.bottom {
                Sparkline(lagHistory, maximum: 200, style: lagMs >= 100 ? Theme.bad : Theme.accent, glyphs: glyphs)
                    .render(in: inner.row(1), into: &buffer)
                y += 1
            }
        }
        if warnings.isEmpty, y < inner.bottom {
            buffer.put("all clear", x: inner.x, y: y, style: Theme.good, clip: inner)
        }
        for w in warnings where y < inner.bottom {
            let style = w.level == .bad ? Theme.bad : w.level == .warn ? Theme.warn : Theme.label
            let mark = w.level == .info ? "i " : "! "
            buffer.put(truncate(mark + w.text, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: style, clip: inner)
            y += 1
        }
    }
}

import AsyncPatterns
import TUI

/// Resource scopes: how many are opening, open and closing now; totals; how long they stay open.
public struct ResourcesPane: Widget {
    public var resources: [ResourceSnapshot]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(resources: [ResourceSnapshot], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        self.note = note
        self.resources = resources
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel("Resources" + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if resources.isEmpty {
            buffer.put("no scopes yet", x: inner.x, y: inner.y, style: Theme.label, clip: inner)
            return
        }
        var y = inner.y
        for r in resources where y < inner.bottom {
            let leak = r.opened - r.closed - r.open - r.closing
            let head: String
            let detail: String
            if r.opened == 0, r.timed.count > 0 {
                head = "\(r.name): \(r.timed.count) timed"
                detail = "took p50 \(formatNanos(r.timed.p50))  p99 \(formatNanos(r.timed.p99))  max \(formatNanos(r.timed.max))"
            } else {
                head = "\(r.name): opening \(r.opening)  open \(r.open)  closing \(r.closing)"
                detail =
                    "opened \(formatCount(Double(r.opened)))  closed \(formatCount(Double(r.closed)))  failed \(r.failed)  open p99 \(formatNanos(r.held.p99))"
            }
            buffer.put(truncate(head, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: Theme.value, clip: inner)
            y += 1
            if y < inner.bottom {
                buffer.put(
                    truncate(detail, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: leak > 0 ? Theme.bad : .plain, clip: inner)
                y += 1
            }
        }
    }
}

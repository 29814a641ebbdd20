import AsyncPatterns
import TUI

/// A bounded queue: depth against capacity, depth over the last minute, who is blocked,
/// rates and how long items wait.
public struct QueuePane: Widget {
    public var queue: QueueSnapshot
    public var depthHistory: [Double]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(queue: QueueSnapshot, depthHistory: [Double], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        self.note = note
        self.queue = queue
        self.depthHistory = depthHistory
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let q = queue
        Panel("Queue \(q.name)\(q.isClosed ? " (closed)" : "")" + titleNote(note), focused: focused, glyphs: glyphs).render(
            in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        var y = inner.y
        func line(_ widget: some Widget) {
            guard y < inner.bottom else { return }
            widget.render(in: Rect(x: inner.x, y: y, width: inner.width, height: 1), into: &buffer)
            y += 1
        }
        line(Gauge("depth", value: Double(q.depth), maximum: Double(q.capacity), glyphs: glyphs))
        if y < inner.bottom {
            let label = "last 60s "
            buffer.put(label, x: inner.x, y: y, style: Theme.label, clip: inner)
            Sparkline(depthHistory, maximum: Double(max(1, q.capacity)), glyphs: glyphs)
                .render(in: Rect(x: inner.x + label.count, y: y, width: inner.width - label.count, height: 1), into: &buffer)
            y += 1
        }
        let rows: [(String, String, Style)] = [
            (
                "blocked", "producers \(q.waitingProducers)  consumers \(q.waitingConsumers)",
                q.waitingProducers > 0 ? Theme.warn : Theme.value
            ),
            ("rate", "put \(formatOne(q.putPerSecond))/s  get \(formatOne(q.gotPerSecond))/s", Theme.value),
            ("wait", "p50 \(formatNanos(q.wait.p50))  p99 \(formatNanos(q.wait.p99))", Theme.value),
            (
                "total",
                "put \(formatCount(Double(q.put)))  got \(formatCount(Double(q.got)))  done \(formatCount(Double(q.done)))  max \(q.maxDepth)",
                Theme.value
            ),
        ]
        for (label, value, style) in rows where y < inner.bottom {
            let x = inner.x + buffer.put(pad(label, to: 8, glyphs: glyphs), x: inner.x, y: y, style: Theme.label, clip: inner)
            buffer.put(truncate(value, to: inner.right - x, glyphs: glyphs), x: x, y: y, style: style, clip: inner)
            y += 1
        }
    }
}

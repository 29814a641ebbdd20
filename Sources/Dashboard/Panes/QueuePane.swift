import AsyncPatterns
import TUI

/// The bounded queues of a source: with one, its detail (depth against capacity, depth
/// over the last minute, who is blocked, rates, how long items wait); with several, a row
/// each and the selected one's detail below.
public struct QueuePane: Widget {
    public var queues: [QueueSnapshot]
    /// Index into `queues` of the one shown in detail.
    public var selected: Int
    public var depthHistory: [String: History]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(
        queues: [QueueSnapshot], selected: Int = 0, depthHistory: [String: History], focused: Bool = false, note: String? = nil,
        glyphs: Glyphs
    ) {
        self.queues = queues
        self.selected = selected
        self.depthHistory = depthHistory
        self.focused = focused
        self.note = note
        self.glyphs = glyphs
    }

    /// One queue.
    public init(queue: QueueSnapshot, depthHistory: [Double], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        var history = History()
        for value in depthHistory { history.append(value) }
        self.init(queues: [queue], depthHistory: [queue.name: history], focused: focused, note: note, glyphs: glyphs)
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let chosen = min(max(0, selected), max(0, queues.count - 1))
        let q = queues.isEmpty ? QueueSnapshot(name: "queue") : queues[chosen]
        let title =
            queues.count > 1
            ? "Queues (\(queues.count))  \(q.name)\(q.isClosed ? " (closed)" : "")"
            : "Queue \(q.name)\(q.isClosed ? " (closed)" : "")"
        Panel(title + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        var inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if queues.count > 1 {
            inner = InstanceList(
                columns: [
                    Table.Column("name"), Table.Column("depth", width: 11, right: true), Table.Column("blocked", width: 7, right: true),
                    Table.Column("put/s", width: 7, right: true), Table.Column("p99", width: 7, right: true),
                ],
                rows: queues.map { q in
                    [
                        "\(q.name)\(q.isGone ? " (gone)" : "")", "\(formatCount(Double(q.depth)))/\(formatCount(Double(q.capacity)))",
                        "\(q.waitingProducers)", formatOne(q.putPerSecond), formatNanos(q.wait.p99),
                    ]
                },
                styles: queues.map { $0.waitingProducers > 0 ? Theme.warn : $0.isGone || $0.isClosed ? Theme.dim : .plain },
                selected: chosen, glyphs: glyphs
            ).render(taking: inner, into: &buffer)
            guard !inner.isEmpty else { return }
        }
        let depthHistory = depthHistory[q.name]?.values ?? []
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
                "put \(formatCount(Double(q.put)))  got \(formatCount(Double(q.got)))  done \(formatCount(Double(q.done)))  max \(q.maxDepth)"
                    + (q.dropped > 0 ? "  dropped \(formatCount(Double(q.dropped)))" : ""),
                q.dropped > 0 ? Theme.warn : Theme.value
            ),
        ]
        for (label, value, style) in rows where y < inner.bottom {
            let x = inner.x + buffer.put(pad(label, to: 8, glyphs: glyphs), x: inner.x, y: y, style: Theme.label, clip: inner)
            buffer.put(truncate(value, to: inner.right - x, glyphs: glyphs), x: x, y: y, style: style, clip: inner)
            y += 1
        }
    }
}

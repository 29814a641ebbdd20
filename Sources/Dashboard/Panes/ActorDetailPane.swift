import AsyncPatterns
import TUI

/// One actor up close: its counters, latency percentiles, mailbox history and its recent
/// events.
public struct ActorDetailPane: Widget {
    public var actor: ActorSnapshot
    public var depthHistory: [Double]
    public var events: [PatternEvent]
    public var glyphs: Glyphs

    public init(actor: ActorSnapshot, depthHistory: [Double], events: [PatternEvent], glyphs: Glyphs) {
        self.actor = actor
        self.depthHistory = depthHistory
        self.events = events
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let a = actor
        Panel("Actor \(a.name)\(a.isStopped ? " (stopped)" : "")  Esc: back", focused: true, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        let lines = [
            "mailbox \(a.mailboxDepth) (max \(a.maxMailboxDepth))   processed \(a.processed)   \(formatOne(a.processedPerSecond))/s   failed \(a.failed)",
            "processing p50 \(formatNanos(a.processing.p50))   p99 \(formatNanos(a.processing.p99))   max \(formatNanos(a.processing.max))   samples \(a.processing.count)",
            "dead letters \(a.deadLetters)\(a.recentDeadLetters.isEmpty ? "" : ": " + a.recentDeadLetters.joined(separator: ", "))",
            "senders blocked on a full mailbox: \(a.blockedSends)",
        ]
        var y = inner.y
        for line in lines where y < inner.bottom {
            buffer.put(truncate(line, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: Theme.value, clip: inner)
            y += 1
        }
        if y < inner.bottom {
            let label = "mailbox, last 60s "
            buffer.put(label, x: inner.x, y: y, style: Theme.label, clip: inner)
            Sparkline(depthHistory, glyphs: glyphs).render(
                in: Rect(x: inner.x + label.count, y: y, width: inner.width - label.count, height: 1), into: &buffer)
            y += 2
        }
        // The processing-time histogram: one row per decade that has samples.
        let counts = a.processing.decadeCounts
        let top = Double(counts.max() ?? 0)
        if top > 0, y < inner.bottom {
            buffer.put("processing time histogram", x: inner.x, y: y, style: Theme.label.bolded(), clip: inner)
            y += 1
            let barWidth = max(0, min(40, inner.width - 8 - 10))
            for (i, count) in counts.enumerated() where count > 0 && y < inner.bottom - 2 {
                let x =
                    inner.x
                    + buffer.put(
                        pad(Percentiles.decadeLabels[i], to: 7, glyphs: glyphs) + " ", x: inner.x, y: y, style: Theme.label, clip: inner)
                Bar(fraction: Double(count) / top, glyphs: glyphs, style: Theme.accent).draw(
                    x: x, y: y, width: barWidth, into: &buffer, clip: inner)
                buffer.put(" \(formatCount(Double(count)))", x: x + barWidth, y: y, style: Theme.value, clip: inner)
                y += 1
            }
            y += 1
        }
        if y < inner.bottom {
            buffer.put("recent messages", x: inner.x, y: y, style: Theme.label.bolded(), clip: inner)
            y += 1
        }
        let mine = events.filter { $0.source.kind == .actor && $0.source.name == a.name }
        let lines2 = mine.suffix(max(0, inner.bottom - y)).map { (text: describe($0), style: Style.plain) }
        LogView(lines: lines2, glyphs: glyphs).render(
            in: Rect(x: inner.x, y: y, width: inner.width, height: inner.bottom - y), into: &buffer)
    }
}

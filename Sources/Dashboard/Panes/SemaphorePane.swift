import AsyncPatterns
import TUI

/// A semaphore: its slots (busy, free), the waiting line, in-use over time, and how long
/// acquires wait.
public struct SemaphorePane: Widget {
    public var semaphore: SemaphoreSnapshot
    public var inUseHistory: [Double]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(semaphore: SemaphoreSnapshot, inUseHistory: [Double], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        self.note = note
        self.semaphore = semaphore
        self.inUseHistory = inUseHistory
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let s = semaphore
        Panel("Semaphore \(s.name)  \(s.inUse)/\(s.limit) in use" + titleNote(note), focused: focused, glyphs: glyphs).render(
            in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        let statsHeight = min(3, max(0, inner.height - 2))
        let gridHeight = max(1, inner.height - statsHeight)
        SlotGrid(limit: s.limit, inUse: s.inUse, waiting: s.waiting, glyphs: glyphs)
            .render(in: Rect(x: inner.x, y: inner.y, width: inner.width, height: gridHeight), into: &buffer)
        var y = inner.y + gridHeight
        if y < inner.bottom {
            let label = "in use "
            buffer.put(label, x: inner.x, y: y, style: Theme.label, clip: inner)
            Sparkline(inUseHistory, maximum: Double(max(1, s.limit, s.maxInUse)), glyphs: glyphs)
                .render(in: Rect(x: inner.x + label.count, y: y, width: inner.width - label.count, height: 1), into: &buffer)
            y += 1
        }
        let lines = [
            "wait p50 \(formatNanos(s.wait.p50))  p99 \(formatNanos(s.wait.p99))  \(formatOne(s.acquiredPerSecond))/s",
            "acquired \(formatCount(Double(s.acquired)))  max in use \(s.maxInUse)  gave up \(s.abandoned)",
        ]
        for text in lines where y < inner.bottom {
            buffer.put(truncate(text, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: Theme.value, clip: inner)
            y += 1
        }
    }
}

import AsyncPatterns
import TUI

/// The semaphores of a source: with one, its slots (busy, free), the waiting line, in-use
/// over time and how long acquires wait; with several, a row each and the selected one's
/// detail below.
public struct SemaphorePane: Widget {
    public var semaphores: [SemaphoreSnapshot]
    /// Index into `semaphores` of the one shown in detail.
    public var selected: Int
    public var inUseHistory: [String: History]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(
        semaphores: [SemaphoreSnapshot], selected: Int = 0, inUseHistory: [String: History], focused: Bool = false,
        note: String? = nil, glyphs: Glyphs
    ) {
        self.semaphores = semaphores
        self.selected = selected
        self.inUseHistory = inUseHistory
        self.focused = focused
        self.note = note
        self.glyphs = glyphs
    }

    /// One semaphore.
    public init(semaphore: SemaphoreSnapshot, inUseHistory: [Double], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        var history = History()
        for value in inUseHistory { history.append(value) }
        self.init(semaphores: [semaphore], inUseHistory: [semaphore.name: history], focused: focused, note: note, glyphs: glyphs)
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let chosen = min(max(0, selected), max(0, semaphores.count - 1))
        let s = semaphores.isEmpty ? SemaphoreSnapshot(name: "permits") : semaphores[chosen]
        let title =
            semaphores.count > 1
            ? "Semaphores (\(semaphores.count))  \(s.name)  \(s.inUse)/\(s.limit) in use"
            : "Semaphore \(s.name)  \(s.inUse)/\(s.limit) in use"
        Panel(title + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        var inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if semaphores.count > 1 {
            inner = InstanceList(
                columns: [
                    Table.Column("name"), Table.Column("in use", width: 9, right: true),
                    Table.Column("waiting", width: 7, right: true), Table.Column("acq/s", width: 7, right: true),
                    Table.Column("p99", width: 7, right: true),
                ],
                rows: semaphores.map { s in
                    [
                        "\(s.name)\(s.isGone ? " (gone)" : "")", "\(s.inUse)/\(s.limit)", "\(s.waiting)", formatOne(s.acquiredPerSecond),
                        formatNanos(s.wait.p99),
                    ]
                },
                styles: semaphores.map { $0.waiting > 0 ? Theme.warn : $0.isGone ? Theme.dim : .plain },
                selected: chosen, glyphs: glyphs
            ).render(taking: inner, into: &buffer)
            guard !inner.isEmpty else { return }
        }
        let inUseHistory = inUseHistory[s.name]?.values ?? []
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

import AsyncPatterns
import TUI

/// Actors, one row each: mailbox depth with a bar and a sparkline, processed, rate,
/// processing p99, dead letters. Sorted by any column; the top rows that fit are shown
/// with a count of the rest (1,000 actors stay readable).
public struct ActorsPane: Widget {
    /// The columns the table can be sorted by, in order.
    public enum SortKey: Int, CaseIterable, Sendable {
        case name, mailbox, processed, rate, p99, deadLetters

        public var title: String {
            switch self {
            case .name: "name"
            case .mailbox: "mailbox"
            case .processed: "processed"
            case .rate: "rate"
            case .p99: "p99"
            case .deadLetters: "dead letters"
            }
        }
    }

    public var actors: [ActorSnapshot]
    public var depthHistory: [String: History]
    public var sort: SortKey
    /// Index into the sorted rows.
    public var selected: Int?
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(
        actors: [ActorSnapshot], depthHistory: [String: History], sort: SortKey = .mailbox, selected: Int? = nil,
        focused: Bool = false, note: String? = nil, glyphs: Glyphs
    ) {
        self.note = note
        self.actors = actors
        self.depthHistory = depthHistory
        self.sort = sort
        self.selected = selected
        self.focused = focused
        self.glyphs = glyphs
    }

    /// The actors in display order.
    public static func sorted(_ actors: [ActorSnapshot], by key: SortKey) -> [ActorSnapshot] {
        actors.sorted { precedes($0, $1, by: key) }
    }

    /// The first `count` actors in display order, without sorting them all: 100,000 actors
    /// cost one pass and a short sorted list, not a sort of 100,000 rows every frame.
    public static func first(_ count: Int, of actors: [ActorSnapshot], by key: SortKey) -> [ActorSnapshot] {
        guard count < actors.count / 4 else { return Array(sorted(actors, by: key).prefix(count)) }
        var top: [Int] = []
        top.reserveCapacity(count + 1)
        for i in actors.indices {
            if top.count == count, let last = top.last, !precedes(actors[i], actors[last], by: key) { continue }
            let at = top.partitioningIndex { !precedes(actors[$0], actors[i], by: key) }
            top.insert(i, at: at)
            if top.count > count { top.removeLast() }
        }
        return top.map { actors[$0] }
    }

    static func precedes(_ a: ActorSnapshot, _ b: ActorSnapshot, by key: SortKey) -> Bool {
        switch key {
        case .name: return a.name.compare(naturally: b.name)
        case .mailbox: return (a.mailboxDepth, b.name) > (b.mailboxDepth, a.name)
        case .processed: return (a.processed, b.name) > (b.processed, a.name)
        case .rate: return (a.processedPerSecond, b.name) > (b.processedPerSecond, a.name)
        case .p99: return (a.processing.p99, b.name) > (b.processing.p99, a.name)
        case .deadLetters: return (a.deadLetters, b.name) > (b.deadLetters, a.name)
        }
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        // Only the rows up to the selection and the window after it are ever shown.
        let wanted = max(0, area.height) + (selected ?? 0) + 1
        let rows = Self.first(wanted, of: actors, by: sort)
        Panel("Actors (\(actors.count))  sort: \(sort.title)" + titleNote(note), focused: focused, glyphs: glyphs).render(
            in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if rows.isEmpty {
            buffer.put("no actors yet", x: inner.x, y: inner.y, style: Theme.label, clip: inner)
            return
        }
        let capacity = max(0, inner.height - 1)
        let needsMore = actors.count > capacity
        let visibleCount = needsMore ? max(0, capacity - 1) : rows.count
        // Keep the selection visible: scroll so it is in the window.
        let sel = selected.map { min($0, actors.count - 1, rows.count - 1) }
        let start = sel.map { max(0, $0 - visibleCount + 1) } ?? 0
        let window = Array(rows[start..<min(rows.count, start + visibleCount)])
        let maxDepth = Double(max(1, rows.map(\.mailboxDepth).max() ?? 1))
        let wide = inner.width >= 70
        var columns: [Table.Column] = [
            Table.Column("name", width: min(14, max(6, inner.width / 5))), Table.Column("mailbox", width: 8, right: true),
        ]
        if wide {
            columns.append(Table.Column("", width: 8))
            columns.append(Table.Column("last 60s", width: 12))
        }
        columns += [
            Table.Column("processed", width: 10, right: true), Table.Column("/s", width: 6, right: true),
            Table.Column("p99", width: 7, right: true), Table.Column("dead", width: 5, right: true),
        ]
        let table = Table(
            columns: columns,
            rows: window.map { a in
                var row = [a.name, formatCount(Double(a.mailboxDepth))]
                if wide { row += ["", ""] }
                row += [
                    formatCount(Double(a.processed)), formatOne(a.processedPerSecond), formatNanos(a.processing.p99), "\(a.deadLetters)",
                ]
                return row
            },
            rowStyles: window.map { a in a.deadLetters > 0 ? Style(fg: .red) : a.isStopped ? Theme.dim : .plain },
            selected: sel.map { $0 - start },
            sortColumn: sortColumnIndex(wide: wide),
            glyphs: glyphs)
        table.render(in: inner, into: &buffer)
        if wide {
            let widths = table.widths(for: inner.width)
            let barX = inner.x + widths[0] + widths[1] + 2
            let sparkX = barX + widths[2] + 1
            for (i, a) in window.enumerated() {
                let y = inner.y + 1 + i
                Bar(fraction: Double(a.mailboxDepth) / maxDepth, glyphs: glyphs, style: Theme.warn)
                    .draw(x: barX, y: y, width: widths[2], into: &buffer, clip: inner)
                Sparkline(depthHistory[a.name]?.values ?? [], glyphs: glyphs)
                    .render(in: Rect(x: sparkX, y: y, width: widths[3], height: 1), into: &buffer)
            }
        }
        if needsMore {
            let rest = actors.count - window.count
            buffer.put("+ \(rest) more (PgUp/PgDn, s to sort)", x: inner.x, y: inner.bottom - 1, style: Theme.label, clip: inner)
        }
    }

    private func sortColumnIndex(wide: Bool) -> Int {
        switch sort {
        case .name: 0
        case .mailbox: 1
        case .processed: wide ? 4 : 2
        case .rate: wide ? 5 : 3
        case .p99: wide ? 6 : 4
        case .deadLetters: wide ? 7 : 5
        }
    }
}

extension String {
    /// "actor-2" before "actor-10": names that differ only in a number after the last `-`
    /// compare by that number. Allocates nothing (called for every pair a sort compares).
    func compare(naturally other: String) -> Bool {
        if let a = lastIndex(of: "-"), let b = other.lastIndex(of: "-"), self[..<a] == other[..<b],
            let x = Int(self[index(after: a)...]), let y = Int(other[other.index(after: b)...])
        {
            return x < y
        }
        return self < other
    }
}

extension Array {
    /// The first index whose element satisfies `belongsInSecondPartition`, for an array
    /// already partitioned by it (binary search).
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

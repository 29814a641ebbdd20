import AsyncPatterns
import TUI

/// Actors, one row each: mailbox depth with a bar and a sparkline, processed, rate,
/// processing p99, dead letters. Sorted by any column; the top rows that fit are shown
/// with a count of the rest (1,000 actors stay readable).
public struct ActorsPane: Widget {
    /// The actors to list, or a part of them that holds the first rows in `sort` (what
    /// `PatternRegistry.snapshot(actors:)` lists).
    public var actors: [ActorSnapshot]
    /// How many actors there are in all.
    public var count: Int
    /// The place in `sort` of the first row `actors` hold (a snapshot of a screen scrolled
    /// down the list), and how many of `actors` come before it (those listed whatever their
    /// place: with mail, dead letters, or named).
    public var from: (place: Int, listedBefore: Int)
    public var depthHistory: [String: History]
    public var sort: ActorSort
    /// Index into the sorted rows.
    public var selected: Int?
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(
        actors: [ActorSnapshot], count: Int? = nil, from: (place: Int, listedBefore: Int) = (0, 0),
        depthHistory: [String: History], sort: ActorSort = .mailbox, selected: Int? = nil, focused: Bool = false,
        note: String? = nil, glyphs: Glyphs
    ) {
        self.note = note
        self.actors = actors
        self.count = max(count ?? actors.count, actors.count)
        self.from = (max(0, from.place), min(max(0, from.listedBefore), actors.count))
        self.depthHistory = depthHistory
        self.sort = sort
        self.selected = selected
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        // Only the rows up to the selection and the window after it are ever shown.
        let wanted = max(0, area.height) + (selected ?? 0) + 1
        let place = min(from.place, count)
        let rows = Array(sort.window(wanted - place, listedBefore: from.listedBefore, of: actors))
        Panel("Actors (\(count))  sort: \(sort.title)" + titleNote(note), focused: focused, glyphs: glyphs).render(
            in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if rows.isEmpty {
            buffer.put("no actors yet", x: inner.x, y: inner.y, style: Theme.label, clip: inner)
            return
        }
        let capacity = max(0, inner.height - 1)
        let needsMore = count > capacity
        let visibleCount = needsMore ? max(0, capacity - 1) : rows.count
        // Keep the selection visible: scroll so it is in the window (which starts no higher
        // than the rows the snapshot holds).
        let sel = selected.map { min($0, count - 1, place + rows.count - 1) }
        let start = max(place, sel.map { max(0, $0 - visibleCount + 1) } ?? 0)
        let window = Array(rows[min(rows.count, start - place)..<min(rows.count, start - place + visibleCount)])
        // Bars scale to the deepest mailbox of all: every actor with mail is listed, so a
        // screen of some actors scales as a screen of every actor, wherever it is scrolled.
        let maxDepth = Double(max(1, actors.map(\.mailboxDepth).max() ?? 1))
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
            selected: sel.flatMap { $0 >= start ? $0 - start : nil },
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
            let rest = count - window.count
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

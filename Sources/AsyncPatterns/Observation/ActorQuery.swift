/// The orders actors can be listed in: a screen's sort keys. Every order but `name` puts
/// the largest first; ties go by name (plain string order), so the order is total.
public enum ActorOrder: Int, CaseIterable, Sendable, Hashable, Codable {
    /// By name, "actor-2" before "actor-10" (a number after the last `-` compares as one).
    case name
    /// Messages waiting, most first.
    case mailbox
    /// Messages processed, most first.
    case processed
    /// Messages processed per second, fastest first.
    case rate
    /// The processing p99, slowest first.
    case p99
    /// Dead letters, most first.
    case deadLetters

    /// Whether `a` comes before `b` in this order.
    public func precedes(_ a: ActorSnapshot, _ b: ActorSnapshot) -> Bool { ordered(a, b) }

    func ordered<Row: ActorSortKeys>(_ a: Row, _ b: Row) -> Bool {
        switch self {
        case .name: return a.name.compare(naturally: b.name)
        case .mailbox: return (a.mailboxDepth, b.name) > (b.mailboxDepth, a.name)
        case .processed: return (a.processed, b.name) > (b.processed, a.name)
        case .rate: return (a.processedPerSecond, b.name) > (b.processedPerSecond, a.name)
        case .p99: return (a.p99, b.name) > (b.p99, a.name)
        case .deadLetters: return (a.deadLetters, b.name) > (b.deadLetters, a.name)
        }
    }
}

/// What a screen asks of the actors in a snapshot (`PatternRegistry.snapshot(actors:)`):
/// the first rows in its order, and the actors it follows, rather than a row for each of
/// 100,000 actors.
public struct ActorQuery: Sendable, Hashable {
    /// The order the screen lists actors in.
    public var order: ActorOrder
    /// How many actors in `order` to list, from `offset` on.
    public var first: Int
    /// The place in `order` of the first of those (0: the first actor): a screen scrolled
    /// down the list asks for the rows it shows, not every row above them.
    public var offset: Int
    /// While there are at most this many actors, every one is listed.
    public var everyUpTo: Int
    /// Actors listed whatever their place (an actor whose detail is open).
    public var named: [String]

    /// Lists `first` actors in `order` from place `offset` on, every actor with messages
    /// waiting or dead letters, those `named`, and every actor while there are at most
    /// `everyUpTo`.
    public init(order: ActorOrder, first: Int, offset: Int = 0, everyUpTo: Int = 0, named: [String] = []) {
        self.order = order
        self.first = max(0, first)
        self.offset = max(0, offset)
        self.everyUpTo = everyUpTo
        self.named = named
    }

    /// The place after the last of the `first` rows (saturating: a caller may ask for
    /// `Int.max` rows from any place).
    var end: Int {
        let (sum, overflow) = offset.addingReportingOverflow(first)
        return overflow ? (first > 0 ? .max : .min) : sum
    }

    /// Whether a snapshot asked for with this query lists every actor `other` asks for.
    public func covers(_ other: ActorQuery) -> Bool {
        order == other.order && offset <= other.offset && end >= other.end
            && everyUpTo >= other.everyUpTo && Set(other.named).isSubset(of: named)
    }
}

/// What all the actors a snapshot would list add up to, when it lists only some of them.
public struct ActorTotals: Sendable, Hashable {
    /// Actors a full snapshot would list (live, then recently stopped).
    public var count = 0
    /// Messages they processed.
    public var processed = 0
    /// Messages whose handling threw.
    public var failed = 0
    /// Their dead letters (`Snapshot.deadLetters` without the retired actors' ones).
    public var deadLetters = 0
    /// The place in the order of the query's first row (its `offset`, or the number of
    /// actors when that is past them); 0 when every actor is listed.
    public var offset = 0
    /// Listed actors that come before that row in the order (those with mail, dead letters
    /// or named): sorted, the listed actors show the row at place `offset + i` at index
    /// `listedBefore + i`.
    public var listedBefore = 0

    /// Zero actors.
    public init() {}

    /// The totals of `actors`, every row listed.
    public init(of actors: [ActorSnapshot]) {
        count = actors.count
        for a in actors {
            processed += a.processed
            failed += a.failed
            deadLetters += a.deadLetters
        }
    }
}

extension PatternRegistry {
    /// A snapshot whose `actors` are only those `query` asks for, in the order a full
    /// `snapshot()` lists them, with what all of them add up to. Everything else is as
    /// `snapshot()` has it, rates included (every actor's rate is kept, listed or not).
    ///
    /// An actor is listed when its place in `query.order` is among the `query.first` from
    /// `query.offset` on, when it has messages waiting or dead letters, when it is named,
    /// or when there are no more than `query.everyUpTo` actors. Sorting the listed actors by
    /// the same order puts the rows from `query.offset` on after the first
    /// `ActorTotals.listedBefore`, as sorting all of them would.
    ///
    /// The registry keeps an index of its actors' sort keys: a snapshot reads again only
    /// the actors that changed since the last one (each actor reports its first change after
    /// a read), those whose rate is still settling, and those that joined; the rows come
    /// from the index, and only listed actors' rows are built.
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        guard listedActors > query.everyUpTo else {
            let snap = snapshot()
            return (snap, ActorTotals(of: snap.actors))
        }
        let result = snapshot(indexed: true) { snap, view, now, index in
            var operations = 0
            for case let entry? in view.entries where !entry.isActor {
                operations += entry.probe.read(into: &snap, meters: &entry.meters.value, now: now)
            }
            index.update(
                entries: view.entries, membership: view.membership, changes: actorChanges.take(), now: now,
                names: query.order == .name, p99: query.order == .p99)
            operations += index.operations
            var totals = index.totals
            var finished: [ActorSnapshot] = []
            var none = Meters()
            for reading in view.finished {
                guard case .actor(let a) = reading else {
                    reading.append(to: &snap, meters: &none, now: now)
                    continue
                }
                finished.append(a)
                totals.count += 1
                totals.processed += a.processed
                totals.failed += a.failed
                totals.deadLetters += a.deadLetters
            }
            let window = index.window(query, finished: finished)
            var liveListed = Set(window.compactMap(\.slot)).union(index.followed)
            var finishedListed = Set(window.compactMap(\.finished))
            for name in query.named { liveListed.formUnion(index.slots(named: name)) }
            for (i, a) in finished.enumerated() where a.mailboxDepth > 0 || a.deadLetters > 0 || query.named.contains(a.name) {
                finishedListed.insert(i)
            }
            totals.offset = min(query.offset, totals.count)
            if let head = window.first {
                let first = index.key(head, finished: finished)
                totals.listedBefore =
                    liveListed.count { query.order.ordered(index.key($0), first) }
                    + finishedListed.count { query.order.ordered(ActorKey(finished[$0]), first) }
            }
            snap.actors.reserveCapacity(liveListed.count + finishedListed.count)
            for s in liveListed.sorted() { snap.actors.append(index.row(s, orderedByP99: query.order == .p99)) }
            for i in finishedListed.sorted() { snap.actors.append(finished[i]) }
            return (operations, totals)
        }
        return (result.snapshot, result.found)
    }
}

/// A place in an order: a live actor of the index, or one of the finished readings.
enum ActorPlace {
    case live(Int32)
    case done(Int)

    var slot: Int32? { if case .live(let s) = self { s } else { nil } }
    var finished: Int? { if case .done(let i) = self { i } else { nil } }
}

extension ActorIndex {
    func key(_ place: ActorPlace, finished: [ActorSnapshot]) -> ActorKey {
        switch place {
        case .live(let s): key(s)
        case .done(let i): ActorKey(finished[i])
        }
    }

    /// The actors at places `query.offset ..< query.offset + query.first` in `query.order`,
    /// the live ones and the `finished` together, in that order. Takes the first places from
    /// the front, or the last from the back (the bottom of the list costs as the top).
    func window(_ query: ActorQuery, finished: [ActorSnapshot]) -> [ActorPlace] {
        let total = liveCount + finished.count
        let start = min(max(0, query.offset), total), end = min(total, start + min(max(0, query.first), total))
        guard start < end else { return [] }
        let fromFront = end <= total - start
        let wanted = fromFront ? end : total - start
        var places = first(wanted, in: query.order, last: !fromFront).map(ActorPlace.live)
        // The finished (a few dozen at most) go in where the order puts them.
        for i in finished.indices {
            let k = ActorKey(finished[i])
            let at = places.partitioningIndex { !query.order.ordered(key($0, finished: finished), k) }
            places.insert(.done(i), at: at)
        }
        let from = fromFront ? start : places.count - wanted
        return Array(places[from..<(from + end - start)])
    }
}

/// What an order compares.
protocol ActorSortKeys {
    var name: String { get }
    var mailboxDepth: Int { get }
    var processed: Int { get }
    var processedPerSecond: Double { get }
    var p99: UInt64 { get }
    var deadLetters: Int { get }
}

extension ActorSnapshot: ActorSortKeys {
    var p99: UInt64 { processing.p99 }
}

extension ActorIndex {
    /// Slot `s`'s row, with the numbers its place and the totals were worked out from. Read
    /// again, a busy actor's numbers could have moved since; the screen, sorting the rows by
    /// the same order, would then find another row at the window's edge than the one
    /// `listedBefore` counts to, and that row would flicker as the screen scrolls.
    func row(_ s: Int32, orderedByP99: Bool) -> ActorSnapshot {
        let key = key(s)
        var a = counters(s).snapshot()
        a.mailboxDepth = key.mailboxDepth
        a.maxMailboxDepth = max(a.maxMailboxDepth, a.mailboxDepth)
        a.processed = key.processed
        a.failed = key.failed
        a.deadLetters = key.deadLetters
        a.processedPerSecond = key.processedPerSecond
        if orderedByP99, a.processing.p99 != key.p99 {
            // The distribution moved between the two reads: its p99 as ordered, the others
            // kept in order around it.
            a.processing.p99 = key.p99
            a.processing.p90 = min(a.processing.p90, a.processing.p99)
            a.processing.p50 = min(a.processing.p50, a.processing.p90)
            a.processing.max = max(a.processing.max, a.processing.p99)
        }
        return a
    }
}

/// An actor's sort keys and totals, read from its counters without building its row.
struct ActorKey: ActorSortKeys {
    var name: String
    var mailboxDepth = 0
    var processed = 0
    var failed = 0
    var deadLetters = 0
    var processedPerSecond: Double = 0
    var p99: UInt64 = 0

    init(name: String) { self.name = name }

    init(_ a: ActorSnapshot) {
        name = a.name
        mailboxDepth = a.mailboxDepth
        processed = a.processed
        failed = a.failed
        deadLetters = a.deadLetters
        processedPerSecond = a.processedPerSecond
        p99 = a.processing.p99
    }
}

extension String {
    /// "actor-2" before "actor-10": names that differ only in a number after the last `-`
    /// compare by that number. Allocates nothing (called for every pair a sort compares).
    package func compare(naturally other: String) -> Bool {
        NaturalNames.Key(self).less(than: NaturalNames.Key(other))
    }
}

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
    /// How many of the first actors in `order` to list.
    public var first: Int
    /// While there are at most this many actors, every one is listed.
    public var everyUpTo: Int
    /// Actors listed whatever their place (an actor whose detail is open).
    public var named: [String]

    /// Lists the first `first` actors in `order`, every actor with messages waiting or dead
    /// letters, those `named`, and every actor while there are at most `everyUpTo`.
    public init(order: ActorOrder, first: Int, everyUpTo: Int = 0, named: [String] = []) {
        self.order = order
        self.first = max(0, first)
        self.everyUpTo = everyUpTo
        self.named = named
    }

    /// Whether a snapshot asked for with this query lists every actor `other` asks for.
    public func covers(_ other: ActorQuery) -> Bool {
        order == other.order && first >= other.first && everyUpTo >= other.everyUpTo && Set(other.named).isSubset(of: named)
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
    /// An actor is listed when it is among the first `query.first` in `query.order`, when
    /// it has messages waiting or dead letters, when it is named, or when there are no more
    /// than `query.everyUpTo` actors. Sorting the listed actors by the same order gives the
    /// same first rows as sorting all of them. Reading 100,000 actors this way costs a few
    /// counters each and builds rows only for those listed.
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        guard listedActors > query.everyUpTo else {
            let snap = snapshot()
            return (snap, ActorTotals(of: snap.actors))
        }
        let result = snapshot { snap, view, now in
            let entries = view.entries, finished = view.finished
            var top = TopRows(order: query.order, limit: query.first)
            var extras: [ListedActor] = []
            var totals = ActorTotals()
            var operations = 0
            func consider(_ key: ActorKey, _ listed: ListedActor) {
                totals.count += 1
                totals.processed += key.processed
                totals.failed += key.failed
                totals.deadLetters += key.deadLetters
                if key.mailboxDepth > 0 || key.deadLetters > 0 || (!query.named.isEmpty && query.named.contains(key.name)) {
                    extras.append(listed)
                } else {
                    top.offer(key, listed)
                }
            }
            let p99 = query.order == .p99
            // The counters first, in a loop that does nothing else, so that the processor
            // waits for many actors' cache misses at once; then the rates, then the order.
            var keys: [(slot: Int, key: ActorKey)] = []
            keys.reserveCapacity(view.actors)
            for slot in entries.indices {
                guard let actor = entries[slot]?.actor else {
                    if let entry = entries[slot] {
                        operations += entry.probe.read(into: &snap, meters: &entry.meters.value, now: now)
                    }
                    continue
                }
                keys.append((slot, actor.counters._withUnsafeGuaranteedRef { $0.key(p99: p99) }))
            }
            for i in keys.indices {
                let meters = entries[keys[i].slot]!.actor!.meters
                let processed = keys[i].key.processed
                keys[i].key.processedPerSecond = meters._withUnsafeGuaranteedRef { $0.value.primary.update(count: processed, now: now) }
            }
            for (slot, key) in keys {
                operations += key.processed + key.failed + key.deadLetters
                consider(key, ListedActor(slot: slot, rate: key.processedPerSecond))
            }
            var rows: [ActorSnapshot] = []
            var none = Meters()
            for reading in finished {
                guard case .actor(let a) = reading else {
                    reading.append(to: &snap, meters: &none, now: now)
                    continue
                }
                consider(ActorKey(a), ListedActor(slot: entries.count + rows.count, rate: 0))
                rows.append(a)
            }
            var listed = top.rows + extras
            listed.sort { $0.slot < $1.slot }
            snap.actors.reserveCapacity(listed.count)
            for l in listed {
                if l.slot < entries.count {
                    var a = entries[l.slot]!.actor!.counters._withUnsafeGuaranteedRef { $0.snapshot() }
                    a.processedPerSecond = l.rate
                    snap.actors.append(a)
                } else {
                    snap.actors.append(rows[l.slot - entries.count])
                }
            }
            return (operations, totals)
        }
        return (result.snapshot, result.found)
    }
}

/// Where a listed actor is (its index among the registry's entries, or past them, among
/// the finished readings) and its rate, read once.
struct ListedActor {
    var slot: Int
    var rate: Double
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

extension ActorCounters {
    /// The numbers an order and the totals need; the processing p99 (a lock and a walk of
    /// the distribution) only when asked.
    func key(p99: Bool) -> ActorKey {
        var k = ActorKey(name: name)
        k.mailboxDepth = depth
        k.processed = processed.load(ordering: .relaxed)
        k.failed = failed.load(ordering: .relaxed)
        k.deadLetters = deadLetters.load(ordering: .relaxed)
        if p99, hasDiagnostics.load(ordering: .relaxed) {
            k.p99 = diagnostics.withLock { $0.processing?.percentiles().p99 ?? 0 }
        }
        return k
    }
}

/// The first `limit` rows in an order, kept in a heap whose root is the last of them, so
/// a row that does not make it costs one comparison.
struct TopRows {
    let order: ActorOrder
    let limit: Int
    private var heap: [(key: ActorKey, row: ListedActor)] = []

    init(order: ActorOrder, limit: Int) {
        self.order = order
        self.limit = limit
        heap.reserveCapacity(limit)
    }

    var rows: [ListedActor] { heap.map(\.row) }

    /// Whether the heap's element `i` should sit above `j` (it comes later in the order).
    private func above(_ i: Int, _ j: Int) -> Bool { order.ordered(heap[j].key, heap[i].key) }

    mutating func offer(_ key: ActorKey, _ row: ListedActor) {
        guard limit > 0 else { return }
        if heap.count < limit {
            heap.append((key, row))
            var i = heap.count - 1
            while i > 0, above(i, (i - 1) / 2) {
                heap.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
            return
        }
        guard order.ordered(key, heap[0].key) else { return }
        heap[0] = (key, row)
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, above(l, m) { m = l }
            if r < heap.count, above(r, m) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}

extension String {
    /// "actor-2" before "actor-10": names that differ only in a number after the last `-`
    /// compare by that number. Allocates nothing (called for every pair a sort compares).
    package func compare(naturally other: String) -> Bool {
        if let a = lastIndex(of: "-"), let b = other.lastIndex(of: "-"), self[..<a] == other[..<b],
            let x = Int(self[index(after: a)...]), let y = Int(other[other.index(after: b)...])
        {
            return x < y
        }
        return self < other
    }
}

import Synchronization

/// Where actors report that they changed since the registry's index last read them. An
/// actor reports itself once per read (its marks go from clear to set), so the log holds
/// each actor at most twice (one mark for its senders, one for its run loop) however busy
/// it is, and a snapshot reads only the actors that changed.
final class ActorChangeLog: Sendable {
    private let changed = Locked<[ActorCounters]>([])

    func append(_ counters: ActorCounters) { changed.withLock { $0.append(counters) } }

    func take() -> [ActorCounters] {
        changed.withLock { list in
            var taken: [ActorCounters] = []
            swap(&taken, &list)
            return taken
        }
    }
}

/// Actors that joined and left the registry since its index last looked, kept only once a
/// snapshot has used the index (a registry nobody asks for a screen keeps no log).
struct ActorMembershipLog {
    var added: [Entry] = []
    var removed: [UInt64] = []
    /// The log grew past what the index would read faster by starting again from the
    /// entries: it was dropped, and the next snapshot rebuilds the index.
    var overflowed = false

    mutating func add(_ entry: Entry, actors: Int) {
        added.append(entry)
        bound(actors)
    }

    mutating func remove(_ id: UInt64, actors: Int) {
        removed.append(id)
        bound(actors)
    }

    private mutating func bound(_ actors: Int) {
        guard added.count + removed.count > max(4_096, 2 * actors) else { return }
        self = ActorMembershipLog(overflowed: true)
    }
}

/// The registry's index of its actors, read and changed only by snapshots (under the
/// registry's reader lock): each actor's sort keys as last read, the orders' ranks, the
/// actors with mail or dead letters, and the totals. A snapshot reads again only the actors
/// that reported a change (`ActorChangeLog`), those whose rate is not yet settled, and those
/// that joined; then it finds the rows a screen shows from the keys kept here, with integer
/// comparisons on arrays of their own, without touching the other actors.
struct ActorIndex {
    /// One actor as the index knows it.
    struct Record {
        let id: UInt64
        let counters: ActorCounters
        let meters: MeterBox
        var key: ActorKey
        var alive = true
        /// In `revisit`: read again at every snapshot.
        var revisiting = false
        /// Its p99 may be older than its counters (computed only when the order is p99).
        var p99Stale = false
        /// The snapshot (`ActorIndex.reads`) that last read it.
        var readAt = 0
        /// It joined, reported a change or was seen changing at the last read: read again at
        /// the next snapshot (a change that raced with clearing its marks shows then).
        var followUp = false
    }

    private(set) var records: [Record] = []
    /// Whether each slot is a live actor (the scans' own column).
    private var live: [Bool] = []
    /// The sort values of each order but `name`, by slot: larger first (a rate's bit
    /// pattern, which orders as the rate does for the non-negative rates a meter gives).
    private var values: [[UInt64]] = Array(repeating: [], count: ActorOrder.allCases.count)
    /// Each slot's place in plain name order (ties of the value orders) and in natural name
    /// order (the name order).
    private var plainRank: [Int32] = []
    private var naturalRank: [Int32] = []
    /// Live slots in each name order.
    private var plainSorted: [Int32] = []
    private var naturalSorted: [Int32] = []
    private var slotByID: [UInt64: Int32] = [:]
    private var slotByObject: [ObjectIdentifier: Int32] = [:]
    /// Live actors with messages waiting or dead letters: listed whatever the query.
    private(set) var followed: Set<Int32> = []
    /// Slots read at every snapshot: their rate meter has not settled (a rate that is not 0,
    /// or operations it has not yet put in a window), they joined, changed or reported a
    /// change since the last snapshot, or they report no changes (counters made outside an
    /// actor).
    private var revisit: [Int32] = []
    private var staleP99: [Int32] = []
    private var deadSlots = 0
    /// Live actors' totals (`count` is the live actors) and operations.
    private(set) var totals = ActorTotals()
    private(set) var operations = 0
    /// Snapshots that used the index, and the time source when the last one did.
    private(set) var reads = 0
    /// Actors the last snapshot read.
    private(set) var lastReads = 0
    private var lastNanos: Int64 = 0

    var liveCount: Int { records.count - deadSlots }

    // MARK: keeping up

    /// Brings the index up to `now`: the actors that joined and left (or, with no log, every
    /// entry), then those that reported a change and those still settling.
    mutating func update(entries: [Entry?], membership: ActorMembershipLog?, changes: [ActorCounters], now: Duration, p99: Bool) {
        let nowNanos = Int64(now.seconds * 1e9)
        reads += 1
        lastReads = 0
        var joined: [Int32] = []
        if let membership, !membership.overflowed {
            reserve(membership.added.count)
            for entry in membership.added {
                if let s = insert(entry) { joined.append(s) }
            }
            for id in membership.removed { remove(id) }
        } else {
            self = ActorIndex()
            reads = 1
            lastReads = 0
            reserve(entries.count)
            for case let entry? in entries {
                if let s = insert(entry) { joined.append(s) }
            }
        }
        if !joined.isEmpty || membership?.removed.isEmpty == false { reorderNames(joined: joined) }
        for counters in changes {
            guard let s = slotByObject[ObjectIdentifier(counters)], records[Int(s)].alive else { continue }
            counters.clearMarks()
            records[Int(s)].followUp = true
            if !records[Int(s)].revisiting {
                records[Int(s)].revisiting = true
                revisit.append(s)
            }
        }
        var kept: [Int32] = []
        kept.reserveCapacity(revisit.count)
        for s in revisit where records[Int(s)].alive {
            if records[Int(s)].readAt != reads { read(s, now: nowNanos) }
            let i = Int(s)
            if records[i].followUp || records[i].counters.changes == nil
                || !records[i].meters.value.primary.isSettled(at: records[i].key.processed)
            {
                records[Int(s)].followUp = false
                kept.append(s)
            } else {
                records[Int(s)].revisiting = false
            }
        }
        revisit = kept
        if p99 { refreshP99() }
        lastNanos = nowNanos
        if deadSlots > 64, deadSlots * 2 > records.count { compact() }
    }

    /// Makes room for `more` actors at once (100,000 joining grow each array once).
    private mutating func reserve(_ more: Int) {
        let n = records.count + more
        records.reserveCapacity(n)
        live.reserveCapacity(n)
        for i in values.indices { values[i].reserveCapacity(n) }
        plainRank.reserveCapacity(n)
        naturalRank.reserveCapacity(n)
        revisit.reserveCapacity(revisit.count + more)
        slotByID.reserveCapacity(slotByID.count + more)
        slotByObject.reserveCapacity(slotByObject.count + more)
    }

    /// Adds an actor's entry (not an actor: nothing) and reads it; returns its slot.
    private mutating func insert(_ entry: Entry) -> Int32? {
        guard let actor = entry.actor, slotByID[entry.id] == nil else { return nil }
        let counters = actor.counters.takeUnretainedValue()
        let s = Int32(records.count)
        counters.clearMarks()
        var record = Record(id: entry.id, counters: counters, meters: entry.meters, key: ActorKey(name: counters.name))
        record.followUp = true
        record.revisiting = true
        add(record.key, sign: 1)
        records.append(record)
        live.append(true)
        for i in values.indices { values[i].append(0) }
        plainRank.append(0)
        naturalRank.append(0)
        slotByID[entry.id] = s
        slotByObject[ObjectIdentifier(counters)] = s
        revisit.append(s)
        return s
    }

    private mutating func remove(_ id: UInt64) {
        guard let s = slotByID.removeValue(forKey: id) else { return }
        let r = records[Int(s)]
        slotByObject[ObjectIdentifier(r.counters)] = nil
        followed.remove(s)
        add(r.key, sign: -1)
        records[Int(s)].alive = false
        live[Int(s)] = false
        deadSlots += 1
    }

    /// Reads a slot's counters and rate, and updates what depends on them.
    private mutating func read(_ s: Int32, now: Int64) {
        let i = Int(s)
        lastReads += 1
        let old = records[i].key
        var key = records[i].counters.key(p99: false)
        key.p99 = old.p99
        let meters = records[i].meters
        let fresh = records[i].readAt == 0
        if !fresh, records[i].readAt < reads - 1 {
            // Skipped since its last read (its rate was 0 and it did not change): a meter
            // read at every snapshot would have moved its anchor up to the last one.
            _ = meters.value.primary.update(count: old.processed, nanoseconds: lastNanos)
        }
        key.processedPerSecond = meters.value.primary.update(count: key.processed, nanoseconds: now)
        records[i].readAt = reads
        let changed =
            key.processed != old.processed || key.failed != old.failed || key.deadLetters != old.deadLetters
            || key.mailboxDepth != old.mailboxDepth
        if changed { records[i].followUp = true }
        if changed || fresh {
            if records[i].counters.hasDiagnostics.load(ordering: .relaxed), !records[i].p99Stale {
                records[i].p99Stale = true
                staleP99.append(s)
            }
        }
        add(old, sign: -1)
        add(key, sign: 1)
        records[i].key = key
        setValues(s, key)
        if key.mailboxDepth > 0 || key.deadLetters > 0 { followed.insert(s) } else { followed.remove(s) }
    }

    private mutating func setValues(_ s: Int32, _ key: ActorKey) {
        let i = Int(s)
        values[ActorOrder.mailbox.rawValue][i] = UInt64(max(0, key.mailboxDepth))
        values[ActorOrder.processed.rawValue][i] = UInt64(max(0, key.processed))
        values[ActorOrder.rate.rawValue][i] = key.processedPerSecond > 0 ? key.processedPerSecond.bitPattern : 0
        values[ActorOrder.p99.rawValue][i] = key.p99
        values[ActorOrder.deadLetters.rawValue][i] = UInt64(max(0, key.deadLetters))
    }

    private mutating func add(_ key: ActorKey, sign: Int) {
        totals.count += sign
        totals.processed += sign * key.processed
        totals.failed += sign * key.failed
        totals.deadLetters += sign * key.deadLetters
        operations += sign * (key.processed + key.failed + key.deadLetters)
    }

    private mutating func refreshP99() {
        for s in staleP99 where records[Int(s)].alive && records[Int(s)].p99Stale {
            let c = records[Int(s)].counters
            let p99 = c.diagnostics.withLock { $0.processing?.percentiles().p99 ?? 0 }
            records[Int(s)].key.p99 = p99
            records[Int(s)].p99Stale = false
            values[ActorOrder.p99.rawValue][Int(s)] = p99
        }
        staleP99.removeAll(keepingCapacity: true)
    }

    /// Puts joined slots in the name orders (inserted one by one when few, else sorted
    /// again), drops the dead, and renumbers the ranks.
    private mutating func reorderNames(joined: [Int32]) {
        plainSorted.removeAll { !records[Int($0)].alive }
        naturalSorted.removeAll { !records[Int($0)].alive }
        let fresh = joined.filter { records[Int($0)].alive }
        if fresh.count > 256 || plainSorted.isEmpty {
            plainSorted += fresh
            naturalSorted += fresh
            plainSorted.sort { records[Int($0)].key.name < records[Int($1)].key.name }
            let names = NaturalNames(records: records)
            naturalSorted.sort { names.less($0, $1) }
        } else {
            for s in fresh {
                let name = records[Int(s)].key.name
                plainSorted.insert(s, at: plainSorted.partitioningIndex { records[Int($0)].key.name > name })
                let natural = NaturalNames.Key(name)
                naturalSorted.insert(
                    s, at: naturalSorted.partitioningIndex { natural.less(than: NaturalNames.Key(records[Int($0)].key.name)) })
            }
        }
        for (rank, s) in plainSorted.enumerated() { plainRank[Int(s)] = Int32(rank) }
        for (rank, s) in naturalSorted.enumerated() { naturalRank[Int(s)] = Int32(rank) }
    }

    /// Drops dead slots, keeping the others in order.
    private mutating func compact() {
        var newSlot = [Int32](repeating: -1, count: records.count)
        var n: Int32 = 0
        for i in records.indices where records[i].alive {
            newSlot[i] = n
            n += 1
        }
        func keep<T>(_ column: [T]) -> [T] { column.indices.filter { newSlot[$0] >= 0 }.map { column[$0] } }
        records = keep(records)
        live = keep(live)
        values = values.map(keep)
        plainRank = keep(plainRank)
        naturalRank = keep(naturalRank)
        plainSorted = plainSorted.map { newSlot[Int($0)] }
        naturalSorted = naturalSorted.map { newSlot[Int($0)] }
        slotByID = slotByID.mapValues { newSlot[Int($0)] }
        slotByObject = slotByObject.mapValues { newSlot[Int($0)] }
        followed = Set(followed.map { newSlot[Int($0)] })
        revisit = revisit.compactMap { newSlot[Int($0)] >= 0 ? newSlot[Int($0)] : nil }
        staleP99 = staleP99.compactMap { newSlot[Int($0)] >= 0 ? newSlot[Int($0)] : nil }
        deadSlots = 0
    }

    // MARK: asking

    /// Live slots named `name` (found in plain name order).
    func slots(named name: String) -> ArraySlice<Int32> {
        let from = plainSorted.partitioningIndex { records[Int($0)].key.name >= name }
        var to = from
        while to < plainSorted.count, records[Int(plainSorted[to])].key.name == name { to += 1 }
        return plainSorted[from..<to]
    }

    /// Whether live slot `a` comes before `b` in `order`.
    func precedes(_ order: ActorOrder, _ a: Int32, _ b: Int32) -> Bool {
        guard order != .name else { return naturalRank[Int(a)] < naturalRank[Int(b)] }
        let column = values[order.rawValue]
        let x = column[Int(a)], y = column[Int(b)]
        return x != y ? x > y : plainRank[Int(a)] < plainRank[Int(b)]
    }

    /// The first `count` live slots in `order` (or, `last`, the last `count`), in order.
    func first(_ count: Int, in order: ActorOrder, last: Bool = false) -> [Int32] {
        let count = min(count, liveCount)
        guard count > 0 else { return [] }
        if order == .name { return last ? Array(naturalSorted.suffix(count)) : Array(naturalSorted.prefix(count)) }
        // A heap whose root is the worst of those kept: most slots cost one comparison.
        var heap: [Int32] = []
        heap.reserveCapacity(count)
        let column = values[order.rawValue]
        func before(_ a: Int32, _ b: Int32) -> Bool {
            let x = column[Int(a)], y = column[Int(b)]
            let forward = x != y ? x > y : plainRank[Int(a)] < plainRank[Int(b)]
            return forward != last
        }
        for i in live.indices where live[i] {
            let s = Int32(i)
            if heap.count < count {
                heap.append(s)
                var i = heap.count - 1
                while i > 0, before(heap[(i - 1) / 2], heap[i]) {
                    heap.swapAt(i, (i - 1) / 2)
                    i = (i - 1) / 2
                }
                continue
            }
            guard before(s, heap[0]) else { continue }
            heap[0] = s
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, before(heap[m], heap[l]) { m = l }
                if r < heap.count, before(heap[m], heap[r]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        heap.sort(by: before)
        return last ? heap.reversed() : heap
    }
}

/// Natural name order (`String.compare(naturally:)`) with each name split once.
struct NaturalNames {
    /// A name split at its last `-`: the rule of `String.compare(naturally:)`. Allocates
    /// nothing (the prefix shares the name's storage).
    struct Key {
        let name: String
        let prefix: Substring?
        let number: Int?

        init(_ name: String) {
            self.name = name
            if let dash = name.lastIndex(of: "-") {
                prefix = name[..<dash]
                number = Int(name[name.index(after: dash)...])
            } else {
                prefix = nil
                number = nil
            }
        }

        func less(than other: Key) -> Bool {
            if let a = prefix, let b = other.prefix, let x = number, let y = other.number, a == b { return x < y }
            return name < other.name
        }
    }

    let keys: [Key]

    init(records: [ActorIndex.Record]) { keys = records.map { Key($0.key.name) } }

    func less(_ a: Int32, _ b: Int32) -> Bool { keys[Int(a)].less(than: keys[Int(b)]) }
}

extension ActorCounters {
    /// The index read this actor: its next change reports it again.
    func clearMarks() {
        sentMark.store(false, ordering: .relaxed)
        loopMark.store(false, ordering: .relaxed)
    }
}

extension Array {
    /// The first index whose element is in the second part, for a predicate that is false
    /// and then true along the array (a binary search).
    package func partitioningIndex(where second: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if second(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

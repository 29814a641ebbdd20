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
    /// The actors that left, by their counters.
    var removed: [ActorCounters] = []
    /// The log grew past what the index would read faster by starting again from the
    /// entries: it was dropped, and the next snapshot rebuilds the index.
    var overflowed = false

    mutating func add(_ entry: Entry, actors: Int) {
        added.append(entry)
        bound(actors)
    }

    mutating func remove(_ counters: ActorCounters, actors: Int) {
        removed.append(counters)
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
///
/// A slot's numbers live in columns of integers (what the scans read); its name stays in
/// its counters.
struct ActorIndex {
    /// One actor as the index knows it, besides its columns: its counters (which keep their
    /// slot: `ActorCounters.indexSlot`) and its meters.
    ///
    /// Unretained, which is safe, and spares 100,000 atomic retains and releases at each
    /// full read: the index touches a slot's objects only while the slot is alive, and an
    /// alive slot's actor is in the entries of the snapshot's `RegistryView` (a slot dies at
    /// the first snapshot that sees its actor leave, before anything is read), whose `Entry`
    /// holds both. A dead slot's `counters` are never used.
    struct Record {
        let counters: Unmanaged<ActorCounters>
        let meters: Unmanaged<MeterBox>
        /// Messages whose handling threw, as last read (the other numbers are in the columns).
        var failed = 0
        /// The snapshot (`ActorIndex.reads`) that last read it.
        var readAt = 0
        var alive = true
        /// In `revisit`: read again at every snapshot.
        var revisiting = true
        /// Its p99 may be older than its counters (computed only when the order is p99).
        var p99Stale = false
        /// It joined, reported a change or was seen changing at the last read: read again at
        /// the next snapshot (a change that raced with clearing its marks shows then).
        var followUp = true
        /// Its counters report changes (they have a change log): else read at every snapshot.
        let reports: Bool

        var name: String { counters._withUnsafeGuaranteedRef { $0.name } }
    }

    private(set) var records: [Record] = []
    /// Whether each slot is a live actor (the scans' own column).
    private var live: [Bool] = []
    /// The numbers of each order but `name`, by slot, larger first: `OrderValue`s (the p99
    /// as it is), which compare as unsigned integers as the numbers do and give them back.
    private var mailboxes: [UInt64] = []
    private var processed: [UInt64] = []
    private var rates: [UInt64] = []
    private var p99s: [UInt64] = []
    private var deadLetters: [UInt64] = []
    /// Each slot's place in plain name order (ties of the value orders).
    private var plainRank: [Int32] = []
    /// Live slots in each name order. Natural order (the name order) only once a screen asks
    /// for it: a screen in another order does not pay for it.
    private var plainSorted: [Int32] = []
    private var naturalSorted: [Int32]?
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

    /// Live slot `s`'s sort keys as last read.
    func key(_ s: Int32) -> ActorKey {
        let i = Int(s)
        var key = ActorKey(name: records[i].name)
        key.mailboxDepth = OrderValue.int(mailboxes[i])
        key.processed = OrderValue.int(processed[i])
        key.failed = records[i].failed
        key.deadLetters = OrderValue.int(deadLetters[i])
        key.processedPerSecond = rate(s)
        key.p99 = p99s[i]
        return key
    }

    /// Live slot `s`'s rate as last read.
    func rate(_ s: Int32) -> Double { OrderValue.double(rates[Int(s)]) }

    /// The values of `order` (not `name`), by slot.
    private func column(_ order: ActorOrder) -> [UInt64] {
        switch order {
        case .name: []
        case .mailbox: mailboxes
        case .processed: processed
        case .rate: rates
        case .p99: p99s
        case .deadLetters: deadLetters
        }
    }

    /// The live slot of `counters`, if they are in the index.
    private func slot(of counters: Unmanaged<ActorCounters>) -> Int32? {
        let s = counters._withUnsafeGuaranteedRef { $0.indexSlot.load(ordering: .relaxed) }
        guard s >= 0, Int(s) < records.count, records[Int(s)].alive, records[Int(s)].counters.toOpaque() == counters.toOpaque()
        else { return nil }
        return s
    }

    /// Live slot `s`'s counters.
    func counters(_ s: Int32) -> ActorCounters { records[Int(s)].counters.takeUnretainedValue() }

    // MARK: keeping up

    /// Brings the index up to `now`: the actors that joined and left (or, with no log, every
    /// entry), then those that reported a change and those still settling. `names`: the
    /// screen asks for the name order; `p99`: for the p99 order.
    mutating func update(
        entries: [Entry?], membership: ActorMembershipLog?, changes: [ActorCounters], now: Duration, names: Bool = false,
        p99: Bool = false
    ) {
        let nowNanos = Int64(now.seconds * 1e9)
        reads += 1
        lastReads = 0
        var joined: [Int32] = []
        if let membership, !membership.overflowed {
            reserve(membership.added.count)
            for entry in membership.added {
                if let actor = entry.actor, let s = insert(actor) { joined.append(s) }
            }
            for counters in membership.removed { remove(.passUnretained(counters)) }
        } else {
            self = ActorIndex()
            reads = 1
            reserve(entries.count)
            joined.reserveCapacity(entries.count)
            for i in entries.indices {
                if let actor = entries[i]?.actor, let s = insert(actor) { joined.append(s) }
            }
        }
        if !joined.isEmpty || membership?.removed.isEmpty == false { reorderNames(joined: joined) }
        if names, naturalSorted == nil { naturalSorted = NameOrder.natural(plainSorted) { records[Int($0)].name } }
        for counters in changes {
            guard let s = slot(of: .passUnretained(counters)) else { continue }
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
            let i = Int(s)
            if records[i].readAt != reads { read(s, now: nowNanos) }
            let settled = records[i].meters._withUnsafeGuaranteedRef { $0.value.primary.isSettled(at: OrderValue.int(processed[i])) }
            if records[i].followUp || !records[i].reports || !settled {
                records[i].followUp = false
                kept.append(s)
            } else {
                records[i].revisiting = false
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
        mailboxes.reserveCapacity(n)
        processed.reserveCapacity(n)
        rates.reserveCapacity(n)
        p99s.reserveCapacity(n)
        deadLetters.reserveCapacity(n)
        plainRank.reserveCapacity(n)
        revisit.reserveCapacity(revisit.count + more)
    }

    /// Adds an actor (its entry's counters and meters) with its numbers at 0, to be read at
    /// once; returns its slot.
    private mutating func insert(_ actor: (counters: Unmanaged<ActorCounters>, meters: Unmanaged<MeterBox>)) -> Int32? {
        let s = Int32(records.count)
        guard slot(of: actor.counters) == nil else { return nil }
        // Guaranteed by the entry (see `Record`): no retain and release each.
        let reports = actor.counters._withUnsafeGuaranteedRef { counters in
            counters.indexSlot.store(s, ordering: .relaxed)
            counters.clearMarks()
            return counters.changes != nil
        }
        records.append(Record(counters: actor.counters, meters: actor.meters, reports: reports))
        live.append(true)
        mailboxes.append(OrderValue.zero)
        processed.append(OrderValue.zero)
        rates.append(OrderValue.of(0.0))
        p99s.append(0)
        deadLetters.append(OrderValue.zero)
        plainRank.append(0)
        totals.count += 1
        revisit.append(s)
        return s
    }

    private mutating func remove(_ counters: Unmanaged<ActorCounters>) {
        guard let s = slot(of: counters) else { return }
        let i = Int(s)
        followed.remove(s)
        count(processed: -OrderValue.int(processed[i]), failed: -records[i].failed, deadLetters: -OrderValue.int(deadLetters[i]))
        totals.count -= 1
        records[i].alive = false
        live[i] = false
        deadSlots += 1
    }

    private mutating func count(processed: Int, failed: Int, deadLetters: Int) {
        totals.processed += processed
        totals.failed += failed
        totals.deadLetters += deadLetters
        operations += processed + failed + deadLetters
    }

    /// Reads a slot's counters and rate, and updates what depends on them.
    private mutating func read(_ s: Int32, now: Int64) {
        let i = Int(s)
        lastReads += 1
        let (depth, nowProcessed, failed, nowDeadLetters, diagnostics) = records[i].counters._withUnsafeGuaranteedRef { c in
            (
                c.depth, c.processed.load(ordering: .relaxed), c.failed.load(ordering: .relaxed),
                c.deadLetters.load(ordering: .relaxed), c.hasDiagnostics.load(ordering: .relaxed)
            )
        }
        let oldDepth = OrderValue.int(mailboxes[i])
        let oldProcessed = OrderValue.int(processed[i])
        let oldDeadLetters = OrderValue.int(deadLetters[i])
        let oldFailed = records[i].failed
        let fresh = records[i].readAt == 0
        let skipped = !fresh && records[i].readAt < reads - 1
        let lastNanos = lastNanos
        let rate = records[i].meters._withUnsafeGuaranteedRef { meters in
            if skipped {
                // Skipped since its last read (its rate was 0 and it did not change): a meter
                // read at every snapshot would have moved its anchor up to the last one.
                _ = meters.value.primary.update(count: oldProcessed, nanoseconds: lastNanos)
            }
            return meters.value.primary.update(count: nowProcessed, nanoseconds: now)
        }
        records[i].readAt = reads
        rates[i] = OrderValue.of(rate)
        let changed =
            nowProcessed != oldProcessed || failed != oldFailed || nowDeadLetters != oldDeadLetters || depth != oldDepth
        guard changed || fresh else { return }
        if changed { records[i].followUp = true }
        if diagnostics, !records[i].p99Stale {
            records[i].p99Stale = true
            staleP99.append(s)
        }
        guard changed else { return }
        count(processed: nowProcessed - oldProcessed, failed: failed - oldFailed, deadLetters: nowDeadLetters - oldDeadLetters)
        records[i].failed = failed
        mailboxes[i] = OrderValue.of(depth)
        processed[i] = OrderValue.of(nowProcessed)
        deadLetters[i] = OrderValue.of(nowDeadLetters)
        let wasFollowed = oldDepth > 0 || oldDeadLetters > 0
        if depth > 0 || nowDeadLetters > 0 {
            if !wasFollowed { followed.insert(s) }
        } else if wasFollowed {
            followed.remove(s)
        }
    }

    private mutating func refreshP99() {
        for s in staleP99 where records[Int(s)].alive && records[Int(s)].p99Stale {
            let c = counters(s)
            let p99 = c.diagnostics.withLock { $0.processing?.percentiles().p99 ?? 0 }
            records[Int(s)].p99Stale = false
            p99s[Int(s)] = p99
        }
        staleP99.removeAll(keepingCapacity: true)
    }

    /// Puts joined slots in the name orders (inserted one by one when few, else sorted
    /// again), drops the dead, and renumbers the ranks.
    private mutating func reorderNames(joined: [Int32]) {
        plainSorted.removeAll { !records[Int($0)].alive }
        naturalSorted?.removeAll { !records[Int($0)].alive }
        let fresh = joined.filter { records[Int($0)].alive }
        if fresh.count > 256 || plainSorted.isEmpty {
            plainSorted = NameOrder.plain(plainSorted + fresh) { records[Int($0)].name }
            if naturalSorted != nil { naturalSorted = NameOrder.natural(plainSorted) { records[Int($0)].name } }
        } else {
            for s in fresh {
                let name = records[Int(s)].name
                plainSorted.insert(s, at: plainSorted.partitioningIndex { records[Int($0)].name > name })
                guard naturalSorted != nil else { continue }
                let natural = NaturalNames.Key(name)
                let at = naturalSorted!.partitioningIndex { natural.less(than: NaturalNames.Key(records[Int($0)].name)) }
                naturalSorted!.insert(s, at: at)
            }
        }
        for (rank, s) in plainSorted.enumerated() { plainRank[Int(s)] = Int32(rank) }
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
        mailboxes = keep(mailboxes)
        processed = keep(processed)
        rates = keep(rates)
        p99s = keep(p99s)
        deadLetters = keep(deadLetters)
        for (i, record) in records.enumerated() {
            record.counters._withUnsafeGuaranteedRef { $0.indexSlot.store(Int32(i), ordering: .relaxed) }
        }
        plainRank = keep(plainRank)
        plainSorted = plainSorted.map { newSlot[Int($0)] }
        naturalSorted = naturalSorted?.map { newSlot[Int($0)] }
        followed = Set(followed.map { newSlot[Int($0)] })
        revisit = revisit.compactMap { newSlot[Int($0)] >= 0 ? newSlot[Int($0)] : nil }
        staleP99 = staleP99.compactMap { newSlot[Int($0)] >= 0 ? newSlot[Int($0)] : nil }
        deadSlots = 0
    }

    // MARK: asking

    /// Live slots named `name` (found in plain name order).
    func slots(named name: String) -> ArraySlice<Int32> {
        let from = plainSorted.partitioningIndex { records[Int($0)].name >= name }
        var to = from
        while to < plainSorted.count, records[Int(plainSorted[to])].name == name { to += 1 }
        return plainSorted[from..<to]
    }

    /// The first `count` live slots in `order` (or, `last`, the last `count`), in order.
    func first(_ count: Int, in order: ActorOrder, last: Bool = false) -> [Int32] {
        let count = min(count, liveCount)
        guard count > 0 else { return [] }
        if order == .name {
            // `update(names: true)` made it.
            let sorted = naturalSorted ?? []
            return last ? Array(sorted.suffix(count)) : Array(sorted.prefix(count))
        }
        // A heap whose root is the worst of those kept: most slots cost one comparison.
        var heap: [Int32] = []
        heap.reserveCapacity(count)
        let column = column(order)
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

/// Natural name order (`String.compare(naturally:)`).
enum NaturalNames {
    /// A name split at its last `-`: the rule of `String.compare(naturally:)`. Allocates
    /// nothing (the prefix shares the name's storage).
    struct Key {
        let name: String
        let prefix: Substring?
        let number: Int?

        init(_ name: String) {
            self.name = name
            // ASCII names (all but a few) split on their bytes: each byte is a character there
            // (but "\r\n", which no `-` splits), and finding the last `-` by characters walks
            // grapheme clusters backwards.
            let ascii = name.utf8.withContiguousStorageIfAvailable(Self.split) ?? nil
            if let ascii {
                if let dash = ascii.dash {
                    prefix = name[..<name.utf8.index(name.utf8.startIndex, offsetBy: dash)]
                    number = ascii.number
                } else {
                    prefix = nil
                    number = nil
                }
            } else if let dash = name.lastIndex(of: "-") {
                prefix = name[..<dash]
                number = Int(name[name.index(after: dash)...])
            } else {
                prefix = nil
                number = nil
            }
        }

        /// An ASCII name's last `-` and the number after it, on its bytes; nil when the name
        /// is not ASCII.
        static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> (dash: Int?, number: Int?)? {
            guard isASCII(bytes) else { return nil }
            guard let dash = bytes.lastIndex(of: UInt8(ascii: "-")) else { return (nil, nil) }
            return (dash, number(bytes[(dash + 1)...]))
        }

        /// Whether every byte is ASCII (the name's characters are its bytes).
        static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            var high: UInt8 = 0
            for b in bytes { high |= b }
            return high < 0x80
        }

        /// `Int(text)` of ASCII bytes: an optional `+`, then decimal digits that fit.
        static func number(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
            var digits = text[...]
            if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            guard !digits.isEmpty else { return nil }
            var value = 0
            for b in digits {
                let digit = b &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (tens, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = tens.addingReportingOverflow(Int(digit))
                guard !o1, !o2 else { return nil }
                value = sum
            }
            return value
        }

        /// Equal numbers ("a-5", "a-05") go by plain order, as any others do.
        func less(than other: Key) -> Bool {
            if let a = prefix, let b = other.prefix, let x = number, let y = other.number, x != y, a == b { return x < y }
            return name < other.name
        }
    }
}

/// An order's numbers as unsigned integers that compare as the numbers do, and back.
enum OrderValue {
    static let zero = of(0)

    static func of(_ x: Int) -> UInt64 { UInt64(bitPattern: Int64(x)) ^ (1 << 63) }
    static func int(_ v: UInt64) -> Int { Int(Int64(bitPattern: v ^ (1 << 63))) }
    /// -0 as 0: they compare equal.
    static func of(_ x: Double) -> UInt64 {
        let bits = (x == 0 ? 0 : x).bitPattern
        return bits >> 63 == 1 ? ~bits : bits | (1 << 63)
    }
    static func double(_ v: UInt64) -> Double { Double(bitPattern: v >> 63 == 1 ? v & ~(1 << 63) : ~v) }
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

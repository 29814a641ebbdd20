#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The lock-free part of a `BoundedQueue`: a bounded multi-producer, multi-consumer ring in
/// the style of Dmitry Vyukov's, where each slot carries a sequence number that says whose
/// turn it is. A put claims the next enqueue position with one compare-and-swap and a get the
/// next dequeue position with another; neither takes a lock.
///
/// The queue's lock is only for what has to wait or change the ring's shape: producers and
/// consumers that suspend, close, capacity changes, and growing the ring. Waiters announce
/// themselves in `waitingConsumers`, `pendingProducers` and `admittedProducers`, which the
/// fast paths read after their compare-and-swap: both sides write first (a read-modify-write,
/// sequentially consistent) and read the other side second, so at least one of them sees the
/// other and no wake-up is lost.
///
/// Positions only grow; `put` and `got` counts are the positions. A position word keeps the
/// position in its low 54 bits (2^54 items: 28 years at 20 million a second), a generation
/// above it that changes when the ring is replaced (so a compare-and-swap prepared against
/// the old ring fails), a frozen bit while it is replaced, and (enqueue side) a closed bit
/// and a counting-only bit.
///
/// A LIFO or priority queue keeps its items under the lock (`LockedItems`), and its ring
/// only counts: the counting-only bit, set for its whole life, makes every put without the
/// lock find the ring blocked (the same test as closed or frozen: no cost to a FIFO put),
/// and a get without the lock never finds an item in slots nobody writes. The state machine
/// moves the positions under the lock (`countPut`, `countGot`), so counts, depth, the
/// deepest depth and the waiters' announcements work as they do for the FIFO queue.
///
/// `@unchecked Sendable`: every mutable field is an `Atomic`, or slot memory whose ownership
/// passes between threads through the slots' sequence numbers (release/acquire), or
/// `retired`, touched only under the owning queue's lock.
@usableFromInline
final class QueueRing<Element>: @unchecked Sendable {
    /// Where the next put goes (producers write it).
    @usableFromInline let enqueue = Atomic<Int>(0)
    /// A position the dequeue position has reached: producers check room against it and read
    /// the real one only when it says full, instead of pulling the consumers' line every put.
    /// Relaxed is enough: every value stored was read from `dequeue`, so it is never ahead of
    /// the real position (a racing store may move it back, never forward); a stale floor only
    /// makes a producer read `dequeue` (sequentially consistent) before it says full, and
    /// no other memory is published through it.
    @usableFromInline let dequeueFloor = Atomic<Int>(0)
    @usableFromInline let padding1 = CacheLinePadding()
    /// Where the next get comes from (consumers write it).
    @usableFromInline let dequeue = Atomic<Int>(0)
    @usableFromInline let padding2 = CacheLinePadding()
    // Read on every operation, written rarely.
    @usableFromInline let slots: Atomic<UnsafeMutablePointer<RingSlots<Element>>>
    /// The queue's capacity (the ring may have more slots). Changed under the queue's lock;
    /// read relaxed by the fast put: a put racing with a change uses the old or the new
    /// capacity, each one the queue had during the call, and a grown capacity admits the
    /// waiting producers under the lock.
    @usableFromInline let capacity: Atomic<Int>
    // The three waiter counts are announced by the state machine's `WaiterLine`s: every
    // change is a sequentially consistent read-modify-write, and every read that decides a
    // wake-up (after a put's or a get's compare-and-swap) is sequentially consistent. They
    // are read relaxed only where a stale value costs order or a gauge, never a wake-up:
    // the fast `put`/`get` check whether others wait first (a stale 0 lets this call go
    // ahead of a waiter, who is served by a later item: FIFO among waiters is kept, the
    // order between a waiter and a newcomer is not promised), and the gauges of events.
    /// Consumers suspended in the queue's lock-protected list.
    @usableFromInline let waitingConsumers = Atomic<Int>(0)
    /// Producers whose items are not in yet (suspended in `put`).
    @usableFromInline let pendingProducers = Atomic<Int>(0)
    /// Producers whose items are in, waiting for the low-water mark to be resumed.
    @usableFromInline let admittedProducers = Atomic<Int>(0)
    /// The deepest the queue has been. Relaxed: a statistic, raised by compare-and-swap to
    /// the largest value seen; it publishes no other memory.
    @usableFromInline let maxDepth = Atomic<Int>(0)
    /// Items whose position has these bits clear are stamped with the time they went in
    /// (255: one in 256; 0: every item; see `QueueWaitSample`). Only read when `timed`.
    /// Relaxed: it only chooses which items are timed; a stale mask times a few more or fewer.
    @usableFromInline let samplePeriodMask = Atomic<Int>(QueueWaitSample.sparsestMask)
    /// Whether someone subscribes to every event of the queue's registry (its probe is told:
    /// `PatternProbe.everyEventWanted`). The fast paths read this instead of the registry's
    /// interest: one load from a line they read anyway, where the registry's costs two more
    /// while anyone at all listens (issue #23). Relaxed, like the registry's interest: it
    /// only says whether to build events, and publishes no memory.
    @usableFromInline let everyEvent = Atomic<Bool>(false)
    @usableFromInline let timed: Bool
    /// Rings replaced by bigger ones. Kept until the queue goes: a thread may still be
    /// reading one's sequence numbers (its compare-and-swap then fails on the generation).
    @usableFromInline var retired: [UnsafeMutablePointer<RingSlots<Element>>] = []

    @usableFromInline init(capacity: Int, timed: Bool, countingOnly: Bool = false) {
        precondition(capacity >= 1, "a queue needs a capacity of at least 1")
        self.capacity = Atomic(capacity)
        self.timed = timed
        if countingOnly { enqueue.store(Position.countingOnly, ordering: .relaxed) }
        // Small to start (100,000 idle actors have one each); doubles as needed.
        slots = Atomic(RingSlots.allocate(count: Swift.max(2, Swift.min(4, Self.slotCount(for: capacity))), timed: timed))
    }

    deinit {
        let ring = slots.load(ordering: .acquiring)
        let got = dequeue.load(ordering: .acquiring) & Position.mask
        let word = enqueue.load(ordering: .acquiring)
        let put = word & Position.countingOnly == 0 ? word & Position.mask : got  // counting only: no items here
        for position in got..<put { (ring.pointee.elements + (position & ring.pointee.mask)).deinitialize(count: 1) }
        ring.pointee.deallocate()
        ring.deallocate()
        for old in retired {
            old.pointee.deallocate()
            old.deallocate()
        }
    }

    @inlinable static func slotCount(for capacity: Int) -> Int {
        capacity >= 1 << 40 ? 1 << 40 : 1 << (Int.bitWidth - (capacity - 1).leadingZeroBitCount)
    }

    // MARK: counts

    /// Items put so far (claimed positions; an item being written counts).
    @inlinable var putCount: Int { enqueue.load(ordering: .acquiring) & Position.mask }
    /// Items got so far.
    @inlinable var gotCount: Int { dequeue.load(ordering: .acquiring) & Position.mask }

    /// Put and got counts read at one instant (the dequeue position unchanged around the
    /// read of the enqueue position), so `put - got` is a depth the queue really had.
    @inlinable var counts: (put: Int, got: Int) {
        var got = gotCount
        for _ in 0..<64 {
            let put = putCount
            let again = gotCount
            if again == got { return (put, got) }
            got = again
        }
        return (Swift.max(putCount, got), got)  // never settled: still put >= got
    }

    @inlinable var depth: Int {
        let (put, got) = counts
        return put - got
    }

    /// The depth read with sequentially consistent loads, for a decision that pairs with a
    /// consumer's compare-and-swap on `dequeue` (an acquiring load after a sequentially
    /// consistent read-modify-write may, by the memory model, read an older position).
    @inlinable var depthAfterAnnouncing: Int {
        let got = dequeue.load(ordering: .sequentiallyConsistent) & Position.mask
        let put = enqueue.load(ordering: .sequentiallyConsistent) & Position.mask
        return Swift.max(0, put - got)
    }

    // MARK: put

    @usableFromInline enum PushOutcome {
        case pushed(position: Int)
        /// `depth == capacity`.
        case full
        /// Below capacity, but every slot is taken: the ring must grow (under the lock).
        case noSlot
        /// Closed, frozen while the ring is replaced, or counting only: take the lock.
        case blocked
    }

    @inlinable
    func tryPush(_ element: Element, now: () -> UInt64) -> PushOutcome {
        var word = enqueue.load(ordering: .sequentiallyConsistent)
        var attempts = 0
        while true {
            if word & (Position.frozen | Position.closed | Position.countingOnly) != 0 { return .blocked }
            let position = word & Position.mask
            let limit = capacity.load(ordering: .relaxed)
            if position &- dequeueFloor.load(ordering: .relaxed) >= limit {
                let got = dequeue.load(ordering: .sequentiallyConsistent) & Position.mask
                dequeueFloor.store(got, ordering: .relaxed)
                if position &- got >= limit { return .full }
            }
            let ring = slots.load(ordering: .acquiring)
            let index = position & ring.pointee.mask
            let sequence = ring.pointee.sequences[index].load(ordering: .acquiring)
            if sequence == position {
                let (won, current) = enqueue.weakCompareExchange(
                    expected: word, desired: word &+ 1, ordering: .sequentiallyConsistent)
                if won {
                    (ring.pointee.elements + index).initialize(to: element)
                    // Only a sampled put writes a stamp, and says so in the slot's sequence
                    // number (`Position.stamped`): a get reads the stamps only then.
                    if let stamps = ring.pointee.stamps, _slowPath(position & samplePeriodMask.load(ordering: .relaxed) == 0) {
                        stamps[index] = Swift.max(1, now())
                        ring.pointee.sequences[index].store((position &+ 1) | Position.stamped, ordering: .releasing)
                    } else {
                        ring.pointee.sequences[index].store(position &+ 1, ordering: .releasing)
                    }
                    return .pushed(position: position)
                }
                word = current
            } else if sequence < position || (_slowPath(sequence & Position.stamped != 0) && sequence ^ Position.stamped < position) {
                // The slot still holds the item one lap back: every slot is taken, or that
                // item's consumer is still reading it (a moment).
                let got = dequeue.load(ordering: .sequentiallyConsistent) & Position.mask
                if position &- got >= ring.pointee.mask &+ 1 { return .noSlot }
                backOff(&attempts)
                word = enqueue.load(ordering: .sequentiallyConsistent)
            } else {
                word = enqueue.load(ordering: .sequentiallyConsistent)  // another producer took it
            }
        }
    }

    /// The stamp for the item put at `position` (0: not one of the sample), for a put that
    /// keeps its item under the queue's lock (LIFO, priority) rather than in a slot.
    @inlinable func stamp(_ position: Int, _ now: () -> UInt64) -> UInt64 {
        position & samplePeriodMask.load(ordering: .relaxed) == 0 ? Swift.max(1, now()) : 0
    }

    /// Whether a slot's sequence number says the item of `position` is written, stamped or
    /// not. The unstamped test first: an untimed ring (a mailbox) never needs the second.
    @inlinable func isWritten(_ sequence: Int, at position: Int) -> Bool {
        sequence == position &+ 1 || (timed && sequence == (position &+ 1) | Position.stamped)
    }

    /// The stamp of the item in slot `index` of `ring` (0: not one of the sample), for the
    /// get that has won it. Call before the slot is handed back (the next lap's put may
    /// write the stamp again). Stamps are never cleared: a slot's stamp belongs to its item
    /// only when the sequence number says so, so a get reads the stamps' memory for a
    /// sampled item alone. (Reading each get's stamp to find the sampled ones cost a third
    /// stream of memory a get, beside the sequence numbers and the items: twice the
    /// consumer's L1 misses on queue 1/1 under callgrind's cache simulation.) The sequence
    /// number is loaded again, relaxed: the slot is the get's own until it stores the next.
    @inlinable func stamp(at index: Int, in ring: UnsafeMutablePointer<RingSlots<Element>>) -> UInt64 {
        guard let stamps = ring.pointee.stamps,
            _slowPath(ring.pointee.sequences[index].load(ordering: .relaxed) & Position.stamped != 0)
        else { return 0 }
        return stamps[index]
    }

    /// `tryPop` where the slot's sequence number `sequence` has `Position.stamped`: the get
    /// of a stamped item, or `.busy` (try again) when the slot moved on or another get won
    /// it. Out of line, and called last, so that the usual get's loop keeps the registers
    /// and the tests it had (a call inside it took two registers more to save, two writes
    /// a get); not calling `tryPop` again, so that losing races cannot deepen the stack.
    @inlinable @inline(never)
    func tryPopStamped(word: Int, sequence: Int, ring: UnsafeMutablePointer<RingSlots<Element>>) -> PopOutcome {
        let position = word & Position.mask
        let index = position & ring.pointee.mask
        guard sequence == (position &+ 1) | Position.stamped,
            dequeue.compareExchange(expected: word, desired: word &+ 1, ordering: .sequentiallyConsistent).exchanged
        else { return .busy }
        let element = (ring.pointee.elements + index).move()
        let stamp = ring.pointee.stamps?[index] ?? 0
        ring.pointee.sequences[index].store(position &+ ring.pointee.mask &+ 1, ordering: .releasing)
        return .item(element, stamp: stamp)
    }

    /// Records a stamped item's wait in `sample`, and changes which items are stamped when
    /// the spacing of gets says so (stored only then: the mask shares its cache line with
    /// what every put reads).
    @inlinable func recordWait(since enqueuedAt: UInt64, now: UInt64, in sample: QueueWaitSample) {
        let mask = samplePeriodMask.load(ordering: .relaxed)
        let wanted = sample.record(since: enqueuedAt, now: now, mask: mask)
        if wanted != mask { samplePeriodMask.store(wanted, ordering: .relaxed) }
    }

    /// Raises `maxDepth` if the put at `position` made the queue deeper than it has been.
    /// Reads the real dequeue position only when the cheap bound says it might have.
    @inlinable func noteDepth(afterPutAt position: Int) {
        let bound = position &+ 1 &- dequeueFloor.load(ordering: .relaxed)
        var deepest = maxDepth.load(ordering: .relaxed)
        guard bound > deepest else { return }
        let got = dequeue.load(ordering: .sequentiallyConsistent) & Position.mask
        dequeueFloor.store(got, ordering: .relaxed)
        let depth = Swift.max(1, position &+ 1 &- got)
        while depth > deepest {
            let (won, current) = maxDepth.weakCompareExchange(expected: deepest, desired: depth, ordering: .relaxed)
            if won { return }
            deepest = current
        }
    }

    // MARK: get

    @usableFromInline enum PopOutcome {
        case item(Element, stamp: UInt64)
        case empty
        /// A producer has claimed the next position and is still writing it, or another get
        /// took the stamped item this one was after: try again in a moment.
        case busy
        /// Frozen while the ring is replaced: take the lock.
        case blocked
    }

    @inlinable
    func tryPop() -> PopOutcome {
        var word = dequeue.load(ordering: .sequentiallyConsistent)
        while true {
            if word & Position.frozen != 0 { return .blocked }
            let position = word & Position.mask
            let ring = slots.load(ordering: .acquiring)
            let index = position & ring.pointee.mask
            let sequence = ring.pointee.sequences[index].load(ordering: .acquiring)
            if sequence == position &+ 1 {  // written, and not stamped: no stamp to read
                let (won, current) = dequeue.weakCompareExchange(
                    expected: word, desired: word &+ 1, ordering: .sequentiallyConsistent)
                if won {
                    let element = (ring.pointee.elements + index).move()
                    ring.pointee.sequences[index].store(position &+ ring.pointee.mask &+ 1, ordering: .releasing)
                    return .item(element, stamp: 0)
                }
                word = current
            } else if sequence <= position {  // (a stamped sequence number is never this low)
                let put = enqueue.load(ordering: .sequentiallyConsistent) & Position.mask
                return put <= position ? .empty : .busy
            } else if _slowPath(sequence & Position.stamped != 0) {
                return tryPopStamped(word: word, sequence: sequence, ring: ring)
            } else {
                word = dequeue.load(ordering: .sequentiallyConsistent)  // another consumer took it
            }
        }
    }

    /// Takes up to `max` items with one compare-and-swap, in order, handing each to `body`
    /// (which must not fail: the items are out of the ring once claimed).
    /// - Returns: how many were taken (0: see `tryPop` for why).
    @inlinable
    func tryPopBatch(max: Int, _ body: (Element, UInt64) -> Void) -> Int {
        var word = dequeue.load(ordering: .sequentiallyConsistent)
        while true {
            if word & Position.frozen != 0 { return 0 }
            let position = word & Position.mask
            let ring = slots.load(ordering: .acquiring)
            let mask = ring.pointee.mask
            var ready = 0
            while ready < Swift.min(max, mask &+ 1),
                isWritten(ring.pointee.sequences[(position &+ ready) & mask].load(ordering: .acquiring), at: position &+ ready)
            {
                ready &+= 1
            }
            if ready == 0 {
                let sequence = ring.pointee.sequences[position & mask].load(ordering: .acquiring)
                if sequence & ~Position.stamped <= position { return 0 }
                word = dequeue.load(ordering: .sequentiallyConsistent)
                continue
            }
            let (won, current) = dequeue.compareExchange(
                expected: word, desired: word &+ ready, ordering: .sequentiallyConsistent)
            if !won {
                word = current
                continue
            }
            for offset in 0..<ready {
                let index = (position &+ offset) & mask
                let element = (ring.pointee.elements + index).move()
                let stamp = stamp(at: index, in: ring)
                ring.pointee.sequences[index].store(position &+ offset &+ mask &+ 1, ordering: .releasing)
                body(element, stamp)
            }
            return ready
        }
    }

    // MARK: growing (under the queue's lock)

    /// Replaces the ring with one of at least `needed` slots (and twice as many as now).
    /// Call with the queue's lock held.
    @inlinable @inline(never)
    func grow(toHold needed: Int) {
        let count = slots.load(ordering: .acquiring).pointee.mask + 1
        replace(slotCount: Swift.max(count * 2, Self.slotCount(for: needed)))
    }

    /// Moves the items into a new ring of `count` slots: freezes both positions, waits for
    /// the claims in flight to finish, moves the items, then thaws the positions under a new
    /// generation. Call with the queue's lock held.
    @inlinable @inline(never)
    func replace(slotCount count: Int) {
        assert(retired.count < Position.generations - 1, "a queue's generations would come round again (see Position.generations)")
        let old = slots.load(ordering: .acquiring)
        let oldCount = old.pointee.mask + 1
        let frozenPut = enqueue.bitwiseOr(Position.frozen, ordering: .sequentiallyConsistent).newValue
        let frozenGot = dequeue.bitwiseOr(Position.frozen, ordering: .sequentiallyConsistent).newValue
        let put = frozenPut & Position.mask
        let got = frozenGot & Position.mask
        var attempts = 0
        for position in got..<put {  // items claimed: wait until written
            while !isWritten(old.pointee.sequences[position & old.pointee.mask].load(ordering: .acquiring), at: position) {
                backOff(&attempts)
            }
        }
        for position in Swift.max(0, put - oldCount)..<got {  // items taken: wait until read
            while old.pointee.sequences[position & old.pointee.mask].load(ordering: .acquiring) != position &+ oldCount {
                backOff(&attempts)
            }
        }
        precondition(count >= put - got, "a ring of \(count) slots cannot hold \(put - got) items")
        let ring = RingSlots<Element>.allocate(count: count, timed: timed)
        let mask = count - 1
        for position in got..<got + count {
            let index = position & mask
            if position < put {
                let from = position & old.pointee.mask
                (ring.pointee.elements + index).initialize(to: (old.pointee.elements + from).move())
                if let stamps = ring.pointee.stamps, let oldStamps = old.pointee.stamps {
                    stamps[index] = oldStamps[from]
                    let stamped = old.pointee.sequences[from].load(ordering: .relaxed) & Position.stamped
                    ring.pointee.sequences[index].store((position &+ 1) | stamped, ordering: .relaxed)
                } else {
                    ring.pointee.sequences[index].store(position &+ 1, ordering: .relaxed)
                }
            } else {
                ring.pointee.sequences[index].store(position, ordering: .relaxed)
            }
        }
        slots.store(ring, ordering: .releasing)
        retired.append(old)
        let generation = ((frozenPut & Position.generationMask) &+ Position.generationUnit) & Position.generationMask
        dequeue.store(got | generation, ordering: .sequentiallyConsistent)
        enqueue.store(put | generation | (frozenPut & Position.closed), ordering: .sequentiallyConsistent)
    }

    /// Sets the closed bit: no put can claim a position after this. Waits for the claims in
    /// flight to be written, so that what is left is final. Call with the queue's lock held.
    @usableFromInline func close() {
        let word = enqueue.bitwiseOr(Position.closed, ordering: .sequentiallyConsistent).newValue
        if word & Position.countingOnly != 0 { return }  // no claims without the lock
        let ring = slots.load(ordering: .acquiring)
        let put = word & Position.mask
        var attempts = 0
        var position = gotCount
        while position < put {
            if ring.pointee.sequences[position & ring.pointee.mask].load(ordering: .acquiring) >= position &+ 1 {
                position += 1
            } else {
                backOff(&attempts)
            }
        }
    }
}

extension QueueRing {
    // MARK: counting only (LIFO and priority queues), under the queue's lock

    /// Counts a put of an item kept under the lock. - Returns: its position.
    @inlinable func countPut() -> Int {
        enqueue.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue & Position.mask
    }

    /// Counts `count` items taken (or discarded) from those kept under the lock.
    @inlinable func countGot(_ count: Int = 1) {
        dequeue.wrappingAdd(count, ordering: .sequentiallyConsistent)
    }

    // MARK: discarding (a close that empties at once), under the queue's lock

    /// Takes every item out of a closed ring (`close()` has waited for the puts in flight):
    /// freezes the dequeue position, so that gets without the lock find the ring blocked
    /// and wait for the lock, moves the items out, calls `counted` with how many while still
    /// frozen, then moves the dequeue position past them under a new generation (a get's
    /// compare-and-swap prepared before the freeze fails).
    /// - Returns: the items, in order (for the caller to release outside the lock).
    @inlinable @inline(never)
    func discardAll(counted: (Int) -> Void) -> [Element] {
        let frozenGot = dequeue.bitwiseOr(Position.frozen, ordering: .sequentiallyConsistent).newValue
        let got = frozenGot & Position.mask
        let put = enqueue.load(ordering: .sequentiallyConsistent) & Position.mask
        precondition(enqueue.load(ordering: .relaxed) & Position.closed != 0, "items are discarded from a closed ring only")
        if put == got {
            // Nothing to discard, and no get can win a position: no new generation (each one
            // is spent for good, see `Position.generations`).
            counted(0)
            dequeue.store(frozenGot & ~Position.frozen, ordering: .sequentiallyConsistent)
            return []
        }
        let ring = slots.load(ordering: .acquiring)
        let count = ring.pointee.mask &+ 1
        var items: [Element] = []
        items.reserveCapacity(put - got)
        for position in got..<put {
            // Gets that won a position before the freeze read slots before `got`: these are
            // untouched, and written (close waited for the puts).
            let index = position & ring.pointee.mask
            items.append((ring.pointee.elements + index).move())
            ring.pointee.sequences[index].store(position &+ count, ordering: .releasing)
        }
        counted(items.count)
        let generation = ((frozenGot & Position.generationMask) &+ Position.generationUnit) & Position.generationMask
        dequeue.store(put | generation, ordering: .sequentiallyConsistent)
        return items
    }
}

/// The bits of a position word (see `QueueRing`).
@usableFromInline enum Position {
    @usableFromInline static let mask = (1 << 54) - 1
    @usableFromInline static let generationUnit = 1 << 54
    @usableFromInline static let generationMask = 0x3F << 54
    /// How many generations there are before they repeat. A compare-and-swap prepared
    /// against an old ring fails only while its generation has not come round again, so a
    /// queue may change generation fewer times than this in its whole life: the ring
    /// doubles at most 39 times (4 slots to 2^40), and a discarding close changes the dequeue
    /// side's once (it has items to discard once: a closed ring takes no more).
    @usableFromInline static let generations = 64
    @usableFromInline static let frozen = 1 << 60
    @usableFromInline static let closed = 1 << 61
    /// Enqueue side, for the ring's whole life: the items are kept under the lock.
    @usableFromInline static let countingOnly = 1 << 62
    /// Not in a position word: set in a slot's sequence number (`RingSlots.sequences`) with
    /// `p + 1` when p's item carries a stamp (one of the wait sample).
    @usableFromInline static let stamped = 1 << 62
}

/// One allocation of slots: a power-of-two count of sequence numbers, elements and stamps.
@usableFromInline struct RingSlots<Element> {
    @usableFromInline let mask: Int
    /// Slot i holds position p (p mod count == i): `p` when free for p's put, `p + 1` once
    /// p's item is written (with `Position.stamped` when it carries a stamp), `p + count`
    /// once it was read (free for the next lap).
    @usableFromInline let sequences: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let elements: UnsafeMutablePointer<Element>
    /// When each item went in, for a sample of them (those whose sequence number is
    /// `Position.stamped`; what the others' slots hold means nothing); nil when not timed.
    @usableFromInline let stamps: UnsafeMutablePointer<UInt64>?

    @inlinable init(
        mask: Int, sequences: UnsafeMutablePointer<Atomic<Int>>, elements: UnsafeMutablePointer<Element>,
        stamps: UnsafeMutablePointer<UInt64>?
    ) {
        self.mask = mask
        self.sequences = sequences
        self.elements = elements
        self.stamps = stamps
    }

    @inlinable static func allocate(count: Int, timed: Bool) -> UnsafeMutablePointer<RingSlots> {
        precondition(count >= 2 && count & (count - 1) == 0, "a ring has a power-of-two count of slots, at least 2")
        let sequences = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count)
        for i in 0..<count { (sequences + i).initialize(to: Atomic(i)) }
        let stamps: UnsafeMutablePointer<UInt64>? = timed ? .allocate(capacity: count) : nil
        stamps?.initialize(repeating: 0, count: count)
        let header = UnsafeMutablePointer<RingSlots>.allocate(capacity: 1)
        header.initialize(
            to: RingSlots(mask: count - 1, sequences: sequences, elements: .allocate(capacity: count), stamps: stamps))
        return header
    }

    /// Frees the memory; the elements must have been moved out or deinitialized.
    @inlinable func deallocate() {
        sequences.deinitialize(count: mask + 1)
        sequences.deallocate()
        elements.deallocate()
        stamps?.deallocate()
    }
}

/// Waits a moment for another thread to finish a step it has started: spins, then yields
/// the processor (that thread may have been preempted on this one).
@inlinable func backOff(_ attempts: inout Int) {
    attempts += 1
    if attempts > 32 { sched_yield() }
}

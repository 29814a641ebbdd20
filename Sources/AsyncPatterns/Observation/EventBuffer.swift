import Synchronization

/// A registry's events on their way to its event logs: a bounded multi-producer ring in
/// Dmitry Vyukov's style (as the queue's `QueueRing`), which one reader at a time drains
/// into the logs (issue #23, after tokio-console's instrumentation: the instrumented code
/// only sends into a bounded channel, the aggregator drains it, and what did not fit is
/// counted).
///
/// An event costs its emitter one compare-and-swap and the copy of the event into a slot:
/// no lock, no copy of the subscriber list, no log of anyone's. The ring's order is the
/// order the emitters claimed their positions, so events stay in order (per pattern, and
/// between patterns), and the logs number them as they take them.
///
/// Drained by every read of an attached log (so a log read sees every event whose emitter
/// has returned, unless an earlier emitter has claimed its position and not written it yet:
/// the drain stops there, in order, and the next one takes both), and by the emitter whose position starts a half of the ring (so the ring empties
/// while nobody reads, in batches). An emitter that finds the ring full drains it itself
/// unless someone else is draining it; only then is its event dropped, counted in
/// `dropped` and handed to the logs as a gap where the drain notices it.
///
/// `@unchecked Sendable`: the positions and counters are atomics; a slot's memory passes
/// from its emitter to the drainer and back through the slot's sequence number (release and
/// acquire); `sinks` and what `drain` keeps are touched only under `drainer`'s lock (a
/// pthread mutex, `Locked`, which ThreadSanitizer sees, with a try-lock for emitters).
@usableFromInline final class EventBuffer: @unchecked Sendable {
    /// The next position an emitter claims.
    @usableFromInline let tail = Atomic<Int>(0)
    private let padding = CacheLinePadding()
    /// Routine events dropped because the ring was full and someone else was draining it.
    let droppedRoutine = Atomic<UInt64>(0)
    /// Notable events dropped so.
    let droppedNotable = Atomic<UInt64>(0)
    @usableFromInline let sequences: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let slots: UnsafeMutablePointer<BufferedEvent>
    @usableFromInline let mask: Int
    private let drainer = Locked(Drainer())
    /// The sources whose events may be in the ring (see `adopt`).
    private let names = Locked(AdoptedNames())
    /// Whether the next drain sweeps `names`.
    private let sweepDue = Atomic<Bool>(false)

    private struct AdoptedNames: Sendable {
        var list: [Adopted] = []
        /// The list is swept once it has this many.
        var sweepAt = 64
    }

    /// What only the one who drains touches.
    private struct Drainer: Sendable {
        /// The next position to read.
        var head = 0
        /// The drop counters as the last drain saw them.
        var droppedSeen = EventGap(routine: 0, notable: 0)
        var sinks: [Sink] = []
        /// Reused by every drain for more than one log.
        var batch: [BufferedEvent] = []
        /// The latest mark of a name the last sweep kept only because the drain had not
        /// passed it yet: the first drain past it sweeps again.
        var sweepPast: Int?
    }

    /// A source the buffer keeps alive for the events in the ring that point at it.
    private struct Adopted: Sendable {
        var name: SourceName
        /// Once nothing else held it: the ring's tail then. Nobody could emit an event from
        /// it after that, so once the drain has passed this position, no event points at it.
        var unheldBefore: Int?
        /// Whether only the buffer held it at the sweep going on.
        var unheld = false
    }

    private struct Sink: Sendable {
        /// The subscription's.
        let id: ObjectIdentifier
        let log: EventLog
        var interest: EventInterest
    }

    /// - Parameter capacity: slots, rounded up to a power of two (at least 2).
    init(capacity: Int) {
        let count = 1 << (Int.bitWidth - (Swift.max(2, capacity) - 1).leadingZeroBitCount)
        mask = count - 1
        sequences = .allocate(capacity: count)
        for i in 0..<count { (sequences + i).initialize(to: Atomic(i)) }
        slots = .allocate(capacity: count)
    }

    deinit {
        drainer.withLock { d in
            var position = d.head
            while sequences[position & mask].load(ordering: .acquiring) == position &+ 1 {
                (slots + (position & mask)).deinitialize(count: 1)
                position &+= 1
            }
        }
        sequences.deinitialize(count: mask + 1)
        sequences.deallocate()
        slots.deallocate()
    }

    /// Slots in the ring.
    var capacity: Int { mask + 1 }

    /// Puts `event` in the ring; drains the ring every half of it, and when full. The usual
    /// case (the slot free, the position won at the first try) is inlined into the pattern.
    @inlinable func push(_ event: consuming BufferedEvent) {
        let position = tail.load(ordering: .relaxed)
        let index = position & mask
        if _fastPath(sequences[index].load(ordering: .acquiring) == position),
            tail.weakCompareExchange(expected: position, desired: position &+ 1, ordering: .relaxed).exchanged
        {
            fill(position, with: event)
            return
        }
        pushSlowly(event)
    }

    /// Writes `event` into the slot of `position`, which this emitter won; every half a ring,
    /// the emitter empties it (unless someone is at it).
    @inlinable func fill(_ position: Int, with event: consuming BufferedEvent) {
        let index = position & mask
        (slots + index).initialize(to: event)
        sequences[index].store(position &+ 1, ordering: .releasing)
        if _slowPath(position & (mask >> 1) == 0) { tryDrain() }
    }

    /// `push` when the first try lost: another emitter took the position, or the ring is full.
    @usableFromInline @inline(never)
    func pushSlowly(_ event: consuming BufferedEvent) {
        var position = tail.load(ordering: .relaxed)
        var drained = false
        while true {
            let index = position & mask
            let sequence = sequences[index].load(ordering: .acquiring)
            if sequence == position {
                let (won, current) = tail.weakCompareExchange(expected: position, desired: position &+ 1, ordering: .relaxed)
                if won {
                    fill(position, with: event)
                    return
                }
                position = current
            } else if sequence &- position < 0 {
                // The slot still holds the event one lap back: the ring is full, or that
                // event's drainer is moving it out (a moment). Drain once, then drop.
                if drained || !tryDrain() {
                    if event.isNotable {
                        droppedNotable.wrappingAdd(1, ordering: .relaxed)
                    } else {
                        droppedRoutine.wrappingAdd(1, ordering: .relaxed)
                    }
                    return
                }
                drained = true
                position = tail.load(ordering: .relaxed)
            } else {
                position = tail.load(ordering: .relaxed)  // another emitter took it
            }
        }
    }

    /// Drains unless someone else is draining; whether it did.
    @usableFromInline @discardableResult @inline(never)
    func tryDrain() -> Bool {
        guard let drained = drainer.withLockIfAvailable({ drain(&$0) }) else { return false }
        return drained
    }

    /// Moves every event now in the ring to the logs, in order. Returns when it is done.
    func drain() { drainer.withLock { _ = drain(&$0) } }

    private func drain(_ d: inout Drainer) -> Bool {
        var events = Drain(sequences: sequences, slots: slots, mask: mask, position: d.head)
        var seen = d.droppedSeen
        /// The drops since the last drain. Read after the events: a drop counted before an
        /// event this drain took is in.
        func gap() -> EventGap {
            let dropped = EventGap(
                routine: droppedRoutine.load(ordering: .relaxed), notable: droppedNotable.load(ordering: .relaxed))
            defer { seen = dropped }
            return EventGap(routine: dropped.routine &- seen.routine, notable: dropped.notable &- seen.notable)
        }
        switch d.sinks.count {
        case 0:
            while events.next() != nil {}
            _ = gap()
        case 1:
            // The usual case: each event moves from its slot into the log, not copied.
            d.sinks[0].log.take(interest: d.sinks[0].interest, &events, count: events.limit, gap: gap)
        default:
            while let event = events.next() { d.batch.append(event) }
            let found = gap()
            for sink in d.sinks {
                var copies = d.batch.makeIterator()
                sink.log.take(interest: sink.interest, &copies, count: d.batch.count, gap: { found })
            }
            d.batch.removeAll(keepingCapacity: true)
        }
        d.head = events.position
        d.droppedSeen = seen
        // Names marked behind a claim go once the drain has passed their mark.
        if let mark = d.sweepPast, d.head &- mark >= 0 { sweepDue.store(true, ordering: .relaxed) }
        sweep(&d)
        return true
    }

    /// The events written in the ring from `position` on, in a row, when it was made: each
    /// moved out of its slot (a value, not a closure: the drain's loop runs without dynamic
    /// exclusivity checks).
    ///
    /// At most one ring's worth, counted once (`limit`): emitters refilling the slots this
    /// frees cannot keep the drainer, possibly an emitting task, at it for ever, and `next`
    /// need not look at a slot's sequence again (the acquiring loads that counted it made its
    /// event visible).
    private struct Drain: IteratorProtocol {
        let sequences: UnsafeMutablePointer<Atomic<Int>>
        let slots: UnsafeMutablePointer<BufferedEvent>
        let mask: Int
        var position: Int
        /// Events it hands out still.
        private(set) var limit = 0

        init(sequences: UnsafeMutablePointer<Atomic<Int>>, slots: UnsafeMutablePointer<BufferedEvent>, mask: Int, position: Int) {
            self.sequences = sequences
            self.slots = slots
            self.mask = mask
            self.position = position
            while limit <= mask, sequences[(position &+ limit) & mask].load(ordering: .acquiring) == position &+ limit &+ 1 {
                limit += 1
            }
        }

        mutating func next() -> BufferedEvent? {
            let index = position & mask
            guard limit > 0 else { return nil }
            let event = (slots + index).move()
            sequences[index].store(position &+ mask &+ 1, ordering: .releasing)
            position &+= 1
            limit -= 1
            return event
        }
    }

    /// Keeps `name` alive for as long as an event in the ring may point at it, once its
    /// pattern (or whoever emits from it) holds it no longer. Called once a name: when a
    /// pattern leaves the registry (its pattern holds it until then), and for an event from
    /// no pattern; never waits for a drain.
    ///
    /// Once the list has doubled, the next drain sweeps it: a name only the buffer holds is
    /// marked with the ring's tail, and let go once a drain has passed the mark. The list
    /// stays under about twice the patterns that left and are still held, with no work on
    /// the events' path.
    func adopt(_ name: SourceName) {
        let due = names.withLock { n in
            n.list.append(Adopted(name: name))
            return n.list.count >= n.sweepAt
        }
        guard due else { return }
        sweepDue.store(true, ordering: .relaxed)
        // A registry no event log drains (nobody subscribed one, the usual case for
        // `.shared`) would otherwise keep every name for ever: sweep here, behind the last
        // drain's head, unless someone is draining now (then that drain sweeps).
        _ = drainer.withLockIfAvailable { d in sweep(&d) }
    }

    /// Sweeps the adopted names, behind the last drain's head (`d.head`), when one is due.
    /// The list is taken out while it is swept, so that adopting never waits for a sweep.
    private func sweep(_ d: inout Drainer) {
        guard sweepDue.exchange(false, ordering: .relaxed) else { return }
        let head = d.head
        d.sweepPast = nil
        var list = names.withLock { n in
            defer { n.list = [] }
            return n.list
        }
        for i in list.indices { list[i].unheld = isKnownUniquelyReferenced(&list[i].name) }
        // A name's last holder let it go (a releasing decrement) after its last event claimed
        // a position: the fence makes the tail read below see that claim.
        atomicMemoryFence(ordering: .acquiring)
        let tail = tail.load(ordering: .relaxed)
        var kept = 0
        for i in list.indices {
            if list[i].unheld {
                // Marked now, it goes at once unless an event was claimed since the drain.
                let before = list[i].unheldBefore ?? tail
                if before &- head <= 0 { continue }
                list[i].unheldBefore = before
                if d.sweepPast.map({ before &- $0 > 0 }) ?? true { d.sweepPast = before }
            }
            if kept != i { list.swapAt(kept, i) }
            kept += 1
        }
        list.removeLast(list.count - kept)
        names.withLock { n in
            list.append(contentsOf: n.list)
            n.list = list
            n.sweepAt = Swift.max(64, 2 * n.list.count)
            if n.list.count >= n.sweepAt { sweepDue.store(true, ordering: .relaxed) }
        }
    }

    /// Sources the buffer keeps alive now (for tests).
    var adoptedNames: Int { names.withLock { $0.list.count } }

    /// Sends every event after those in the ring now that `interest` wants to `log`, for
    /// the subscription `id`.
    func attach(_ log: EventLog, interest: EventInterest, id: ObjectIdentifier) {
        drainer.withLock { d in
            _ = drain(&d)
            d.sinks.append(Sink(id: id, log: log, interest: interest))
        }
    }

    /// Changes what the subscription `id` takes, from the events after those in the ring now.
    func setInterest(_ interest: EventInterest, id: ObjectIdentifier) {
        drainer.withLock { d in
            _ = drain(&d)
            for i in d.sinks.indices where d.sinks[i].id == id { d.sinks[i].interest = interest }
        }
    }

    /// Ends the subscription `id` after the events in the ring now; its log, if it had one.
    func detach(_ id: ObjectIdentifier) -> EventLog? {
        drainer.withLock { d in
            _ = drain(&d)
            guard let i = d.sinks.firstIndex(where: { $0.id == id }) else { return nil }
            return d.sinks.remove(at: i).log
        }
    }
}

/// Events a buffer dropped between two drains, routine and notable apart (a log that takes
/// only notable events counts only those).
struct EventGap: Sendable {
    var routine: UInt64
    var notable: UInt64
}

extension EventBuffer {
    /// Runs `body` while holding the drain lock, as a reader in the middle of a long drain
    /// would: emitters meanwhile fill the ring and then drop (for tests).
    func whileDraining<Result>(_ body: () -> Result) -> Result { drainer.withLock { _ in body() } }
}

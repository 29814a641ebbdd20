#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The hand-off between a generator's producer and its one consumer: a ring of slots and
/// two atomic words, so that neither side takes a lock while the other need not be woken.
///
/// The producer writes an element into a free slot and publishes it with one atomic add on
/// the tail word; the consumer reads the tail word once, then takes every element published
/// since, one per `next()`, from the slots themselves, and returns the slots to the producer
/// a few at a time with one atomic add on the head word. The lock guards only the parked
/// continuations: a side that finds nothing to do parks itself, and the other side, whose
/// atomic add reports the parked flag, wakes it.
///
/// Back-pressure is exact: a slot is free again only once its element has been handed to
/// the consumer (`next()` returned it), so the producer is never more than `capacity`
/// elements ahead of the consumer, whichever way the slots are batched. Slots are returned
/// in small groups, which only holds the producer back a little earlier.
///
/// Words (each count is of elements since the start, so no index ever wraps in practice):
/// - tail: published << 3 | writing (4) | finished (2) | consumer parked (1)
/// - head: handed to the consumer and returned << 2 | consumer gone (2) | producers parked (1)
///
/// `yield` is `@Sendable`, so a producer body may call it from several tasks at once: the
/// writing flag makes each write exclusive (a second writer waits the few instructions it
/// takes, yielding its thread), which costs the usual single writer one more atomic.
///
// `@unchecked Sendable`: `slots` and the consumer's cursor (`nextRead`, `published`,
// `returned`) are plain memory shared by two tasks, made safe by the protocol above: a slot
// is written only by the producer holding the writing flag, and only while it is free
// (`head` says the consumer returned it, read with acquiring order after the consumer's
// releasing add); it is read (moved out) only by the consumer after the tail word, read
// with acquiring order, showed it published by the producer's releasing add. The cursor
// is touched only by the consumer: the generator's iterator, which is not `Sendable`, so
// one task at a time. Everything else is atomic or inside `Locked`.
@usableFromInline
final class GeneratorChannel<Element: Sendable>: @unchecked Sendable {
    @usableFromInline static var parkedConsumer: UInt64 { 1 }
    @usableFromInline static var finished: UInt64 { 2 }
    @usableFromInline static var writing: UInt64 { 4 }
    @usableFromInline static var onePublished: UInt64 { 8 }
    @usableFromInline static var parkedProducers: UInt64 { 1 }
    @usableFromInline static var consumerGone: UInt64 { 2 }
    @usableFromInline static var oneReturned: UInt64 { 4 }

    /// How many elements the producer may be ahead (the generator's `buffer`).
    @usableFromInline let capacity: Int
    /// Ring size minus one (the ring is a power of two at least `capacity`).
    @usableFromInline let mask: Int
    /// How many consumed slots the consumer returns at once.
    @usableFromInline let returnEvery: Int
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let progress: StreamProgress

    // The consumer's cursor, in counts since the start. Unchecked exclusivity: only the
    // consumer touches it, never re-entrantly, and the runtime check of each access cost
    // more than the rest of `take()` (a thread-local lookup per access).
    /// The next element `take()` hands out.
    @exclusivity(unchecked) @usableFromInline var nextRead = 0
    /// Elements published, as of the consumer's last look at the tail word.
    @exclusivity(unchecked) @usableFromInline var published = 0
    /// Slots given back to the producer.
    @exclusivity(unchecked) @usableFromInline var returned = 0

    private let padding0 = CacheLinePadding()
    /// Written by the producer per element (and by the consumer to park).
    @usableFromInline let tail = Atomic<UInt64>(0)
    private let padding1 = CacheLinePadding()
    /// Written by the consumer per few elements (and by producers to park).
    @usableFromInline let head = Atomic<UInt64>(0)
    private let padding2 = CacheLinePadding()
    @usableFromInline let parked = Locked(Parked())

    @usableFromInline enum ParkOutcome { case park, retry, cancelled }

    @usableFromInline struct Parked: Sendable {
        @usableFromInline var consumer: UnsafeContinuation<Void, any Error>?
        @usableFromInline var producers: [(id: UInt64, continuation: UnsafeContinuation<Void, any Error>)] = []
        @usableFromInline var nextID: UInt64 = 0
        @usableFromInline init() {}
    }

    @usableFromInline init(capacity: Int, progress: StreamProgress) {
        precondition(capacity >= 1, "a generator buffer must be at least 1")
        self.capacity = capacity
        var size = 1
        while size < capacity { size <<= 1 }
        mask = size - 1
        // Returning a quarter of the buffer at once keeps the producer busy on another core
        // while the consumer works through the rest, at one atomic add per quarter.
        returnEvery = max(1, capacity / 4)
        slots = .allocate(capacity: size)
        self.progress = progress
    }

    deinit {
        // Both sides are gone: the elements published and never taken are still in place.
        let end = Int(tail.load(ordering: .acquiring) >> 3)
        for i in nextRead..<end { (slots + (i & mask)).deinitialize(count: 1) }
        slots.deallocate()
    }

    // MARK: producer

    /// How many times a side that finds nothing to do gives its core away
    /// (`sched_yield`) and looks again before it parks. Parking costs a futex wake-up of
    /// the other side's thread for the next element, microseconds on a virtual machine,
    /// while the other side, running, makes an element in tens of nanoseconds: with two
    /// cores the look again finds work; on one core the yield lets the other side's
    /// thread run and fill (or drain) the ring instead of being preempted per element.
    @usableFromInline static var spinsBeforeParking: Int { 8 }

    /// Hands `element` to the consumer once `trySend` could not: suspends while `capacity`
    /// elements are ahead (the producer's `yield` calls `trySend` first, inline, so that
    /// an element with room costs no call into an async function).
    /// - Throws: `CancellationError` once the consumer has gone (or when cancelled while
    ///   waiting for room).
    @usableFromInline
    func sendWaiting(_ element: Element) async throws {
        var spins = 0
        while true {
            if try trySend(element) { return }
            if tail.load(ordering: .relaxed) & Self.writing != 0 {
                await Task.yield()  // another task of the producer is writing its element
            } else if spins < Self.spinsBeforeParking {
                spins += 1
                sched_yield()
            } else {
                try await waitForRoom()
                spins = 0
            }
        }
    }

    /// Publishes `element` if a slot is free and no other task of the producer is writing,
    /// without suspending.
    /// - Returns: false when it must wait (nothing was sent).
    /// - Throws: `CancellationError` once the consumer has gone.
    @inlinable
    func trySend(_ element: Element) throws -> Bool {
        while true {
            let word = tail.load(ordering: .relaxed)
            if word & Self.writing != 0 { return false }
            let freed = head.load(ordering: .acquiring)
            if freed & Self.consumerGone != 0 { throw CancellationError() }
            let count = Int(truncatingIfNeeded: word >> 3)
            guard count &- Int(truncatingIfNeeded: freed >> 2) < capacity else { return false }
            guard
                tail.compareExchange(
                    expected: word, desired: word | Self.writing, successOrdering: .acquiring, failureOrdering: .relaxed
                ).exchanged
            else { continue }
            // Room was seen before the flag was taken; only the consumer moves `head`, and
            // only forward, so the slot is still free.
            (slots + (count & mask)).initialize(to: element)
            // Counted before it is published: `consumed` never runs ahead of `produced`.
            progress.produced.store(count &+ 1, ordering: .relaxed)
            let before = tail.wrappingAdd(Self.onePublished &- Self.writing, ordering: .acquiringAndReleasing).oldValue
            if before & Self.parkedConsumer != 0 { wakeConsumer() }
            progress.emit.stream(.produced(count: count &+ 1, total: progress.total))
            return true
        }
    }

    /// Parks the producer until the consumer returns slots (or leaves, or it is cancelled).
    @usableFromInline
    func waitForRoom() async throws {
        let id = parked.withLock { p in
            p.nextID &+= 1
            return p.nextID
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let now = parked.withLock { p -> ParkOutcome in
                    if Task.isCancelled { return .cancelled }
                    // Park only while the ring is full (or another producer already set the
                    // flag on a full ring): the consumer's next add then reports the flag,
                    // and it wakes us. Anything else, look again.
                    var current = head.load(ordering: .acquiring)
                    while true {
                        if current & Self.consumerGone != 0 { return .retry }
                        let count = Int(truncatingIfNeeded: tail.load(ordering: .acquiring) >> 3)
                        if count &- Int(truncatingIfNeeded: current >> 2) < capacity { return .retry }
                        if current & Self.parkedProducers != 0 { break }
                        let (exchanged, found) = head.compareExchange(
                            expected: current, desired: current | Self.parkedProducers, successOrdering: .acquiringAndReleasing,
                            failureOrdering: .acquiring)
                        if exchanged { break }
                        current = found
                    }
                    p.producers.append((id, continuation))
                    return .park
                }
                switch now {
                case .park: break
                case .retry: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let continuation = parked.withLock { p -> UnsafeContinuation<Void, any Error>? in
                guard let index = p.producers.firstIndex(where: { $0.id == id }) else { return nil }
                return p.producers.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// The producer is done (returned or threw): the consumer ends once it has taken what
    /// was published.
    @usableFromInline
    func finish() {
        let before = tail.bitwiseOr(Self.finished, ordering: .acquiringAndReleasing).oldValue
        if before & Self.parkedConsumer != 0 { wakeConsumer() }
    }

    @usableFromInline
    func wakeConsumer() {
        let consumer = parked.withLock { p -> UnsafeContinuation<Void, any Error>? in
            tail.bitwiseAnd(~Self.parkedConsumer, ordering: .relaxed)
            defer { p.consumer = nil }
            return p.consumer
        }
        consumer?.resume()
    }

    // MARK: consumer

    /// The next element already published, without touching the tail word or the lock.
    @inlinable
    func take() -> Element? {
        guard nextRead != published else { return nil }
        let element = (slots + (nextRead & mask)).move()
        nextRead &+= 1
        progress.consumed.store(nextRead, ordering: .relaxed)
        if nextRead &- returned >= returnEvery { returnSlots() }
        progress.emit.stream(.consumed(count: nextRead, total: progress.total))
        return element
    }

    /// Gives the slots of the elements handed out so far back to the producer.
    @inlinable
    func returnSlots() {
        let count = nextRead &- returned
        guard count > 0 else { return }
        returned = nextRead
        let before = head.wrappingAdd(UInt64(count) &* Self.oneReturned, ordering: .acquiringAndReleasing).oldValue
        if before & Self.parkedProducers != 0 { wakeProducers() }
    }

    @usableFromInline
    func wakeProducers() {
        let producers = parked.withLock { p in
            head.bitwiseAnd(~Self.parkedProducers, ordering: .relaxed)
            defer { p.producers = [] }
            return p.producers
        }
        // Each looks again for room (several producer tasks: one may find none left).
        for producer in producers { producer.continuation.resume() }
    }

    /// Waits until more elements are published: true when there are, false once the
    /// producer has finished and everything was taken.
    /// - Throws: `CancellationError` if cancelled while waiting.
    @usableFromInline
    func refill() async throws -> Bool {
        returnSlots()  // all of them, before waiting: the producer may be waiting for room
        var spins = 0
        while true {
            let word = tail.load(ordering: .acquiring)
            let count = Int(truncatingIfNeeded: word >> 3)
            if count != nextRead {
                published = count
                return true
            }
            if word & Self.finished != 0 { return false }
            if spins < Self.spinsBeforeParking {
                spins += 1
                sched_yield()
            } else {
                try await waitForElements(seen: word)
                spins = 0
            }
        }
    }

    @usableFromInline
    func waitForElements(seen: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let now = parked.withLock { p -> ParkOutcome in
                    if Task.isCancelled { return .cancelled }
                    // Park only if nothing was published or finished since `seen` (the
                    // writing flag may come and go: a write in progress still adds, and its
                    // add reports the parked flag).
                    var current = seen
                    while true {
                        if current >> 3 != seen >> 3 || current & Self.finished != 0 { return .retry }
                        let (exchanged, found) = tail.compareExchange(
                            expected: current, desired: current | Self.parkedConsumer, successOrdering: .acquiringAndReleasing,
                            failureOrdering: .acquiring)
                        if exchanged { break }
                        current = found
                    }
                    p.consumer = continuation
                    return .park
                }
                switch now {
                case .park: break
                case .retry: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let consumer = parked.withLock { p -> UnsafeContinuation<Void, any Error>? in
                guard let consumer = p.consumer else { return nil }
                tail.bitwiseAnd(~Self.parkedConsumer, ordering: .relaxed)
                p.consumer = nil
                return consumer
            }
            consumer?.resume(throwing: CancellationError())
        }
    }

    /// The consumer stopped: producers waiting for room, and every later `send`, throw.
    @usableFromInline
    func consumerLeft() {
        let before = head.bitwiseOr(Self.consumerGone, ordering: .acquiringAndReleasing).oldValue
        if before & Self.parkedProducers != 0 { wakeProducers() }
    }
}

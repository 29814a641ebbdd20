import Synchronization

/// A bounded queue between async producers and consumers, with back-pressure: FIFO by
/// default, LIFO or smallest first by choice (`QueueOrder`; asyncio's `Queue`, `LifoQueue`
/// and `PriorityQueue`).
///
/// `put` suspends while the queue is full, `get` suspends while it is empty, both first come,
/// first served among those waiting; `taskDone()`/`join()` track completion; `close()` (or
/// `close(throwing:)`) rejects new puts while consumers drain what is left, and
/// `close(discardingItems: true)` empties the queue at once (asyncio's
/// `shutdown(immediate=True)`). The queue is an `AsyncSequence`: `for try await job in
/// queue` takes items until the queue is closed and empty, then ends (or throws the error it
/// was closed with). `count`, `isEmpty` and `isFull` answer without the lock.
///
/// Cancelling a waiting `put` or `get` removes exactly that waiter: nothing is lost or
/// delivered twice. A cancellation that comes after the hand-over changes nothing: a `get`
/// whose item a `put` (or a freed slot) already handed it returns the item, even if its
/// task is cancelled before it runs again; a waiting `put` whose item already went in
/// returns normally. "Full" means what it says: `tryPut` returns false, and `put` waits,
/// only when `depth == capacity`. A waiting producer's item moves in as soon as a slot frees.
/// By default that producer is resumed at once (one wake-up per item got from a full
/// queue); with `resumeProducersBelow:` (a low-water mark) producers whose items went in are
/// resumed together once the depth has fallen below the mark, one wake-up per batch.
///
/// The queue keeps its own numbers (`stats`; in a registry's snapshot also how long a sample
/// of items waited) and emits `QueueEvent`s only to those who subscribe to its registry.
///
/// A FIFO queue is built on a lock-free ring (no `AsyncStream`): a `put` into a queue with
/// room and a `get` from a queue with items take no lock, never suspend and never allocate;
/// one compare-and-swap each. The lock is only taken when someone has to wait or be woken,
/// and for close and capacity changes (see `QueueRing`). A LIFO or priority queue keeps its
/// items in a stack or a heap under the lock: each `put` and `get` takes it once.
public final class BoundedQueue<Element: Sendable>: Sendable {
    @usableFromInline typealias Machine = BoundedQueueStateMachine<
        Element,
        UnsafeContinuation<Void, any Error>,
        UnsafeContinuation<Element, any Error>,
        UnsafeContinuation<Void, any Error>
    >

    @usableFromInline let state: Locked<Machine>
    /// The items, shared by the fast paths and the state machine.
    @usableFromInline let ring: QueueRing<Element>
    /// The machine's low-water mark, read by the fast path without the lock.
    @usableFromInline let resumeProducersBelow: Int?
    @usableFromInline let emit: Emitter
    @usableFromInline let completion: QueueCompletion
    /// The machine's wait-time sample, recorded by gets without the lock (nil: not timed).
    @usableFromInline let wait: QueueWaitSample?
    /// What the registry reads; it holds this, never the queue.
    let probe: QueueProbe<Element>

    /// The identity in events (`kind` is `.queue`).
    public var id: PatternID { emit.source }

    /// The order in which `get` takes the items, chosen at `init`.
    public let order: QueueOrder<Element>

    /// Creates an open, empty queue.
    /// - Parameters:
    ///   - capacity: how many items it holds before `put` suspends (at least 1).
    ///   - order: `.fifo` (the default), `.lifo`, or `.priority(by:)` (`.priority` for
    ///     `Comparable` items): which item `get` takes. Everything else behaves the same.
    ///   - resumeProducersBelow: a low-water mark (1...capacity), or nil (the default).
    ///     Without it, a producer that waited for room is resumed as soon as its item is in.
    ///     With it, producers whose items went in stay suspended until the depth is below
    ///     the mark, then are resumed together: fewer wake-ups for a queue that is often
    ///     full, at the cost of producers waiting longer. It never changes what "full"
    ///     means: items enter as soon as there is room.
    ///   - name: the name shown in events and snapshots.
    ///   - registry: where the queue is listed while it lives (nil: nowhere); its
    ///     subscribers get the queue's events.
    public init(
        capacity: Int, order: QueueOrder<Element> = .fifo, resumeProducersBelow: Int? = nil, name: String = "queue",
        registry: PatternRegistry? = .shared
    ) {
        precondition(capacity >= 1, "BoundedQueue capacity must be at least 1, got \(capacity)")
        if let mark = resumeProducersBelow {
            precondition(mark >= 1 && mark <= capacity, "resumeProducersBelow must be within 1...\(capacity), got \(mark)")
        }
        self.order = order
        let machine = Machine(capacity: capacity, order: order, resumeProducersBelow: resumeProducersBelow, timed: registry != nil)
        ring = machine.ring
        completion = machine.completion
        wait = machine.wait
        self.resumeProducersBelow = resumeProducersBelow
        state = Locked(machine)
        emit = Emitter(registry, PatternID(.queue, name))
        probe = QueueProbe(name: name, state: state, ring: ring, completion: completion)
        emit.register(probe)
    }

    deinit { emit.retire(.queue(probe.snapshot(gone: true))) }
}

/// `taskDone` is counted here, with atomics, not in the state machine: puts and gets take
/// no lock, neither does it.
@usableFromInline
final class QueueCompletion: Sendable {
    /// Items marked done, and items discarded by a close that empties at once (never more
    /// than the ring's got count, which counts those too).
    @usableFromInline let done = Atomic<Int>(0)
    /// How many `join`s wait (announced by the state machine's `joiners` line); `taskDone`
    /// takes the lock only when some do.
    @usableFromInline let joinersWaiting = Atomic<Int>(0)
    @usableFromInline init() {}
}

/// A queue as its registry reads it: the queue's state, not the queue, so the registry
/// holds it strongly without keeping the queue alive.
final class QueueProbe<Element: Sendable>: PatternProbe {
    let name: String
    let state: Locked<BoundedQueue<Element>.Machine>
    let ring: QueueRing<Element>
    let completion: QueueCompletion

    init(name: String, state: Locked<BoundedQueue<Element>.Machine>, ring: QueueRing<Element>, completion: QueueCompletion) {
        self.name = name
        self.state = state
        self.ring = ring
        self.completion = completion
    }

    func everyEventWanted(_ wanted: Bool) { ring.everyEvent.store(wanted, ordering: .relaxed) }

    func read() -> PatternReading { .queue(snapshot(gone: false)) }

    func snapshot(gone: Bool) -> QueueSnapshot {
        var q = QueueSnapshot(name: name)
        state.withLock { m in
            let (put, got) = m.ring.counts
            q.capacity = m.capacity
            q.depth = put - got
            q.maxDepth = m.maxDepth
            q.waitingProducers = m.waitingProducerCount
            q.waitingConsumers = m.consumers.count
            q.put = put
            q.got = got - m.droppedCount
            q.dropped = m.droppedCount
            q.done = completion.done.load(ordering: .relaxed) - m.droppedCount
            q.abandoned = m.abandonedCount
            q.isClosed = m.isClosed
            if let wait = m.wait { q.wait = wait.distribution.percentiles() }
        }
        q.isGone = gone
        return q
    }
}

extension BoundedQueue {
    // MARK: put

    /// Adds `element` (at the back of a FIFO queue; see `QueueOrder` for the others).
    ///
    /// Suspends while the queue is full (back-pressure), FIFO among waiting producers.
    /// - Throws: `QueueClosed` if the queue is closed (before or while waiting; the element
    ///   was not put), `CancellationError` if the task is cancelled while waiting (the
    ///   element was not put). A cancellation after the element went in (with a low-water
    ///   mark, while it waits for the mark) does not throw: the put happened.
    /// - Emits: `.put`, and `.producerBlocked` when it has to wait.
    @inlinable
    nonisolated(nonsending) public func put(_ element: Element) async throws {
        // Producers already waiting go first: then even a put with room takes the lock.
        if ring.pendingProducers.load(ordering: .relaxed) == 0,
            case .pushed(let position) = ring.tryPush(element, now: monotonicNanoseconds)
        {
            didPush(at: position)
            return
        }
        try await putSlowly(element)
    }

    /// `put` that gives up after `timeout` on `clock`.
    ///
    /// Puts at once when there is room; else suspends like `put`, at most `timeout`.
    /// - Throws: `TimedOut` (the element was not put), or what `put` throws.
    public func put<C: Clock>(_ element: Element, timeout: C.Duration, clock: C) async throws {
        if try tryPut(element) { return }
        try await withDeadline(timeout, clock: clock) { try await self.put(element) }
    }

    /// `put` with a timeout on the continuous clock.
    /// - Throws: `TimedOut` (the element was not put), or what `put` throws.
    public func put(_ element: Element, timeout: Duration) async throws {
        try await put(element, timeout: timeout, clock: ContinuousClock())
    }

    /// Adds `element` if there is room, without suspending.
    /// - Returns: false only when the queue is full (`depth == capacity`; nothing was put).
    /// - Throws: `QueueClosed` when closed.
    @discardableResult
    @inlinable
    public func tryPut(_ element: Element) throws -> Bool {
        if ring.pendingProducers.load(ordering: .relaxed) == 0,
            case .pushed(let position) = ring.tryPush(element, now: monotonicNanoseconds)
        {
            didPush(at: position)
            return true
        }
        switch state.withLock({ $0.put(element, now: monotonicNanoseconds()) }) {
        case .stored(let gauges, let wakes):
            resume(wakes)
            emit.queue(.put(gauges: gauges))
            return true
        case .mustWait(_, let wakes):
            resume(wakes)
            return false
        case .closed:
            throw QueueClosed()
        }
    }

    /// After a put without the lock: the deepest depth, waiting consumers, the event.
    @inlinable
    func didPush(at position: Int) {
        ring.noteDepth(afterPutAt: position)
        // Pairs with a consumer that joins the waiters, then looks at the ring.
        if ring.waitingConsumers.load(ordering: .sequentiallyConsistent) > 0 { wakeConsumers() }
        if ring.everyEvent.load(ordering: .relaxed) { emitRoutine(.put) }
    }

    /// The routine events of the fast paths, once `ring.everyEvent` said someone wants them:
    /// out of line, so the fast paths keep their registers and their size.
    @usableFromInline enum RoutineEvent {
        case put, got
        case taskDone(done: Int)
    }

    @inlinable @inline(never)
    func emitRoutine(_ event: RoutineEvent) {
        switch event {
        case .put: emit.queue(.put(gauges: gauges))
        case .got: emit.queue(.got(gauges: gauges))
        // The put count is the ring's (an atomic): no lock for the gauge.
        case .taskDone(let done): emit.queue(.taskDone(unfinished: ring.putCount - done))
        }
    }

    /// Hands the items now in the ring to waiting consumers.
    // The slow paths are specialized for the element type (no generic metadata lookups on
    // every wake-up) but not inlined (the fast path stays small).
    @inlinable @inline(never)
    func wakeConsumers() {
        resume(state.withLock { $0.settle(now: monotonicNanoseconds()) })
    }

    @inlinable @inline(never)
    nonisolated(nonsending) func putSlowly(_ element: Element) async throws {
        switch state.withLock({ $0.put(element, now: monotonicNanoseconds()) }) {
        case .stored(let gauges, let wakes):
            resume(wakes)
            emit.queue(.put(gauges: gauges))
        case .mustWait(let id, let wakes):
            resume(wakes)
            try await putWaiting(element, id: id)
        case .closed:
            throw QueueClosed()
        }
    }

    @inlinable @inline(never)
    nonisolated(nonsending) func putWaiting(_ element: Element, id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let action = state.withLock {
                    $0.suspendProducer(
                        id: id, element: element, token: continuation, isCancelled: Task.isCancelled,
                        now: monotonicNanoseconds())
                }
                switch action {
                case .suspended(let gauges, let wakes, let waits):
                    if waits { emit.queue(.producerBlocked(gauges: gauges)) }
                    resume(wakes)  // may be this producer: its item went in at once
                case .closed(let producer):
                    producer.resume(throwing: QueueClosed())
                case .cancelled(let producer):
                    producer.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            switch state.withLock({ $0.abandonProducer(id: id) }) {
            case .abandoned(let producer, let gauges)?:
                producer.resume(throwing: CancellationError())
                emit.queue(.waiterAbandoned(gauges: gauges, producer: true))
            case .alreadyPut(let producer, let gauges)?:
                producer.resume()  // its item is in: the put happened
                emit.queue(.put(gauges: gauges))
            case nil:
                break
            }
        }
    }

    /// Resumes, outside the lock, what the state machine decided: producers whose items
    /// went in, consumers with their items.
    @inlinable
    func resume(_ wakes: Machine.Wakes) {
        for producer in wakes.producers {
            producer.resume()
            emit.queue(.put(gauges: gauges))
        }
        for (consumer, element) in wakes.consumers {
            consumer.resume(returning: element)
            emit.queue(.got(gauges: gauges))
        }
    }

    /// Gauges read from the ring's counters without the lock, for events.
    @inlinable
    var gauges: QueueGauges {
        QueueGauges(
            depth: ring.depth,
            waitingProducers: ring.pendingProducers.load(ordering: .relaxed) + ring.admittedProducers.load(ordering: .relaxed),
            waitingConsumers: ring.waitingConsumers.load(ordering: .relaxed))
    }

    // MARK: get

    /// Removes and returns the next item: the front one (FIFO), the one put last (LIFO), or
    /// the smallest (priority).
    ///
    /// Suspends while the queue is empty, FIFO among waiting consumers. After `close()` it
    /// keeps returning the items left, then throws; after `close(discardingItems: true)` it
    /// throws at once.
    ///
    /// The hand-over: a `put` (or a close's last items) hands a waiting consumer its item
    /// under the queue's lock, then resumes it. A cancellation that comes after the hand-over,
    /// before the task runs again, is too late: `get` returns the item (the task sees
    /// `Task.isCancelled` afterwards), so an item is never taken and then lost. A
    /// cancellation before the hand-over removes the waiter: it throws and takes nothing.
    /// - Throws: `QueueClosed` once the queue is closed and empty, `CancellationError` if
    ///   cancelled while waiting (nothing was taken).
    /// - Emits: `.got` (with how long the item waited), `.consumerBlocked` when it waits.
    @inlinable
    nonisolated(nonsending) public func get() async throws -> Element {
        // Consumers already waiting go first: then even a get with items takes the lock.
        if ring.waitingConsumers.load(ordering: .relaxed) == 0, case .item(let element, let stamp) = ring.tryPop() {
            didPop(stamp: stamp)
            return element
        }
        return try await getSlowly()
    }

    /// `get` that gives up after `timeout` on `clock` (the tutorial's
    /// `wait_for(queue.get(), 1.0)`).
    /// - Throws: `TimedOut` (nothing was taken), or what `get` throws.
    public func get<C: Clock>(timeout: C.Duration, clock: C) async throws -> Element {
        if let element = try tryGet() { return element }
        return try await withDeadline(timeout, clock: clock) { try await self.get() }
    }

    /// `get` with a timeout on the continuous clock.
    /// - Throws: `TimedOut` (nothing was taken), or what `get` throws.
    public func get(timeout: Duration) async throws -> Element {
        try await get(timeout: timeout, clock: ContinuousClock())
    }

    /// Removes the next item (see `get()`) if there is one, without suspending.
    /// - Returns: nil when empty.
    /// - Throws: `QueueClosed` when closed and empty.
    @inlinable
    public func tryGet() throws -> Element? {
        if ring.waitingConsumers.load(ordering: .relaxed) == 0, case .item(let element, let stamp) = ring.tryPop() {
            didPop(stamp: stamp)
            return element
        }
        switch state.withLock({ $0.get(now: monotonicNanoseconds()) }) {
        case .item(let element, let gauges, let wakes):
            resume(wakes)
            emit.queue(.got(gauges: gauges))
            return element
        case .mustWait:
            return nil
        case .closed:
            throw closedError()
        }
    }

    /// After a get without the lock: the wait-time sample, producers that may go on, the
    /// event.
    @inlinable
    func didPop(stamp: UInt64) {
        if _slowPath(stamp != 0) { recordWait(since: stamp) }
        if mayAdmitProducers { admitProducers() }
        if ring.everyEvent.load(ordering: .relaxed) { emitRoutine(.got) }
    }

    /// Records how long a stamped item waited, without the lock (see `QueueWaitSample`).
    @inlinable @inline(never)
    func recordWait(since stamp: UInt64) {
        guard let wait else { return }
        ring.recordWait(since: stamp, now: monotonicNanoseconds(), in: wait)
    }

    /// Whether a get just freed room a waiting producer needs, or brought the depth below
    /// the low-water mark of producers waiting for it. Pairs with a producer that joins the
    /// waiters, then looks for room.
    @inlinable
    var mayAdmitProducers: Bool {
        if ring.pendingProducers.load(ordering: .sequentiallyConsistent) > 0 { return true }
        guard ring.admittedProducers.load(ordering: .sequentiallyConsistent) > 0 else { return false }
        return ring.depth < resumeProducersBelow ?? Int.max
    }

    @inlinable @inline(never)
    func admitProducers() {
        resume(state.withLock { $0.settle(now: monotonicNanoseconds()) })
    }

    @inlinable @inline(never)
    nonisolated(nonsending) func getSlowly() async throws -> Element {
        switch state.withLock({ $0.get(now: monotonicNanoseconds()) }) {
        case .item(let element, let gauges, let wakes):
            resume(wakes)
            emit.queue(.got(gauges: gauges))
            return element
        case .mustWait(let id):
            return try await getWaiting(id: id)
        case .closed:
            throw closedError()
        }
    }

    /// Appends up to `max` items to `batch` with one compare-and-swap, without suspending.
    /// For a single consumer that works through them in order, such as an actor's run loop.
    /// Each item is still got and counted one by one, in order. Not async, and not inlined:
    /// a consumer that then waits with `getWaiting(id:)` keeps small frames while idle
    /// (100,000 idle actors hold 100,000).
    /// - Returns: nil when items were taken; when the queue is empty, the id to wait under
    ///   with `getWaiting(id:)`.
    /// - Throws: `QueueClosed` once closed and empty.
    @inlinable @inline(never)
    func takeBatch(into batch: inout [Element], max: Int) throws -> UInt64? {
        if ring.waitingConsumers.load(ordering: .relaxed) == 0 {
            var stamps: [UInt64] = []
            let taken = ring.tryPopBatch(max: max) { element, stamp in
                batch.append(element)
                if stamp != 0 { stamps.append(stamp) }
            }
            if taken > 0 {
                if !stamps.isEmpty, let wait {
                    let now = monotonicNanoseconds()
                    for stamp in stamps { ring.recordWait(since: stamp, now: now, in: wait) }
                }
                if mayAdmitProducers { admitProducers() }
                if ring.everyEvent.load(ordering: .relaxed) { for _ in 0..<taken { emit.queue(.got(gauges: gauges)) } }
                return nil
            }
        }
        switch state.withLock({ $0.get(now: monotonicNanoseconds()) }) {
        case .item(let element, let gauges, let wakes):
            resume(wakes)
            emit.queue(.got(gauges: gauges))
            batch.append(element)
            return nil
        case .mustWait(let id):
            return id
        case .closed:
            throw closedError()
        }
    }

    // Specialized for the element type but not inlined: callers keep small frames while
    // they wait here (an idle actor's task holds this chain of frames).
    @inlinable @inline(never)
    nonisolated(nonsending) func getWaiting(id: UInt64) async throws -> Element {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Element, any Error>) in
                let action = state.withLock {
                    $0.suspendConsumer(id: id, token: continuation, isCancelled: Task.isCancelled, now: monotonicNanoseconds())
                }
                switch action {
                case .suspended(let gauges, let wakes, let waits):
                    if waits { emit.queue(.consumerBlocked(gauges: gauges)) }
                    resume(wakes)  // may be this consumer: an item was there
                case .closed(let consumer):
                    consumer.resume(throwing: closedError())
                case .cancelled(let consumer):
                    consumer.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            if let (consumer, gauges) = state.withLock({ $0.abandonConsumer(id: id) }) {
                consumer.resume(throwing: CancellationError())
                emit.queue(.waiterAbandoned(gauges: gauges, producer: false))
            }
        }
    }

    /// What a consumer of the closed and empty queue gets: the error it was closed with, or
    /// `QueueClosed`. Set once, by the first close, before any consumer can see it closed.
    @usableFromInline
    func closedError() -> any Error {
        state.withLock { $0.closeError } ?? QueueClosed()
    }

    // MARK: completion

    /// Marks one item got as processed (the tutorial's `task_done()`).
    /// - Throws: `TaskDoneWithoutItem` when called more often than items were got.
    /// - Emits: `.taskDone`.
    @inlinable
    public func taskDone() throws(TaskDoneWithoutItem) {
        // Relaxed: a first guess; the compare-and-swap reads it again and orders the change.
        var current = completion.done.load(ordering: .relaxed)
        while true {
            // Never more done than got: the got count only grows, so this check holds.
            guard current < ring.gotCount else {
                try checkDoneUnderLock()
                current = completion.done.load(ordering: .relaxed)
                continue
            }
            let (exchanged, original) = completion.done.weakCompareExchange(
                expected: current, desired: current + 1, ordering: .sequentiallyConsistent)
            if exchanged { break }
            current = original
        }
        let doneNow = current + 1
        // Pairs with `join`, which announces itself before it reads `done`: one of the two
        // sees the other, so a joiner is never left waiting for a finish it missed.
        if completion.joinersWaiting.load(ordering: .sequentiallyConsistent) > 0 { wakeJoiners() }
        if ring.everyEvent.load(ordering: .relaxed) { emitRoutine(.taskDone(done: doneNow)) }
    }

    /// The refusal of `taskDone`, checked again under the lock: a close that discards items
    /// counts them done before it moves the got count past them (under the lock), and a
    /// `taskDone` that read the two in between saw one more done than got.
    @usableFromInline @inline(never)
    func checkDoneUnderLock() throws(TaskDoneWithoutItem) {
        let refused = state.withLock { _ in completion.done.load(ordering: .sequentiallyConsistent) >= ring.gotCount }
        if refused { throw TaskDoneWithoutItem() }
    }

    @usableFromInline
    func wakeJoiners() {
        let wake = state.withLock { m in m.finishedJoiners(done: completion.done.load(ordering: .sequentiallyConsistent)) }
        for joiner in wake { joiner.resume() }
    }

    /// Suspends until every item put so far has been marked done with `taskDone()` (or was
    /// discarded by `close(discardingItems: true)`). Returns at once when nothing is
    /// unfinished.
    /// - Throws: `CancellationError` if cancelled while waiting.
    public func join() async throws {
        let id = state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let cancelled = Task.isCancelled
                let waits = state.withLock { m in
                    m.suspendJoiner(
                        id: id, token: continuation, isCancelled: cancelled, done: completion.done.load(ordering: .sequentiallyConsistent))
                }
                if !waits {
                    if cancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let joiner = state.withLock { $0.abandonJoiner(id: id) }
            joiner?.resume(throwing: CancellationError())
        }
    }

    // MARK: control

    /// Closes the queue: later `put`s throw `QueueClosed`; waiting producers are resumed
    /// with `QueueClosed` (their items were not put); consumers drain what is left, then
    /// get `QueueClosed` (an iteration ends). Idempotent.
    /// - Emits: `.closed` the first time.
    public func close() {
        close(error: nil)
    }

    /// Closes the queue with an error: like `close()`, but once the queue is empty consumers
    /// get `error` instead of `QueueClosed` (`get` throws it, an iteration throws it). Only
    /// the first close counts.
    /// - Emits: `.closed` the first time.
    public func close(throwing error: any Error) {
        close(error: error)
    }

    /// Closes the queue and, with `discardingItems`, empties it at once (asyncio's
    /// `shutdown(immediate=True)`): the items still in it are dropped, counted in
    /// `stats.dropped` (and the registry's snapshot), and count as done for `join`. Then, as
    /// after `close()`: later puts and waiting producers throw `QueueClosed`; but waiting and
    /// later gets throw at once (`QueueClosed`), since nothing is left to drain. `join()`
    /// returns once every item got before is done too (as asyncio's: only the dropped items
    /// are done for you). Producers whose items were in, waiting for the low-water mark,
    /// return normally: their puts happened (their items may be among the dropped).
    ///
    /// Without `discardingItems` it is `close()`. Also empties a queue already closed (the
    /// first close still decides the error). Items handed to consumers before it are theirs:
    /// a `get` resumed with an item returns it.
    /// - Returns: how many items this call dropped.
    /// - Emits: `.closed` the first time the queue closes.
    @discardableResult
    public func close(discardingItems: Bool) -> Int {
        close(error: nil, discardingItems: discardingItems)
    }

    /// `close(throwing:)` that empties the queue at once, like `close(discardingItems:)`:
    /// waiting and later gets throw `error` at once (only the first close decides it).
    /// - Returns: how many items this call dropped.
    /// - Emits: `.closed` the first time the queue closes.
    @discardableResult
    public func close(throwing error: any Error, discardingItems: Bool) -> Int {
        close(error: error, discardingItems: discardingItems)
    }

    @discardableResult
    func close(error: (any Error)?, discardingItems: Bool = false) -> Int {
        let (action, gauges, consumerError) = state.withLock {
            ($0.close(error: error, discardingItems: discardingItems), $0.gauges, $0.closeError ?? QueueClosed())
        }
        for producer in action.producers { producer.resume(throwing: QueueClosed()) }
        for producer in action.admitted { producer.resume() }
        resume(Machine.Wakes(consumers: action.handed))
        for consumer in action.consumers { consumer.resume(throwing: consumerError) }
        for joiner in action.joiners { joiner.resume() }
        if action.wasOpen { emit.queue(.closed(gauges: gauges)) }
        return action.discarded.count  // the items are released here, outside the lock
    }

    /// Changes the capacity while running. Growing admits waiting producers at once;
    /// shrinking never drops stored items (new puts wait until the depth is below it).
    /// Setting the current capacity does nothing.
    /// - Emits: `.capacityChanged`, and `.put` for each producer admitted.
    public func setCapacity(_ capacity: Int) {
        precondition(capacity >= 1, "BoundedQueue capacity must be at least 1, got \(capacity)")
        guard let admitted = state.withLock({ $0.capacity == capacity ? nil : $0.setCapacity(capacity, now: monotonicNanoseconds()) })
        else { return }
        emit.queue(.capacityChanged(capacity: capacity, gauges: admitted.gauges))
        for producer in admitted.producers {
            producer.resume()
            emit.queue(.put(gauges: admitted.gauges))
        }
        resume(Machine.Wakes(consumers: admitted.handed))
    }

    /// A consistent picture of the queue right now: `put == got + dropped + depth`.
    public var stats: QueueStats {
        state.withLock { m in
            let (put, got) = ring.counts
            return QueueStats(
                capacity: m.capacity, depth: put - got, waitingProducers: m.waitingProducerCount,
                waitingConsumers: m.consumers.count, put: put, got: got - m.droppedCount,
                done: completion.done.load(ordering: .relaxed) - m.droppedCount, dropped: m.droppedCount,
                maxDepth: m.maxDepth, isClosed: m.isClosed)
        }
    }

    // MARK: the cheap questions (asyncio's qsize(), empty(), full())

    /// Items in the queue now (asyncio's `qsize()`), read without the lock.
    ///
    /// The put and got counts are read at one instant (see `QueueRing.counts`), so the
    /// answer is a depth the queue really had during the call, counting an item whose put is
    /// still being written and not counting the items of producers that wait for room. With
    /// others putting and getting, it may have changed by the time you look: decide with
    /// `tryPut`/`tryGet`, not with this.
    @inlinable public var count: Int { ring.depth }

    /// Whether the queue holds no item now (asyncio's `empty()`): `count == 0`, with the same
    /// caveat: a `get` right after may still suspend, or not.
    @inlinable public var isEmpty: Bool { ring.depth == 0 }

    /// Whether the queue is full now (asyncio's `full()`): `count >= capacity`, the moment
    /// when `put` waits and `tryPut` returns false. It can be more than full for a while after
    /// `setCapacity` shrinks it. Same caveat as `count`.
    @inlinable public var isFull: Bool { ring.depth >= ring.capacity.load(ordering: .relaxed) }

    /// The capacity now (`setCapacity(_:)` changes it), read without the lock.
    @inlinable public var capacity: Int { ring.capacity.load(ordering: .relaxed) }
}

extension BoundedQueue: AsyncSequence {
    /// Makes an iterator that takes items with `get()`: `for try await job in queue`.
    /// Several consumers may iterate the same queue; each item goes to one of them.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: self)
    }

    /// Takes items from the queue until it is closed and empty.
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let queue: BoundedQueue

        @inlinable init(queue: BoundedQueue) { self.queue = queue }

        /// Suspends while the queue is empty (see `get()`), then returns the front item;
        /// nil once the queue is closed and empty.
        /// - Throws: the error passed to `close(throwing:)` once the queue is empty,
        ///   `CancellationError` if cancelled while waiting (nothing was taken).
        @inlinable
        nonisolated(nonsending) public mutating func next() async throws -> Element? {
            do {
                return try await queue.get()
            } catch is QueueClosed {
                return nil
            }
        }
    }
}

/// Counters and gauges of a `BoundedQueue` at one moment.
public struct QueueStats: Sendable, Hashable {
    /// Items it holds before `put` suspends.
    public var capacity: Int
    /// Items in the queue now.
    public var depth: Int
    /// Producers suspended in `put`.
    public var waitingProducers: Int
    /// Consumers suspended in `get`.
    public var waitingConsumers: Int
    /// Items put so far.
    public var put: Int
    /// Items got so far (not counting `dropped`).
    public var got: Int
    /// Items marked done with `taskDone()` (not counting `dropped`).
    public var done: Int
    /// Items dropped by `close(discardingItems: true)`: put, never got, and done for `join`.
    /// Every item put is got, dropped or still in the queue: `put == got + dropped + depth`.
    public var dropped: Int
    /// The deepest it has been.
    public var maxDepth: Int
    /// Whether it was closed.
    public var isClosed: Bool
}

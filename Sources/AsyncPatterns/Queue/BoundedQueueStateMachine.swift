import DequeModule

/// The pure state of a `BoundedQueue`: items, waiting producers and consumers, counters.
///
/// Every input is a `mutating func` that returns what the caller must do once the lock is
/// dropped. It never resumes anything itself, so it is unit-tested with plain tokens in
/// place of continuations. `Producer`, `Consumer` and `Joiner` are those tokens.
@usableFromInline struct BoundedQueueStateMachine<Element, Producer, Consumer, Joiner> {
    @usableFromInline struct Item {
        @usableFromInline var element: Element
        @usableFromInline var enqueuedAt: UInt64
        @inlinable init(element: Element, enqueuedAt: UInt64) {
            self.element = element
            self.enqueuedAt = enqueuedAt
        }
    }

    @usableFromInline struct WaitingProducer {
        @usableFromInline var id: UInt64
        @usableFromInline var element: Element
        @usableFromInline var token: Producer
        @inlinable init(id: UInt64, element: Element, token: Producer) {
            self.id = id
            self.element = element
            self.token = token
        }
    }

    @usableFromInline struct WaitingConsumer {
        @usableFromInline var id: UInt64
        @usableFromInline var token: Consumer
        @inlinable init(id: UInt64, token: Consumer) {
            self.id = id
            self.token = token
        }
    }

    /// A producer whose item is in the buffer but who is not resumed yet: with a low-water
    /// mark, producers are resumed together once the depth is below it.
    @usableFromInline struct AdmittedProducer {
        @usableFromInline var id: UInt64
        @usableFromInline var token: Producer
        @inlinable init(id: UInt64, token: Producer) {
            self.id = id
            self.token = token
        }
    }

    // Stored properties are laid out in declaration order: the ones every put and get
    // touches come first, so that they share as few cache lines as possible (each line is
    // moved between the producer's and the consumer's cores with the lock); the rest after.
    @usableFromInline var items: Deque<Item> = []
    @usableFromInline var capacity: Int
    /// Producers whose items are not in the buffer yet. Never waiting while there is room:
    /// an item moves in from here as soon as a slot frees, so "full" means what it says.
    @usableFromInline var producers: Deque<WaitingProducer> = []
    @usableFromInline var consumers: Deque<WaitingConsumer> = []
    @usableFromInline var isClosed = false
    @usableFromInline var putCount = 0
    @usableFromInline var gotCount = 0
    @usableFromInline var maxDepth = 0
    /// How long items wait in the queue, for a sample of them (nil: not timed).
    @usableFromInline let wait: LatencyDistribution?
    @usableFromInline var sampler = LatencySampler()
    /// `admitted.count`, kept here: the hot path reads it on every put and get (gauges)
    /// without touching the deque's heap storage.
    @usableFromInline var admittedCount = 0
    /// The low-water mark: nil resumes each producer as soon as its item is in.
    @usableFromInline let resumeProducersBelow: Int?
    /// Producers whose items moved in, waiting for the depth to fall below
    /// `resumeProducersBelow` (empty without a low-water mark).
    @usableFromInline var admitted: Deque<AdmittedProducer> = []
    @usableFromInline var joiners: [(id: UInt64, token: Joiner)] = []
    /// The error consumers get once the queue is closed and empty (nil: `QueueClosed`).
    @usableFromInline var closeError: (any Error)?
    @usableFromInline var abandonedCount = 0
    @usableFromInline var nextID: UInt64 = 0

    @inlinable init(capacity: Int, resumeProducersBelow: Int? = nil, timed: Bool = false) {
        precondition(capacity >= 1, "a queue needs a capacity of at least 1")
        if let mark = resumeProducersBelow {
            precondition(mark >= 1 && mark <= capacity, "a low-water mark must be within 1...capacity, got \(mark)")
        }
        self.capacity = capacity
        self.resumeProducersBelow = resumeProducersBelow
        wait = timed ? LatencyDistribution() : nil
    }

    /// The time to stamp an item with: the clock for a sampled item, 0 (not timed) otherwise.
    @inlinable mutating func stamp(_ now: () -> UInt64) -> UInt64 {
        guard wait != nil, sampler.tick() else { return 0 }
        let t = Swift.max(1, now())
        sampler.sampled(at: t)
        return t
    }

    /// Records how long a stamped item waited.
    @inlinable mutating func recordWait(since enqueuedAt: UInt64, _ now: () -> UInt64) {
        guard enqueuedAt != 0, let wait else { return }
        let t = now()
        wait.record(t &- Swift.min(t, enqueuedAt))
    }

    @inlinable var depth: Int { items.count }
    /// Producers suspended in `put`: those whose items wait to go in, and (with a low-water
    /// mark) those whose items went in and who wait to be resumed.
    @inlinable var waitingProducerCount: Int { producers.count + admittedCount }
    @inlinable var gauges: QueueGauges {
        QueueGauges(depth: items.count, waitingProducers: waitingProducerCount, waitingConsumers: consumers.count)
    }
    /// Items put and not yet marked done, given how many were done (what `join` waits for).
    /// `taskDone` is counted outside the lock, by `BoundedQueue`, so it is passed in.
    @inlinable func unfinished(done: Int) -> Int { putCount - done }

    /// Whether producers whose items went in are resumed now: at once without a low-water
    /// mark; with one, once the depth is below it (hysteresis, as swift-nio's producers'
    /// high and low watermarks: one wake-up per batch instead of one per item got).
    @inlinable var resumesAdmitted: Bool {
        guard let mark = resumeProducersBelow else { return true }
        return items.count < Swift.min(mark, capacity)
    }

    @inlinable mutating func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    // MARK: put

    @usableFromInline enum PutAction {
        /// Stored; the caller returns.
        case stored(QueueGauges)
        /// Handed straight to a waiting consumer: resume it with the element.
        case handOff(Consumer, Element, QueueGauges)
        /// Full: the caller must suspend under `id` and call `suspendProducer`.
        case mustWait(id: UInt64)
        /// Closed: throw `QueueClosed`.
        case closed
    }

    @inlinable mutating func put(_ element: Element, now: @autoclosure () -> UInt64) -> PutAction {
        if isClosed { return .closed }
        if let consumer = consumers.popFirst() {
            // A waiting consumer means the queue is empty: the item skips the buffer.
            putCount += 1
            gotCount += 1
            maxDepth = max(maxDepth, 1)
            if let wait, sampler.tick() { wait.record(0) }  // straight to a waiting consumer
            return .handOff(consumer.token, element, gauges)
        }
        // Producers already waiting go first, even when there is room (FIFO).
        if items.count < capacity, producers.isEmpty {
            items.append(Item(element: element, enqueuedAt: stamp(now)))
            putCount += 1
            maxDepth = max(maxDepth, items.count)
            return .stored(gauges)
        }
        return .mustWait(id: makeID())
    }

    @usableFromInline enum SuspendProducerAction {
        /// Waiting; resumed later by a get, capacity change, close or cancellation.
        case suspended(QueueGauges)
        /// Things changed between the fast path and here: resume the token at once with
        /// the action's outcome.
        case resumeNow(Producer, PutAction)
        /// The task was cancelled before it could wait: resume with `CancellationError`.
        case cancelled(Producer)
    }

    /// Called with the lock held again, now that the producer has a token to wait on.
    @inlinable mutating func suspendProducer(
        id: UInt64, element: Element, token: Producer, isCancelled: Bool, now: @autoclosure () -> UInt64
    ) -> SuspendProducerAction {
        if isCancelled { return .cancelled(token) }
        switch put(element, now: now()) {
        case .mustWait:
            producers.append(WaitingProducer(id: id, element: element, token: token))
            return .suspended(gauges)
        case let other:
            return .resumeNow(token, other)
        }
    }

    // MARK: get

    @usableFromInline enum GetAction {
        /// Took an item; producers whose items are in the buffer and who may go on (see
        /// `resumesAdmitted`) must be resumed.
        case item(Element, QueueGauges, admitted: [Producer])
        /// Empty: suspend under `id` and call `suspendConsumer`.
        case mustWait(id: UInt64)
        /// Closed and empty: throw `QueueClosed`.
        case closed
    }

    @inlinable mutating func get(now: @autoclosure () -> UInt64) -> GetAction {
        if let item = items.popFirst() {
            gotCount += 1
            recordWait(since: item.enqueuedAt, now)
            // A slot freed: a waiting producer's item takes it at once (so a waiting producer
            // always means a full queue), and admitted producers go on if they may.
            let resume = admittedCount == 0 && producers.isEmpty ? [] : admitProducers(now: now())
            return .item(item.element, gauges, admitted: resume)
        }
        if let producer = producers.popFirst() {
            // Only possible with capacity reached by an empty buffer, which capacity >= 1
            // rules out; kept total so a waiting producer can never be stranded.
            putCount += 1
            gotCount += 1
            return .item(producer.element, gauges, admitted: [producer.token])
        }
        return isClosed ? .closed : .mustWait(id: makeID())
    }

    @usableFromInline enum SuspendConsumerAction {
        case suspended(QueueGauges)
        case resumeNow(Consumer, GetAction)
        case cancelled(Consumer)
    }

    @inlinable mutating func suspendConsumer(id: UInt64, token: Consumer, isCancelled: Bool, now: @autoclosure () -> UInt64)
        -> SuspendConsumerAction
    {
        if isCancelled { return .cancelled(token) }
        switch get(now: now()) {
        case .mustWait:
            consumers.append(WaitingConsumer(id: id, token: token))
            return .suspended(gauges)
        case let other:
            return .resumeNow(token, other)
        }
    }

    // MARK: abandoning a wait (cancellation, timeout)

    @usableFromInline enum AbandonProducerAction {
        /// Its item was never put: resume it with `CancellationError`.
        case abandoned(Producer, QueueGauges)
        /// Its item is already in the buffer (it waited for the low-water mark): resume it
        /// normally, the put happened.
        case alreadyPut(Producer, QueueGauges)
    }

    /// Removes exactly the producer `id` if it still waits (nil: it was resumed already).
    @inlinable mutating func abandonProducer(id: UInt64) -> AbandonProducerAction? {
        if let index = producers.firstIndex(where: { $0.id == id }) {
            let token = producers.remove(at: index).token
            abandonedCount += 1
            return .abandoned(token, gauges)
        }
        if admittedCount > 0, let index = admitted.firstIndex(where: { $0.id == id }) {
            let token = admitted.remove(at: index).token
            admittedCount -= 1
            return .alreadyPut(token, gauges)
        }
        return nil
    }

    /// Removes exactly the consumer `id` if it still waits; it took nothing.
    @inlinable mutating func abandonConsumer(id: UInt64) -> (Consumer, QueueGauges)? {
        guard let index = consumers.firstIndex(where: { $0.id == id }) else { return nil }
        let token = consumers.remove(at: index).token
        abandonedCount += 1
        return (token, gauges)
    }

    @inlinable mutating func abandonJoiner(id: UInt64) -> Joiner? {
        guard let index = joiners.firstIndex(where: { $0.id == id }) else { return nil }
        return joiners.remove(at: index).token
    }

    // MARK: join

    /// Returns false when there is nothing to wait for (the joiner returns at once).
    @inlinable mutating func suspendJoiner(id: UInt64, token: Joiner, isCancelled: Bool, done: Int) -> Bool {
        if unfinished(done: done) == 0 || isCancelled { return false }
        joiners.append((id, token))
        return true
    }

    /// The joiners to resume, if `done` items finish everything put so far.
    @inlinable mutating func finishedJoiners(done: Int) -> [Joiner] {
        guard unfinished(done: done) == 0, !joiners.isEmpty else { return [] }
        let wake = joiners.map(\.token)
        joiners.removeAll()
        return wake
    }

    // MARK: capacity and close

    @usableFromInline struct Admitted {
        @usableFromInline var producers: [Producer]
        @usableFromInline var gauges: QueueGauges
        @inlinable init(producers: [Producer], gauges: QueueGauges) {
            self.producers = producers
            self.gauges = gauges
        }
    }

    /// Growing admits waiting producers in order; shrinking keeps every stored item (new
    /// puts wait until the depth falls below the new capacity).
    @inlinable mutating func setCapacity(_ newCapacity: Int, now: @autoclosure () -> UInt64) -> Admitted {
        precondition(newCapacity >= 1, "a queue needs a capacity of at least 1")
        capacity = newCapacity
        return Admitted(producers: admitProducers(now: now()), gauges: gauges)
    }

    /// Moves waiting producers' items into the buffer, in order, while there is room.
    /// - Returns: the producers to resume now: all of them without a low-water mark, else
    ///   every admitted producer once the depth is below the mark (none before).
    @inlinable mutating func admitProducers(now: @autoclosure () -> UInt64) -> [Producer] {
        var resume: [Producer] = []
        if !producers.isEmpty, items.count < capacity {
            while items.count < capacity, let producer = producers.popFirst() {
                items.append(Item(element: producer.element, enqueuedAt: stamp(now)))
                putCount += 1
                if resumeProducersBelow == nil {
                    resume.append(producer.token)
                } else {
                    admitted.append(AdmittedProducer(id: producer.id, token: producer.token))
                    admittedCount += 1
                }
            }
            maxDepth = max(maxDepth, items.count)
        }
        if admittedCount > 0, resumesAdmitted {
            resume.append(contentsOf: admitted.lazy.map(\.token))
            admitted.removeAll(keepingCapacity: true)
            admittedCount = 0
        }
        return resume
    }

    @usableFromInline struct CloseAction {
        /// Waiting producers: their items were never put; resume them with `QueueClosed`.
        @usableFromInline var producers: [Producer]
        /// Producers whose items are in (waiting for the low-water mark): resume them
        /// normally, their puts happened.
        @usableFromInline var admitted: [Producer]
        /// Waiting consumers (the buffer is empty): resume them with `QueueClosed`.
        @usableFromInline var consumers: [Consumer]
        @usableFromInline var wasOpen: Bool
        @inlinable init(producers: [Producer], admitted: [Producer], consumers: [Consumer], wasOpen: Bool) {
            self.producers = producers
            self.admitted = admitted
            self.consumers = consumers
            self.wasOpen = wasOpen
        }
    }

    /// Closes; the first close's `error` (nil: `QueueClosed`) is what consumers get once the
    /// buffer is empty.
    @inlinable mutating func close(error: (any Error)? = nil) -> CloseAction {
        let wasOpen = !isClosed
        if wasOpen { closeError = error }
        isClosed = true
        let action = CloseAction(
            producers: producers.map(\.token), admitted: admitted.map(\.token), consumers: consumers.map(\.token),
            wasOpen: wasOpen)
        producers.removeAll()
        admitted.removeAll()
        admittedCount = 0
        consumers.removeAll()
        return action
    }
}

extension BoundedQueueStateMachine: Sendable
where Element: Sendable, Producer: Sendable, Consumer: Sendable, Joiner: Sendable {}
extension BoundedQueueStateMachine.Item: Sendable where Element: Sendable {}
extension BoundedQueueStateMachine.WaitingProducer: Sendable where Element: Sendable, Producer: Sendable {}
extension BoundedQueueStateMachine.WaitingConsumer: Sendable where Consumer: Sendable {}
extension BoundedQueueStateMachine.AdmittedProducer: Sendable where Producer: Sendable {}

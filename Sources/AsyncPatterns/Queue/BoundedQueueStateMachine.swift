import DequeModule

/// The pure state of a `BoundedQueue`: items, waiting producers and consumers, counters.
///
/// Every input is a `mutating func` that returns what the caller must do once the lock is
/// dropped. It never resumes anything itself, so it is unit-tested with plain tokens in
/// place of continuations. `Producer`, `Consumer` and `Joiner` are those tokens.
struct BoundedQueueStateMachine<Element, Producer, Consumer, Joiner> {
    struct Item {
        var element: Element
        var enqueuedAt: UInt64
    }

    struct WaitingProducer {
        var id: UInt64
        var element: Element
        var token: Producer
    }

    struct WaitingConsumer {
        var id: UInt64
        var token: Consumer
    }

    private(set) var items: Deque<Item> = []
    private(set) var capacity: Int
    private(set) var producers: Deque<WaitingProducer> = []
    private(set) var consumers: Deque<WaitingConsumer> = []
    private(set) var joiners: [(id: UInt64, token: Joiner)] = []
    private(set) var isClosed = false
    private(set) var putCount = 0
    private(set) var gotCount = 0
    private(set) var doneCount = 0
    private(set) var maxDepth = 0
    private var nextID: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity >= 1, "a queue needs a capacity of at least 1")
        self.capacity = capacity
    }

    var depth: Int { items.count }
    var gauges: QueueGauges {
        QueueGauges(depth: items.count, waitingProducers: producers.count, waitingConsumers: consumers.count)
    }
    /// Items put and not yet marked done (what `join` waits for).
    var unfinished: Int { putCount - doneCount }

    mutating func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    // MARK: put

    enum PutAction {
        /// Stored; the caller returns.
        case stored(QueueGauges)
        /// Handed straight to a waiting consumer: resume it with the element.
        case handOff(Consumer, Element, QueueGauges)
        /// Full: the caller must suspend under `id` and call `suspendProducer`.
        case mustWait(id: UInt64)
        /// Closed: throw `QueueClosed`.
        case closed
    }

    mutating func put(_ element: Element, now: UInt64) -> PutAction {
        if isClosed { return .closed }
        if let consumer = consumers.popFirst() {
            // A waiting consumer means the queue is empty: the item skips the buffer.
            putCount += 1
            gotCount += 1
            maxDepth = max(maxDepth, 1)
            return .handOff(consumer.token, element, gauges)
        }
        if items.count < capacity {
            items.append(Item(element: element, enqueuedAt: now))
            putCount += 1
            maxDepth = max(maxDepth, items.count)
            return .stored(gauges)
        }
        return .mustWait(id: makeID())
    }

    enum SuspendProducerAction {
        /// Waiting; resumed later by a get, capacity change, close or cancellation.
        case suspended(QueueGauges)
        /// Things changed between the fast path and here: resume the token at once with
        /// the action's outcome.
        case resumeNow(Producer, PutAction)
        /// The task was cancelled before it could wait: resume with `CancellationError`.
        case cancelled(Producer)
    }

    /// Called with the lock held again, now that the producer has a token to wait on.
    mutating func suspendProducer(id: UInt64, element: Element, token: Producer, isCancelled: Bool, now: UInt64) -> SuspendProducerAction {
        if isCancelled { return .cancelled(token) }
        switch put(element, now: now) {
        case .mustWait:
            producers.append(WaitingProducer(id: id, element: element, token: token))
            return .suspended(gauges)
        case let other:
            return .resumeNow(token, other)
        }
    }

    // MARK: get

    enum GetAction {
        /// Took an item; if a producer was waiting its item moved into the buffer: resume it.
        case item(Element, enqueuedAt: UInt64, QueueGauges, admitted: Producer?)
        /// Empty: suspend under `id` and call `suspendConsumer`.
        case mustWait(id: UInt64)
        /// Closed and empty: throw `QueueClosed`.
        case closed
    }

    mutating func get(now: UInt64) -> GetAction {
        if let item = items.popFirst() {
            gotCount += 1
            var admitted: Producer?
            if items.count < capacity, let producer = producers.popFirst() {
                items.append(Item(element: producer.element, enqueuedAt: now))
                putCount += 1
                maxDepth = max(maxDepth, items.count)
                admitted = producer.token
            }
            return .item(item.element, enqueuedAt: item.enqueuedAt, gauges, admitted: admitted)
        }
        if let producer = producers.popFirst() {
            // Only possible with capacity reached by an empty buffer, which capacity >= 1
            // rules out; kept total so a waiting producer can never be stranded.
            putCount += 1
            gotCount += 1
            return .item(producer.element, enqueuedAt: now, gauges, admitted: producer.token)
        }
        return isClosed ? .closed : .mustWait(id: makeID())
    }

    enum SuspendConsumerAction {
        case suspended(QueueGauges)
        case resumeNow(Consumer, GetAction)
        case cancelled(Consumer)
    }

    mutating func suspendConsumer(id: UInt64, token: Consumer, isCancelled: Bool, now: UInt64) -> SuspendConsumerAction {
        if isCancelled { return .cancelled(token) }
        switch get(now: now) {
        case .mustWait:
            consumers.append(WaitingConsumer(id: id, token: token))
            return .suspended(gauges)
        case let other:
            return .resumeNow(token, other)
        }
    }

    // MARK: abandoning a wait (cancellation, timeout)

    /// Removes exactly the producer `id` if it still waits; its item was never put.
    mutating func abandonProducer(id: UInt64) -> (Producer, QueueGauges)? {
        guard let index = producers.firstIndex(where: { $0.id == id }) else { return nil }
        let token = producers.remove(at: index).token
        return (token, gauges)
    }

    /// Removes exactly the consumer `id` if it still waits; it took nothing.
    mutating func abandonConsumer(id: UInt64) -> (Consumer, QueueGauges)? {
        guard let index = consumers.firstIndex(where: { $0.id == id }) else { return nil }
        let token = consumers.remove(at: index).token
        return (token, gauges)
    }

    mutating func abandonJoiner(id: UInt64) -> Joiner? {
        guard let index = joiners.firstIndex(where: { $0.id == id }) else { return nil }
        return joiners.remove(at: index).token
    }

    // MARK: taskDone / join

    enum TaskDoneAction {
        case done(unfinished: Int, wake: [Joiner])
        case tooMany
    }

    mutating func taskDone() -> TaskDoneAction {
        guard doneCount < gotCount else { return .tooMany }
        doneCount += 1
        if unfinished == 0 {
            let wake = joiners.map(\.token)
            joiners.removeAll()
            return .done(unfinished: 0, wake: wake)
        }
        return .done(unfinished: unfinished, wake: [])
    }

    /// Returns false when there is nothing to wait for (the joiner returns at once).
    mutating func suspendJoiner(id: UInt64, token: Joiner, isCancelled: Bool) -> Bool {
        if unfinished == 0 || isCancelled { return false }
        joiners.append((id, token))
        return true
    }

    // MARK: capacity and close

    struct Admitted {
        var producers: [Producer]
        var gauges: QueueGauges
    }

    /// Growing admits waiting producers in order; shrinking keeps every stored item (new
    /// puts wait until the depth falls below the new capacity).
    mutating func setCapacity(_ newCapacity: Int, now: UInt64) -> Admitted {
        precondition(newCapacity >= 1, "a queue needs a capacity of at least 1")
        capacity = newCapacity
        var admitted: [Producer] = []
        while items.count < capacity, let producer = producers.popFirst() {
            items.append(Item(element: producer.element, enqueuedAt: now))
            putCount += 1
            admitted.append(producer.token)
        }
        maxDepth = max(maxDepth, items.count)
        return Admitted(producers: admitted, gauges: gauges)
    }

    struct CloseAction {
        /// Waiting producers: their items were never put; resume them with `QueueClosed`.
        var producers: [Producer]
        /// Waiting consumers (the buffer is empty): resume them with `QueueClosed`.
        var consumers: [Consumer]
        var wasOpen: Bool
    }

    mutating func close() -> CloseAction {
        let wasOpen = !isClosed
        isClosed = true
        let action = CloseAction(
            producers: producers.map(\.token), consumers: consumers.map(\.token), wasOpen: wasOpen)
        producers.removeAll()
        consumers.removeAll()
        return action
    }
}

extension BoundedQueueStateMachine: Sendable
where Element: Sendable, Producer: Sendable, Consumer: Sendable, Joiner: Sendable {}
extension BoundedQueueStateMachine.Item: Sendable where Element: Sendable {}
extension BoundedQueueStateMachine.WaitingProducer: Sendable where Element: Sendable, Producer: Sendable {}
extension BoundedQueueStateMachine.WaitingConsumer: Sendable where Consumer: Sendable {}

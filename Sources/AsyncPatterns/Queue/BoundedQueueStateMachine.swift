import Synchronization
import DequeModule

/// The lock-protected state of a `BoundedQueue`: waiting producers, consumers and joiners,
/// close, and the wait-time sample. A FIFO queue's items live in its `QueueRing`, which puts
/// and gets that need not wait use without the lock; a LIFO or priority queue's live here,
/// in `locked`, and its ring only counts (every put and get comes here). This is the queue's
/// slow path: everything that suspends, wakes, closes or changes the capacity goes through
/// here, under the lock.
///
/// Every input is a `mutating func` that returns what the caller must do once the lock is
/// dropped. It never resumes anything itself, so it is unit-tested with plain tokens in
/// place of continuations. `Producer`, `Consumer` and `Joiner` are those tokens.
@usableFromInline struct BoundedQueueStateMachine<Element, Producer, Consumer, Joiner> {
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

    /// The items of a FIFO queue, shared with the lock-free fast paths; for the other orders,
    /// only the counts.
    @usableFromInline let ring: QueueRing<Element>
    /// The items of a LIFO or priority queue (nil: FIFO, the items are in `ring`).
    @usableFromInline var locked: LockedItems<Element>?
    /// Producers whose items are not in the ring yet, in order. Announced in
    /// `ring.pendingProducers`, which makes new puts queue up behind them.
    @usableFromInline var producers: WaiterLine<WaitingProducer, QueueRing<Element>.Announced>
    /// Consumers waiting for an item, in order; announced in `ring.waitingConsumers`.
    @usableFromInline var consumers: WaiterLine<WaitingConsumer, QueueRing<Element>.Announced>
    @usableFromInline var isClosed = false
    /// How long items wait in the queue, for a sample of them (nil: not timed). Recorded
    /// without the lock too (`BoundedQueue.recordWait`).
    @usableFromInline let wait: QueueWaitSample?
    /// The low-water mark: nil resumes each producer as soon as its item is in.
    @usableFromInline let resumeProducersBelow: Int?
    /// Producers whose items moved in, waiting for the depth to fall below
    /// `resumeProducersBelow` (empty without a low-water mark); announced in
    /// `ring.admittedProducers`.
    @usableFromInline var admitted: WaiterLine<AdmittedProducer, QueueRing<Element>.Announced>
    /// `join`s waiting for every item put to be done; announced in
    /// `completion.joinersWaiting`, which `taskDone` reads.
    @usableFromInline var joiners: WaiterLine<(id: UInt64, token: Joiner), QueueCompletion>
    /// How many items are done (`taskDone` counts them without the lock) and joiners wait.
    @usableFromInline let completion: QueueCompletion
    /// The error consumers get once the queue is closed and empty (nil: `QueueClosed`).
    @usableFromInline var closeError: (any Error)?
    @usableFromInline var abandonedCount = 0
    /// Items discarded by a close that empties at once. They are counted as got (the ring's
    /// got count moved past them) and as done (`completion.done`, so that `join` returns), and
    /// taken back out of both where the queue reports its numbers.
    @usableFromInline var droppedCount = 0
    @usableFromInline var nextID: UInt64 = 0

    @inlinable init(capacity: Int, order: QueueOrder<Element> = .fifo, resumeProducersBelow: Int? = nil, timed: Bool = false) {
        precondition(capacity >= 1, "a queue needs a capacity of at least 1")
        if let mark = resumeProducersBelow {
            precondition(mark >= 1 && mark <= capacity, "a low-water mark must be within 1...capacity, got \(mark)")
        }
        switch order.kind {
        case .fifo: locked = nil
        case .lifo: locked = LockedItems(areInIncreasingOrder: nil)
        case .priority(let areInIncreasingOrder): locked = LockedItems(areInIncreasingOrder: areInIncreasingOrder)
        }
        ring = QueueRing(capacity: capacity, timed: timed, countingOnly: locked != nil)
        producers = WaiterLine(announcing: .init(ring, .pendingProducers))
        consumers = WaiterLine(announcing: .init(ring, .waitingConsumers))
        admitted = WaiterLine(announcing: .init(ring, .admittedProducers))
        completion = QueueCompletion()
        joiners = WaiterLine(announcing: completion)
        self.resumeProducersBelow = resumeProducersBelow
        wait = timed ? QueueWaitSample() : nil
    }

    @inlinable var capacity: Int { ring.capacity.load(ordering: .relaxed) }
    @inlinable var depth: Int { ring.depth }
    @inlinable var putCount: Int { ring.putCount }
    /// Items got so far, discarded ones included (see `droppedCount`).
    @inlinable var gotCount: Int { ring.gotCount }
    @inlinable var maxDepth: Int { ring.maxDepth.load(ordering: .relaxed) }

    /// Records how long a stamped item waited (see `QueueWaitSample`).
    @inlinable func recordWait(since enqueuedAt: UInt64, _ now: () -> UInt64) {
        guard enqueuedAt != 0, let wait else { return }
        ring.recordWait(since: enqueuedAt, now: now(), in: wait)
    }

    /// Producers suspended in `put`: those whose items wait to go in, and (with a low-water
    /// mark) those whose items went in and who wait to be resumed.
    @inlinable var waitingProducerCount: Int { producers.count + admitted.count }
    @inlinable var gauges: QueueGauges {
        QueueGauges(depth: ring.depth, waitingProducers: waitingProducerCount, waitingConsumers: consumers.count)
    }
    /// Items put and not yet marked done, given how many were done (what `join` waits for;
    /// discarded items count as done). `taskDone` is counted outside the lock, by
    /// `BoundedQueue`, so it is passed in.
    @inlinable func unfinished(done: Int) -> Int { putCount - done }

    /// What holds whenever the lock is free (checked in debug builds). A FIFO queue's ring
    /// changes without the lock, so only what the lock alone changes is checked for it.
    @inlinable func assertInvariants() {
        assert(!isClosed || producers.isEmpty, "a producer waits in a closed queue")
        assert(resumeProducersBelow != nil || admitted.isEmpty, "admitted producers without a low-water mark")
        guard let locked else { return }
        let (put, got) = ring.counts
        assert(locked.count == put - got, "\(locked.count) items kept, the counts say \(put - got)")
        assert(consumers.isEmpty || locked.count == 0, "a consumer waits beside an item")
        assert(producers.isEmpty || isClosed || locked.count >= capacity, "a producer waits beside room")
        assert(completion.done.load(ordering: .relaxed) <= got, "more done than got")
    }

    /// Whether producers whose items went in are resumed now: at once without a low-water
    /// mark; with one, once the depth is below it (hysteresis, as swift-nio's producers'
    /// high and low watermarks: one wake-up per batch instead of one per item got).
    @inlinable var resumesAdmitted: Bool {
        guard let mark = resumeProducersBelow else { return true }
        // Pairs with a get without the lock (`BoundedQueue.mayAdmitProducers`): it moves
        // `dequeue`, then reads `admittedProducers`; the admission announced the producer,
        // and reads `dequeue` here, both sequentially consistent.
        return ring.depthAfterAnnouncing < Swift.min(mark, capacity)
    }

    @inlinable mutating func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    /// What to resume once the lock is dropped.
    @usableFromInline struct Wakes {
        /// Producers whose items are in: resume them normally.
        @usableFromInline var producers: [Producer] = []
        /// Waiting consumers, each with the item it gets.
        @usableFromInline var consumers: [(token: Consumer, element: Element)] = []
        @inlinable init(producers: [Producer] = [], consumers: [(token: Consumer, element: Element)] = []) {
            self.producers = producers
            self.consumers = consumers
        }
        @inlinable mutating func append(_ more: Wakes) {
            producers.append(contentsOf: more.producers)
            consumers.append(contentsOf: more.consumers)
        }
        /// Nobody to resume.
        @inlinable var isEmpty: Bool { producers.isEmpty && consumers.isEmpty }
    }

    // MARK: the ring, under the lock

    /// Puts `element` in the ring, growing it when every slot is taken.
    /// - Returns: false when the queue is full.
    @inlinable mutating func push(_ element: Element, _ now: () -> UInt64) -> Bool {
        if locked != nil { return pushLocked(element, now) }
        while true {
            switch ring.tryPush(element, now: now) {
            case .pushed(let position):
                ring.noteDepth(afterPutAt: position)
                return true
            case .full:
                return false
            case .noSlot:
                ring.grow(toHold: ring.depth + 1)
            case .blocked:
                // Closing and growing happen under this lock, and callers check `isClosed`.
                preconditionFailure("the ring is closed or frozen while the queue's lock is held")
            }
        }
    }

    /// A LIFO or priority queue's put: kept in `locked`, counted in the ring.
    @inlinable mutating func pushLocked(_ element: Element, _ now: () -> UInt64) -> Bool {
        guard locked!.count < capacity else { return false }
        let position = ring.countPut()
        let stamp = ring.timed ? ring.stamp(position, now) : 0
        locked!.insert(.init(element: element, sequence: position, stamp: stamp))
        ring.noteDepth(afterPutAt: position)
        return true
    }

    /// Takes the next item, if any (the front one of a FIFO queue). Waits out a put that has
    /// claimed its position and is still writing (nothing else can stop a consumer that
    /// sees it from taking it).
    @inlinable mutating func pop(_ now: () -> UInt64) -> Element? {
        if locked != nil {
            guard let entry = locked!.removeNext() else { return nil }
            ring.countGot()
            recordWait(since: entry.stamp, now)
            return entry.element
        }
        var attempts = 0
        while true {
            switch ring.tryPop() {
            case .item(let element, let stamp):
                recordWait(since: stamp, now)
                return element
            case .empty:
                return nil
            case .busy:
                backOff(&attempts)
            case .blocked:
                preconditionFailure("the ring is frozen while the queue's lock is held")
            }
        }
    }

    /// Hands items, in the queue's order, to waiting consumers, in order, while both last.
    @inlinable mutating func handToConsumers(_ now: () -> UInt64) -> [(token: Consumer, element: Element)] {
        var handed: [(token: Consumer, element: Element)] = []
        while let first = consumers.first, let element = pop(now) {
            consumers.removeFirst()
            handed.append((first.token, element))
        }
        return handed
    }

    /// Moves waiting producers' items into the ring, in order, while there is room.
    /// - Returns: the producers to resume now: all of them without a low-water mark, else
    ///   every admitted producer once the depth is below the mark (none before).
    @inlinable mutating func admitProducers(now: @autoclosure () -> UInt64) -> [Producer] {
        var resume: [Producer] = []
        while let first = producers.first, push(first.element, now) {
            producers.removeFirst()
            if resumeProducersBelow == nil {
                resume.append(first.token)
            } else {
                admitted.append(AdmittedProducer(id: first.id, token: first.token))
            }
        }
        if !admitted.isEmpty, resumesAdmitted {
            // A closure, not `\.token`: a key path in this generic context is built at run
            // time on every call (swift_getKeyPath and a demangling, ~13,000 instructions,
            // under callgrind about 6% of queue 1/1's count with its low-water mark).
            resume.append(contentsOf: admitted.removeAll().lazy.map { $0.token })
        }
        return resume
    }

    /// Moves what can move until nothing can: items to waiting consumers, and waiting
    /// producers' items into the room that frees (and, with a low-water mark, resumes the
    /// admitted producers once the depth is below it). Every path that changes the ring or a
    /// line under the lock ends here, so when the lock is free no item waits beside a
    /// waiting consumer and no waiting producer beside free room.
    /// One move enables the other (handing an item out frees room; admitting an item fills
    /// the ring), so they repeat until neither moves anything.
    @inlinable mutating func settle(now: @autoclosure () -> UInt64) -> Wakes {
        var wakes = Wakes()
        while true {
            var moved = false
            if !consumers.isEmpty {
                let handed = handToConsumers(now)
                moved = !handed.isEmpty
                wakes.consumers.append(contentsOf: handed)
            }
            if !producers.isEmpty || !admitted.isEmpty {
                let waiting = producers.count
                wakes.producers.append(contentsOf: admitProducers(now: now()))
                moved = moved || producers.count != waiting
            }
            if !moved { return wakes }
        }
    }

    // MARK: put

    @usableFromInline enum PutAction {
        /// In; resume what `Wakes` says (waiting consumers get the front items).
        case stored(QueueGauges, Wakes)
        /// Full: resume what `Wakes` says (producers admitted first), then suspend under
        /// `id` and call `suspendProducer`.
        case mustWait(id: UInt64, Wakes)
        /// Closed: throw `QueueClosed`.
        case closed
    }

    /// A put that the fast path could not do: producers already waiting go first (FIFO),
    /// then this one if there is room.
    @inlinable mutating func put(_ element: Element, now: @autoclosure () -> UInt64) -> PutAction {
        defer { assertInvariants() }
        if isClosed { return .closed }
        var wakes = settle(now: now())
        guard producers.isEmpty, push(element, now) else { return .mustWait(id: makeID(), wakes) }
        wakes.append(settle(now: now()))
        return .stored(gauges, wakes)
    }

    @usableFromInline enum SuspendProducerAction {
        /// In the list of waiting producers (or, with a low-water mark, its item is in and it
        /// waits for the mark). Resume what `Wakes` says: it may hold this producer's own
        /// token, when its item went in at once.
        case suspended(QueueGauges, Wakes, waits: Bool)
        /// Closed before it could wait: resume the token with `QueueClosed`.
        case closed(Producer)
        /// The task was cancelled before it could wait: resume with `CancellationError`.
        case cancelled(Producer)
    }

    /// Called with the lock held again, now that the producer has a token to wait on. It
    /// joins the waiting producers first and is then admitted like them if there is room:
    /// the consumer that freed a slot either sees it waiting or freed the slot before it
    /// joined, and then it is admitted here.
    @inlinable mutating func suspendProducer(
        id: UInt64, element: Element, token: Producer, isCancelled: Bool, now: @autoclosure () -> UInt64
    ) -> SuspendProducerAction {
        defer { assertInvariants() }
        if isCancelled { return .cancelled(token) }
        if isClosed { return .closed(token) }
        producers.append(WaitingProducer(id: id, element: element, token: token))
        let wakes = settle(now: now())
        let waits = producers.contains { $0.id == id } || admitted.contains { $0.id == id }
        return .suspended(gauges, wakes, waits: waits)
    }

    // MARK: get

    @usableFromInline enum GetAction {
        /// Took an item; resume what `Wakes` says (producers admitted to the freed room).
        case item(Element, QueueGauges, Wakes)
        /// Empty: suspend under `id` and call `suspendConsumer`.
        case mustWait(id: UInt64)
        /// Closed and empty: throw `QueueClosed`.
        case closed
    }

    /// A get that the fast path could not do: consumers already waiting go first (FIFO).
    @inlinable mutating func get(now: @autoclosure () -> UInt64) -> GetAction {
        defer { assertInvariants() }
        if consumers.isEmpty, let element = pop(now) {
            let wakes = settle(now: now())
            return .item(element, gauges, wakes)
        }
        return isClosed && ring.depth == 0 ? .closed : .mustWait(id: makeID())
    }

    @usableFromInline enum SuspendConsumerAction {
        /// In the list of waiting consumers, or handed an item at once (then its token is
        /// among the `Wakes`' consumers): resume what `Wakes` says.
        case suspended(QueueGauges, Wakes, waits: Bool)
        /// Closed and empty: resume the token with the close error.
        case closed(Consumer)
        /// The task was cancelled before it could wait: resume with `CancellationError`.
        case cancelled(Consumer)
    }

    /// Called with the lock held again, now that the consumer has a token to wait on. It
    /// joins the waiting consumers first and then takes what is there like them: a put
    /// either sees it waiting or was written before it joined, and is then taken here.
    @inlinable mutating func suspendConsumer(id: UInt64, token: Consumer, isCancelled: Bool, now: @autoclosure () -> UInt64)
        -> SuspendConsumerAction
    {
        defer { assertInvariants() }
        if isCancelled { return .cancelled(token) }
        consumers.append(WaitingConsumer(id: id, token: token))
        let wakes = settle(now: now())
        let waits = consumers.contains { $0.id == id }
        if waits, isClosed {  // closed and empty: only this consumer can be here
            _ = consumers.remove { $0.id == id }
            return .closed(token)
        }
        return .suspended(gauges, wakes, waits: waits)
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
        if let producer = producers.remove(where: { $0.id == id }) {
            abandonedCount += 1
            return .abandoned(producer.token, gauges)
        }
        if !admitted.isEmpty, let producer = admitted.remove(where: { $0.id == id }) {
            return .alreadyPut(producer.token, gauges)
        }
        return nil
    }

    /// Removes exactly the consumer `id` if it still waits; it took nothing.
    @inlinable mutating func abandonConsumer(id: UInt64) -> (Consumer, QueueGauges)? {
        guard let consumer = consumers.remove(where: { $0.id == id }) else { return nil }
        abandonedCount += 1
        return (consumer.token, gauges)
    }

    @inlinable mutating func abandonJoiner(id: UInt64) -> Joiner? {
        joiners.remove { $0.id == id }?.token
    }

    // MARK: join

    /// Returns false when there is nothing to wait for (the joiner returns at once). The
    /// joiner is announced before `done` is read (see `WaiterLine`): a `taskDone` that
    /// finishes everything either is counted in `done` here or sees the joiner and wakes it.
    @inlinable mutating func suspendJoiner(id: UInt64, token: Joiner, isCancelled: Bool, done: @autoclosure () -> Int) -> Bool {
        if isCancelled { return false }
        joiners.append((id, token))
        if unfinished(done: done()) == 0 {
            _ = joiners.remove { $0.id == id }
            return false
        }
        return true
    }

    /// The joiners to resume, if `done` items finish everything put so far.
    @inlinable mutating func finishedJoiners(done: Int) -> [Joiner] {
        guard unfinished(done: done) == 0, !joiners.isEmpty else { return [] }
        return joiners.removeAll().map(\.token)
    }

    // MARK: capacity and close

    @usableFromInline struct Admitted {
        @usableFromInline var producers: [Producer]
        /// Waiting consumers, each with an item the growth let in.
        @usableFromInline var handed: [(token: Consumer, element: Element)]
        @usableFromInline var gauges: QueueGauges
        @inlinable init(producers: [Producer], handed: [(token: Consumer, element: Element)], gauges: QueueGauges) {
            self.producers = producers
            self.handed = handed
            self.gauges = gauges
        }
    }

    /// Growing admits waiting producers in order; shrinking keeps every stored item (new
    /// puts wait until the depth falls below the new capacity).
    @inlinable mutating func setCapacity(_ newCapacity: Int, now: @autoclosure () -> UInt64) -> Admitted {
        defer { assertInvariants() }
        precondition(newCapacity >= 1, "a queue needs a capacity of at least 1")
        ring.capacity.store(newCapacity, ordering: .sequentiallyConsistent)
        let wakes = isClosed ? Wakes() : settle(now: now())
        return Admitted(producers: wakes.producers, handed: wakes.consumers, gauges: gauges)
    }

    @usableFromInline struct CloseAction {
        /// Waiting producers: their items were never put; resume them with `QueueClosed`.
        @usableFromInline var producers: [Producer]
        /// The items a close that empties at once took out: released outside the lock.
        @usableFromInline var discarded: [Element] = []
        /// Joiners that the discarded items let go (every item put is now done).
        @usableFromInline var joiners: [Joiner] = []
        /// Producers whose items are in (waiting for the low-water mark): resume them
        /// normally, their puts happened.
        @usableFromInline var admitted: [Producer]
        /// Waiting consumers that got the items put just before the close.
        @usableFromInline var handed: [(token: Consumer, element: Element)]
        /// Waiting consumers left (the queue is empty): resume them with the close error.
        @usableFromInline var consumers: [Consumer]
        @usableFromInline var wasOpen: Bool
        @inlinable init(
            producers: [Producer], admitted: [Producer], handed: [(token: Consumer, element: Element)], consumers: [Consumer],
            wasOpen: Bool
        ) {
            self.producers = producers
            self.admitted = admitted
            self.handed = handed
            self.consumers = consumers
            self.wasOpen = wasOpen
        }
    }

    /// Closes; the first close's `error` (nil: `QueueClosed`) is what consumers get once the
    /// buffer is empty. With `discardingItems` (asyncio's `shutdown(immediate=True)`; also
    /// after a close without it) the items still in the queue are taken out and counted as
    /// dropped and as done, so the buffer is empty at once: waiting consumers get the close
    /// error, and joiners go if nothing got is left undone.
    @inlinable mutating func close(
        error: (any Error)? = nil, discardingItems: Bool = false, now: @autoclosure () -> UInt64 = 0
    ) -> CloseAction {
        defer { assertInvariants() }
        let wasOpen = !isClosed
        if wasOpen {
            closeError = error
            isClosed = true
            ring.close()  // no put gets in after this; the ones in flight are written
        }
        let discarded = discardingItems ? discardItems() : []
        let handed = handToConsumers(now)
        var action = CloseAction(
            producers: producers.removeAll().map(\.token), admitted: admitted.removeAll().map(\.token), handed: handed,
            consumers: consumers.removeAll().map(\.token), wasOpen: wasOpen)
        if !discarded.isEmpty {
            action.discarded = discarded
            action.joiners = finishedJoiners(done: completion.done.load(ordering: .sequentiallyConsistent))
        }
        return action
    }

    /// Takes every item out of the closed queue, counting them as got and done (done first:
    /// a `taskDone` without the lock that reads the got count before the items are counted
    /// got may refuse, and then checks again under the lock; see `BoundedQueue.taskDone`).
    @inlinable mutating func discardItems() -> [Element] {
        precondition(isClosed, "items are discarded from a closed queue only")
        let items: [Element]
        if locked != nil {
            items = locked!.removeAll()
            if !items.isEmpty {
                completion.done.wrappingAdd(items.count, ordering: .sequentiallyConsistent)
                ring.countGot(items.count)
            }
        } else {
            guard ring.depth > 0 else { return [] }
            let completion = completion
            items = ring.discardAll { count in completion.done.wrappingAdd(count, ordering: .sequentiallyConsistent) }
        }
        droppedCount += items.count
        return items
    }
}

extension BoundedQueueStateMachine: Sendable
where Element: Sendable, Producer: Sendable, Consumer: Sendable, Joiner: Sendable {}
extension BoundedQueueStateMachine.WaitingProducer: Sendable where Element: Sendable, Producer: Sendable {}
extension BoundedQueueStateMachine.WaitingConsumer: Sendable where Consumer: Sendable {}
extension BoundedQueueStateMachine.AdmittedProducer: Sendable where Producer: Sendable {}

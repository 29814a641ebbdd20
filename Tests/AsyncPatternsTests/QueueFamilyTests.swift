import Foundation
import Patience
import Synchronization
import Testing
@testable import AsyncPatterns

/// The queue against CPython's own tests of asyncio's queues (Lib/test/test_asyncio/
/// test_queues.py): empty/full/qsize, the three orders, join, and shutdown, gentle and
/// immediate, in every order. Where a CPython test lets the loop run with `sleep(0)`, these
/// wait for the queue's own numbers (a waiter in line, a joiner announced) instead.
@Suite struct QueueFamilyTests {
    static let orders = ["fifo", "lifo", "priority"]

    static func order(_ name: String) -> QueueOrder<Int> {
        switch name {
        case "lifo": .lifo
        case "priority": .priority
        default: .fifo
        }
    }

    // MARK: the cheap questions (test_empty, test_full, qsize)

    @Test(arguments: orders)
    func isEmptyIsFullAndCountFollowPutsAndGets(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        #expect(q.isEmpty && !q.isFull && q.count == 0)
        try await q.put(1)
        #expect(!q.isEmpty && !q.isFull && q.count == 1)
        try await q.put(2)
        #expect(!q.isEmpty && q.isFull && q.count == 2)
        #expect(try q.tryPut(3) == false)
        _ = try await q.get()
        #expect(!q.isFull && q.count == 1)
        _ = try await q.get()
        #expect(q.isEmpty && q.count == 0)
        try await q.put(5)
        q.setCapacity(1)
        #expect(q.isFull && q.capacity == 1)
    }

    @Test(arguments: orders)
    func aShrunkCapacityCanLeaveTheQueueMoreThanFull(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 3, order: Self.order(order), registry: nil)
        for i in 0..<3 { try await q.put(i) }
        q.setCapacity(1)
        #expect(q.isFull && q.count == 3)
        _ = try await q.get()
        _ = try await q.get()
        #expect(q.isFull && q.count == 1)
        _ = try await q.get()
        #expect(!q.isFull && q.isEmpty)
    }

    // MARK: orders (test_order of Queue, LifoQueue, PriorityQueue)

    @Test func fifoHandsOutInPutOrder() async throws {
        let q = BoundedQueue<Int>(capacity: 8, registry: nil)
        for i in [1, 3, 2] { try await q.put(i) }
        #expect([try await q.get(), try await q.get(), try await q.get()] == [1, 3, 2])
    }

    @Test func lifoHandsOutTheLastPutFirst() async throws {
        let q = BoundedQueue<Int>(capacity: 8, order: .lifo, registry: nil)
        for i in [1, 3, 2] { try await q.put(i) }
        #expect([try await q.get(), try await q.get(), try await q.get()] == [2, 3, 1])
        #expect(q.order.description == "lifo")
    }

    @Test func priorityHandsOutTheSmallestFirst() async throws {
        let q = BoundedQueue<Int>(capacity: 8, order: .priority, registry: nil)
        for i in [1, 3, 2] { try await q.put(i) }
        #expect([try await q.get(), try await q.get(), try await q.get()] == [1, 2, 3])
    }

    struct Job: Sendable, Equatable {
        var priority: Int
        var name: String
    }

    @Test func priorityKeepsEqualItemsInPutOrder() async throws {
        let q = BoundedQueue<Job>(capacity: 16, order: .priority(by: { $0.priority < $1.priority }), registry: nil)
        let jobs = [
            Job(priority: 2, name: "a"), Job(priority: 1, name: "b"), Job(priority: 2, name: "c"), Job(priority: 1, name: "d"),
            Job(priority: 0, name: "e"), Job(priority: 2, name: "f"), Job(priority: 1, name: "g"),
        ]
        for job in jobs { try await q.put(job) }
        var names = ""
        while let job = try q.tryGet() { names += job.name }
        #expect(names == "ebdgacf")
    }

    /// `priority(by:)` with a reversed ordering is a max-queue.
    @Test func priorityByAReversedOrderingHandsOutTheLargestFirst() async throws {
        let q = BoundedQueue<Int>(capacity: 64, order: .priority(by: >), registry: nil)
        var r = SplitMix64(seed: 23)
        let items = (0..<64).map { _ in Int.random(in: 0..<20, using: &r) }
        for i in items { try q.tryPut(i) }
        var got: [Int] = []
        while let i = try q.tryGet() { got.append(i) }
        #expect(got == items.sorted(by: >))
    }

    // MARK: waiting (test_maxsize, test_put_with_waiting_getters, test_get_with_waiting_putters)

    @Test(arguments: orders)
    func aFullQueueHoldsTheNextPutUntilAGet(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        let havePut = Recorder<Int>()
        let putter = Task {
            for i in 0..<3 {
                try await q.put(i)
                havePut.append(i)
            }
        }
        try await eventually("the third put waits") { q.stats.waitingProducers == 1 }
        #expect(havePut.all == [0, 1])
        let first = try await q.get()
        try await putter.value
        #expect(havePut.all == [0, 1, 2])
        let rest = [try await q.get(), try await q.get()]
        switch order {
        case "lifo": #expect(first == 1 && rest == [2, 0])
        default: #expect(first == 0 && rest == [1, 2])
        }
    }

    @Test(arguments: orders)
    func aWaitingGetIsHandedThePut(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        let getter = Task { try await q.get() }
        try await eventually("the get waits") { q.stats.waitingConsumers == 1 }
        try await q.put(7)
        #expect(try await getter.value == 7)
        #expect(q.stats.got == 1 && q.isEmpty)
    }

    @Test(arguments: orders)
    func waitingPutsGoInFirstComeFirstServed(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 1, order: Self.order(order), registry: nil)
        try await q.put(0)
        let a = Task { try await q.put(10) }
        try await eventually("a waits") { q.stats.waitingProducers == 1 }
        let b = Task { try await q.put(5) }
        try await eventually("b waits") { q.stats.waitingProducers == 2 }
        #expect(try await q.get() == 0)
        try await a.value
        #expect(try await q.get() == 10)  // a came first, whatever the order of the items
        try await b.value
        #expect(try await q.get() == 5)
    }

    /// test_cancelled_puts_not_being_held_in_self_putters, test_get_cancelled_race and
    /// test_cancelled_getters_not_being_held_in_self_getters, in every order: a cancelled
    /// waiter leaves the line having had no effect, and the next one is served.
    @Test(arguments: orders)
    func cancelledWaitersLeaveTheLineHavingHadNoEffect(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 1, order: Self.order(order), registry: nil)
        let first = Task { try await q.get() }
        try await eventually("the first get waits") { q.stats.waitingConsumers == 1 }
        let second = Task { try await q.get() }
        try await eventually("the second get waits") { q.stats.waitingConsumers == 2 }
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(q.stats.waitingConsumers == 1)
        try await q.put(1)
        #expect(try await second.value == 1)

        try await q.put(2)
        let putter = Task { try await q.put(3) }
        try await eventually("the put waits") { q.stats.waitingProducers == 1 }
        putter.cancel()
        await #expect(throws: CancellationError.self) { try await putter.value }
        #expect(q.stats.waitingProducers == 0 && q.stats.put == 2)
        #expect(try q.tryGet() == 2)
        #expect(try q.tryGet() == nil)
        let timed = Task { try await q.get(timeout: .milliseconds(1)) }
        await #expect(throws: TimedOut.self) { try await timed.value }
        #expect(q.stats.waitingConsumers == 0 && q.stats.got == 2)
    }

    /// test_why_are_getters_waiting and ..._putters_waiting: a producer and a consumer
    /// through a queue of one, in every order, both finish.
    @Test(arguments: orders)
    func aProducerAndAConsumerThroughAQueueOfOneBothFinish(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 1, order: Self.order(order), registry: nil)
        let consumer = Task {
            var got: [Int] = []
            for _ in 0..<5 { got.append(try await q.get()) }
            return got
        }
        for i in 0..<5 { try await q.put(i) }
        #expect(try await consumer.value == [0, 1, 2, 3, 4])  // one at a time: any order is FIFO
    }

    // MARK: join (test_task_done, test_task_done_underflow, test_join_empty_queue)

    @Test(arguments: orders)
    func joinReturnsOnceTwoWorkersHaveDoneEveryItem(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 100, order: Self.order(order), registry: nil)
        try await q.join()
        try await q.join()
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
        for i in 0..<100 { try q.tryPut(i) }
        let sum = Counter()
        let workers = (0..<2).map { _ in
            Task {
                for try await item in q {
                    sum.add(item)
                    try q.taskDone()
                }
            }
        }
        try await q.join()
        #expect(sum.load == (0..<100).reduce(0, +))
        q.close()
        for w in workers { try await w.value }
    }

    // MARK: close (test_shutdown_empty, test_shutdown_nonempty)

    @Test(arguments: orders, [false, true])
    func closingAnEmptyQueueFailsAWaitingGetAndEveryLaterPutAndGet(order: String, discarding: Bool) async throws {
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), registry: nil)
        let getter = Task { try await q.get() }
        try await eventually("the get waits") { q.stats.waitingConsumers == 1 }
        #expect(q.close(discardingItems: discarding) == 0)
        #expect(q.count == 0)
        try await q.join()
        await #expect(throws: QueueClosed.self) { try await getter.value }
        await #expect(throws: QueueClosed.self) { try await q.put(1) }
        #expect(throws: QueueClosed.self) { try q.tryPut(1) }
        await #expect(throws: QueueClosed.self) { try await q.get() }
        #expect(throws: QueueClosed.self) { try q.tryGet() }
    }

    @Test(arguments: orders)
    func closingLeavesTheItemsToGetAndFailsAWaitingPut(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 1, order: Self.order(order), registry: nil)
        try q.tryPut(1)
        let joiner = Task { try await q.join() }
        let putter = Task { try await q.put(2) }
        try await eventually("the put and the join wait") {
            q.stats.waitingProducers == 1 && q.completion.joinersWaiting.load(ordering: .relaxed) == 1
        }
        q.close()
        #expect(q.count == 1)
        await #expect(throws: QueueClosed.self) { try await putter.value }
        #expect(try await q.get() == 1)
        #expect(q.completion.joinersWaiting.load(ordering: .relaxed) == 1)  // 1 got, not done
        await #expect(throws: QueueClosed.self) { try await q.put(3) }
        await #expect(throws: QueueClosed.self) { try await q.get() }
        #expect(throws: QueueClosed.self) { try q.tryGet() }
        try q.taskDone()
        try await joiner.value
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
        #expect(q.stats.dropped == 0)
    }

    // MARK: close discarding the items (test_shutdown_immediate, ..._with_unfinished)

    @Test(arguments: orders)
    func closingDiscardingItemsEmptiesAtOnceAndJoinReturns(order: String) async throws {
        let registry = PatternRegistry()
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), name: "q", registry: registry)
        try q.tryPut(1)
        let joiner = Task { try await q.join() }
        try await eventually("the join waits") { q.completion.joinersWaiting.load(ordering: .relaxed) == 1 }
        #expect(q.close(discardingItems: true) == 1)
        #expect(q.count == 0 && q.isEmpty)
        try await joiner.value
        await #expect(throws: QueueClosed.self) { try await q.put(1) }
        #expect(throws: QueueClosed.self) { try q.tryPut(1) }
        await #expect(throws: QueueClosed.self) { try await q.get() }
        #expect(throws: QueueClosed.self) { try q.tryGet() }
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }  // nothing left undone
        let stats = q.stats
        #expect(stats.put == 1 && stats.got == 0 && stats.dropped == 1 && stats.done == 0 && stats.depth == 0)
        let snap = registry.snapshot().queue("q")
        #expect(snap?.dropped == 1 && snap?.got == 0 && snap?.done == 0 && snap?.depth == 0 && snap?.isClosed == true)
    }

    @Test(arguments: orders)
    func closingDiscardingItemsLeavesItemsGotBeforeUnfinished(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), registry: nil)
        try q.tryPut(1)
        try q.tryPut(1)
        let joiner = Task { try await q.join() }
        try await eventually("the join waits") { q.completion.joinersWaiting.load(ordering: .relaxed) == 1 }
        #expect(try await q.get() == 1)
        #expect(q.close(discardingItems: true) == 1)
        #expect(q.count == 0)
        #expect(q.completion.joinersWaiting.load(ordering: .relaxed) == 1)  // the item got is not done
        await #expect(throws: QueueClosed.self) { try await q.put(1) }
        await #expect(throws: QueueClosed.self) { try await q.get() }
        #expect(throws: QueueClosed.self) { try q.tryGet() }
        try q.taskDone()
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
        try await joiner.value
        let stats = q.stats
        #expect(stats.put == 2 && stats.got == 1 && stats.done == 1 && stats.dropped == 1)
    }

    @Test(arguments: orders)
    func closingDiscardingItemsFailsWaitingPutsAndGets(order: String) async throws {
        let full = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        try full.tryPut(1)
        try full.tryPut(2)
        let putters = (3...5).map { i in Task { try await full.put(i) } }
        try await eventually("three puts wait") { full.stats.waitingProducers == 3 }
        #expect(full.close(discardingItems: true) == 2)
        for p in putters { await #expect(throws: QueueClosed.self) { try await p.value } }
        #expect(full.stats.put == 2 && full.stats.dropped == 2 && full.stats.waitingProducers == 0)

        let empty = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        let getters = (0..<3).map { _ in Task { try await empty.get() } }
        try await eventually("three gets wait") { empty.stats.waitingConsumers == 3 }
        #expect(empty.close(discardingItems: true) == 0)
        for g in getters { await #expect(throws: QueueClosed.self) { try await g.value } }
        #expect(empty.stats.waitingConsumers == 0)
    }

    struct Stopped: Error {}

    @Test(arguments: orders)
    func closingThrowingAndDiscardingHandsTheErrorToGets(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 2, order: Self.order(order), registry: nil)
        let getter = Task { try await q.get() }
        try await eventually("the get waits") { q.stats.waitingConsumers == 1 }
        #expect(q.close(throwing: Stopped(), discardingItems: true) == 0)
        await #expect(throws: Stopped.self) { try await getter.value }
        await #expect(throws: Stopped.self) { try await q.get() }
        await #expect(throws: QueueClosed.self) { try await q.put(1) }
        var iterated = 0
        await #expect(throws: Stopped.self) {
            for try await _ in q { iterated += 1 }
        }
        #expect(iterated == 0)
    }

    /// asyncio allows `shutdown(immediate=True)` after `shutdown()`: what was left to drain
    /// goes at once. The first close's error stays the one gets see.
    @Test(arguments: orders)
    func discardingAfterAGentleCloseDropsWhatIsLeft(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), registry: nil)
        for i in 0..<3 { try q.tryPut(i) }
        q.close(throwing: Stopped())
        _ = try await q.get()
        #expect(q.close(discardingItems: true) == 2)
        #expect(q.close(discardingItems: true) == 0)
        await #expect(throws: Stopped.self) { try await q.get() }
        let stats = q.stats
        #expect(stats.put == 3 && stats.got == 1 && stats.dropped == 2 && stats.depth == 0)
    }

    /// With a low-water mark, a producer whose item went in waits for the mark; a close that
    /// discards that item still ends its put normally: the put happened.
    @Test(arguments: orders)
    func discardingEndsAdmittedProducersPutsNormally(order: String) async throws {
        let q = BoundedQueue<Int>(capacity: 2, order: Self.order(order), resumeProducersBelow: 1, registry: nil)
        try q.tryPut(1)
        try q.tryPut(2)
        let putter = Task { try await q.put(3) }
        try await eventually("the put waits") { q.stats.waitingProducers == 1 }
        _ = try await q.get()  // its item goes in; it waits for the depth to fall below 1
        try await eventually("the item is in") { q.stats.put == 3 }
        #expect(q.stats.waitingProducers == 1)
        #expect(q.close(discardingItems: true) == 2)
        try await putter.value
        #expect(q.stats.got == 1 && q.stats.dropped == 2)
    }

    // MARK: the hand-over, where a cancel comes after it

    /// Runs `body`'s task on a thread of its own that the test can hold: a job resumed while
    /// it is held waits, so the test can act between the hand-over and the task running again.
    final class HeldExecutor: Sendable {
        let executor = DedicatedThreadExecutor(name: "held", threads: 1)
        let release = CountingSemaphore()

        /// Holds the thread until `letGo()`: a job of its own blocks it (a thread of ours,
        /// never the shared pool).
        func hold() async {
            let holding = Gate()
            Task(executorPreference: executor) {
                holding.open()
                self.release.wait()
            }
            await holding.wait()
        }

        func letGo() { release.signal() }
    }

    /// CPython's test_get_cancel_drop_one_pending_reader: a waiting get, two puts, then a
    /// cancel. Here the first put hands the get its item; the cancel, after the hand-over and
    /// before the task runs again, is too late: the get returns the item, nothing is dropped.
    @Test(arguments: orders)
    func aGetCancelledAfterAPutHandedItItsItemReturnsTheItem(order: String) async throws {
        let held = HeldExecutor()
        defer { held.executor.shutdown() }
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), registry: nil)
        let reader = Task(executorPreference: held.executor) { () -> (Int, Bool) in
            let item = try await q.get()
            return (item, Task.isCancelled)
        }
        try await eventually("the get waits") { q.stats.waitingConsumers == 1 }
        await held.hold()
        try q.tryPut(1)  // handed to the reader, which is resumed onto the held thread
        try q.tryPut(2)
        #expect(q.stats.waitingConsumers == 0 && q.stats.got == 1)
        reader.cancel()
        held.letGo()
        let (item, sawCancel) = try await reader.value
        #expect(item == 1 && sawCancel)
        #expect(try q.tryGet() == 2)
        #expect(q.stats.got == 2 && q.stats.waitingConsumers == 0)
    }

    /// A close that discards items after a get was handed its item leaves that item to it.
    @Test(arguments: orders)
    func aDiscardingCloseAfterTheHandOverLeavesTheGetItsItem(order: String) async throws {
        let held = HeldExecutor()
        defer { held.executor.shutdown() }
        let q = BoundedQueue<Int>(capacity: 4, order: Self.order(order), registry: nil)
        let reader = Task(executorPreference: held.executor) { try await q.get() }
        try await eventually("the get waits") { q.stats.waitingConsumers == 1 }
        await held.hold()
        try q.tryPut(1)
        try q.tryPut(2)
        #expect(q.close(discardingItems: true) == 1)
        reader.cancel()
        held.letGo()
        #expect(try await reader.value == 1)
        #expect(q.stats.got == 1 && q.stats.dropped == 1 && q.stats.put == 2)
    }

    /// The semaphore's hand-over: a release grants the first waiter its permit; a cancel
    /// after the grant is too late, and the task holds the permit (and must release it).
    @Test func anAcquireCancelledAfterAReleaseGrantedItKeepsThePermit() async throws {
        let held = HeldExecutor()
        defer { held.executor.shutdown() }
        let sem = AsyncSemaphore(limit: 1, registry: nil)
        try await sem.acquire()
        let waiter = Task(executorPreference: held.executor) { () -> Bool in
            try await sem.acquire()
            return Task.isCancelled
        }
        try await eventually("the acquire waits") { sem.stats.waiting == 1 }
        await held.hold()
        try sem.release()  // granted to the waiter, resumed onto the held thread
        #expect(sem.stats.inUse == 1 && sem.stats.waiting == 0)
        waiter.cancel()
        held.letGo()
        #expect(try await waiter.value)  // returned normally, and saw the cancel afterwards
        #expect(sem.stats.inUse == 1 && sem.stats.acquired == 2)
        #expect(!sem.tryAcquire())
        try sem.release()
        #expect(sem.stats.inUse == 0)
    }

    // MARK: observation, the same in every order

    @Test(arguments: orders)
    func everyOrderKeepsTheSameNumbersAndEmitsTheSameEvents(order: String) async throws {
        let registry = PatternRegistry()
        let log = EventLog(capacity: 64)
        let subscription = registry.subscribe(log, interest: .all)
        defer { subscription.cancel() }
        let q = BoundedQueue<Int>(capacity: 1, order: Self.order(order), name: "q", registry: registry)
        try await q.put(1)
        let putter = Task { try await q.put(2) }
        try await eventually("the put waits") { q.stats.waitingProducers == 1 }
        _ = try await q.get()
        try await putter.value
        try q.taskDone()
        q.close(discardingItems: true)
        var snapshot = Snapshot()
        log.fill(&snapshot)
        var kinds: [String] = []
        for event in snapshot.recentEvents {
            guard case .queue(let e, _, _) = event else { continue }
            switch e {
            case .put: kinds.append("put")
            case .got: kinds.append("got")
            case .producerBlocked: kinds.append("blocked")
            case .taskDone: kinds.append("done")
            case .closed: kinds.append("closed")
            default: kinds.append("other")
            }
        }
        // The waiting producer's put is reported as the get that let it in settles, before the
        // get's own event.
        #expect(kinds == ["put", "blocked", "put", "got", "done", "closed"])
        let snap = registry.snapshot().queue("q")
        #expect(snap?.put == 2 && snap?.got == 1 && snap?.done == 1 && snap?.dropped == 1 && snap?.maxDepth == 1)
        #expect(snap?.wait.count ?? 0 >= 1)
    }
}

extension QueueFamilyTests {
    /// `dropped` is newer than the snapshot's other keys: JSON without it (an older agent's
    /// or recording's) still decodes, as 0; with it, it round-trips.
    @Test func aQueueSnapshotWithoutDroppedDecodesAsZero() throws {
        var q = QueueSnapshot(name: "jobs")
        q.put = 5
        q.dropped = 2
        let data = try JSONEncoder().encode(q)
        #expect(try JSONDecoder().decode(QueueSnapshot.self, from: data) == q)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["dropped"] = nil
        let older = try JSONDecoder().decode(QueueSnapshot.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(older.dropped == 0 && older.put == 5 && older.name == "jobs")
    }
}

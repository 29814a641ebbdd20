import Patience
import Synchronization
import Testing
@testable import AsyncPatterns

@Suite struct BoundedQueueTests {
    @Test func fifoPutGetAndTryVariants() async throws {
        let q = BoundedQueue<Int>(capacity: 3)
        for i in 1...3 { try await q.put(i) }
        #expect(try q.tryPut(4) == false)
        #expect(try await q.get() == 1)
        #expect(try q.tryPut(4) == true)
        var got: [Int] = []
        while let x = try q.tryGet() { got.append(x) }
        #expect(got == [2, 3, 4])
        #expect(q.stats.put == 4 && q.stats.got == 4 && q.stats.maxDepth == 3)
    }

    @Test func putSuspendsWhileFullUntilAGet() async throws {
        let q = BoundedQueue<Int>(capacity: 1)
        try await q.put(1)
        let producer = Task { try await q.put(2) }
        try await eventually("q.stats.waitingProducers > 0") { q.stats.waitingProducers > 0 }
        #expect(q.stats.depth == 1)
        #expect(try await q.get() == 1)
        try await producer.value
        #expect(try await q.get() == 2)
    }

    @Test func closeRejectsPutsAndDrainsBeforeThrowing() async throws {
        let q = BoundedQueue<Int>(capacity: 2)
        try await q.put(1)
        try await q.put(2)
        let blocked = Task { try await q.put(3) }
        try await eventually("q.stats.waitingProducers > 0") { q.stats.waitingProducers > 0 }
        q.close()
        await #expect(throws: QueueClosed.self) { try await blocked.value }
        await #expect(throws: QueueClosed.self) { try await q.put(4) }
        #expect(try await q.get() == 1)
        #expect(try await q.get() == 2)
        await #expect(throws: QueueClosed.self) { try await q.get() }
        #expect(throws: QueueClosed.self) { try q.tryGet() }
    }

    @Test func closeWakesWaitingConsumers() async throws {
        let q = BoundedQueue<Int>(capacity: 2)
        let consumers = (0..<3).map { _ in Task { try await q.get() } }
        try await eventually("q.stats.waitingConsumers >= 3") { q.stats.waitingConsumers >= 3 }
        q.close()
        for c in consumers { await #expect(throws: QueueClosed.self) { try await c.value } }
    }

    @Test func cancellingAWaitingGetTakesNothing() async throws {
        let q = BoundedQueue<Int>(capacity: 2)
        let first = Task { try await q.get() }
        try await eventually("q.stats.waitingConsumers >= 1") { q.stats.waitingConsumers >= 1 }
        let second = Task { try await q.get() }
        try await eventually("q.stats.waitingConsumers >= 2") { q.stats.waitingConsumers >= 2 }
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        try await q.put(42)
        #expect(try await second.value == 42)
        #expect(q.stats.got == 1 && q.stats.waitingConsumers == 0)
    }

    @Test func cancellingAWaitingPutPutsNothing() async throws {
        let q = BoundedQueue<Int>(capacity: 1)
        try await q.put(1)
        let p = Task { try await q.put(2) }
        try await eventually("q.stats.waitingProducers >= 1") { q.stats.waitingProducers >= 1 }
        p.cancel()
        await #expect(throws: CancellationError.self) { try await p.value }
        #expect(try await q.get() == 1)
        #expect(try q.tryGet() == nil)
        #expect(q.stats.put == 1)
    }

    @Test func getTimesOutOnTheGivenClockAndTakesNothing() async throws {
        let clock = ManualClock()
        let q = BoundedQueue<Int>(capacity: 1)
        let waiter = Task { try await q.get(timeout: .seconds(1), clock: clock) }
        await clock.waitForSleepers(1)
        try await eventually("q.stats.waitingConsumers >= 1") { q.stats.waitingConsumers >= 1 }
        clock.advance(by: .milliseconds(999))
        #expect(q.stats.waitingConsumers == 1)
        clock.advance(by: .milliseconds(1))
        await #expect(throws: TimedOut.self) { try await waiter.value }
        #expect(q.stats.waitingConsumers == 0)
        try await q.put(5)
        #expect(try q.tryGet() == 5)  // the timed-out get did not take it
    }

    @Test func getWithTimeoutReturnsAnItemThatArrivesInTime() async throws {
        let clock = ManualClock()
        let q = BoundedQueue<Int>(capacity: 1)
        let waiter = Task { try await q.get(timeout: .seconds(1), clock: clock) }
        await clock.waitForSleepers(1)
        try await q.put(9)
        #expect(try await waiter.value == 9)
    }

    @Test func putWithTimeoutGivesUpWithoutPutting() async throws {
        let clock = ManualClock()
        let q = BoundedQueue<Int>(capacity: 1)
        try await q.put(1)
        let p = Task { try await q.put(2, timeout: .seconds(2), clock: clock) }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(2))
        await #expect(throws: TimedOut.self) { try await p.value }
        #expect(q.stats.put == 1 && q.stats.waitingProducers == 0)
    }

    @Test func joinReturnsWhenEveryItemIsDone() async throws {
        let q = BoundedQueue<Int>(capacity: 4)
        try await q.join()  // nothing unfinished: returns at once
        try await q.put(1)
        try await q.put(2)
        let joined = Task { try await q.join() }
        _ = try await q.get()
        try q.taskDone()
        _ = try await q.get()
        #expect(throws: Never.self) { try q.taskDone() }
        try await joined.value
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
    }

    /// `taskDone` does not take the lock; `join` and the last `taskDone` must still meet:
    /// joiners racing consumers, many times over, all return, and only once all is done.
    /// On the races' own threads (1,400 tasks would queue ahead of other tests' jobs on the
    /// shared pool); fewer rounds under ThreadSanitizer, where 200 took up to 160 s.
    @Test func joinersRacingConsumersReturnExactlyWhenAllIsDone() async throws {
        try await Task(executorPreference: QueueFastPathStressTests.executor) {
            try await Self.joinersRacingConsumers(rounds: underThreadSanitizer ? 50 : 200)
        }.value
    }

    static func joinersRacingConsumers(rounds: Int) async throws {
        let n = 64
        for _ in 0..<rounds {
            let q = BoundedQueue<Int>(capacity: n)
            for i in 0..<n { try await q.put(i) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await q.join()
                        #expect(q.stats.done == n)
                    }
                }
                for _ in 0..<4 {
                    group.addTask {
                        while try q.tryGet() != nil { try q.taskDone() }
                    }
                }
                try await group.waitForAll()
            }
            #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
        }
    }

    @Test func growingCapacityWakesBlockedProducers() async throws {
        let q = BoundedQueue<Int>(capacity: 1)
        try await q.put(0)
        let producers = (1...3).map { i in Task { try await q.put(i) } }
        try await eventually("q.stats.waitingProducers >= 3") { q.stats.waitingProducers >= 3 }
        q.setCapacity(4)
        for p in producers { try await p.value }
        #expect(q.stats.depth == 4 && q.stats.capacity == 4)
        q.setCapacity(1)
        #expect(q.stats.depth == 4)  // shrinking drops nothing
    }

    @Test func eventsReachTheObserver() async throws {
        let registry = PatternRegistry()
        let q = BoundedQueue<Int>(capacity: 2, name: "jobs", registry: registry)
        try await q.put(1)
        try await q.put(2)
        _ = try await q.get()
        try q.taskDone()
        let snap = registry.snapshot().queue("jobs")
        #expect(snap?.put == 2 && snap?.got == 1 && snap?.done == 1 && snap?.depth == 1 && snap?.capacity == 2)
        #expect(snap?.wait.count == 1)
    }

    /// The conservation test of the engine issue: 8 producers and 8 consumers move 1,000,000
    /// items through capacity 64; some waiters are cancelled and the queue is closed midway.
    /// Every item put is got exactly once, and join returns.
    @Test func conservationUnderCancellationAndClose() async throws {
        let q = BoundedQueue<Int>(capacity: 64)
        let perProducer = 125_000
        let puts = Counter(), gets = Counter()
        let enoughGot = Gate(), enoughPut = Gate()
        let producers = (0..<8).map { p in
            Task { () -> [Int] in
                var put: [Int] = []
                put.reserveCapacity(perProducer)
                for i in 0..<perProducer {
                    do {
                        try await q.put(p * perProducer + i)
                        put.append(p * perProducer + i)
                        if puts.add() == 600_000 { enoughPut.open() }
                    } catch {
                        break  // cancelled or closed: this item was not put
                    }
                }
                return put
            }
        }
        let consumers = (0..<8).map { _ in
            Task { () -> [Int] in
                var got: [Int] = []
                while true {
                    do {
                        got.append(try await q.get())
                        try q.taskDone()
                        if gets.add() == 200_000 { enoughGot.open() }
                    } catch {
                        return got  // cancelled (took nothing) or closed and drained
                    }
                }
            }
        }
        await enoughGot.wait()
        producers[0].cancel()
        producers[1].cancel()
        consumers[0].cancel()
        consumers[1].cancel()
        consumers[2].cancel()
        await enoughPut.wait()
        q.close()
        var put: [Int] = []
        for p in producers { put += await p.value }
        var got: [Int] = []
        for c in consumers { got += await c.value }
        try await q.join()
        #expect(put.count > 600_000)
        #expect(got.count == put.count)
        #expect(Set(got).count == got.count, "an item was delivered twice")
        #expect(Set(got) == Set(put), "an item was lost or invented")
        let stats = q.stats
        #expect(stats.put == put.count && stats.got == got.count && stats.done == got.count && stats.depth == 0)
    }
}

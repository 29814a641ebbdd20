import Synchronization
import Testing
@testable import AsyncPatterns

/// Nothing lost when a close discards the items in the middle of a burst, in every order:
/// producers and consumers run flat out on threads of the suite's own (the shared pool
/// stays free), some waiters are cancelled, and every item whose put returned is either got
/// exactly once or counted as dropped; `join` returns once every item got is done. And the
/// LIFO and priority orders' own race: waiters strand nowhere.
@Suite struct QueueDiscardStressTests {
    struct Run {
        var put: [Int] = []
        var got: [Int] = []
    }

    static func run(order: QueueOrder<Int>, capacity: Int, seed: UInt64) async -> (Run, BoundedQueue<Int>) {
        let q = BoundedQueue<Int>(capacity: capacity, order: order, registry: PatternRegistry())
        let executor = QueueFastPathStressTests.executor
        var rng = SplitMix64(seed: seed)
        let closeAfter = Int.random(in: 0...12_000, using: &rng)
        // The test waits on gates the consumers open (no spinning on the shared pool while
        // the items go through).
        let gotSoFar = Counter()
        let halfway = Gate(), closeNow = Gate()
        if closeAfter / 2 == 0 { halfway.open() }
        if closeAfter == 0 { closeNow.open() }
        let perProducer = 6_000
        let producers = (0..<3).map { p in
            Task(executorPreference: executor) { () -> [Int] in
                var put: [Int] = []
                put.reserveCapacity(perProducer)
                for n in 0..<perProducer {
                    do {
                        try await q.put(p << 32 | n)
                        put.append(p << 32 | n)
                    } catch {
                        break  // closed or cancelled: this item was not put
                    }
                }
                return put
            }
        }
        let consumers = (0..<3).map { _ in
            Task(executorPreference: executor) { () -> [Int] in
                var got: [Int] = []
                while true {
                    do {
                        got.append(try await q.get())
                        try q.taskDone()
                        let n = gotSoFar.add()
                        if n == closeAfter / 2 { halfway.open() }
                        if n == closeAfter { closeNow.open() }
                    } catch {
                        return got  // cancelled (took nothing) or closed
                    }
                }
            }
        }
        await halfway.wait()
        producers[0].cancel()
        consumers[0].cancel()
        await closeNow.wait()  // producers 1 and 2 put 12,000: the consumers left get that far
        let dropped = q.close(discardingItems: true)
        var run = Run()
        for p in producers { run.put += await p.value }
        for c in consumers { run.got += await c.value }
        #expect(q.stats.dropped == dropped, "seed \(seed)")
        return (run, q)
    }

    @Test(arguments: ["fifo", "lifo", "priority"], 0..<3)
    func aDiscardingCloseDuringABurstLosesNothing(order: String, round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let capacity = Int.random(in: 1...32, using: &rng)
        let queueOrder: QueueOrder<Int> = order == "lifo" ? .lifo : order == "priority" ? .priority : .fifo
        let (run, q) = await Self.run(order: queueOrder, capacity: capacity, seed: seed)
        let stats = q.stats
        #expect(Set(run.got).count == run.got.count, "seed \(seed): an item was got twice")
        #expect(Set(run.got).isSubset(of: Set(run.put)), "seed \(seed): an item was invented")
        #expect(run.got.count + stats.dropped == run.put.count, "seed \(seed): \(run.put.count) put, \(run.got.count) got, \(stats)")
        #expect(stats.put == run.put.count && stats.got == run.got.count && stats.done == run.got.count, "seed \(seed): \(stats)")
        #expect(stats.depth == 0 && stats.waitingProducers == 0 && stats.waitingConsumers == 0, "seed \(seed): \(stats)")
        #expect(stats.maxDepth <= capacity, "seed \(seed): \(stats)")
        try await q.join()
        #expect(throws: TaskDoneWithoutItem.self) { try q.taskDone() }
    }
}

extension QueueDiscardStressTests {
    /// LIFO and priority take the lock for every put and get; hundreds of producers and
    /// consumers with one item each through a queue of one (with and without a low-water
    /// mark) strand no waiter beside what it waits for. A round that does not end within a
    /// generous limit is reported and cancelled instead of hanging the suite.
    @Test(arguments: ["lifo", "priority"], [nil, 1] as [Int?])
    func oneItemEachThroughAQueueOfOneStrandsNoWaiter(order: String, resumeBelow: Int?) async throws {
        let executor = QueueFastPathStressTests.executor
        for round in 0..<(underThreadSanitizer ? 50 : 300) {
            let q = BoundedQueue<Int>(
                capacity: 1, order: order == "lifo" ? .lifo : .priority, resumeProducersBelow: resumeBelow, registry: nil)
            let ended = await QueueFastPathStressTests.pairsEnd(100, through: q, on: executor)
            let stats = q.stats
            guard ended, stats.put == 100, stats.got == 100 else {
                Issue.record("round \(round): stranded waiters; \(stats)")
                return
            }
        }
    }
}

import Patience
import Synchronization
import Testing
@testable import AsyncPatterns

/// Aimed at the races of the queue's lock-free ring (issue #16): positions lapping a small
/// ring many times, the ring replaced while producers and consumers run flat out, and close
/// in the middle of a burst. Every item is got exactly once, and each consumer sees each
/// producer's items in the order they were put (FIFO). Items are `producer << 32 | n`.
@Suite struct QueueFastPathStressTests {
    /// What producers put (in order) and consumers got, with the checks every test makes.
    struct Outcome {
        var put: [Int] = []
        var gotByConsumer: [[Int]] = []

        func check(_ seed: UInt64, _ q: BoundedQueue<Int>, largestCapacity: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            let got = gotByConsumer.flatMap { $0 }
            #expect(got.count == put.count, "seed \(seed): \(put.count) put, \(got.count) got", sourceLocation: sourceLocation)
            #expect(Set(got).count == got.count, "seed \(seed): an item was got twice", sourceLocation: sourceLocation)
            #expect(Set(got) == Set(put), "seed \(seed): an item was lost or invented", sourceLocation: sourceLocation)
            for items in gotByConsumer {
                var last: [Int: Int] = [:]
                for item in items {
                    let (producer, n) = (item >> 32, item & 0xFFFF_FFFF)
                    #expect(
                        n > last[producer, default: -1], "seed \(seed): producer \(producer)'s items out of order",
                        sourceLocation: sourceLocation)
                    last[producer] = n
                }
            }
            let stats = q.stats
            #expect(
                stats.put == put.count && stats.got == got.count && stats.depth == 0, "seed \(seed): \(stats)",
                sourceLocation: sourceLocation)
            #expect(stats.waitingProducers == 0 && stats.waitingConsumers == 0, "seed \(seed): \(stats)", sourceLocation: sourceLocation)
            #expect(stats.maxDepth >= 1 && stats.maxDepth <= largestCapacity, "seed \(seed): \(stats)", sourceLocation: sourceLocation)
        }
    }

    /// Where the races' producers and consumers run: threads of the suite's own, so that
    /// their millions of jobs never queue ahead of other tests' on the shared pool. It lives
    /// as long as the process (a task that outlives a test could still be resumed on it).
    static let executor = DedicatedThreadExecutor(name: "queue-races", threads: 2)

    /// Runs `producers` x `perProducer` puts against `consumers` consumers until the queue is
    /// closed and drained; `during` runs beside them (capacity changes, a close).
    static func run(
        _ q: BoundedQueue<Int>, producers: Int, consumers: Int, perProducer: Int, seed: UInt64,
        during: @escaping @Sendable (_ got: Progress) async -> Void = { _ in }
    ) async -> Outcome {
        let gotSoFar = Progress()
        let putTasks = (0..<producers).map { p in
            Task(executorPreference: executor) { () -> [Int] in
                var r = SplitMix64(seed: seed &+ UInt64(p) &* 7919)
                var put: [Int] = []
                for n in 0..<perProducer {
                    let item = p << 32 | n
                    do {
                        if Int.random(in: 0..<8, using: &r) == 0 {
                            if try !q.tryPut(item) { try await q.put(item) }
                        } else {
                            try await q.put(item)
                        }
                        put.append(item)
                    } catch {
                        break  // closed: this item was not put, nor any later one
                    }
                }
                return put
            }
        }
        let getTasks = (0..<consumers).map { c in
            Task(executorPreference: executor) { () -> [Int] in
                var r = SplitMix64(seed: seed &+ 104_729 &* UInt64(c + 1))
                var got: [Int] = []
                while true {
                    do {
                        if Int.random(in: 0..<8, using: &r) == 0, let item = try q.tryGet() {
                            got.append(item)
                        } else {
                            got.append(try await q.get())
                        }
                        try q.taskDone()
                        gotSoFar.add()
                    } catch {
                        return got  // closed and drained
                    }
                }
            }
        }
        await during(gotSoFar)
        var outcome = Outcome()
        for t in putTasks { outcome.put += await t.value }
        q.close()
        for t in getTasks { outcome.gotByConsumer.append(await t.value) }
        return outcome
    }

    /// Capacities 1 to 3 in rings of 2 to 4 slots: each slot is lapped thousands of times.
    @Test(arguments: [(1, 1, 1), (4, 4, 1), (2, 3, 2), (3, 1, 3)])
    func wrapAroundKeepsEveryItemOnceAndInOrder(producers: Int, consumers: Int, capacity: Int) async throws {
        let seed = stressSeed()
        let q = BoundedQueue<Int>(capacity: capacity, registry: nil)
        let outcome = await Self.run(q, producers: producers, consumers: consumers, perProducer: 20_000, seed: seed)
        outcome.check(seed, q, largestCapacity: capacity)
        #expect(outcome.put.count == producers * 20_000)
        try await q.join()
    }

    /// Hundreds of producers and consumers, each with one item, through a queue of one or two:
    /// every put and get races a waiter on the other side joining or leaving. A waiter
    /// left beside what it waits for (a consumer beside an item, a producer beside room)
    /// waits forever, so each round must end within a generous limit; one that does not is
    /// reported with the queue's figures and cancelled, instead of hanging the suite.
    /// With a low-water mark (capacity 2, resumed below 1 or 2), producers whose items are
    /// in wait for the gets that take the depth below it.
    @Test(arguments: [(false, 1, nil), (true, 1, nil), (false, 2, 1), (true, 2, 2)] as [(Bool, Int, Int?)])
    func oneItemEachThroughASmallQueueStrandsNoWaiter(timed: Bool, capacity: Int, resumeBelow: Int?) async throws {
        // Hundreds of thousands of tasks: on threads of the test's own, so that the shared
        // pool stays free for the tests beside it (heartbeats would wait behind them).
        let executor = DedicatedThreadExecutor(name: "queue-stress", threads: 2)
        defer { executor.shutdown() }
        for round in 0..<(underThreadSanitizer ? 250 : 2000) {
            let q = BoundedQueue<Int>(
                capacity: capacity, resumeProducersBelow: resumeBelow, registry: timed ? PatternRegistry() : nil)
            let ended = await Self.pairsEnd(200, through: q, on: executor)
            let stats = q.stats
            guard ended, stats.put == 200, stats.got == 200 else {
                Issue.record("round \(round): stranded waiters; \(stats)")
                return
            }
        }
    }

    /// Puts and gets `pairs` items, each by a task of its own, through `q` on `executor`;
    /// false if they have not all ended within 30 s (a waiter stranded beside what it waits
    /// for), after cancelling them so that the suite goes on.
    static func pairsEnd(_ pairs: Int, through q: BoundedQueue<Int>, on executor: DedicatedThreadExecutor) async -> Bool {
        let tasks = Task(executorPreference: executor) {
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<pairs {
                    group.addTask { try? await q.put(i) }
                    group.addTask { _ = try? await q.get() }
                }
            }
        }
        return await withTaskGroup(of: Bool.self) { race in
            race.addTask {
                await tasks.value
                return true
            }
            race.addTask { (try? await Task.sleep(for: patience)) == nil }
            let first = await race.next() ?? false
            race.cancelAll()
            tasks.cancel()  // a stranded waiter ends in CancellationError
            return first
        }
    }

    /// The ring grows past its slots and the capacity falls below the depth while items
    /// stream through; timed (in a registry), so sampled items carry their stamps across.
    @Test(arguments: 0..<4)
    func capacityChangesDuringABurst(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        let q = BoundedQueue<Int>(capacity: 2, registry: PatternRegistry())
        let outcome = await Self.run(q, producers: 4, consumers: 3, perProducer: 10_000, seed: seed) { got in
            var r = SplitMix64(seed: seed)
            var changes = 0
            while got.count < 30_000 || changes < 50 {
                q.setCapacity(Int.random(in: 1...512, using: &r))
                changes += 1
                // At most one change per item got beyond the first 50 (see `Progress`).
                await got.reach(changes - 50 + 1)
            }
            q.setCapacity(64)
        }
        outcome.check(seed, q, largestCapacity: 512)
        #expect(outcome.put.count == 40_000)
        try await q.join()
    }

    /// The ring replaced again and again (at the same size) while items stream through a
    /// queue that is often full and often empty: as often as a queue's generations allow
    /// (`Position.generations`: a stale compare-and-swap must never find its generation
    /// again), one replacement every 100 items got, so they fall among puts and gets in
    /// flight rather than all before the first.
    @Test(arguments: 0..<8)
    func ringReplacedDuringABurst(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        let q = BoundedQueue<Int>(capacity: 8, registry: PatternRegistry())
        let outcome = await Self.run(q, producers: 3, consumers: 3, perProducer: 3_000, seed: seed) { got in
            for replaced in 0..<(Position.generations - 2) {
                q.state.withLock { m in m.ring.replace(slotCount: 8) }
                await got.reach((replaced + 1) * 100)
            }
        }
        outcome.check(seed, q, largestCapacity: 8)
        #expect(outcome.put.count == 9_000)
        try await q.join()
    }

    /// A put that has claimed its position but not written its item yet, when the ring is
    /// replaced: the replacement waits for it (the positions stay frozen), then moves the
    /// item. Driven step by step: the test plays the producer between its two steps.
    @Test func replacingTheRingWaitsForAPutStillWriting() async throws {
        let ring = QueueRing<Int>(capacity: 8, timed: false)
        guard case .pushed = ring.tryPush(1, now: { 0 }) else {
            Issue.record("room for the first item")
            return
        }
        // The producer's first step: claim position 1 (what tryPush's compare-and-swap does).
        let word = ring.enqueue.load(ordering: .sequentiallyConsistent)
        #expect(ring.enqueue.compareExchange(expected: word, desired: word + 1, ordering: .sequentiallyConsistent).exchanged)
        let old = ring.slots.load(ordering: .acquiring)
        let done = Counter()
        #expect(
            startDetachedThread {
                ring.replace(slotCount: 4)
                done.add()
            })
        while ring.enqueue.load(ordering: .sequentiallyConsistent) & Position.frozen == 0 { await Task.yield() }
        // Frozen, and it stays so until the item is written: a consumer could not take it.
        for _ in 0..<1_000 {
            #expect(done.load == 0 && ring.enqueue.load(ordering: .sequentiallyConsistent) & Position.frozen != 0)
            guard case .blocked = ring.tryPop() else {
                Issue.record("a get went through a ring being replaced")
                return
            }
            await Task.yield()
        }
        // The producer's second step: write the item and publish it.
        (old.pointee.elements + 1).initialize(to: 2)
        old.pointee.sequences[1].store(2, ordering: .releasing)
        while done.load == 0 { await Task.yield() }
        #expect(ring.slots.load(ordering: .acquiring) != old)
        var items: [Int] = []
        while case .item(let item, _) = ring.tryPop() { items.append(item) }
        #expect(items == [1, 2] && ring.putCount == 2 && ring.gotCount == 2)
    }

    /// Close after a random share of the items went through, producers and consumers
    /// running: every put that returned is got once; every put that threw is not.
    @Test(arguments: 0..<6)
    func closeDuringABurst(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let capacity = Int.random(in: 1...64, using: &rng)
        let q = BoundedQueue<Int>(capacity: capacity, registry: nil)
        let closeAfter = Int.random(in: 0...30_000, using: &rng)
        let outcome = await Self.run(q, producers: 3, consumers: 3, perProducer: 15_000, seed: seed) { got in
            await got.reach(closeAfter)
            q.close()
        }
        outcome.check(seed, q, largestCapacity: capacity)
        #expect(q.stats.isClosed)
        try await q.join()
    }
}

/// Items got so far, which a task can wait on without spinning: the races' pacing loops
/// suspend in `reach` until the consumers have moved on. Spinning there (`Task.yield()` in a
/// loop) kept the shared pool's threads busy for as long as the items crawled, and under
/// ThreadSanitizer on a loaded machine tests beside them waited 100 s for a timer's wake-up.
final class Progress: Sendable {
    private let got = Atomic<Int>(0)
    /// The smallest count a waiter wants (Int.max: nobody waits). `add` takes the lock only
    /// when it reaches it. Both sides write first and read the other second, sequentially
    /// consistent, so a waiter that joins as the count passes its mark is seen by one of them.
    private let lowestWanted = Atomic<Int>(.max)
    /// `Locked` (a pthread mutex), not `Mutex`: ThreadSanitizer does not see a futex.
    private let waiters = Locked<[(count: Int, continuation: CheckedContinuation<Void, Never>)]>([])

    var count: Int { got.load(ordering: .relaxed) }

    func add() {
        let now = got.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        guard now >= lowestWanted.load(ordering: .sequentiallyConsistent) else { return }
        for continuation in ready() { continuation.resume() }
    }

    /// Returns once at least `count` items were got (at once if they were).
    func reach(_ count: Int) async {
        guard got.load(ordering: .sequentiallyConsistent) < count else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiters.withLock { list in
                list.append((count, continuation))
                lowestWanted.store(list.map(\.count).min() ?? .max, ordering: .sequentiallyConsistent)
            }
            for ready in ready() { ready.resume() }  // the count may have passed the mark meanwhile
        }
    }

    /// Takes the waiters whose count is reached out of the list (resumed outside the lock).
    private func ready() -> [CheckedContinuation<Void, Never>] {
        waiters.withLock { list in
            let now = got.load(ordering: .sequentiallyConsistent)
            let ready = list.filter { $0.count <= now }.map(\.continuation)
            list.removeAll { $0.count <= now }
            lowestWanted.store(list.map(\.count).min() ?? .max, ordering: .sequentiallyConsistent)
            return ready
        }
    }
}

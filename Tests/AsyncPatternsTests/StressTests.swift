#if canImport(Glibc)
import Glibc
#endif
import Patience
import Synchronization
import Testing
@testable import AsyncPatterns

/// Randomized interleavings, sized to run in seconds. Each test prints its seed on
/// failure; set SLUICE_STRESS_SEED to replay one (the choices repeat; the thread
/// interleaving is the scheduler's).
func stressSeed() -> UInt64 {
    if let text = getenv("SLUICE_STRESS_SEED"), let seed = UInt64(String(cString: text)) { return seed }
    return UInt64.random(in: 1...UInt64(UInt32.max))
}

/// Records every event (for invariants checked on the gauges read under the lock).
final class RecordingObserver: PatternObserver {
    let events = Locked<[PatternEvent]>([])
    func observe(_ event: PatternEvent) { events.withLock { $0.append(event) } }
}

@Suite struct StressTests {
    /// put/tryPut/timed put, get/tryGet/timed get, capacity changes, cancellation and close,
    /// mixed at random: every item put is got exactly once or was reported undelivered (its
    /// put threw), and join returns.
    @Test(arguments: 0..<6)
    func queueConservation(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let q = BoundedQueue<Int>(capacity: Int.random(in: 1...8, using: &rng))
        let producers = Int.random(in: 1...4, using: &rng)
        let consumers = Int.random(in: 1...4, using: &rng)
        let perProducer = 3_000
        let putTasks = (0..<producers).map { p in
            Task { () -> [Int] in
                var r = SplitMix64(seed: seed &+ UInt64(p) &* 7919)
                var put: [Int] = []
                for i in 0..<perProducer {
                    let item = p * perProducer + i
                    do {
                        switch Int.random(in: 0..<10, using: &r) {
                        case 0: if try !q.tryPut(item) { continue }
                        case 1:
                            try await q.put(item, timeout: .microseconds(Int64.random(in: 1...200, using: &r)), clock: ContinuousClock())
                        default: try await q.put(item)
                        }
                        put.append(item)
                    } catch is TimedOut {
                        continue  // not put: reported to this producer
                    } catch {
                        break  // cancelled or closed: not put
                    }
                }
                return put
            }
        }
        let getTasks = (0..<consumers).map { c in
            Task { () -> [Int] in
                var r = SplitMix64(seed: seed &+ 104_729 &* UInt64(c + 1))
                var got: [Int] = []
                while true {
                    do {
                        let item: Int?
                        switch Int.random(in: 0..<10, using: &r) {
                        case 0: item = try q.tryGet()
                        case 1:
                            item = try await q.get(timeout: .microseconds(Int64.random(in: 1...200, using: &r)), clock: ContinuousClock())
                        default: item = try await q.get()
                        }
                        if let item {
                            got.append(item)
                            try q.taskDone()
                        } else {
                            await Task.yield()
                        }
                    } catch is TimedOut {
                        continue
                    } catch {
                        return got  // cancelled or closed and drained
                    }
                }
            }
        }
        for _ in 0..<20 {
            await Task.yield()
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: q.setCapacity(Int.random(in: 1...8, using: &rng))
            case 1 where consumers > 1: getTasks[Int.random(in: 1..<consumers, using: &rng)].cancel()  // consumer 0 stays
            case 2: putTasks[Int.random(in: 0..<producers, using: &rng)].cancel()
            default: break
            }
        }
        if Bool.random(using: &rng) { q.close() }
        var put: [Int] = []
        for t in putTasks { put += await t.value }
        q.close()
        var got: [Int] = []
        for t in getTasks { got += await t.value }
        while let item = try? q.tryGet() {  // left behind by cancelled consumers
            got.append(item)
            try q.taskDone()
        }
        try await q.join()
        #expect(got.count == put.count, "seed \(seed): \(put.count) put, \(got.count) got")
        #expect(Set(got).count == got.count, "seed \(seed): an item was got twice")
        #expect(Set(got) == Set(put), "seed \(seed): an item was lost or invented")
        let stats = q.stats
        #expect(stats.put == put.count && stats.got == got.count && stats.done == got.count, "seed \(seed): \(stats)")
        #expect(stats.waitingProducers == 0 && stats.waitingConsumers == 0, "seed \(seed)")
    }

    /// acquire/timed acquire/tryAcquire, release, limit changes and cancellation at random:
    /// every grant happened with in-use within the limit in force (checked on the gauges
    /// read under the lock), and all permits are back at the end.
    @Test(arguments: 0..<4)
    func semaphoreNeverOverGrants(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let observer = RecordingObserver()
        let registry = PatternRegistry()
        let subscription = registry.subscribe(observer, interest: .all)
        defer { subscription.cancel() }
        let sem = AsyncSemaphore(limit: Int.random(in: 0...4, using: &rng), registry: registry)
        let workers = (0..<200).map { w in
            Task {
                var r = SplitMix64(seed: seed &+ UInt64(w) &* 31)
                for _ in 0..<20 {
                    do {
                        switch Int.random(in: 0..<6, using: &r) {
                        case 0: if !sem.tryAcquire() { continue }
                        case 1:
                            try await sem.acquire(timeout: .microseconds(Int64.random(in: 1...300, using: &r)), clock: ContinuousClock())
                        default: try await sem.acquire()
                        }
                    } catch is TimedOut {
                        continue
                    } catch {
                        return  // cancelled: holds nothing
                    }
                    for _ in 0..<Int.random(in: 0...3, using: &r) { await Task.yield() }
                    try? sem.release()
                }
            }
        }
        for _ in 0..<30 {
            await Task.yield()
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: sem.setLimit(Int.random(in: 0...6, using: &rng))
            case 1: workers[Int.random(in: 0..<workers.count, using: &rng)].cancel()
            default: break
            }
        }
        sem.setLimit(3)  // let every waiter through eventually
        for w in workers { await w.value }
        let stats = sem.stats
        #expect(stats.inUse == 0 && stats.waiting == 0, "seed \(seed): \(stats)")
        let grants = observer.events.withLock { $0 }.compactMap { e -> SemaphoreGauges? in
            if case .semaphore(.acquired(let g), _, _) = e { return g }
            return nil
        }
        #expect(grants.count == stats.acquired, "seed \(seed)")
        #expect(grants.allSatisfy { $0.inUse <= $0.limit }, "seed \(seed): a permit was granted over the limit")
    }

    /// Actors with bounded mailboxes, senders that wait or fail, stopped at a random moment:
    /// every message sent was processed or reported as a dead letter.
    @Test(arguments: 0..<3)
    func actorsStoppedWithFullMailboxesLoseNothing(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let registry = PatternRegistry()
        let actors = (0..<4).map {
            MailboxActor<Tally>(name: "a\($0)", mailboxCapacity: Int.random(in: 1...16, using: &rng), registry: registry)
        }
        let runs = actors.map { a in Task { await a.run(TallyBehavior()) } }
        let attempts = Counter()
        let senders = (0..<6).map { s in
            Task {
                var r = SplitMix64(seed: seed &+ UInt64(s) &* 131)
                for _ in 0..<500 {
                    let target = actors[Int.random(in: 0..<actors.count, using: &r)]
                    attempts.add()
                    do {
                        try await target.tell(.increment, ifFull: Bool.random(using: &r) ? .wait : .fail)
                    } catch is CancellationError {
                        attempts.subtract()  // never offered: the sender was cancelled first
                        return
                    } catch {}
                }
            }
        }
        for _ in 0..<Int.random(in: 1...200, using: &rng) { await Task.yield() }
        for a in actors { a.stop() }
        for s in senders { await s.value }
        for r in runs { await r.value }
        let snap = registry.snapshot()
        let processed = snap.actors.reduce(0) { $0 + $1.processed }
        let dead = snap.actors.reduce(0) { $0 + $1.deadLetters }
        #expect(processed + dead == attempts.load, "seed \(seed): \(attempts.load) sent, \(processed) processed, \(dead) dead letters")
    }

    /// Scopes cancelled at random moments (mid-open, mid-body, mid-close): every resource
    /// opened is closed exactly once, and nothing is left open.
    @Test(arguments: 0..<3)
    func scopesCancelledAnywhereCloseExactlyOnce(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round)
        var rng = SplitMix64(seed: seed)
        let scope = ResourceScope()
        let serial = Counter()
        let opened = Recorder<Int>()
        let closed = Recorder<Int>()
        let tasks = (0..<100).map { t in
            Task {
                var r = SplitMix64(seed: seed &+ UInt64(t))
                let openDelay = Int.random(in: 0...300, using: &r)
                let bodyDelay = Int.random(in: 0...300, using: &r)
                let closeDelay = Int.random(in: 0...300, using: &r)
                _ = try? await scope.with(
                    open: { () async throws -> Int in
                        try await Task.sleep(for: .microseconds(openDelay))
                        let id = serial.add()
                        opened.append(id)
                        return id
                    },
                    close: { id in
                        try? await Task.sleep(for: .microseconds(closeDelay))
                        closed.append(id)
                    },
                    body: { _ in
                        try await Task.sleep(for: .microseconds(bodyDelay))
                    })
            }
        }
        for _ in 0..<40 {
            try await Task.sleep(for: .microseconds(Int.random(in: 0...100, using: &rng)))
            tasks[Int.random(in: 0..<tasks.count, using: &rng)].cancel()
        }
        for t in tasks { await t.value }
        #expect(opened.all.sorted() == closed.all.sorted(), "seed \(seed): opened and closed differ")
        #expect(Set(closed.all).count == closed.all.count, "seed \(seed): a resource was closed twice")
        let stats = scope.stats
        #expect(stats.opened == stats.closed && stats.open == 0 && stats.closing == 0 && stats.opening == 0, "seed \(seed): \(stats)")
    }
}

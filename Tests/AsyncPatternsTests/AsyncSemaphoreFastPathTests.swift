import Synchronization
import Testing
@testable import AsyncPatterns

/// The lock-free path of `AsyncSemaphore` (issue #16): the permit word, the machine's
/// hand-over to and from it, and the semaphore using it under load.
@Suite struct AsyncSemaphoreFastPathTests {
    typealias Machine = AsyncSemaphoreStateMachine<String>

    // MARK: the word

    @Test func wordPacksItsFieldsApart() {
        let max = PermitWord.fieldMax
        let w = PermitWord(inUse: max, ceiling: 7, fastGrants: max - 1)
        #expect(w.inUse == max && w.ceiling == 7 && w.fastGrants == max - 1 && !w.isSlow)
        #expect(w.withoutFastGrants == PermitWord(inUse: max, ceiling: 7))
        #expect(PermitWord.slow.isSlow)
    }

    @Test func wordGrantsOnlyBelowTheCeilingAndWhileNotSlow() {
        let w = PermitWord(inUse: 1, ceiling: 2)
        let next = w.acquiring()
        #expect(next == PermitWord(inUse: 2, ceiling: 2, fastGrants: 1))
        #expect(next?.acquiring() == nil)  // at the ceiling: the lock decides
        #expect(PermitWord.slow.acquiring() == nil)
        #expect(PermitWord(raw: w.raw | PermitWord.slowBit).acquiring() == nil)
        // A full grant count must be counted under the lock before it wraps into the flag.
        #expect(PermitWord(inUse: 0, ceiling: 5, fastGrants: PermitWord.fieldMax).acquiring() == nil)
    }

    @Test func wordReleasesExactlyWhatIsHeld() {
        #expect(PermitWord(inUse: 2, ceiling: 2, fastGrants: 9).releasing() == .released(PermitWord(inUse: 1, ceiling: 2, fastGrants: 9)))
        #expect(PermitWord(inUse: 0, ceiling: 2).releasing() == .notHeld)
        #expect(PermitWord.slow.releasing() == .slow)
    }

    // MARK: the machine's hand-over

    @Test func thawPublishesOnlyWithoutWaitersOrEventSubscribers() {
        var m = Machine(limit: 2)
        #expect(m.thaw(eventsWanted: true) == nil && !m.isFast)
        #expect(m.acquire() == .granted(SemaphoreGauges(limit: 2, inUse: 1, waiting: 0)))
        // The ceiling is the highest in-use so far: a grant above it comes to the lock.
        #expect(m.thaw(eventsWanted: false) == PermitWord(inUse: 1, ceiling: 1))
        #expect(m.isFast)
        m.freeze(from: PermitWord(inUse: 1, ceiling: 1))
        _ = m.acquire()
        guard case .mustWait(let id) = m.acquire(), case .suspended = m.suspend(id: id, token: "a", isCancelled: false, now: 0)
        else {
            Issue.record("expected to wait")
            return
        }
        #expect(m.thaw(eventsWanted: false) == nil, "a waiter is in line: every release must come to the lock")
        guard case .handedOff = m.release() else {
            Issue.record("the waiter gets the permit")
            return
        }
        #expect(m.thaw(eventsWanted: false) == PermitWord(inUse: 2, ceiling: 2))
    }

    @Test func thawKeepsTheLockWhenTheNumbersDoNotFitTheWord() {
        var m = Machine(limit: PermitWord.fieldMax + 10)
        m.inUse = PermitWord.fieldMax + 1
        m.acquiredCount = m.inUse
        m.maxInUse = m.inUse
        #expect(m.thaw(eventsWanted: false) == nil)
        m.inUse = PermitWord.fieldMax
        #expect(m.thaw(eventsWanted: false) == PermitWord(inUse: PermitWord.fieldMax, ceiling: PermitWord.fieldMax))
    }

    @Test func freezeTakesOverTheWordsNumbers() {
        var m = Machine(limit: 4)
        for _ in 0..<4 { _ = m.acquire() }
        for _ in 0..<4 { _ = m.release() }
        _ = m.thaw(eventsWanted: false)
        // Without the lock: 3 granted, 1 of them returned.
        m.freeze(from: PermitWord(inUse: 2, ceiling: 4, fastGrants: 3))
        #expect(!m.isFast && m.inUse == 2 && m.acquiredCount == 7 && m.releasedCount == 5 && m.maxInUse == 4)
        _ = m.thaw(eventsWanted: false)
        m.observe(PermitWord(inUse: 0, ceiling: 4, fastGrants: 1))
        #expect(m.isFast && m.inUse == 0 && m.acquiredCount == 8 && m.releasedCount == 8)
    }

    /// Grants counted in bulk feed the wait sample exactly as the same grants made one by
    /// one under the lock would have.
    @Test(arguments: [1, 2, 31, 32, 33, 64, 65, 1000, 4097])
    func bulkCountedGrantsSampleLikeSingleOnes(count: Int) {
        for warmUp in [0, 1, 5, 40] {
            var single = Machine(limit: 1, timed: true)
            var bulk = Machine(limit: 1, timed: true)
            for _ in 0..<warmUp {
                _ = single.acquire()
                _ = single.release()
                _ = bulk.acquire()
                _ = bulk.release()
            }
            for _ in 0..<count {
                _ = single.acquire()
                _ = single.release()
            }
            _ = bulk.thaw(eventsWanted: false)
            bulk.freeze(from: PermitWord(inUse: 0, ceiling: 1, fastGrants: count))
            #expect(bulk.acquiredCount == single.acquiredCount)
            #expect(bulk.wait?.count == single.wait?.count, "count \(count), warm-up \(warmUp)")
            #expect(bulk.sampler.countdown == single.sampler.countdown && bulk.sampler.period == single.sampler.period)
        }
    }

    // MARK: the semaphore

    @Test func freePermitsGoWithoutTheLockAndAreCountedExactly() async throws {
        let registry = PatternRegistry()
        let sem = AsyncSemaphore(limit: 3, name: "fast", registry: registry)
        for _ in 0..<3 { try await sem.acquire() }  // the lock sees each new highest in-use
        for _ in 0..<3 { try sem.release() }
        #expect(!sem.permits.load().isSlow)
        for _ in 0..<100 {
            try await sem.acquire()
            #expect(sem.tryAcquire())
            try sem.release()
            try sem.release()
        }
        #expect(sem.permits.load().fastGrants == 200, "granted without the lock")
        try await sem.acquire()
        let stats = sem.stats
        #expect(stats == SemaphoreStats(limit: 3, inUse: 1, waiting: 0, acquired: 204, maxInUse: 3))
        let snap = try #require(registry.snapshot().semaphore("fast"))
        #expect(snap.acquired == 204 && snap.released == 203 && snap.inUse == 1 && snap.abandoned == 0)
        // One grant in 32 is sampled, each waited 0 ns (the first grant is sampled).
        #expect(snap.wait.count == 7 && snap.wait.max == 0)
        try sem.release()
        #expect(throws: ReleaseWithoutAcquire.self) { try sem.release() }
        #expect(sem.stats.inUse == 0)
    }

    @Test func everyEventSubscriberGetsEveryGrantAndRelease() async throws {
        let registry = PatternRegistry()
        let observer = RecordingObserver()
        let sem = AsyncSemaphore(limit: 2, registry: registry)
        try await sem.acquire()
        try sem.release()
        let subscription = registry.subscribe(observer, interest: .all)
        for _ in 0..<10 {
            try await sem.acquire()
            #expect(sem.tryAcquire())
            try sem.release()
            try sem.release()
        }
        #expect(sem.permits.load().isSlow, "with every event wanted the lock decides")
        subscription.cancel()
        let events = observer.events.withLock { $0 }
        let grants = events.filter { if case .semaphore(.acquired, _, _) = $0 { true } else { false } }
        let releases = events.filter { if case .semaphore(.released, _, _) = $0 { true } else { false } }
        #expect(grants.count == 20 && releases.count == 20)
        // Subscription gone: the next operation publishes the word again.
        try await sem.acquire()
        try sem.release()
        try await sem.acquire()
        #expect(!sem.permits.load().isSlow)
        try sem.release()
        #expect(sem.stats.acquired == 23)
    }

    /// A release that lands while a task is between "no permit" and joining the line must
    /// reach it. Drives that window deterministically through the machine's two steps.
    @Test func releaseBetweenAcquireAndSuspendIsNotLost() async throws {
        let sem = AsyncSemaphore(limit: 1, registry: nil)
        try await sem.acquire()
        try sem.release()
        try await sem.acquire()
        #expect(!sem.permits.load().isSlow)
        // A second acquire finds no permit and gets a waiter id, then the holder releases
        // on the fast path before the waiter suspends.
        guard case .mustWait(let id) = sem.locked({ $0.acquire() }) else {
            Issue.record("expected to wait")
            return
        }
        #expect(!sem.permits.load().isSlow)
        try sem.release()
        try await sem.acquireWaiting(id: id)
        #expect(sem.stats == SemaphoreStats(limit: 1, inUse: 1, waiting: 0, acquired: 3, maxInUse: 1))
        try sem.release()
    }

    @Test func raisingTheLimitLetsTheFastPathGrantMore() async throws {
        let sem = AsyncSemaphore(limit: 1, registry: nil)
        try await sem.acquire()
        #expect(!sem.tryAcquire())
        sem.setLimit(3)
        #expect(sem.tryAcquire() && sem.tryAcquire() && !sem.tryAcquire())
        for _ in 0..<3 { try sem.release() }
        for _ in 0..<3 { #expect(sem.tryAcquire()) }
        #expect(sem.permits.load().fastGrants == 3)
        sem.setLimit(1)
        for _ in 0..<2 { try sem.release() }
        #expect(!sem.tryAcquire(), "lowering revokes nothing: in use 1 == limit 1")
        try sem.release()
        #expect(sem.tryAcquire())
        try sem.release()
        #expect(sem.stats.acquired == 7 && sem.stats.maxInUse == 3)
    }

    /// Acquire, tryAcquire, timed acquires, cancellation, live limit changes, snapshots and
    /// an every-event subscriber that comes and goes, at random from a seed: never more
    /// holders than the largest limit, each grant counted once, every permit back.
    @Test(arguments: 0..<4)
    func seededStressAcrossTheFastAndTheLockedPath(round: Int) async throws {
        let seed = stressSeed() &+ UInt64(round) &* 7_777
        var rng = SplitMix64(seed: seed)
        let registry = PatternRegistry()
        let maxLimit = 6
        let sem = AsyncSemaphore(limit: Int.random(in: 1...maxLimit, using: &rng), name: "stress", registry: registry)
        let holders = Counter()
        let granted = Counter()
        let badSnapshots = Counter()
        let workers = (0..<64).map { w in
            Task {
                var r = SplitMix64(seed: seed &+ UInt64(w) &* 31)
                for _ in 0..<300 {
                    do {
                        switch Int.random(in: 0..<8, using: &r) {
                        case 0, 1: if !sem.tryAcquire() { continue }
                        case 2:
                            try await sem.acquire(timeout: .microseconds(Int64.random(in: 1...200, using: &r)))
                        default: try await sem.acquire()
                        }
                    } catch is TimedOut {
                        continue
                    } catch {
                        return  // cancelled: holds nothing
                    }
                    granted.add()
                    holders.add()
                    for _ in 0..<Int.random(in: 0...2, using: &r) { await Task.yield() }
                    holders.subtract()
                    try sem.release()
                }
            }
        }
        let watcher = Task {
            while !Task.isCancelled {
                if let s = registry.snapshot().semaphore("stress"),
                    s.acquired - s.released != s.inUse || s.inUse > s.maxInUse || s.maxInUse > maxLimit
                {
                    badSnapshots.add()
                }
                await Task.yield()
            }
        }
        var subscription: EventSubscription?
        for _ in 0..<60 {
            for _ in 0..<Int.random(in: 0...20, using: &rng) { await Task.yield() }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: sem.setLimit(Int.random(in: 0...maxLimit, using: &rng))
            case 1: workers[Int.random(in: 0..<workers.count, using: &rng)].cancel()
            case 2:
                if let s = subscription {
                    s.cancel()
                    subscription = nil
                } else {
                    subscription = registry.subscribe(RecordingObserver(), interest: .all)
                }
            default: break
            }
        }
        sem.setLimit(3)  // lets every waiter through
        for w in workers { try await w.value }
        watcher.cancel()
        await watcher.value
        subscription?.cancel()
        let stats = sem.stats
        let snap = try #require(registry.snapshot().semaphore("stress"))
        #expect(holders.max <= maxLimit, "seed \(seed): \(holders.max) held at once")
        #expect(stats.inUse == 0 && stats.waiting == 0, "seed \(seed): \(stats)")
        #expect(stats.acquired == granted.load, "seed \(seed): \(stats.acquired) counted, \(granted.load) granted")
        #expect(snap.acquired == snap.released && snap.acquired == granted.load, "seed \(seed): \(snap)")
        #expect(stats.maxInUse <= maxLimit && stats.maxInUse >= holders.max, "seed \(seed)")
        #expect(badSnapshots.load == 0, "seed \(seed): inconsistent snapshots")
    }

    /// With the limit never changed, "never more than the limit" holds exactly.
    @Test func manyTasksNeverHoldMoreThanTheLimit() async throws {
        let seed = stressSeed()
        let sem = AsyncSemaphore(limit: 3, registry: nil)
        let holders = Counter()
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<16 {
                group.addTask {
                    var r = SplitMix64(seed: seed &+ UInt64(w))
                    for _ in 0..<2_000 {
                        if Bool.random(using: &r) {
                            guard sem.tryAcquire() else { continue }
                        } else {
                            try! await sem.acquire()
                        }
                        holders.add()
                        if Int.random(in: 0..<4, using: &r) == 0 { await Task.yield() }
                        holders.subtract()
                        try! sem.release()
                    }
                }
            }
        }
        #expect(holders.max <= 3, "seed \(seed)")
        #expect(sem.stats.inUse == 0 && sem.stats.maxInUse == 3)
    }
}

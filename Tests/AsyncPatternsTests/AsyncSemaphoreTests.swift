import Synchronization
import Testing
@testable import AsyncPatterns

@Suite struct AsyncSemaphoreTests {
    /// The tutorial: 10 jobs hold a slot for 1 s under 3 permits. On a manual clock the
    /// rounds are exact: 3, 3, 3, 1 jobs asleep at once, 4 rounds, never more than 3.
    @Test func tutorialTenJobsUnderThreePermitsTakeFourRounds() async throws {
        let clock = ManualClock()
        let sem = AsyncSemaphore(limit: 3)
        let running = Counter()
        let jobs = (0..<10).map { _ in
            Task {
                try await sem.withPermit {
                    running.add()
                    try await clock.sleep(for: .seconds(1))
                    running.subtract()
                }
            }
        }
        var rounds: [Int] = []
        var finished = 0
        while finished < 10 {
            let expected = min(3, 10 - finished)
            await clock.waitForSleepers(expected)
            rounds.append(clock.sleeperCount)
            clock.advance(by: .seconds(1))
            finished += expected
        }
        for job in jobs { try await job.value }
        #expect(rounds == [3, 3, 3, 1])
        #expect(clock.now.offset == .seconds(4))
        #expect(running.max == 3)
        let stats = sem.stats
        #expect(stats.inUse == 0 && stats.acquired == 10 && stats.maxInUse == 3 && stats.waiting == 0)
    }

    @Test func waitersAreServedInOrder() async throws {
        let sem = AsyncSemaphore(limit: 1)
        try await sem.acquire()
        let order = Recorder<Int>()
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<5 {
            tasks.append(
                Task {
                    try await sem.acquire()
                    order.append(i)
                    try sem.release()
                })
            while sem.stats.waiting < i + 1 { await Task.yield() }
        }
        try sem.release()
        for t in tasks { try await t.value }
        #expect(order.all == [0, 1, 2, 3, 4])
    }

    @Test func cancelledWaiterLeaksNoPermit() async throws {
        let sem = AsyncSemaphore(limit: 1)
        try await sem.acquire()
        let waiter = Task { try await sem.acquire() }
        while sem.stats.waiting < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        try sem.release()
        #expect(sem.stats.inUse == 0 && sem.stats.waiting == 0)
        #expect(sem.tryAcquire())
    }

    @Test func acquireTimesOutOnTheGivenClock() async throws {
        let clock = ManualClock()
        let sem = AsyncSemaphore(limit: 0)
        let waiter = Task { try await sem.acquire(timeout: .seconds(1), clock: clock) }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        await #expect(throws: TimedOut.self) { try await waiter.value }
        #expect(sem.stats.inUse == 0 && sem.stats.waiting == 0)
    }

    @Test func withPermitReleasesOnErrorAndCancellation() async throws {
        struct Boom: Error {}
        let sem = AsyncSemaphore(limit: 1)
        await #expect(throws: Boom.self) { try await sem.withPermit { throw Boom() } }
        #expect(sem.stats.inUse == 0)
        let clock = ManualClock()
        let holder = Task { try await sem.withPermit { try await clock.sleep(for: .seconds(10)) } }
        await clock.waitForSleepers(1)
        holder.cancel()
        await #expect(throws: CancellationError.self) { try await holder.value }
        #expect(sem.stats.inUse == 0)
        #expect(throws: ReleaseWithoutAcquire.self) { try sem.release() }
    }

    @Test func loweringTheLimitRevokesNothingAndBoundsNewGrants() async throws {
        let sem = AsyncSemaphore(limit: 3)
        for _ in 0..<3 { try await sem.acquire() }
        sem.setLimit(1)
        #expect(sem.stats.inUse == 3)
        #expect(!sem.tryAcquire())
        try sem.release()
        try sem.release()
        #expect(!sem.tryAcquire())  // in use 1 == limit 1
        try sem.release()
        #expect(sem.tryAcquire())
    }

    /// 1,000 tasks, the limit changed while they run, some cancelled and some timing out:
    /// never more holders than the largest limit in force, and every permit back at the end.
    @Test func thousandTasksWithLiveLimitChanges() async throws {
        let sem = AsyncSemaphore(limit: 4)
        let holders = Counter()
        let overGranted = Counter()
        let ceiling = 8  // the largest limit this test ever sets
        let acquisitions = Counter()
        let milestones = (0..<7).map { _ in Gate() }
        let tasks = (0..<1_000).map { i in
            Task {
                do {
                    if i % 7 == 0 {
                        try await sem.acquire(timeout: .microseconds(50))
                    } else {
                        try await sem.acquire()
                    }
                } catch {
                    return
                }
                if holders.add() > ceiling { overGranted.add() }
                let n = acquisitions.add()
                if n % 100 == 0, n / 100 <= milestones.count { milestones[n / 100 - 1].open() }
                for _ in 0..<3 { await Task.yield() }
                holders.subtract()
                try? sem.release()
            }
        }
        for (n, limit) in [2, 8, 1, 5, 3, 8, 4].enumerated() {
            await milestones[n].wait()
            sem.setLimit(limit)
            #expect(sem.stats.inUse <= max(limit, 8))
        }
        for (i, t) in tasks.enumerated() where i % 11 == 0 { t.cancel() }
        for t in tasks { await t.value }
        let stats = sem.stats
        #expect(overGranted.load == 0)
        #expect(stats.inUse == 0 && stats.waiting == 0)
        #expect(stats.maxInUse <= 8)
    }
}

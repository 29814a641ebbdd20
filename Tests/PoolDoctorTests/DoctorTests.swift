#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CPoolDoctor
import Patience
import Synchronization
import Testing

@testable import PoolDoctor

/// A task executor with one thread of its own: the doctor's heartbeat runs here and a job
/// blocks here, so the stall the test makes on purpose is in no pool the other tests share.
///
/// `@unchecked Sendable` is safe: `signal` is set once in `init` and only used through
/// `sem_post`/`sem_wait`, which are thread-safe; `jobs` is behind a lock; the rest is atomic.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    let jobs = Locked<[UnownedJob]>([])
    let tid = Atomic<Int32>(0)
    let running = Atomic<Bool>(true)
    /// Posted per job (and to stop); the thread waits on it.
    let signal: UnsafeMutablePointer<sem_t>

    init() {
        signal = .allocate(capacity: 1)
        sem_init(signal, 0, 0)
        let ok = startDetachedThread { [self] in
            tid.store(sluice_gettid(), ordering: .relaxed)
            while running.load(ordering: .relaxed) {
                while sem_wait(signal) != 0, errno == EINTR {}
                while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
        }
        precondition(ok, "no thread")
    }

    func enqueue(_ job: UnownedJob) {
        jobs.withLock { $0.append(job) }
        sem_post(signal)
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        sem_post(signal)
    }
}

/// Holds the calling thread (our executor's) busy: the place the doctor must name. It
/// spins rather than sleeps: a capture's signal ends a `usleep` early (EINTR), not this.
@inline(never)
func holdTheThreadOnPurpose(milliseconds: UInt64) {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    let end = (Int(now.tv_sec) * 1_000_000_000 + now.tv_nsec) + Int(milliseconds) * 1_000_000
    var spins = 0
    while Int(now.tv_sec) * 1_000_000_000 + now.tv_nsec < end {
        clock_gettime(CLOCK_MONOTONIC, &now)
        spins &+= 1
    }
    blackHole(spins)
}

@inline(never)
func blackHole(_ value: Int) { withExtendedLifetime(value) {} }

@Suite struct DoctorTests {
    /// End to end in this process, off the shared pool: the heartbeat waits behind a job that
    /// blocks our executor's thread for 400 ms; the doctor sees the stall, captures the
    /// thread and names the function, with the stall's length.
    @Test(
        .disabled(
            if: underThreadSanitizer,
            "ThreadSanitizer delivers a signal only when the thread enters one of its interceptors: a thread spinning in the program's code is not captured"
        ))
    func namesTheFunctionThatBlocksItsExecutor() async throws {
        let executor = ThreadExecutor()
        defer { executor.stop() }
        try await eventually("the executor's thread") { executor.tid.load(ordering: .relaxed) != 0 }
        let tid = executor.tid.load(ordering: .relaxed)
        let doctor = PoolDoctor(
            options: .init(threshold: .milliseconds(100), hook: false, executor: executor, threads: { [tid] }), registry: nil)
        defer { doctor.stop() }
        // A few beats first. No "no stall yet": beside the suite's stress tests, two busy cores
        // can hold even this executor's idle thread past 100 ms; the hold below is what counts.
        try await eventually("heartbeats") { doctor.snapshot().beats >= 3 }
        let before = doctor.snapshot().stalls
        // On a loaded machine the heartbeat may also run late with the thread idle (then the
        // executor's own loop is where it was): look for the place among the blockers.
        let named = { doctor.snapshot().blockers.first { $0.location.contains("holdTheThreadOnPurpose") } }
        // One snapshot for both: a stall going on is listed as if it ended now, so two reads
        // could see the place during the stall and then a table without it.
        try await hold(executor, milliseconds: 400, until: "the stall named") {
            let now = doctor.snapshot()
            return now.stalledNowNanos == 0 && now.blockers.contains { $0.location.contains("holdTheThreadOnPurpose") }
        }
        let pool = doctor.snapshot()
        let blocker = try #require(named())
        #expect(blocker.longestNanos >= 250_000_000, "the stall lasted about 400 ms: \(blocker.longestNanos)")
        #expect(pool.longestStallNanos >= 250_000_000)
        #expect(pool.stalls > before)
        #expect(pool.captureOn && pool.capture == "on")
        #expect(pool.threads == 1)
        #expect(pool.hook == "off (option)")
        let cost = doctor.captureCost
        #expect(cost.captures >= 1)
    }

    /// Neither the heartbeat nor the watchdog keeps a doctor alive: one nobody holds goes
    /// (and its `deinit` stops both), instead of being watched forever.
    /// Its heartbeat beats on a thread of the test's own, which the stress tests beside it
    /// cannot starve.
    @Test func aDoctorNobodyKeepsGoesAway() async throws {
        let executor = ThreadExecutor()
        defer { executor.stop() }
        var doctor: PoolDoctor? = PoolDoctor(options: .init(hook: false, executor: executor, threads: { [] }), registry: nil)
        weak let weakDoctor = doctor
        try await eventually("heartbeats") { (weakDoctor?.snapshot().beats ?? 0) >= 2 }
        doctor = nil
        try await eventually("the doctor gone") { weakDoctor == nil }
        #expect(weakDoctor == nil)
    }

    @Test func captureOffKeepsTheFiguresAndSaysWhy() async throws {
        let executor = ThreadExecutor()
        defer { executor.stop() }
        try await eventually("the executor's thread") { executor.tid.load(ordering: .relaxed) != 0 }
        let tid = executor.tid.load(ordering: .relaxed)
        let doctor = PoolDoctor(
            options: .init(threshold: .milliseconds(100), capture: false, hook: false, executor: executor, threads: { [tid] }),
            registry: nil)
        defer { doctor.stop() }
        try await eventually("heartbeats") { doctor.snapshot().beats >= 2 }
        // The hold's own stall (a shorter one of a busy machine may come first).
        try await hold(executor, milliseconds: 300, until: "the hold's stall") {
            let now = doctor.snapshot()
            return now.stalls >= 1 && now.delayMaxNanos >= 150_000_000 && now.stalledNowNanos == 0
        }
        let pool = doctor.snapshot()
        #expect(pool.blockers.isEmpty)
        #expect(pool.otherStalls >= 1)
        #expect(!pool.captureOn && pool.capture == "off (option)")
        #expect(pool.delayMaxNanos >= 150_000_000)
    }
}

/// A capture taken after the stall ended is left out: the stall is counted, with no place
/// named. The gate is the doctor's own look at the threads: the job holding the executor is
/// released from inside it, and the capture waits until the stalled beat has run.
@Suite struct LateCaptureDoctorTests {
    @Test func aCaptureTakenAfterTheStallEndedNamesNothing() async throws {
        let executor = ThreadExecutor()
        defer { executor.stop() }
        try await eventually("the executor's thread") { executor.tid.load(ordering: .relaxed) != 0 }
        let tid = executor.tid.load(ordering: .relaxed)
        let released = Locked(false)
        let box = Locked<PoolDoctor?>(nil)
        let threads: @Sendable () -> [Int32] = {
            // The tick that counts threads comes here too; only the stall's capture releases.
            guard let doctor = box.withLock({ $0 }), let since = doctor.state.withLock({ $0.stalledSince }) else { return [tid] }
            released.withLock { $0 = true }
            let deadline = monotonicNow() + 30_000_000_000
            while doctor.due.load(ordering: .relaxed) == since, monotonicNow() < deadline { usleep(1_000) }
            return [tid]
        }
        let doctor = PoolDoctor(
            options: .init(threshold: .milliseconds(100), hook: false, executor: executor, threads: threads), registry: nil)
        defer { doctor.stop() }
        box.withLock { $0 = doctor }
        try await eventually("heartbeats") { doctor.snapshot().beats >= 2 }
        Task(executorPreference: executor) { holdUntil(released) }
        try await eventually("the stall counted") { doctor.lateStacks >= 1 && doctor.snapshot().stalls >= 1 }
        let pool = doctor.snapshot()
        #expect(released.withLock { $0 })
        #expect(pool.stalls >= 1)
        #expect(pool.blockers.isEmpty, "named from a capture after the stall: \(pool.blockers.map(\.location))")
    }
}

/// Spins (a capture's signal would end a sleep early) until `released`.
@inline(never)
func holdUntil(_ released: Locked<Bool>) {
    var spins = 0
    while !released.withLock({ $0 }) { spins &+= 1 }
    blackHole(spins)
}

/// Whether this test binary runs under ThreadSanitizer (its runtime is linked in).
let underThreadSanitizer = dlsym(dlopen(nil, RTLD_NOW), "__tsan_init") != nil

/// Holds `executor`'s thread for `milliseconds`, and again each time a hold ends, until
/// `seen` (polled as `waitFor` does). A hold is one chance for the doctor: on a loaded
/// machine its watchdog may get to look only after the hold ended, or the hold may fall
/// between two heartbeats; with one hold, the test failed about half the time at load 20.
func hold(_ executor: ThreadExecutor, milliseconds: UInt64, until what: String, _ seen: () -> Bool) async throws {
    let ended = Locked(0)
    var started = 0
    try await eventually(what) {
        if seen() { return true }
        if ended.withLock({ $0 }) == started {
            started += 1
            Task(executorPreference: executor) {
                holdTheThreadOnPurpose(milliseconds: milliseconds)
                ended.withLock { $0 += 1 }
            }
        }
        return false
    }
}

import Foundation
import Synchronization

/// A single-threaded `TaskExecutor` with a virtual clock: time advances only when no job
/// is ready, to the earliest deadline a sleeper waits for.
///
/// How the run knows that every task waits: every task of a simulation runs on this
/// executor (`Task(executorPreference:)`, inherited by child tasks), and this executor runs
/// one job at a time on its own thread. A task that can make progress has a job in the
/// queue; a suspended task has none until whatever it waits on resumes it, and everything
/// that can resume it (a queue put, a permit, a sleeper) is another job of the run or the
/// clock. So an empty job queue means every task of the run is suspended; if some wait on
/// the clock, jumping to the earliest deadline loses nothing. If none do, the run is over
/// or stuck: `whenIdle` is called (the runner cancels what is left).
///
/// The same seed gives the same events: one thread, jobs in FIFO order, sleepers with equal
/// deadlines woken in the order they went to sleep, and no real time anywhere.
public final class SimulationExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is read and written only while
    // `condition` is locked (the job loop runs unlocked, on jobs it took under the lock).
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var sleepers = SleeperHeap()
    private var nowSeconds = 0.0
    /// `nowSeconds`, readable without the lock (jobs read the time often).
    private let nowBits = Atomic<UInt64>(0)
    private var nextSleeper: UInt64 = 0
    private var stopping = false
    /// The loop waits on `condition` (only then does an enqueue need to signal).
    private var waiting = false
    private var idleHandler: (@Sendable () -> Void)?
    private var jobsRun = 0

    /// Starts the executor's thread; it holds the executor until `shutdown()`.
    public init() {
        let thread = Thread { self.loop() }
        thread.name = "sluice-simulation"
        thread.start()
    }

    /// Virtual seconds since the executor started.
    public var now: Double { Double(bitPattern: nowBits.load(ordering: .acquiring)) }

    /// Jobs run so far (for benchmarks).
    public var jobCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobsRun
    }

    /// Called on the executor's thread each time no job is ready and nobody sleeps.
    public func whenIdle(_ handler: @escaping @Sendable () -> Void) {
        condition.lock()
        idleHandler = handler
        condition.unlock()
    }

    /// Takes a job (from any thread).
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        if waiting { condition.signal() }
        condition.unlock()
    }

    /// Ends the thread once the queue is empty. Call after the run has finished.
    public func shutdown() {
        condition.lock()
        stopping = true
        if waiting { condition.signal() }
        condition.unlock()
    }

    /// Suspends the calling task for `seconds` of virtual time.
    ///
    /// A task cancelled while it sleeps wakes at its deadline, not before, and then throws:
    /// in virtual time the wait costs nothing (the clock jumps there as soon as every task
    /// waits), and it saves every sleep a cancellation handler, a lock in the runtime each.
    /// - Throws: `CancellationError` when the task is cancelled (before or during the sleep).
    public func sleep(_ seconds: Double) async throws {
        // Cancellation is checked once, on waking (each check takes a lock in the runtime).
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            condition.lock()
            nextSleeper += 1
            sleepers.push(Sleeper(deadline: nowSeconds + max(0, seconds), id: nextSleeper, continuation: continuation))
            condition.unlock()
        }
        try Task.checkCancellation()
    }

    private func loop() {
        let me = asUnownedTaskExecutor()
        // Jobs are taken a batch at a time (one lock per batch); jobs they enqueue run in the
        // next batch, so the order stays first in, first out.
        var batch: [UnownedJob] = []
        var due: [Sleeper] = []
        while true {
            condition.lock()
            var idle: (@Sendable () -> Void)?
            while jobs.isEmpty {
                if let first = sleepers.popMin() {
                    // Every task of the run waits: jump to the earliest deadline, and wake
                    // every sleeper due then, in the order they slept.
                    nowSeconds = max(nowSeconds, first.deadline)
                    nowBits.store(nowSeconds.bitPattern, ordering: .releasing)
                    due.append(first)
                    while let next = sleepers.min, next.deadline <= nowSeconds { due.append(sleepers.popMin()!) }
                    break
                }
                if let handler = idleHandler, !stopping {
                    idle = handler
                    break
                }
                if stopping {
                    condition.unlock()
                    return
                }
                waiting = true
                condition.wait()
                waiting = false
            }
            if due.isEmpty, idle == nil { swap(&batch, &jobs) }
            jobsRun += batch.count
            condition.unlock()
            var i = 0
            while i < due.count {
                due[i].continuation.resume()
                i += 1
            }
            due.removeAll(keepingCapacity: true)
            if let idle {
                idle()
                condition.lock()
                // The handler made no job: wait for one from outside (or for shutdown).
                while jobs.isEmpty, !stopping {
                    waiting = true
                    condition.wait()
                    waiting = false
                }
                condition.unlock()
            }
            i = 0
            while i < batch.count {
                batch[i].runSynchronously(on: me)
                i += 1
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

private struct Sleeper {
    var deadline: Double
    var id: UInt64
    var continuation: UnsafeContinuation<Void, Never>

    func before(_ other: Sleeper) -> Bool { deadline < other.deadline || deadline == other.deadline && id < other.id }
}

/// A binary min-heap of sleepers by (deadline, id).
private struct SleeperHeap {
    private var items: [Sleeper] = []

    var min: Sleeper? { items.first }

    mutating func push(_ s: Sleeper) {
        items.append(s)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].before(items[parent]) else { break }
            swap(i, parent)
            i = parent
        }
    }

    mutating func popMin() -> Sleeper? {
        guard !items.isEmpty else { return nil }
        swap(0, items.count - 1)
        let top = items.removeLast()
        siftDown(0)
        return top
    }

    private mutating func swap(_ a: Int, _ b: Int) {
        let t = items[a]
        items[a] = items[b]
        items[b] = t
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < items.count, items[l].before(items[m]) { m = l }
            if r < items.count, items[r].before(items[m]) { m = r }
            guard m != i else { return }
            swap(i, m)
            i = m
        }
    }
}

import DequeModule
import Foundation

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
    private var jobs = Deque<UnownedJob>()
    private var sleepers = SleeperHeap()
    private var nowSeconds = 0.0
    private var nextSleeper: UInt64 = 0
    private var stopping = false
    private var idleHandler: (@Sendable () -> Void)?
    private var jobsRun = 0

    /// Starts the executor's thread; it holds the executor until `shutdown()`.
    public init() {
        let thread = Thread { self.loop() }
        thread.name = "sluice-simulation"
        thread.start()
    }

    /// Virtual seconds since the executor started.
    public var now: Double {
        condition.lock()
        defer { condition.unlock() }
        return nowSeconds
    }

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
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the queue is empty. Call after the run has finished.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Suspends the calling task for `seconds` of virtual time.
    /// - Throws: `CancellationError` when cancelled first.
    public func sleep(_ seconds: Double) async throws {
        try Task.checkCancellation()
        let id = enter()
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                condition.lock()
                if Task.isCancelled {
                    condition.unlock()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                sleepers.push(Sleeper(deadline: nowSeconds + max(0, seconds), id: id, continuation: continuation))
                condition.unlock()
            }
        } onCancel: {
            condition.lock()
            let removed = sleepers.remove(id: id)
            condition.unlock()
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    private func enter() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextSleeper += 1
        return nextSleeper
    }

    private func loop() {
        let me = asUnownedTaskExecutor()
        while true {
            condition.lock()
            var due: [Sleeper] = []
            var idle: (@Sendable () -> Void)?
            while jobs.isEmpty {
                if let first = sleepers.popMin() {
                    // Every task of the run waits: jump to the earliest deadline, and wake
                    // every sleeper due then, in the order they slept.
                    nowSeconds = max(nowSeconds, first.deadline)
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
                condition.wait()
            }
            let job = due.isEmpty && idle == nil ? jobs.popFirst() : nil
            if job != nil { jobsRun += 1 }
            condition.unlock()
            for sleeper in due { sleeper.continuation.resume() }
            if let idle {
                idle()
                condition.lock()
                // The handler made no job: wait for one from outside (or for shutdown).
                while jobs.isEmpty, !stopping { condition.wait() }
                condition.unlock()
            }
            job?.runSynchronously(on: me)
        }
    }
}

private struct Sleeper {
    var deadline: Double
    var id: UInt64
    var continuation: UnsafeContinuation<Void, any Error>

    func before(_ other: Sleeper) -> Bool { (deadline, id) < (other.deadline, other.id) }
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
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func popMin() -> Sleeper? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        siftDown(0)
        return top
    }

    mutating func remove(id: UInt64) -> Sleeper? {
        guard let index = items.firstIndex(where: { $0.id == id }) else { return nil }
        items.swapAt(index, items.count - 1)
        let removed = items.removeLast()
        if index < items.count {
            siftDown(index)
            var i = index
            while i > 0 {
                let parent = (i - 1) / 2
                guard items[i].before(items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }
        return removed
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
            items.swapAt(i, m)
            i = m
        }
    }
}

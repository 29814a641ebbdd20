#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule

/// A task executor with threads of its own (SE-0417): tasks that prefer it run there, so
/// blocking work in them holds these threads and never the cooperative pool's.
///
/// ```swift
/// let executor = DedicatedThreadExecutor(name: "legacy-io", threads: 2)
/// let digest = await withTaskExecutorPreference(executor) { hashSynchronously(file) }
/// executor.shutdown()
/// ```
///
/// Child tasks (`async let`, task groups) inherit the preference; an unstructured task
/// asks for it with `Task(executorPreference:)`. Keep the executor alive as long as a task
/// that prefers it may run: the task refers to it without keeping it. Actor-isolated code still runs on its
/// actor. Jobs run in the order they arrive, each on whichever of the threads is free.
/// - Note: Sluice's tests run scenarios that block on purpose on one of these, so the
///   suite's other tests keep the shared pool.
public final class DedicatedThreadExecutor: TaskExecutor, Sendable {
    private struct State: Sendable {
        var jobs = Deque<UnownedJob>()
        var isShutDown = false
    }

    /// The threads' name (`comm` on Linux: what `top -H`, gdb and `/proc` show), at most
    /// 15 bytes.
    public let name: String
    /// How many threads run jobs.
    public let threads: Int
    private let state = Locked(State())
    private let ready: CountingSemaphore

    /// Starts `threads` threads (at least one) that wait for jobs.
    /// - Parameters:
    ///   - name: the threads' name, cut to 15 bytes.
    ///   - threads: how many threads run jobs (at least one).
    public init(name: String = "sluice-executor", threads: Int = 1) {
        self.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        self.threads = max(1, threads)
        ready = CountingSemaphore()
        for _ in 0..<self.threads {
            let started = startDetachedThread { [self] in
                nameCurrentThread(self.name)
                work()
            }
            precondition(started, "DedicatedThreadExecutor: no thread could be started")
        }
    }

    /// Takes a job to run on one of the threads. After `shutdown()` a job still runs, on a
    /// short-lived thread of its own, so no task that prefers this executor is stranded.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = state.withLock { s -> Bool in
            guard !s.isShutDown else { return false }
            s.jobs.append(job)
            return true
        }
        if accepted {
            ready.signal()
        } else {
            let executor = asUnownedTaskExecutor()
            if !startDetachedThread({ job.runSynchronously(on: executor) }) {
                job.runSynchronously(on: executor)
            }
        }
    }

    /// Lets the threads end once the jobs queued so far have run. Returns at once.
    public func shutdown() {
        let wasShutDown = state.withLock { s -> Bool in
            defer { s.isShutDown = true }
            return s.isShutDown
        }
        guard !wasShutDown else { return }
        for _ in 0..<threads { ready.signal() }
    }

    /// One thread's loop: a job for each signal, until shut down with nothing left.
    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            ready.wait()
            let next = state.withLock { s -> UnownedJob?? in
                if let job = s.jobs.popFirst() { return .some(job) }
                return s.isShutDown ? .none : .some(nil)
            }
            switch next {
            case .none: return
            case .some(.none): continue
            case .some(.some(let job)): job.runSynchronously(on: executor)
            }
        }
    }
}

/// Names the calling thread where the platform lets us (Linux: its `comm`).
private func nameCurrentThread(_ name: String) {
    #if os(Linux)
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    _ = name.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
    #endif
}

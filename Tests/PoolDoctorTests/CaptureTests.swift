import Foundation
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CPoolDoctor
import Patience
import Synchronization
import Testing

@testable import PoolDoctor

/// Threads of our own to capture: never the shared cooperative pool (a stalled pool would
/// stall every test running beside these).
final class SpinThreads: Sendable {
    let tids = Locked<Set<Int32>>([])
    let running = Atomic<Bool>(true)
    let started = Atomic<Int>(0)

    /// Starts a thread that records its id and runs `body` until `stop()`.
    func start(maskSIGPROF: Bool = false, lifetime: Int = Int.max) {
        let ok = startDetachedThread { [self] in
            if maskSIGPROF {
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, SIGPROF)
                pthread_sigmask(SIG_BLOCK, &set, nil)
            }
            let me = sluice_gettid()
            tids.withLock { _ = $0.insert(me) }
            started.add(1, ordering: .relaxed)
            var spins = 0
            while running.load(ordering: .relaxed), spins < lifetime {
                usleep(200)
                spins += 1
            }
            tids.withLock { _ = $0.remove(me) }
        }
        precondition(ok, "no thread")
    }

    func stop() { running.store(false, ordering: .relaxed) }
    var current: [Int32] { tids.withLock { Array($0) } }

    /// Waits until `n` threads have started.
    func waitForStarted(_ n: Int) throws {
        try eventuallyBlocking("\(n) threads started") { started.load(ordering: .relaxed) >= n }
    }
}

/// Runs `body` on a thread of its own and suspends until it is done: captures wait (yield,
/// sleep) for the signalled threads, which must never happen on the shared pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let started = startDetachedThread { continuation.resume(with: Result { try body() }) }
        precondition(started, "no thread")
    }
}

@Suite(.serialized) struct CaptureTests {
    @Test func capturesAThreadOfOurs() async throws {
        let (ready, result, frames) = try await onOwnThread { () -> (StackCapture.Readiness, StackCapture.Result, [PoolFrame]) in
            let ready = StackCapture.prepare()
            let threads = SpinThreads()
            threads.start()
            try threads.waitForStarted(1)
            defer { threads.stop() }
            let result = StackCapture.capture(threads.current)
            return (ready, result, result.stacks.first.map { Symbolizer().frames($0.addresses) } ?? [])
        }
        #expect(ready == .ready)
        #expect(result.stacks.count == 1)
        #expect(result.problems.isEmpty)
        // The thread sleeps in libc, called from the closure above (in this test binary).
        #expect(frames.contains { $0.symbol?.contains("SpinThreads.start") == true })
        #expect(
            frames.first?.folded == true,
            "\(frames.prefix(6).map { "\($0.symbol ?? "?") [\($0.module.split(separator: "/").last ?? "")]" })")
    }

    /// 10,000 captures while threads start and end under them: every capture returns, no
    /// slot stays taken, and what goes wrong is said in words. (A thread id freed by an
    /// exit may be given to a new thread before the signal lands; that thread then answers
    /// in its place, as with any profiler that signals threads by id.)
    @Test func tenThousandCapturesWhileThreadsComeAndGo() async throws {
        let (stacks, churned, problems, slots) = try await onOwnThread { () -> (Int, Int, [String: Int], [Int32]) in
            _ = StackCapture.prepare()
            let threads = SpinThreads()
            for _ in 0..<4 { threads.start() }
            let churn = Atomic<Bool>(true)
            let churned = Atomic<Int>(0)
            _ = startDetachedThread {
                while churn.load(ordering: .relaxed) {
                    threads.start(lifetime: Int.random(in: 1...20))
                    churned.add(1, ordering: .relaxed)
                    usleep(300)
                }
            }
            try threads.waitForStarted(4)
            var stacks = 0
            var problems: [String: Int] = [:]
            let start = ContinuousClock.now
            for _ in 0..<10_000 {
                let result = StackCapture.capture(threads.current)
                stacks += result.stacks.count
                for p in result.problems { problems[p.replacing(/[0-9]+/, with: "N"), default: 0] += 1 }
            }
            print("10,000 captures in \(ContinuousClock.now - start); problems: \(problems)")
            churn.store(false, ordering: .relaxed)
            threads.stop()
            let slots = (0..<Int32(SLUICE_CAPTURE_SLOTS)).map { sluice_capture_state($0) }
            return (stacks, churned.load(ordering: .relaxed), problems, slots)
        }
        #expect(stacks >= 10_000 * 3, "most threads answer: \(stacks) stacks")
        #expect(churned > 100)
        // A thread just started blocks every signal until glibc has set it up: it is named.
        let expected: Set = [
            "thread N exited during the capture", "thread N blocks SIGPROF: its stack is unknown",
            "thread N did not answer within N.N seconds (it blocks SIGPROF, or is exiting)",
        ]
        #expect(Set(problems.keys).isSubset(of: expected), "\(problems)")
        #expect(slots.allSatisfy { $0 == Int32(SLUICE_SLOT_FREE) }, "every slot free: \(slots)")
    }

    @Test func aThreadThatMasksSIGPROFIsNamedNotWaitedFor() async throws {
        let (tid, masked, result) = try await onOwnThread { () -> (Int32, Bool, StackCapture.Result) in
            _ = StackCapture.prepare()
            let threads = SpinThreads()
            threads.start(maskSIGPROF: true)
            try threads.waitForStarted(1)
            defer { threads.stop() }
            let tid = threads.current[0]
            return (tid, StackCapture.masksSIGPROF(tid), StackCapture.capture([tid]))
        }
        #expect(masked)
        #expect(result.stacks.isEmpty)
        #expect(result.problems == ["thread \(tid) blocks SIGPROF: its stack is unknown"])
    }

    @Test func aThreadThatIsGoneIsSkipped() async throws {
        let result = try await onOwnThread { () -> StackCapture.Result in
            _ = StackCapture.prepare()
            return StackCapture.capture([Int32.max - 7])
        }
        #expect(result.stacks.isEmpty)
        #expect(result.problems.isEmpty)
    }

    @Test func poolThreadNames() {
        #expect(StackCapture.isPoolThreadName("oot.default-qos"))
        #expect(StackCapture.isPoolThreadName("r-initiated-qos"))
        #expect(!StackCapture.isPoolThreadName("-qos.overcommit"))
        #expect(!StackCapture.isPoolThreadName("sluice-doctor"))
    }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CPoolDoctor
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

    /// Waits (polling, with a generous deadline) until `n` threads have started.
    func waitForStarted(_ n: Int) {
        let deadline = ContinuousClock.now + .seconds(20)
        while started.load(ordering: .relaxed) < n, ContinuousClock.now < deadline { usleep(1_000) }
    }
}

@Suite(.serialized) struct CaptureTests {
    @Test func capturesAThreadOfOurs() throws {
        #expect(StackCapture.prepare() == .ready)
        let threads = SpinThreads()
        threads.start()
        threads.waitForStarted(1)
        defer { threads.stop() }
        let result = StackCapture.capture(threads.current)
        let stack = try #require(result.stacks.first)
        #expect(result.problems.isEmpty)
        let frames = Symbolizer().frames(stack.addresses)
        // The thread sleeps in libc, called from the closure above (in this test binary).
        #expect(frames.contains { $0.symbol?.contains("SpinThreads.start") == true })
        #expect(frames.first?.folded == true)
    }

    /// 10,000 captures while threads start and end under them: every capture returns, no
    /// slot stays taken, and what goes wrong is said in words.
    @Test func tenThousandCapturesWhileThreadsComeAndGo() {
        #expect(StackCapture.prepare() == .ready)
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
        threads.waitForStarted(4)
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
        #expect(stacks >= 10_000 * 3, "most threads answer: \(stacks) stacks")
        #expect(churned.load(ordering: .relaxed) > 100)
        // A thread just started blocks every signal until glibc has set it up: it is named.
        let expected: Set = [
            "thread N exited during the capture", "thread N blocks SIGPROF: its stack is unknown",
            "thread N did not answer within N.N seconds (it blocks SIGPROF, or is exiting)",
        ]
        #expect(Set(problems.keys).isSubset(of: expected), "\(problems)")
        for slot in 0..<Int32(SLUICE_CAPTURE_SLOTS) { #expect(sluice_capture_state(slot) == Int32(SLUICE_SLOT_FREE)) }
    }

    @Test func aThreadThatMasksSIGPROFIsNamedNotWaitedFor() {
        #expect(StackCapture.prepare() == .ready)
        let threads = SpinThreads()
        threads.start(maskSIGPROF: true)
        threads.waitForStarted(1)
        defer { threads.stop() }
        let tid = threads.current[0]
        #expect(StackCapture.masksSIGPROF(tid))
        let result = StackCapture.capture([tid])
        #expect(result.stacks.isEmpty)
        #expect(result.problems == ["thread \(tid) blocks SIGPROF: its stack is unknown"])
    }

    @Test func aThreadThatIsGoneIsSkipped() {
        #expect(StackCapture.prepare() == .ready)
        let result = StackCapture.capture([Int32.max - 7])
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

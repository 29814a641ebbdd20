import AsyncPatterns
import Foundation
import Synchronization
import Testing

/// The executor that keeps blocking work off the cooperative pool (what the suite runs its
/// blocking scenarios on).
@Suite struct DedicatedThreadExecutorTests {
    /// The name the kernel shows for the calling thread.
    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
    }

    @Test func tasksThatPreferItRunOnItsThreadsAndTheirChildrenToo() async {
        let executor = DedicatedThreadExecutor(name: "exec-test", threads: 2)
        defer { executor.shutdown() }
        let (own, child) = await withTaskExecutorPreference(executor) {
            async let child = Self.threadName()
            return (Self.threadName(), await child)
        }
        #expect(own == "exec-test" && child == "exec-test")
        let unstructured = await Task(executorPreference: executor) { Self.threadName() }.value
        #expect(unstructured == "exec-test")
        #expect(Self.threadName() != "exec-test")  // the test itself stays on the pool
    }

    /// One thread: a job that blocks it holds back the next, never the pool.
    @Test func oneThreadRunsOneJobAtATime() async {
        let executor = DedicatedThreadExecutor(name: "exec-one", threads: 1)
        defer { executor.shutdown() }
        final class Order: Sendable { let seen = Locked<[String]>([]) }  // a pthread mutex: TSan sees it
        let order = Order()
        let first = Task(executorPreference: executor) {
            order.seen.withLock { $0.append("first begins") }
            usleep(20_000)  // blocks the executor's only thread, on purpose
            order.seen.withLock { $0.append("first ends") }
        }
        let second = Task(executorPreference: executor) { order.seen.withLock { $0.append("second") } }
        await first.value
        await second.value
        let seen = order.seen.withLock { $0 }
        #expect(seen == ["first begins", "first ends", "second"] || seen == ["second", "first begins", "first ends"])
    }

    @Test func aJobAfterShutdownStillRuns() async {
        let executor = DedicatedThreadExecutor(name: "exec-late", threads: 1)
        executor.shutdown()
        let ran = await Task(executorPreference: executor) { true }.value
        #expect(ran)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Scenarios

/// Runs `body` with a scenario run whose tasks have two threads of their own, then stops the
/// run, waits for every task it started, and lets the threads go.
///
/// Why an executor of its own: the suite's tests run side by side on one cooperative pool
/// (two threads on a two-core machine). A scenario that blocks on purpose (`blocking`), or
/// merely keeps every worker busy, would hold those threads and starve the stress tests
/// beside it; here it holds only its own two, which also stand in for the pool it models.
nonisolated(nonsending) public func withScenarioRun<T: Sendable>(
    _ scenario: any Scenario, preset: Preset = .live, values: [String: Double] = [:], speed: Double = 1,
    logCapacity: Int = 256, transcript: @escaping @Sendable (String) -> Void = { _ in },
    _ body: (ScenarioRun) async throws -> T
) async throws -> T {
    try await withTestExecutor { executor in
        let run = ScenarioRun(
            scenario, preset: preset, values: values, speed: speed, logCapacity: logCapacity, executor: executor,
            transcript: transcript)
        do {
            let result = try await body(run)
            await run.stop()
            return result
        } catch {
            await run.stop()
            throw error
        }
    }
}

/// Runs `body` with an executor of two threads of its own for whatever runs it starts (a
/// dashboard's local sources), then lets the threads go. The body must stop those runs.
nonisolated(nonsending) public func withTestExecutor<T: Sendable>(_ body: (any TaskExecutor) async throws -> T) async throws -> T {
    RunLedger.checkAtExit()
    let executor = DedicatedThreadExecutor(name: "test-scenario", threads: 2)
    // Kept for the life of the process: a task does not keep the executor it prefers alive,
    // and a straggler of a stopped run may still enqueue on it after this returns (it then
    // runs on a short-lived thread of its own, which needs the executor still there).
    RunLedger.keep(executor)
    defer { executor.shutdown() }
    return try await body(executor)
}

/// The suite's promise that no test leaves a run behind: at the end of the test process,
/// a scenario session still alive 5 s later fails the run (exit status 70), naming it.
public enum RunLedger {
    private static let installed: Void = {
        atexit {
            // A run closed without waiting (Esc in the dashboard) gets a moment to wind down.
            var alive = ScenarioRun.sessionsAlive
            for _ in 0..<50 where !alive.isEmpty {
                usleep(100_000)
                alive = ScenarioRun.sessionsAlive
            }
            guard !alive.isEmpty else { return }
            let message =
                "sluice tests: \(alive.count) scenario session(s) still running at the end of the suite "
                + "(\(alive.joined(separator: ", "))): a test left a run behind\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(70)
        }
    }()

    /// Installs the check (once per process).
    public static func checkAtExit() { installed }

    private static let executors = Locked<[DedicatedThreadExecutor]>([])

    /// Keeps `executor` alive until the process ends.
    static func keep(_ executor: DedicatedThreadExecutor) { executors.withLock { $0.append(executor) } }
}

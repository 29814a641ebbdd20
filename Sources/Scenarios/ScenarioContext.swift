import AsyncPatterns

/// What a running scenario is given: the clock, the registry its patterns join, live knobs,
/// seeded randomness, and a transcript for `seed` runs.
public final class ScenarioContext: Sendable {
    public let preset: Preset
    public let clock: ScenarioClock
    public let registry: PatternRegistry
    public let knobs: KnobBoard
    /// The heartbeat every run has, so the Health pane can show loop lag for any scenario.
    public let lagMonitor: LoopLagMonitor
    /// Where the run's tasks run: nil for the cooperative pool (what the dashboard shows),
    /// or an executor of their own (a test whose scenario blocks on purpose).
    public let executor: (any TaskExecutor)?
    private let random: Locked<SplitMix64>
    private let transcript: @Sendable (String) -> Void
    private let stopped = Locked(false)
    private let annotators = Locked<[@Sendable (inout Snapshot) -> Void]>([])

    public init(
        preset: Preset, clock: ScenarioClock, registry: PatternRegistry, knobs: KnobBoard,
        seed: UInt64, executor: (any TaskExecutor)? = nil, transcript: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.executor = executor
        self.preset = preset
        self.clock = clock
        self.registry = registry
        self.knobs = knobs
        self.lagMonitor = LoopLagMonitor(interval: .milliseconds(50), name: "loop-lag", registry: registry)
        self.random = Locked(SplitMix64(seed: seed))
        self.transcript = transcript
    }

    /// Starts a task of the run, on the run's executor: a scenario starts its workers with
    /// this, never with a bare `Task {}`, which would leave the executor for the pool.
    @discardableResult
    public func spawn<T: Sendable>(_ body: sending @escaping () async -> T) -> Task<T, Never> {
        Task(executorPreference: executor, operation: body)
    }

    /// `spawn` for a task that can throw.
    @discardableResult
    public func spawn<T: Sendable>(_ body: sending @escaping () async throws -> T) -> Task<T, any Error> {
        Task(executorPreference: executor, operation: body)
    }

    /// True once the run was stopped for good. Cancellation reaches only the tasks the
    /// scenario's own task spawned and awaits; a loop that blocks a thread checks this after
    /// each block, so a left run never keeps pool threads busy.
    public var isStopped: Bool { stopped.withLock { $0 } }

    /// Called by the run (from any thread, without waiting for the pool).
    func markStopped() { stopped.withLock { $0 = true } }

    /// Adds numbers of the scenario's own to every snapshot of the run (a pipeline file's
    /// queueing theory): `body` runs on whichever thread takes the snapshot, so it must be
    /// quick and take only its own locks.
    public func annotateSnapshots(_ body: @escaping @Sendable (inout Snapshot) -> Void) {
        annotators.withLock { $0.append(body) }
    }

    /// Lets every annotator add its numbers to `snapshot`.
    func annotate(_ snapshot: inout Snapshot) {
        for body in annotators.withLock({ $0 }) { body(&snapshot) }
    }

    /// A knob's current value. An undeclared name is a programmer error.
    public func knob(_ name: String) -> Double { knobs.value(name) }
    /// A count knob's current value.
    public func count(_ name: String) -> Int { Int(knobs.value(name).rounded()) }

    /// Says what happened, like the tutorial's `print`: into the event log, and into the
    /// transcript that a headless `seed` run prints.
    public func say(_ line: String) {
        registry.note(line, from: "scenario")
        transcript(line)
    }

    /// A uniform random number (seeded: the same seed gives the same run).
    public func uniform(_ range: ClosedRange<Double>) -> Double {
        random.withLock { Double.random(in: range, using: &$0) }
    }

    /// True with probability `p` (0...1).
    public func chance(_ p: Double) -> Bool { uniform(0...1) < p }

    /// A whole random number.
    public func pick(_ range: Range<Int>) -> Int { random.withLock { Int.random(in: range, using: &$0) } }

    /// Waits `seconds` of scenario time. Throws when cancelled.
    public func sleep(_ seconds: Double) async throws {
        try await clock.sleep(for: .seconds(seconds))
    }

    /// Simulated work of `seconds` scenario time that, once started, finishes even if the
    /// task is cancelled: an item being processed is never dropped half-way.
    public func work(_ seconds: Double) async {
        let clock = self.clock
        await spawn { try? await clock.sleep(for: .seconds(seconds)) }.value
    }

    /// `seconds` with ±`jitter` (a fraction) of seeded noise, never negative.
    public func jittered(_ seconds: Double, _ jitter: Double = 0.5) -> Double {
        max(0, seconds * uniform((1 - jitter)...(1 + jitter)))
    }
}

/// The knob values of a running scenario: read at any time, changed from the UI, waited on
/// by the scenario's supervisor.
public final class KnobBoard: Sendable {
    private struct State {
        var values: [String: Double]
        var version = 0
        var waiters: [Int: CheckedContinuation<Int, any Error>] = [:]
        var nextWaiter = 0
    }

    public let specs: [KnobSpec]
    private let state: Locked<State>

    public init(specs: [KnobSpec], values: [String: Double]) {
        self.specs = specs
        state = Locked(State(values: values))
    }

    /// A knob's value. An undeclared name is a programmer error and stops the process.
    public func value(_ name: String) -> Double {
        let spec = self.spec(name)
        return state.withLock { $0.values[name] } ?? spec.defaultValue
    }

    /// A value with its knob's unit.
    public func format(_ name: String, _ value: Double) -> String { spec(name).format(value) }

    private func spec(_ name: String) -> KnobSpec {
        guard let spec = specs.first(where: { $0.name == name }) else {
            preconditionFailure("unknown knob '\(name)': declared are \(specs.map(\.name))")
        }
        return spec
    }

    public var values: [String: Double] { state.withLock { $0.values } }
    public var version: Int { state.withLock { $0.version } }

    /// Sets a knob (clamped to its range) and wakes whoever waits for changes.
    /// - Returns: the value set.
    @discardableResult
    public func set(_ name: String, to value: Double) -> Double {
        let clamped = spec(name).clamped(value)
        let waiters = state.withLock { s -> [(CheckedContinuation<Int, any Error>, Int)] in
            s.values[name] = clamped
            s.version += 1
            let version = s.version
            defer { s.waiters.removeAll() }
            return s.waiters.values.map { ($0, version) }
        }
        for (waiter, version) in waiters { waiter.resume(returning: version) }
        return clamped
    }

    /// Suspends until a knob changes after `version`; returns the new version.
    /// - Throws: `CancellationError` when cancelled.
    public func waitForChange(after version: Int) async throws -> Int {
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, any Error>) in
                enum Outcome {
                    case changed(Int)
                    case waiting, cancelled
                }
                let cancelled = Task.isCancelled
                let outcome = state.withLock { s -> Outcome in
                    if s.version > version { return .changed(s.version) }
                    if cancelled { return .cancelled }
                    s.waiters[id] = c
                    return .waiting
                }
                switch outcome {
                case .changed(let v): c.resume(returning: v)
                case .cancelled: c.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

/// A resizable set of worker tasks (consumers, producers, job sources): growing spawns,
/// shrinking cancels the newest. Workers must treat cancellation as "finish what you hold,
/// then stop".
public final class WorkerPool: Sendable {
    private let tasks = Locked<[Task<Void, Never>]>([])
    /// Cancelled by a shrink but perhaps still finishing an item: awaited by `shutdown`.
    private let retired = Locked<[Task<Void, Never>]>([])
    private let spawn: @Sendable (Int) -> Task<Void, Never>

    /// - Parameter spawn: starts worker number `i` (0-based).
    public init(_ spawn: @escaping @Sendable (Int) -> Task<Void, Never>) {
        self.spawn = spawn
    }

    public var count: Int { tasks.withLock { $0.count } }

    /// Spawns or cancels workers until there are `n`.
    public func resize(to n: Int) {
        let retired = tasks.withLock { tasks -> [Task<Void, Never>] in
            while tasks.count < n { tasks.append(spawn(tasks.count)) }
            guard tasks.count > n else { return [] }
            let extra = Array(tasks[n...])
            tasks.removeLast(tasks.count - n)
            return extra
        }
        for task in retired { task.cancel() }
        self.retired.withLock { $0 += retired }
    }

    /// Cancels every worker and waits until each has finished what it held.
    public func shutdown() async {
        let all = tasks.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
        for task in retired.withLock({ $0 }) { await task.value }
    }

    /// Waits for every current worker to finish on its own.
    public func waitAll() async {
        for task in tasks.withLock({ $0 }) { await task.value }
    }
}

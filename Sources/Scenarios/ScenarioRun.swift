import AsyncPatterns

/// One scenario running: start, pause, change speed and knobs, restart, stop, and a
/// `Snapshot` of its patterns at any moment. Both the dashboard and the headless runner
/// drive scenarios through this.
public final class ScenarioRun: Sendable {
    public enum Status: Sendable, Equatable {
        case running, paused
        /// Finished on its own (a `seed` run), or stopped.
        case done
        /// Ended with an error (its description).
        case failed(String)
    }

    /// Everything that a restart replaces.
    private struct Session: Sendable {
        let clock: ScenarioClock
        let registry: PatternRegistry
        let log: EventLog
        let subscription: EventSubscription
        let knobs: KnobBoard
        let context: ScenarioContext
        let task: Task<Void, Never>
        /// Opened when the task has finished.
        let finished: SyncGate
        let generation: Int

        /// Ends the session for good without waiting: cancels its task, tells its blocking
        /// loops to stop, and lets paused sleepers go so they see it.
        func cancel() {
            context.markStopped()
            clock.resume()  // a paused clock would hold the workers' last items forever
            task.cancel()
        }
    }

    public let scenario: any Scenario
    public let preset: Preset
    public let seed: UInt64
    private let transcript: @Sendable (String) -> Void
    private let logCapacity: Int
    private let snapshotEvents: Int
    private let executor: (any TaskExecutor)?
    private let session: Locked<Session?> = Locked(nil)
    /// Sessions a restart left, still winding down: `stop` waits for them too.
    private let left = Locked<[Session]>([])
    /// The scenario of each session in the process whose task has not finished: a test
    /// suite checks at its end that it left none behind.
    package static var sessionsAlive: [String] { alive.withLock { Array($0.names.values).sorted() } }
    private static let alive = Locked<(next: Int, names: [Int: String])>((0, [:]))
    private let allEvents = Locked(false)
    private let status: Locked<(generation: Int, status: Status)> = Locked((0, .running))

    /// - Parameters:
    ///   - values: starting knob values (defaults come from the preset).
    ///   - transcript: receives the scenario's `say` lines (a headless seed run prints them).
    ///   - snapshotEvents: the most recent events a snapshot carries (of the `logCapacity` kept).
    ///   - executor: where the run's tasks and its heartbeat run: nil (the default) for the
    ///     cooperative pool, or an executor of their own, so a scenario that blocks on
    ///     purpose stalls only that (what tests do: they share the pool with each other).
    public init(
        _ scenario: any Scenario, preset: Preset = .live, values: [String: Double] = [:], speed: Double = 1,
        seed: UInt64 = 1, logCapacity: Int = 256, snapshotEvents: Int = .max, executor: (any TaskExecutor)? = nil,
        transcript: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.snapshotEvents = snapshotEvents
        self.executor = executor
        self.scenario = scenario
        self.preset = preset
        self.seed = seed
        self.transcript = transcript
        self.logCapacity = logCapacity
        var start = scenario.values(for: preset)
        for (k, v) in values { start[k] = v }
        session.withLock { $0 = makeSession(values: start, speed: speed, generation: 1) }
    }

    private func makeSession(values: [String: Double], speed: Double, generation: Int) -> Session {
        let clock = ScenarioClock(speed: speed)
        // The one place that builds what observes the run.
        let registry = PatternRegistry(timeSource: { clock.elapsed })
        let log = EventLog(capacity: logCapacity)
        let subscription = registry.subscribe(log, interest: allEvents.withLock { $0 } ? .all : .notable)
        let knobs = KnobBoard(specs: scenario.knobs, values: values)
        let context = ScenarioContext(
            preset: preset, clock: clock, registry: registry, knobs: knobs,
            seed: seed, executor: executor, transcript: transcript)
        let scenario = self.scenario
        status.withLock { $0 = (generation, .running) }
        let finished = SyncGate()
        let ticket = Self.alive.withLock { a -> Int in
            a.next += 1
            a.names[a.next] = scenario.name
            return a.next
        }
        let task = Task.detached(executorPreference: executor) { [weak self] in
            var outcome = Status.done
            let heartbeat = context.spawn { await context.lagMonitor.run(pausedWith: clock) }
            do {
                try await scenario.run(context)
            } catch is CancellationError {
            } catch {
                outcome = .failed(String(describing: error))
            }
            heartbeat.cancel()
            await heartbeat.value
            // Finished on its own: its time stops with it (the header said t=9s DONE of a
            // 4 s run). A stop or restart cancels the task and needs no frozen clock.
            if !Task.isCancelled { clock.pause() }
            self?.status.withLock { s in
                if s.generation == generation { s.status = outcome }
            }
            _ = Self.alive.withLock { $0.names.removeValue(forKey: ticket) }
            finished.open()
        }
        return Session(
            clock: clock, registry: registry, log: log, subscription: subscription, knobs: knobs, context: context, task: task,
            finished: finished, generation: generation)
    }

    private var current: Session { session.withLock { $0! } }

    public var currentStatus: Status { status.withLock { $0.status } }
    public var clock: ScenarioClock { current.clock }
    public var knobs: KnobBoard { current.knobs }
    public var elapsed: Duration { current.clock.elapsed }
    public var speed: Double { current.clock.speed }

    /// What the patterns look like now, with the events the log kept.
    public func snapshot() -> Snapshot { snapshot { $0.snapshot() } }

    /// The same, with only the actors `query` asks for and what all of them add up to (see
    /// `PatternRegistry.snapshot(actors:)`).
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        var actors = ActorTotals()
        let snapshot = snapshot { registry in
            let read = registry.snapshot(actors: query)
            actors = read.actors
            return read.snapshot
        }
        return (snapshot, actors)
    }

    private func snapshot(_ read: (PatternRegistry) -> Snapshot) -> Snapshot {
        let session = current
        var snapshot = read(session.registry)
        session.log.fill(&snapshot, limit: snapshotEvents)
        session.context.annotate(&snapshot)
        return snapshot
    }

    /// Every event (`true`: each item put and got, which costs the scenario a little per
    /// operation) or only notable ones (the default) from now on, also after a restart.
    public func setAllEvents(_ all: Bool) {
        allEvents.withLock { $0 = all }
        current.subscription.setInterest(all ? .all : .notable)
    }

    /// Events numbered `cursor` and later that the log still keeps, the next cursor, and
    /// how many after `cursor` were dropped first (see `EventLog.events(since:)`).
    public func events(since cursor: UInt64) -> (events: [PatternEvent], next: UInt64, missed: UInt64) {
        current.log.events(since: cursor)
    }

    /// Holds every sleeper and stops scenario time; tasks stop at their next clock await.
    public func pause() {
        current.clock.pause()
        status.withLock { if $0.status == .running { $0.status = .paused } }
    }

    public func resume() {
        current.clock.resume()
        status.withLock { if $0.status == .paused { $0.status = .running } }
    }

    public func setSpeed(_ speed: Double) {
        current.clock.setSpeed(min(ScenarioClock.speedRange.upperBound, max(ScenarioClock.speedRange.lowerBound, speed)))
    }

    /// Sets a knob (clamped to its range); the running scenario picks it up at once.
    /// An undeclared name is a programmer error.
    @discardableResult
    public func setKnob(_ name: String, to value: Double) -> Double {
        let session = current
        let set = session.knobs.set(name, to: value)
        session.context.say("knob \(name) = \(session.knobs.format(name, set))")
        return set
    }

    /// Waits until the scenario finishes on its own (or is stopped).
    public func wait() async {
        await current.task.value
    }

    /// Stops the scenario for good and waits for its tasks to finish what they hold, and
    /// for the sessions that restarts left.
    public func stop() async {
        let session = current
        session.cancel()
        await session.task.value
        markStopped(session)
        for old in left.withLock({ $0 }) { await old.task.value }
    }

    /// Stops the scenario for good and waits at most `limit` for its tasks, without the
    /// cooperative pool (they may be stuck in blocking calls): what quitting uses.
    /// - Returns: true when every task finished in time.
    @discardableResult
    public func stop(waitingAtMost limit: Duration) -> Bool {
        let session = current
        session.cancel()
        let deadline = ContinuousClock.now + limit
        var finished = true
        for each in [session] + left.withLock({ $0 }) {
            let remaining = max(.zero, deadline - ContinuousClock.now)
            finished = each.finished.wait(timeoutMilliseconds: Int(remaining.seconds * 1000)) && finished
        }
        markStopped(session)
        return finished
    }

    private func markStopped(_ session: Session) {
        status.withLock { s in
            if s.generation == session.generation, s.status == .running || s.status == .paused { s.status = .done }
        }
    }

    /// Starts again with the current knobs and speed, on a fresh clock and observer, at
    /// once: the old session is stopped for good and winds down on its own.
    public func restart() {
        let old = current
        old.cancel()
        left.withLock { left in
            left.removeAll { $0.finished.wait(timeoutMilliseconds: 0) }
            left.append(old)
        }
        let next = makeSession(values: old.knobs.values, speed: old.clock.speed, generation: old.generation + 1)
        session.withLock { $0 = next }
    }
}

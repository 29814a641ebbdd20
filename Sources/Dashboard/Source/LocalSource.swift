import AsyncPatterns
import PoolDoctor
import Scenarios

/// A scenario running in this process: the first kind of source, and the only one that
/// knows about scenarios.
public final class LocalSource: Source, Steerable, Pacing, Restartable {
    public let run: ScenarioRun
    /// Watches this process's cooperative pool (where the scenario runs), if any.
    public let doctor: PoolDoctor?

    /// - Parameters:
    ///   - logCapacity: events kept for `events(after:)` between reads (a recorder asks for
    ///     many); a snapshot carries the last 256 of them.
    ///   - executor: where the run's tasks run (nil: the cooperative pool; see `ScenarioRun`).
    ///   - doctor: the process's pool doctor, whose figures (symbolicated) go in each
    ///     snapshot's `pool`; nil for none.
    public init(
        _ scenario: any Scenario, preset: Preset = .live, values: [String: Double] = [:], speed: Double = 1,
        seed: UInt64 = 1, logCapacity: Int = 256, executor: (any TaskExecutor)? = nil, doctor: PoolDoctor? = nil,
        transcript: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.doctor = doctor
        doctor?.installHook()
        run = ScenarioRun(
            scenario, preset: preset, values: values, speed: speed, seed: seed, logCapacity: logCapacity, snapshotEvents: 256,
            executor: executor, transcript: transcript)
    }

    public var origin: SourceOrigin { SourceOrigin(title: run.scenario.name, kind: .scenario, preset: run.preset.rawValue) }
    public var abilities: SourceAbilities { SourceAbilities(steer: self, pace: self, restart: self) }
    public var speed: Double { run.speed }
    public var panes: [PatternKind] { run.scenario.panes }
    /// The scenario's knobs, and the pool doctor's threshold when there is a doctor.
    public var knobs: [KnobSpec] { run.scenario.knobs + (doctor == nil ? [] : [PoolDoctor.thresholdKnob]) }
    public var knobValues: [String: Double] {
        var values = run.knobs.values
        if let doctor { values[PoolDoctor.thresholdKnob.name] = doctor.stallThreshold / .milliseconds(1) }
        return values
    }

    public var status: SourceStatus {
        switch run.currentStatus {
        case .running: .running
        case .paused: .paused
        case .done: .done
        case .failed(let why): .failed(why)
        }
    }

    public func snapshot() -> Snapshot { withPool(run.snapshot()) }

    /// Reads only the actors the screen shows: 100,000 actors cost a few counters each.
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        let (snapshot, actors) = run.snapshot(actors: query)
        return (withPool(snapshot), actors)
    }

    private func withPool(_ snapshot: Snapshot) -> Snapshot {
        var snapshot = snapshot
        snapshot.pool = doctor.map { Symbolicator.shared.symbolicate($0.snapshot()) }
        return snapshot
    }

    /// Numbered as the run's bounded event log numbers them (a restart starts again at 0).
    public func events(after cursor: Int) -> SourceEvents {
        let (events, next, missed) = run.events(since: UInt64(max(0, cursor)))
        return SourceEvents(events: events, next: Int(next), missed: Int(missed))
    }

    public func setEventInterest(_ interest: EventInterest) { run.setAllEvents(interest == .all) }

    public func setKnob(_ name: String, to value: Double) -> KnobAnswer {
        guard knobs.contains(where: { $0.name == name }) else {
            return .refused("\(title) has no knob '\(name)'")
        }
        if let doctor, name == PoolDoctor.thresholdKnob.name {
            let ms = PoolDoctor.thresholdKnob.clamped(value)
            doctor.setStallThreshold(.milliseconds(ms))
            return .applied(ms)
        }
        return .applied(run.setKnob(name, to: value))
    }

    public func pause() { run.pause() }
    public func resume() { run.resume() }
    public func setSpeed(_ speed: Double) { run.setSpeed(speed) }
    public func restart() { run.restart() }
    public func stop(waitingAtMost limit: Duration) { run.stop(waitingAtMost: limit) }
}

extension SourceChoice {
    /// The scenarios as picker entries, each opening a local run.
    public static func scenarios(
        _ scenarios: [any Scenario] = Catalog.all, preset: Preset = .live, speed: Double = 1,
        seed: UInt64 = 1, executor: (any TaskExecutor)? = nil, doctor: PoolDoctor? = nil
    ) -> [SourceChoice] {
        scenarios.map { scenario in
            SourceChoice(name: scenario.name, summary: scenario.summary, explanation: scenario.explanation, knobs: scenario.knobs) {
                LocalSource(scenario, preset: preset, values: $0, speed: speed, seed: seed, executor: executor, doctor: doctor)
            }
        }
    }
}

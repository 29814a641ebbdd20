import AsyncPatterns

/// What the dashboard watches: a scenario run here (`LocalSource`), a program attached over
/// a socket (`AttachedSource`), a recording replayed (`ReplaySource`). Every source has what
/// this core protocol asks; what only some can do (turn knobs, pause and change speed,
/// restart, seek and step) comes as capabilities in `abilities`, which the screen asks for.
/// An action a source cannot do is shown as unavailable, never silently ignored.
public protocol Source: AnyObject, Sendable {
    /// What is watched and where it comes from (typed: a scenario and its preset, a
    /// program and its pid, a recording).
    var origin: SourceOrigin { get }
    /// How it runs, as the header says it. Default: `origin.mode`.
    var mode: String { get }
    var status: SourceStatus { get }
    /// The panes the screen shows, in order.
    var panes: [PatternKind] { get }
    /// The knobs and their values now (a replay shows those recorded; only a source that
    /// can be steered turns them).
    var knobs: [KnobSpec] { get }
    var knobValues: [String: Double] { get }
    /// A line for the screen when nothing newer is shown (a recording stopped at its
    /// limit, a replay of a truncated file). Default: nil.
    var notice: String? { get }

    /// The patterns now.
    func snapshot() -> Snapshot
    /// The patterns now, with only the actors `query` asks for (see
    /// `PatternRegistry.snapshot(actors:)`), and what all the actors add up to. Default: the
    /// whole snapshot and its actors' totals.
    func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals)
    /// Events after `cursor` (0 at first); `missed` counts those dropped before they
    /// could be read.
    func events(after cursor: Int) -> SourceEvents
    /// How many events to collect from now on: every event costs the watched program a
    /// little per operation, so the dashboard asks for them only while it shows them.
    func setEventInterest(_ interest: EventInterest)
    /// Stops for good, waiting at most `limit` and never for the cooperative pool.
    func stop(waitingAtMost limit: Duration)

    /// What it can do besides showing numbers.
    var abilities: SourceAbilities { get }
}

extension Source {
    public var mode: String { origin.mode }
    public var notice: String? { nil }
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        let snapshot = snapshot()
        return (snapshot, ActorTotals(of: snapshot.actors))
    }
    /// What is watched, e.g. the scenario's name.
    public var title: String { origin.title }
    /// The capabilities as the key map names them.
    public var capabilities: Set<SourceCapability> { abilities.capabilities }
    /// Scenario seconds per real second (1 where speed is not a capability).
    public var speed: Double { abilities.pace?.speed ?? 1 }
    /// Where a replay's cursor is, for the header's timeline; nil for a source that runs live.
    public var timeline: Timeline? { abilities.seek?.timeline }

    /// Sets a knob if the source can be steered; otherwise the answer says why not.
    public func setKnob(_ name: String, to value: Double) -> KnobAnswer {
        guard let steer = abilities.steer else {
            return .refused(
                origin.kind == .replay ? "a replay shows the values recorded; knobs cannot be turned" : "\(title) cannot be steered")
        }
        return steer.setKnob(name, to: value)
    }
}

/// Turns knobs: a local run, an attached program.
public protocol Steerable: AnyObject, Sendable {
    /// Asks to set a knob; the answer says what was applied, or why not.
    func setKnob(_ name: String, to value: Double) -> KnobAnswer
}

/// Pauses, resumes and changes speed: a local run, a replay.
public protocol Pacing: AnyObject, Sendable {
    /// Scenario seconds per real second.
    var speed: Double { get }
    /// Holds the clock (and every sleeper on it) until `resume`.
    func pause()
    func resume()
    /// Sets the speed, kept within what the source allows.
    func setSpeed(_ speed: Double)
}

/// Starts again from the beginning: a local run, a replay.
public protocol Restartable: AnyObject, Sendable {
    /// Starts again from the beginning (a local run's events are numbered from 0 again).
    func restart()
}

/// Moves a cursor through time: a replay.
public protocol Seekable: AnyObject, Sendable {
    /// Where the cursor is.
    var timeline: Timeline { get }
    /// Moves `events` events forward (negative: back) and pauses.
    func step(by events: Int)
    /// Moves to `seconds` after the start.
    func seek(toSeconds seconds: Double)
    /// Moves to where the next (or previous) warning starts; false when there is none.
    func seekWarning(forward: Bool) -> Bool
}

/// What a source can do besides showing numbers: each capability it has, nil for those it
/// has not. A wrapper (a recording) passes on those of the source it wraps.
public struct SourceAbilities: Sendable {
    /// Turns knobs.
    public var steer: (any Steerable)?
    /// Pauses, resumes, changes speed.
    public var pace: (any Pacing)?
    /// Starts again.
    public var restart: (any Restartable)?
    /// Moves a replay's cursor.
    public var seek: (any Seekable)?

    public init(
        steer: (any Steerable)? = nil, pace: (any Pacing)? = nil, restart: (any Restartable)? = nil, seek: (any Seekable)? = nil
    ) {
        self.steer = steer
        self.pace = pace
        self.restart = restart
        self.seek = seek
    }

    /// The capabilities as the key map names them.
    public var capabilities: Set<SourceCapability> {
        var set: Set<SourceCapability> = []
        if pace != nil { set.formUnion([.pause, .speed]) }
        if restart != nil { set.insert(.restart) }
        if seek != nil { set.formUnion([.step, .seek]) }
        return set
    }
}

/// What kind of source: a scenario run here, a program attached, a recording replayed.
public enum SourceKind: String, Sendable, Codable, CaseIterable {
    case scenario, attached, replay
}

/// Where a source's numbers come from, as data (a recording keeps it in its header).
public struct SourceOrigin: Sendable, Equatable, Codable {
    /// A scenario's name, a program's name, a recording's title.
    public var title: String
    public var kind: SourceKind
    /// A scenario's preset (`live`, `seed`).
    public var preset: String?
    /// An attached program's process id.
    public var pid: Int?

    public init(title: String, kind: SourceKind, preset: String? = nil, pid: Int? = nil) {
        self.title = title
        self.kind = kind
        self.preset = preset
        self.pid = pid
    }

    /// How it runs, for the header: `live`, `attached, pid 7`, `replay`.
    public var mode: String {
        switch kind {
        case .scenario: preset ?? "live"
        case .attached: "attached, pid " + (pid.map(String.init) ?? "?")
        case .replay: "replay"
        }
    }
}

/// A replay's position: shown as a bar in the header.
public struct Timeline: Sendable, Equatable {
    public var positionSeconds: Double
    public var durationSeconds: Double
    /// Events applied so far, of `eventCount`.
    public var eventIndex: Int
    public var eventCount: Int
    /// Where warnings start, as fractions (0...1) of the duration.
    public var warnings: [Double]

    public init(positionSeconds: Double, durationSeconds: Double, eventIndex: Int, eventCount: Int, warnings: [Double]) {
        self.positionSeconds = positionSeconds
        self.durationSeconds = durationSeconds
        self.eventIndex = eventIndex
        self.eventCount = eventCount
        self.warnings = warnings
    }
}

public enum SourceStatus: Sendable, Equatable {
    case running, paused, done
    case failed(String)
    /// An attached program that can no longer be watched (it exited, or the connection
    /// ended), and why; what was seen stays on screen.
    case detached(String)
}

/// What a source can do besides showing numbers and taking knobs.
public enum SourceCapability: String, Sendable, Hashable, CaseIterable {
    case pause, speed, restart, step, seek
}

/// The answer to a knob change.
public enum KnobAnswer: Sendable, Equatable {
    /// Set to this value (clamped to the knob's range).
    case applied(Double)
    /// Not set, and why.
    case refused(String)
}

/// Events since a cursor.
public struct SourceEvents: Sendable {
    public var events: [PatternEvent]
    /// The cursor to ask with next time.
    public var next: Int
    /// Events after the cursor that are gone (the log is bounded).
    public var missed: Int

    public init(events: [PatternEvent], next: Int, missed: Int) {
        self.events = events
        self.next = next
        self.missed = missed
    }
}

/// One entry of the picker: what it is, and how to open it as a source.
public struct SourceChoice: Sendable {
    public let name: String
    public let summary: String
    public let explanation: String
    public let knobs: [KnobSpec]
    /// Opens it with starting knob values (empty: its defaults); throws `SourceUnavailable`
    /// when it cannot be opened (a program that went away), and says why.
    public let open: @Sendable ([String: Double]) throws(SourceUnavailable) -> any Source

    public init(
        name: String, summary: String, explanation: String, knobs: [KnobSpec],
        open: @escaping @Sendable ([String: Double]) throws(SourceUnavailable) -> any Source
    ) {
        self.name = name
        self.summary = summary
        self.explanation = explanation
        self.knobs = knobs
        self.open = open
    }
}

/// Why a picker entry could not be opened.
public struct SourceUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

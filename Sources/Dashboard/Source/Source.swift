import AsyncPatterns

/// What the dashboard watches and steers: a scenario run here (`LocalSource`), and later a
/// program attached over a socket or a recording replayed. The dashboard knows nothing
/// else; an action a source cannot do is shown as unavailable, never silently ignored.
public protocol Source: AnyObject, Sendable {
    /// What is watched, e.g. the scenario's name.
    var title: String { get }
    /// How it runs, e.g. `live` or `seed`.
    var mode: String { get }
    var status: SourceStatus { get }
    var capabilities: Set<SourceCapability> { get }
    /// Scenario seconds per real second (1 where speed is not a capability).
    var speed: Double { get }
    /// The panes the screen shows, in order.
    var panes: [PatternKind] { get }
    var knobs: [KnobSpec] { get }
    var knobValues: [String: Double] { get }

    /// The patterns now.
    func snapshot() -> Snapshot
    /// Events after `cursor` (0 at first); `missed` counts those dropped before they
    /// could be read.
    func events(after cursor: Int) -> SourceEvents
    /// Asks to set a knob; the answer says what was applied, or why not.
    func setKnob(_ name: String, to value: Double) -> KnobAnswer
    /// How many events to collect from now on: every event costs the watched program a
    /// little per operation, so the dashboard asks for them only while it shows them.
    func setEventInterest(_ interest: EventInterest)
    /// Each of these needs its capability; without it, it does nothing.
    func pause()
    func resume()
    func setSpeed(_ speed: Double)
    func restart()
    /// Stops for good, waiting at most `limit` and never for the cooperative pool.
    func stop(waitingAtMost limit: Duration)

    /// A line for the screen when nothing newer is shown (a recording stopped at its
    /// limit, a replay of a truncated file). Default: nil.
    var notice: String? { get }
    /// Where a replay's cursor is, for the header's timeline; nil (the default) for a
    /// source that runs live.
    var timeline: Timeline? { get }
    /// Moves `events` events forward (negative: back) and pauses. Needs `.step`.
    func step(by events: Int)
    /// Moves to `seconds` after the start. Needs `.seek`.
    func seek(toSeconds seconds: Double)
    /// Moves to where the next (or previous) warning starts; false when there is none.
    /// Needs `.seek`.
    func seekWarning(forward: Bool) -> Bool
}

/// What a live source does with the replay-only parts of `Source`: nothing (the app shows
/// them as unavailable, since the capabilities lack `step` and `seek`).
extension Source {
    public var notice: String? { nil }
    public var timeline: Timeline? { nil }
    public func step(by events: Int) {}
    public func seek(toSeconds seconds: Double) {}
    public func seekWarning(forward: Bool) -> Bool { false }
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
    /// Opens it with starting knob values (empty: its defaults).
    public let open: @Sendable ([String: Double]) -> any Source

    public init(
        name: String, summary: String, explanation: String, knobs: [KnobSpec],
        open: @escaping @Sendable ([String: Double]) -> any Source
    ) {
        self.name = name
        self.summary = summary
        self.explanation = explanation
        self.knobs = knobs
        self.open = open
    }
}

import AsyncPatterns
import SluiceWire
import FoundationEssentials

/// What a recording says about itself (its `info` record, JSON).
public struct RecordingInfo: Sendable, Codable, Equatable {
    /// The source's title and mode when it was recorded (a scenario's name and preset), as
    /// the header showed them.
    public var title: String
    public var mode: String
    /// What kind of source was recorded (`scenario`, `attached`) and an attached program's
    /// pid; nil in files written before they were kept (see `origin`).
    public var kind: SourceKind?
    public var pid: Int?
    public var panes: [PatternKind]
    public var knobs: [RecordedKnob]
    /// Monotonic nanoseconds when recording started: event times count from here.
    public var startNanos: UInt64
    /// The version of the snapshot and event shapes (`PROTOCOL.md`): 2 since a queue's
    /// `dropped` (snapshot layout 4), 1 before.
    public var shapes: Int

    public static let shapesVersion = 2

    /// The binary layout of this recording's snapshots.
    var snapshotLayout: UInt8 { shapes >= 2 ? 4 : 3 }

    public init(
        title: String, mode: String, origin: SourceOrigin? = nil, panes: [PatternKind], knobs: [RecordedKnob], startNanos: UInt64,
        shapes: Int
    ) {
        self.title = title
        self.mode = mode
        kind = origin?.kind
        pid = origin?.pid
        self.panes = panes
        self.knobs = knobs
        self.startNanos = startNanos
        self.shapes = shapes
    }

    /// Where the recorded numbers came from. A file without `kind` (written before it was
    /// kept) came from a scenario run, unless its mode reads `attached, pid N`: the only way
    /// such a file says it watched a program.
    public var origin: SourceOrigin {
        if let kind { return SourceOrigin(title: title, kind: kind, preset: kind == .scenario ? mode : nil, pid: pid) }
        let legacy = "attached, pid "
        if mode.hasPrefix(legacy), let pid = Int(mode.dropFirst(legacy.count)) {
            return SourceOrigin(title: title, kind: .attached, pid: pid)
        }
        return SourceOrigin(title: title, kind: .scenario, preset: mode)
    }
}

/// A `KnobSpec` as the file keeps it.
public struct RecordedKnob: Sendable, Codable, Equatable {
    public var name: String
    public var unit: String
    public var lower: Double
    public var upper: Double
    public var step: Double
    public var defaultValue: Double
    public var summary: String
    public var actsOn: PatternKind?

    init(_ spec: KnobSpec) {
        name = spec.name
        unit = spec.unit
        lower = spec.range.lowerBound
        upper = spec.range.upperBound
        step = spec.step
        defaultValue = spec.defaultValue
        summary = spec.summary
        actsOn = spec.actsOn
    }

    /// The spec, or nil when the numbers cannot make one (a damaged file).
    var spec: KnobSpec? {
        guard lower.isFinite, upper.isFinite, step.isFinite, defaultValue.isFinite, lower <= upper,
            (lower...upper).contains(defaultValue)
        else { return nil }
        return KnobSpec(name, unit: unit, range: lower...upper, step: step, default: defaultValue, actsOn: actsOn, summary)
    }
}

/// A keyframe's body: the knob values, the speed, the status, then the snapshot (its recent
/// events left out: the replay rebuilds them from the events before the cursor), in the
/// socket's codec.
struct KeyframeBody: Sendable {
    var snapshot: Snapshot
    var knobs: [String: Double]
    var speed: Double
    var status: String

    func encode(into w: inout WireWriter) {
        w.knobs(knobs)
        w.double(speed)
        w.string(status)
        w.snapshot(snapshot)
    }

}

extension KeyframeBody {
    /// Reads a body; what cannot be a run's (a negative speed, a snapshot past the codec's
    /// bounds, bytes after it) throws.
    init(_ r: inout WireReader, layout: UInt8) throws(WireError) {
        let knobs = try r.knobs()
        let speed = try r.double()
        guard speed >= 0 else { throw .badMessage("a speed of \(speed)") }
        self.init(snapshot: Snapshot(), knobs: knobs, speed: speed, status: try r.string())
        snapshot = try r.snapshot(layout: layout)
        try r.expectEnd("the keyframe")
    }
}

/// The end record's body: how the run ended, its elapsed time, why recording ended, then
/// its final snapshot, whole.
struct EndBody: Sendable {
    var status: String
    var elapsedSeconds: Double
    var snapshot: Snapshot
    /// Why recording ended: `stopped` (the source ended or was left) or `limit`.
    var reason: String

    func encode(into w: inout WireWriter) {
        w.string(status)
        w.double(elapsedSeconds)
        w.string(reason)
        w.snapshot(snapshot)
    }

}

extension EndBody {
    init(_ r: inout WireReader, layout: UInt8) throws(WireError) {
        let status = try r.string()
        let elapsed = try r.double()
        guard (0...1e9).contains(elapsed) else { throw .badMessage("an elapsed time of \(elapsed) s") }
        self.init(status: status, elapsedSeconds: elapsed, snapshot: Snapshot(), reason: try r.string())
        snapshot = try r.snapshot(layout: layout)
        try r.expectEnd("the end")
    }
}

extension SourceStatus {
    /// How a recording writes a status: `running`, `paused`, `done`, `failed: why`,
    /// `detached: why`.
    public var recordedText: String {
        switch self {
        case .running: "running"
        case .paused: "paused"
        case .done: "done"
        case .failed(let why): "failed: \(why)"
        case .detached(let why): "detached: \(why)"
        }
    }

    public init(recordedText text: String) {
        switch text {
        case "running": self = .running
        case "paused": self = .paused
        case "done": self = .done
        case _ where text.hasPrefix("failed: "): self = .failed(String(text.dropFirst(8)))
        case _ where text.hasPrefix("detached: "): self = .detached(String(text.dropFirst(10)))
        default: self = .done
        }
    }
}

enum JSONBytes {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every shape in a snapshot encodes (finite numbers are checked by the writer).
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(RecordingError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw .malformed("a \(T.self) does not decode")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The protocol versions this build speaks; hello picks the highest both sides share.
///
/// 2: snapshots and events in binary only (layout 3, the codec recordings use); a JSON
/// snapshot or events message is refused, since only the binary reader range-checks.
/// 3: a viewer may `show` which actors it lists (`ActorQuery`); the agent then sends only
/// those, with what every actor adds up to (`screen`), instead of every actor.
public enum WireVersion {
    public static let current = 3
    public static let supported = [2, 3]
    /// The first version with `ViewerMessage.show` and `AgentMessage.screen`.
    public static let actorQueries = 3
}

/// What a viewer sends. Each frame's payload is one of these as a JSON object with one
/// key, the message's name (`{"hello":{"versions":[1],"client":"sluice 0.2.0"}}`).
public enum ViewerMessage: Codable, Sendable, Equatable {
    /// First, always: the versions the viewer speaks and who it is.
    case hello(versions: [Int], client: String)
    /// Start (or change) watching: snapshots a second (0.1...50) and which events.
    case watch(snapshotsPerSecond: Double, events: WireInterest)
    /// Set a knob; the answer carries the same `id`.
    case setKnob(id: Int, name: String, value: Double)
    /// From version 3: list only the actors `actors` asks for in each snapshot (a `screen`
    /// message), or every actor again (nil). Any time after hello; the query holds until
    /// the next `show`.
    case show(actors: ActorQuery?)
    /// Leaving; the agent closes the connection.
    case bye
}

/// What an agent sends.
public enum AgentMessage: Codable, Sendable, Equatable {
    /// The answer to hello: the version chosen, the program, its knobs.
    case hello(version: Int, program: ProgramInfo, knobs: [WireKnob])
    /// The patterns now and the knobs' values; `dropped` counts snapshots this viewer
    /// missed because it read too slowly.
    case snapshot(snapshot: Snapshot, knobs: [String: Double], dropped: Int)
    /// From version 3, to a viewer that asked (`show`): a snapshot listing only the actors
    /// its query asks for, and what every actor adds up to.
    case screen(snapshot: Snapshot, actors: ActorTotals, knobs: [String: Double], dropped: Int)
    /// Events since the last ones sent; `missed` counts events lost before they could be
    /// sent (the agent's buffer per viewer is bounded).
    case events(events: [PatternEvent], missed: Int)
    /// The answer to `setKnob`: `applied` holds the value now in force, else `refused` why.
    case knobAnswer(id: Int, name: String, applied: Double?, refused: String?)
    /// The agent closes the connection, and why.
    case goodbye(reason: String)
}

/// Which events a viewer wants, as words on the wire.
public enum WireInterest: String, Codable, Sendable, CaseIterable {
    case none, notable, all

    public init(_ interest: EventInterest) {
        self =
            switch interest {
            case .none: .none
            case .notable: .notable
            case .all: .all
            }
    }

    public var interest: EventInterest {
        switch self {
        case .none: .none
        case .notable: .notable
        case .all: .all
        }
    }
}

/// Seconds since 1970, now: the clock of `ProgramInfo.startedAt`.
public func wallClockSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Who is on the other end of an agent's socket.
public struct ProgramInfo: Codable, Sendable, Equatable {
    public var name: String
    public var pid: Int
    /// When the agent started, in seconds since 1970.
    public var startedAt: Double
    /// Patterns registered now.
    public var patterns: Int
    /// Viewers watching now, and the most it allows.
    public var viewers: Int
    public var maxViewers: Int

    public init(name: String, pid: Int, startedAt: Double, patterns: Int, viewers: Int, maxViewers: Int) {
        self.name = name
        self.pid = pid
        self.startedAt = startedAt
        self.patterns = patterns
        self.viewers = viewers
        self.maxViewers = maxViewers
    }
    /// Decoding is validation: a start time no clock could give, or counts no program
    /// could have, are refused here, so nothing that shows them can trap.
    public init(from decoder: any Decoder) throws {
        enum Key: String, CodingKey { case name, pid, startedAt, patterns, viewers, maxViewers }
        let c = try decoder.container(keyedBy: Key.self)
        func impossible(_ key: Key, _ what: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: "impossible \(key.stringValue): \(what)")
        }
        name = try c.decode(String.self, forKey: .name)
        pid = try c.decode(Int.self, forKey: .pid)
        startedAt = try c.decode(Double.self, forKey: .startedAt)
        patterns = try c.decode(Int.self, forKey: .patterns)
        viewers = try c.decode(Int.self, forKey: .viewers)
        maxViewers = try c.decode(Int.self, forKey: .maxViewers)
        guard (1...Int(Int32.max)).contains(pid) else { throw impossible(.pid, "\(pid)") }
        guard startedAt.isFinite, (0...(wallClockSeconds() + 86_400)).contains(startedAt) else {
            throw impossible(.startedAt, "\(startedAt) s since 1970")
        }
        for (key, value) in [(Key.patterns, patterns), (.viewers, viewers), (.maxViewers, maxViewers)] {
            guard (0...(1 << 32)).contains(value) else { throw impossible(key, "\(value)") }
        }
    }
}

/// A knob as the wire carries it (`KnobSpec` without its Swift-only parts).
public struct WireKnob: Codable, Sendable, Equatable {
    public var name: String
    public var unit: String
    public var min: Double
    public var max: Double
    public var step: Double
    public var defaultValue: Double
    public var summary: String
    /// A `PatternKind` raw value: the pane the knob acts on.
    public var actsOn: String?

    public init(_ spec: KnobSpec) {
        name = spec.name
        unit = spec.unit
        min = spec.range.lowerBound
        max = spec.range.upperBound
        step = spec.step
        defaultValue = spec.defaultValue
        summary = spec.summary
        actsOn = spec.actsOn?.rawValue
    }

    /// The spec, or nil when the numbers make no knob (a broken or hostile agent).
    public var spec: KnobSpec? {
        let bound = 1e15  // beyond this no program's knob: a hostile agent's
        guard min.isFinite, max.isFinite, step.isFinite, step > 0, min <= max, defaultValue.isFinite,
            abs(min) <= bound, abs(max) <= bound, step <= bound
        else { return nil }
        return KnobSpec(
            name, unit: unit, range: min...max, step: step, default: Swift.min(max, Swift.max(min, defaultValue)),
            actsOn: actsOn.flatMap(PatternKind.init(rawValue:)), summary)
    }
}

/// JSON payloads of frames, both ways. Decoding never traps: whatever a peer sends is an
/// answer or a `WireError`.
public enum WireCoding {
    /// Non-finite numbers (a rate over no time) travel as the strings "inf", "-inf", "nan".
    static let floats = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    public static func encode(_ message: ViewerMessage) -> [UInt8] { encodeJSON(message) }

    public static func encodeJSON(_ message: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: floats.positiveInfinity, negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        // Our messages hold numbers (any Double encodes, see above), strings, arrays and
        // dictionaries of them: nothing left that JSON cannot say.
        do { return Array(try encoder.encode(message)) } catch {
            preconditionFailure("a message that does not encode: \(error)")
        }
    }

    public static func decode<Message: Decodable>(_ type: Message.Type, from payload: ByteBuffer) throws(WireError) -> Message {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: floats.positiveInfinity, negativeInfinity: floats.negativeInfinity, nan: floats.nan)
        do {
            return try decoder.decode(type, from: Data(payload.readableBytesView))
        } catch {
            throw .badMessage(Self.reason(error))
        }
    }

    /// An agent's message: a binary snapshot (`SnapshotLayout`) or any message as JSON.
    public static func decodeAgentMessage(from payload: ByteBuffer) throws(WireError) -> AgentMessage {
        if let first = payload.readableBytesView.first, SnapshotLayout.markers.contains(first) {
            return try SnapshotLayout.decode(payload.readableBytesView)
        }
        let message = try decode(AgentMessage.self, from: payload)
        switch message {
        case .snapshot, .events, .screen:
            // JSON would bypass the binary reader's range checks.
            throw .badMessage("a snapshot or events in JSON: version 2 sends them binary")
        default: return message
        }
    }

    /// An agent's message as a payload: snapshots and events in the binary layout, the
    /// rest as JSON.
    public static func encode(_ message: AgentMessage) -> [UInt8] {
        switch message {
        case .snapshot(let snapshot, let knobs, let dropped):
            SnapshotLayout.encode(snapshot: snapshot, knobs: knobs, dropped: dropped)
        case .events(let events, let missed):
            SnapshotLayout.encode(events: events, missed: missed)
        case .screen(let snapshot, let actors, let knobs, let dropped):
            SnapshotLayout.encode(screen: snapshot, actors: actors, knobs: knobs, dropped: dropped)
        default: encodeJSON(message)
        }
    }

    /// A short reason, not the decoder's full story.
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context) where context.debugDescription.hasPrefix("impossible "):
            context.debugDescription
        case DecodingError.dataCorrupted: "not JSON"
        case DecodingError.keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context): "wrong type at \(path(context))"
        case DecodingError.valueNotFound(_, let context): "missing value at \(path(context))"
        default: "not a message of the protocol"
        }
    }

    static func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
        return keys.isEmpty ? "the top" : "'\(keys)'"
    }
}

extension ViewerMessage {
    /// The hello this build sends.
    public static func helloFromThisBuild(client: String) -> ViewerMessage {
        .hello(versions: WireVersion.supported, client: client)
    }
}

/// The version both sides speak, or why there is none.
public func chooseVersion(ours: [Int], theirs: [Int]) throws(WireError) -> Int {
    guard let version = Set(ours).intersection(theirs).max() else {
        let mine = ours.map(String.init).joined(separator: ", ")
        let other = theirs.map(String.init).joined(separator: ", ")
        throw .versionMismatch("this side speaks version \(mine), the other side \(other.isEmpty ? "none" : other)")
    }
    return version
}

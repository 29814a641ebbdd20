import AsyncPatterns

/// The messages of the tutorial's actor example.
public enum TutorialMessage: Sendable, Hashable, CustomStringConvertible {
    /// Adds 1 to a counter (`"increment"`).
    case increment
    /// Adds n to a counter (`{"value": n}`).
    case add(Int)
    /// Asks a counter for its count (`"get_count"`), answered through the handle:
    /// `try await counter.ask { .getCount($0) }`.
    case getCount(ReplyTo<Int>)
    /// Free text, e.g. for the logger.
    case text(String)
    /// Asks a logger for its lines: `try await logger.ask { .getLines($0) }`.
    case getLines(ReplyTo<[String]>)

    public var description: String {
        switch self {
        case .increment: "increment"
        case .add(let n): "{value: \(n)}"
        case .getCount: "get_count"
        case .text(let s): s
        case .getLines: "get_lines"
        }
    }
}

/// The tutorial's `CounterActor`: `increment` adds 1, `.add(n)` adds n, `getCount` replies.
public struct CounterBehavior: ActorBehavior {
    public private(set) var count: Int
    /// Called after each change with the new count (the tutorial prints it).
    let onChange: @Sendable (String, TutorialMessage, Int) -> Void

    public init(count: Int = 0, onChange: @escaping @Sendable (String, TutorialMessage, Int) -> Void = { _, _, _ in }) {
        self.count = count
        self.onChange = onChange
    }

    public mutating func receive(_ envelope: Envelope<TutorialMessage>, context: ActorContext<TutorialMessage>) async throws {
        switch envelope.message {
        case .increment:
            count += 1
            onChange(context.name, envelope.message, count)
        case .add(let n):
            count += n
            onChange(context.name, envelope.message, count)
        case .getCount(let replyTo):
            replyTo.send(count)
        default:
            break  // the tutorial's counter ignores anything else
        }
    }
}

/// The tutorial's `LoggerActor`: records `[sender] content` for each message, keeping the
/// last `limit` lines (100 in the tutorial).
public struct LoggerBehavior: ActorBehavior {
    public private(set) var lines: [String] = []
    public let limit: Int
    let onLine: @Sendable (String) -> Void

    public init(limit: Int = 100, onLine: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(limit >= 1, "a logger keeps at least one line")
        self.limit = limit
        self.onLine = onLine
    }

    public mutating func receive(_ envelope: Envelope<TutorialMessage>, context: ActorContext<TutorialMessage>) async throws {
        if case .getLines(let replyTo) = envelope.message {
            replyTo.send(lines)
            return
        }
        let line = "[\(envelope.sender ?? "-")] \(envelope.message)"
        lines.append(line)
        if lines.count > limit { lines.removeFirst() }
        onLine(line)
    }
}

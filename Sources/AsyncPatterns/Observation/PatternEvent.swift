/// What kind of pattern emitted an event.
public enum PatternKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A queue, a semaphore, an actor, a stream, a resource scope, or a health monitor.
    case queue, semaphore, actor, stream, resource, health
}

/// The identity of one running pattern instance: its kind and a human name.
public struct PatternID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of pattern it is.
    public let kind: PatternKind
    /// The name it was created with (not unique: several may share one).
    public let name: String

    /// The identity of a pattern of `kind` named `name`.
    public init(_ kind: PatternKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// `kind:name`, e.g. `queue:jobs`.
    public var description: String { "\(kind.rawValue):\(name)" }
}

/// Monotonic nanoseconds, the timestamp on every event.
///
/// Real (not scenario) time: it orders events and measures latencies even while a scenario
/// clock is paused or sped up.
public struct MonotonicInstant: Sendable, Hashable, Comparable, Codable {
    /// Nanoseconds on the monotonic clock.
    public let nanoseconds: UInt64

    /// The instant `nanoseconds` on the monotonic clock.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Encoded as a bare number of nanoseconds.
    public init(from decoder: any Decoder) throws {
        nanoseconds = try decoder.singleValueContainer().decode(UInt64.self)
    }

    /// Encodes as a bare number of nanoseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanoseconds)
    }

    /// Reads the events' clock: `CLOCK_MONOTONIC`, through the CPU's time-stamp counter where
    /// the kernel itself reads it so. Within a millisecond of `CLOCK_MONOTONIC` (microseconds
    /// while the kernel does not slew it) and never back on one thread; across threads, two
    /// reads may come out a few hundred nanoseconds out of order, so measure a duration
    /// with `nanoseconds(since:)` or `duration(since:)`, which never go below zero.
    @inlinable
    public static func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: eventNanoseconds())
    }

    /// Whether `a` came before `b`.
    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    public func nanoseconds(since earlier: MonotonicInstant) -> UInt64 {
        nanoseconds &- min(nanoseconds, earlier.nanoseconds)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    public func duration(since earlier: MonotonicInstant) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds(since: earlier)))
    }
}

/// The gauges of a queue at the moment of an event, read under its lock.
public struct QueueGauges: Sendable, Hashable, Codable {
    /// Items in the queue.
    public var depth: Int
    /// Producers suspended in `put`.
    public var waitingProducers: Int
    /// Consumers suspended in `get`.
    public var waitingConsumers: Int
    /// Gauges with these values.
    public init(depth: Int, waitingProducers: Int, waitingConsumers: Int) {
        self.depth = depth
        self.waitingProducers = waitingProducers
        self.waitingConsumers = waitingConsumers
    }
}

/// Events from a `BoundedQueue`. Each carries the gauges after the change.
public enum QueueEvent: Sendable, Hashable, Codable {
    /// An item entered the queue (or went straight to a waiting consumer).
    case put(gauges: QueueGauges)
    /// An item left the queue.
    case got(gauges: QueueGauges)
    /// A producer suspended because the queue is full.
    case producerBlocked(gauges: QueueGauges)
    /// A consumer suspended because the queue is empty.
    case consumerBlocked(gauges: QueueGauges)
    /// A waiting producer or consumer gave up (cancelled or timed out) without effect.
    case waiterAbandoned(gauges: QueueGauges, producer: Bool)
    /// `taskDone()` was called; `unfinished` items remain un-done.
    case taskDone(unfinished: Int)
    /// The capacity changed.
    case capacityChanged(capacity: Int, gauges: QueueGauges)
    /// The queue was closed; waiters were released.
    case closed(gauges: QueueGauges)

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .producerBlocked, .waiterAbandoned, .capacityChanged, .closed: true
        case .put, .got, .consumerBlocked, .taskDone: false
        }
    }
}

/// The gauges of a semaphore at the moment of an event, read under its lock.
public struct SemaphoreGauges: Sendable, Hashable, Codable {
    /// Permits available in all.
    public var limit: Int
    /// Permits held.
    public var inUse: Int
    /// Tasks waiting for a permit.
    public var waiting: Int
    /// Gauges with these values.
    public init(limit: Int, inUse: Int, waiting: Int) {
        self.limit = limit
        self.inUse = inUse
        self.waiting = waiting
    }
}

/// Events from an `AsyncSemaphore`. Each carries the gauges after the change.
public enum SemaphoreEvent: Sendable, Hashable, Codable {
    /// A permit was granted.
    case acquired(gauges: SemaphoreGauges)
    /// A permit was returned.
    case released(gauges: SemaphoreGauges)
    /// A task started waiting for a permit.
    case waiting(gauges: SemaphoreGauges)
    /// A waiting task gave up (cancelled or timed out) and holds no permit.
    case waiterAbandoned(gauges: SemaphoreGauges)
    /// The limit changed.
    case limitChanged(gauges: SemaphoreGauges)

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .waiterAbandoned, .limitChanged: true
        case .acquired, .released, .waiting: false
        }
    }
}

/// Events from a mailbox actor.
public enum ActorEvent: Sendable, Hashable, Codable {
    /// A message entered the mailbox; `depth` counts messages queued after it.
    case enqueued(depth: Int)
    /// A message was processed.
    case processed(depth: Int)
    /// A message could not be delivered: `to` is unknown, stopped, or its mailbox is full.
    case deadLetter(to: String, reason: DeadLetterReason)
    /// A sender suspended because the mailbox is full.
    case senderBlocked(depth: Int)
    /// The actor started.
    case started
    /// The actor stopped; `unprocessed` messages were left and became dead letters.
    case stopped(unprocessed: Int)
    /// The behaviour threw while processing a message; the actor goes on.
    case failed(depth: Int)

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .deadLetter, .senderBlocked, .failed, .started, .stopped: true
        case .enqueued, .processed: false
        }
    }
}

/// Why a message became a dead letter.
public enum DeadLetterReason: String, Sendable, Hashable, Codable {
    /// No actor of that name in the directory (or the sender's own name).
    case unknownRecipient = "unknown recipient"
    /// The recipient had stopped (or stopped before processing it).
    case stopped = "recipient stopped"
    /// The recipient's bounded mailbox was full and the sender chose `.fail`.
    case mailboxFull = "mailbox full"
    /// The sender was cancelled while it waited for room in a full mailbox.
    case senderCancelled = "sender cancelled"
}

/// Events from a progress stream or generator.
public enum StreamEvent: Sendable, Hashable, Codable {
    /// An element was produced; `total` is nil for open-ended generators.
    case produced(count: Int, total: Int?)
    /// An element reached the consumer.
    case consumed(count: Int, total: Int?)
    /// The stream ended normally.
    case finished(count: Int)
    /// The stream ended with an error (or was cancelled).
    case failed(count: Int)
    /// The consumer stopped iterating before the end.
    case stoppedEarly(count: Int)

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .finished, .failed, .stoppedEarly: true
        case .produced, .consumed: false
        }
    }
}

/// Events from async resource scopes.
public enum ResourceEvent: Sendable, Hashable, Codable {
    /// A scope started opening its resource.
    case opening
    /// The resource opened after `openNanos` nanoseconds.
    case opened(openNanos: UInt64)
    /// The body ended; the resource is being closed.
    case closing
    /// The resource was closed after being open for `heldNanos`; `bodyFailed` says whether
    /// the body threw (or was cancelled).
    case closed(heldNanos: UInt64, bodyFailed: Bool)
    /// Opening failed; nothing was open, nothing is closed.
    case openFailed
    /// A timing scope finished after `nanos`.
    case timed(nanos: UInt64)

    /// The time the event reports, as a `Duration` (the cases keep nanoseconds, the wire
    /// format's unit): how long opening took, how long the resource was held, or how long
    /// a timed body ran; nil for events without a time.
    public var duration: Duration? {
        switch self {
        case .opened(let n), .closed(let n, _), .timed(let n): .nanoseconds(Int64(clamping: n))
        case .opening, .closing, .openFailed: nil
        }
    }

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .openFailed: true
        case .closed(_, let failed): failed
        case .opening, .opened, .closing, .timed: false
        }
    }
}

/// Events from health monitors (loop lag) and notes.
public enum HealthEvent: Sendable, Hashable, Codable {
    /// A heartbeat ran `lagNanos` later than scheduled.
    case loopLag(lagNanos: UInt64)
    /// A free-form note from a scenario or program (shown in the event log).
    case note(text: String)
    /// The cooperative pool was stalled for `durationNanos`: which threads held it, and
    /// where (the pool doctor's, like asyncio's "Executing <Task> took 0.150 seconds").
    case poolStall(stall: PoolStall)

    /// How late the heartbeat ran, as a `Duration`; nil for a note.
    public var lag: Duration? {
        if case .loopLag(let n) = self { return .nanoseconds(Int64(clamping: n)) }
        return nil
    }

    /// A change of shape rather than routine flow (see `PatternEvent.isNotable`).
    @inlinable public var isNotable: Bool {
        switch self {
        case .note, .poolStall: true
        case .loopLag: false
        }
    }
}

/// One state change of one pattern. The enum is closed: every observer can switch over it.
///
/// Encoded flat: `{"kind":"queue","name":"jobs","at":123456789,"event":{"put":{"gauges":{…}}}}`
/// (`at` in monotonic nanoseconds; `event` as its kind's enum encodes itself).
public enum PatternEvent: Sendable, Hashable, Codable {
    /// An event of a `BoundedQueue`.
    case queue(QueueEvent, source: PatternID, at: MonotonicInstant)
    /// An event of an `AsyncSemaphore`.
    case semaphore(SemaphoreEvent, source: PatternID, at: MonotonicInstant)
    /// An event of a `MailboxActor`.
    case actor(ActorEvent, source: PatternID, at: MonotonicInstant)
    /// An event of a stream iteration (`ProgressStream`, `AsyncGenerator`).
    case stream(StreamEvent, source: PatternID, at: MonotonicInstant)
    /// An event of a `ResourceScope`.
    case resource(ResourceEvent, source: PatternID, at: MonotonicInstant)
    /// An event of a `LoopLagMonitor`, or a note.
    case health(HealthEvent, source: PatternID, at: MonotonicInstant)

    /// The pattern that emitted the event.
    public var source: PatternID {
        switch self {
        case .queue(_, let s, _), .semaphore(_, let s, _), .actor(_, let s, _),
            .stream(_, let s, _), .resource(_, let s, _), .health(_, let s, _):
            return s
        }
    }

    /// When the event happened (monotonic, real time).
    public var at: MonotonicInstant {
        switch self {
        case .queue(_, _, let t), .semaphore(_, _, let t), .actor(_, _, let t),
            .stream(_, _, let t), .resource(_, _, let t), .health(_, _, let t):
            return t
        }
    }

    /// Events that mark a change of shape rather than routine flow: notes, blocking,
    /// giving up, limits and capacities, dead letters, failures, starts and stops. Event
    /// logs keep these apart, so a flood of puts and gets cannot push them out, and a
    /// subscriber with `.notable` interest gets only these.
    public var isNotable: Bool {
        switch self {
        case .queue(let e, _, _): e.isNotable
        case .semaphore(let e, _, _): e.isNotable
        case .actor(let e, _, _): e.isNotable
        case .stream(let e, _, _): e.isNotable
        case .resource(let e, _, _): e.isNotable
        case .health(let e, _, _): e.isNotable
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, name, at, event }

    /// Decodes the flat shape `encode(to:)` writes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(PatternKind.self, forKey: .kind)
        let source = PatternID(kind, try c.decode(String.self, forKey: .name))
        let at = try c.decode(MonotonicInstant.self, forKey: .at)
        switch kind {
        case .queue: self = .queue(try c.decode(QueueEvent.self, forKey: .event), source: source, at: at)
        case .semaphore: self = .semaphore(try c.decode(SemaphoreEvent.self, forKey: .event), source: source, at: at)
        case .actor: self = .actor(try c.decode(ActorEvent.self, forKey: .event), source: source, at: at)
        case .stream: self = .stream(try c.decode(StreamEvent.self, forKey: .event), source: source, at: at)
        case .resource: self = .resource(try c.decode(ResourceEvent.self, forKey: .event), source: source, at: at)
        case .health: self = .health(try c.decode(HealthEvent.self, forKey: .event), source: source, at: at)
        }
    }

    /// Encodes flat: kind, name, at, and the kind's event.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // The source's kind names the event's kind: an event is always of its source's kind.
        try c.encode(source.kind, forKey: .kind)
        try c.encode(source.name, forKey: .name)
        try c.encode(at, forKey: .at)
        switch self {
        case .queue(let e, _, _): try c.encode(e, forKey: .event)
        case .semaphore(let e, _, _): try c.encode(e, forKey: .event)
        case .actor(let e, _, _): try c.encode(e, forKey: .event)
        case .stream(let e, _, _): try c.encode(e, forKey: .event)
        case .resource(let e, _, _): try c.encode(e, forKey: .event)
        case .health(let e, _, _): try c.encode(e, forKey: .event)
        }
    }
}

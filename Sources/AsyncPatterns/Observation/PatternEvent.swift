/// What kind of pattern emitted an event.
public enum PatternKind: String, Sendable, Hashable, CaseIterable, Codable {
    case queue, semaphore, actor, stream, resource, health
}

/// The identity of one running pattern instance: its kind and a human name.
public struct PatternID: Sendable, Hashable, CustomStringConvertible {
    public let kind: PatternKind
    public let name: String

    public init(_ kind: PatternKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind.rawValue):\(name)" }
}

/// Monotonic nanoseconds, the timestamp on every event.
///
/// Real (not scenario) time: it orders events and measures latencies even while a scenario
/// clock is paused or sped up.
public struct MonotonicInstant: Sendable, Hashable, Comparable {
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Reads the monotonic clock (`CLOCK_MONOTONIC`, via `ContinuousClock` semantics).
    @inlinable
    public static func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: monotonicNanoseconds())
    }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    public func nanoseconds(since earlier: MonotonicInstant) -> UInt64 {
        nanoseconds &- min(nanoseconds, earlier.nanoseconds)
    }
}

/// The gauges of a queue at the moment of an event, read under its lock.
public struct QueueGauges: Sendable, Hashable {
    public var depth: Int
    public var waitingProducers: Int
    public var waitingConsumers: Int
    public init(depth: Int, waitingProducers: Int, waitingConsumers: Int) {
        self.depth = depth
        self.waitingProducers = waitingProducers
        self.waitingConsumers = waitingConsumers
    }
}

/// Events from a `BoundedQueue`. Each carries the gauges after the change.
public enum QueueEvent: Sendable, Hashable {
    /// An item entered the queue (or went straight to a waiting consumer).
    case put(QueueGauges)
    /// An item left the queue; `waitedNanos` is how long it sat in the queue.
    case got(QueueGauges, waitedNanos: UInt64)
    /// A producer suspended because the queue is full.
    case producerBlocked(QueueGauges)
    /// A consumer suspended because the queue is empty.
    case consumerBlocked(QueueGauges)
    /// A waiting producer or consumer gave up (cancelled or timed out) without effect.
    case waiterAbandoned(QueueGauges, producer: Bool)
    /// `taskDone()` was called; `unfinished` items remain un-done.
    case taskDone(unfinished: Int)
    /// The capacity changed.
    case capacityChanged(capacity: Int, QueueGauges)
    /// The queue was closed; waiters were released.
    case closed(QueueGauges)
}

/// The gauges of a semaphore at the moment of an event, read under its lock.
public struct SemaphoreGauges: Sendable, Hashable {
    public var limit: Int
    public var inUse: Int
    public var waiting: Int
    public init(limit: Int, inUse: Int, waiting: Int) {
        self.limit = limit
        self.inUse = inUse
        self.waiting = waiting
    }
}

/// Events from an `AsyncSemaphore`. Each carries the gauges after the change.
public enum SemaphoreEvent: Sendable, Hashable {
    /// A permit was granted after `waitedNanos` of waiting (0 when free at once).
    case acquired(SemaphoreGauges, waitedNanos: UInt64)
    /// A permit was returned.
    case released(SemaphoreGauges)
    /// A task started waiting for a permit.
    case waiting(SemaphoreGauges)
    /// A waiting task gave up (cancelled or timed out) and holds no permit.
    case waiterAbandoned(SemaphoreGauges)
    /// The limit changed.
    case limitChanged(SemaphoreGauges)
}

/// Events from a mailbox actor.
public enum ActorEvent: Sendable, Hashable {
    /// A message entered the mailbox; `depth` counts messages queued after it.
    case enqueued(depth: Int)
    /// A message was processed in `nanos`.
    case processed(depth: Int, nanos: UInt64)
    /// A message could not be delivered: `to` is unknown, stopped, or its mailbox is full.
    case deadLetter(to: String, reason: DeadLetterReason)
    /// A sender suspended because the mailbox is full.
    case senderBlocked(depth: Int)
    /// The actor started.
    case started
    /// The actor stopped after processing its last message.
    case stopped(unprocessed: Int)
    /// The behaviour threw while processing a message; the actor goes on.
    case failed(depth: Int)
}

/// Why a message became a dead letter.
public enum DeadLetterReason: String, Sendable, Hashable, Codable {
    case unknownRecipient = "unknown recipient"
    case stopped = "recipient stopped"
    case mailboxFull = "mailbox full"
}

/// Events from a progress stream or generator.
public enum StreamEvent: Sendable, Hashable {
    /// An element was produced; `total` is nil for open-ended generators.
    case produced(count: Int, total: Int?)
    /// An element reached the consumer.
    case consumed(count: Int, total: Int?)
    /// The stream ended normally.
    case finished(count: Int)
    /// The stream ended with an error (or was cancelled).
    case failed(count: Int)
}

/// Events from async resource scopes.
public enum ResourceEvent: Sendable, Hashable {
    case opening
    case opened(openNanos: UInt64)
    case closing
    /// The resource was closed after being open for `heldNanos`; `bodyFailed` says whether
    /// the body threw (or was cancelled).
    case closed(heldNanos: UInt64, bodyFailed: Bool)
    /// Opening failed; nothing was open, nothing is closed.
    case openFailed
    /// A timing scope finished after `nanos`.
    case timed(nanos: UInt64)
}

/// Events from health monitors (loop lag).
public enum HealthEvent: Sendable, Hashable {
    /// A heartbeat ran `lagNanos` later than scheduled.
    case loopLag(lagNanos: UInt64)
    /// A free-form note from a scenario (shown in the event log).
    case note(String)
}

/// One state change of one pattern. The enum is closed: every observer can switch over it.
public enum PatternEvent: Sendable, Hashable {
    case queue(QueueEvent, source: PatternID, at: MonotonicInstant)
    case semaphore(SemaphoreEvent, source: PatternID, at: MonotonicInstant)
    case actor(ActorEvent, source: PatternID, at: MonotonicInstant)
    case stream(StreamEvent, source: PatternID, at: MonotonicInstant)
    case resource(ResourceEvent, source: PatternID, at: MonotonicInstant)
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
}

extension PatternEvent {
    /// Events that mark a change of shape rather than routine flow: notes, blocking,
    /// giving up, limits and capacities, dead letters, failures, starts and stops. The
    /// aggregating observer keeps these in a log of their own, so a flood of puts and gets
    /// cannot push them out.
    public var isNotable: Bool {
        switch self {
        case .health(.note, _, _): return true
        case .health(.loopLag, _, _): return false
        case .queue(let e, _, _):
            switch e {
            case .producerBlocked, .waiterAbandoned, .capacityChanged, .closed: return true
            case .put, .got, .consumerBlocked, .taskDone: return false
            }
        case .semaphore(let e, _, _):
            switch e {
            case .waiterAbandoned, .limitChanged: return true
            case .acquired, .released, .waiting: return false
            }
        case .actor(let e, _, _):
            switch e {
            case .deadLetter, .senderBlocked, .failed, .started, .stopped: return true
            case .enqueued, .processed: return false
            }
        case .stream(let e, _, _):
            switch e {
            case .finished, .failed: return true
            case .produced, .consumed: return false
            }
        case .resource(let e, _, _):
            switch e {
            case .openFailed: return true
            case .closed(_, let failed): return failed
            case .opening, .opened, .closing, .timed: return false
            }
        }
    }
}

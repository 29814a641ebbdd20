/// A pattern's identity, in one object its events point to without retaining it.
///
/// An event carries its pattern's name, a `String`; copied into every event, the name's
/// storage was retained and released once an event, an atomic pair on a line every emitting
/// thread shares. The event buffer and the event logs keep events as `BufferedEvent`s, which
/// point at this object unretained. While its pattern lives, the pattern holds it; the
/// buffer adopts it when the pattern leaves the registry (`EventBuffer.adopt`), and each log
/// holds the sources of the events it keeps.
@usableFromInline final class SourceName: Sendable {
    @usableFromInline let id: PatternID

    @usableFromInline init(_ id: PatternID) { self.id = id }
}

/// An event of one pattern kind, without its source and time (those are `BufferedEvent`'s).
@usableFromInline enum EventBody: Sendable {
    case queue(QueueEvent)
    case semaphore(SemaphoreEvent)
    case actor(ActorEvent)
    case stream(StreamEvent)
    case resource(ResourceEvent)
    case health(HealthEvent)

    @inlinable var isNotable: Bool {
        switch self {
        case .queue(let e): e.isNotable
        case .semaphore(let e): e.isNotable
        case .actor(let e): e.isNotable
        case .stream(let e): e.isNotable
        case .resource(let e): e.isNotable
        case .health(let e): e.isNotable
        }
    }
}

/// A `PatternEvent` as the event buffer and the event logs keep it: its source unretained
/// (see `SourceName`), turned into a `PatternEvent` when read.
///
/// `@unchecked Sendable`: `source` is an unretained reference to a `SourceName`, which is
/// `Sendable` (immutable); whoever holds a `BufferedEvent` also keeps its `SourceName` alive
/// (the pattern's emitter while the pattern lives, then the buffer's adopted names; a log's
/// holders), so the pointer is never read after the object is gone.
@usableFromInline struct BufferedEvent: @unchecked Sendable {
    @usableFromInline let source: Unmanaged<SourceName>
    @usableFromInline let at: MonotonicInstant
    @usableFromInline let body: EventBody

    @inlinable init(source: Unmanaged<SourceName>, at: MonotonicInstant, body: EventBody) {
        self.source = source
        self.at = at
        self.body = body
    }

    @inlinable var isNotable: Bool { body.isNotable }

    /// The event as observers see it.
    var event: PatternEvent {
        let id = source._withUnsafeGuaranteedRef { $0.id }
        switch body {
        case .queue(let e): return .queue(e, source: id, at: at)
        case .semaphore(let e): return .semaphore(e, source: id, at: at)
        case .actor(let e): return .actor(e, source: id, at: at)
        case .stream(let e): return .stream(e, source: id, at: at)
        case .resource(let e): return .resource(e, source: id, at: at)
        case .health(let e): return .health(e, source: id, at: at)
        }
    }
}

extension PatternEvent {
    /// The event without its source and time.
    var body: EventBody {
        switch self {
        case .queue(let e, _, _): .queue(e)
        case .semaphore(let e, _, _): .semaphore(e)
        case .actor(let e, _, _): .actor(e)
        case .stream(let e, _, _): .stream(e)
        case .resource(let e, _, _): .resource(e)
        case .health(let e, _, _): .health(e)
        }
    }
}

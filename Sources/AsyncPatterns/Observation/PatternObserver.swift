/// Receives every state change of the patterns it is given to.
///
/// `observe` is called synchronously on the task that caused the change, after the
/// pattern's lock is released. It must not block, suspend or call back into the pattern;
/// keep it to a few counter updates (see `AggregatingObserver`).
public protocol PatternObserver: Sendable {
    func observe(_ event: PatternEvent)
}

/// Sends each event to several observers in order.
public struct FanOutObserver: PatternObserver {
    public let observers: [any PatternObserver]
    public init(_ observers: [any PatternObserver]) { self.observers = observers }
    public func observe(_ event: PatternEvent) {
        for observer in observers { observer.observe(event) }
    }
}

/// A pattern's link to its observer: cheap to keep when there is none.
///
/// Reading the clock costs ~20 ns, so the timestamp is taken only when someone listens.
@usableFromInline
struct Emitter: Sendable {
    @usableFromInline let observer: (any PatternObserver)?
    @usableFromInline let source: PatternID
    /// Stored, not `observer != nil`: comparing an optional existential with nil copies it
    /// first (a few percent of an unobserved mailbox's time, in perf).
    @usableFromInline let isActive: Bool

    init(_ observer: (any PatternObserver)?, _ source: PatternID) {
        self.observer = observer
        self.source = source
        isActive = observer != nil
    }

    /// Now, if anyone observes; zero otherwise (so idle patterns pay no clock read).
    @inlinable func stamp() -> UInt64 { isActive ? monotonicNanoseconds() : 0 }

    /// `stamp` is a time the caller already read with `stamp()` (0: read it now), so a
    /// queue operation reads the clock once for both its wait times and its events.
    @inlinable func queue(_ event: @autoclosure () -> QueueEvent, at stamp: UInt64 = 0) {
        send(.queue(event(), source: source, at: stamp == 0 ? .now() : MonotonicInstant(nanoseconds: stamp)))
    }
    @inlinable func semaphore(_ event: @autoclosure () -> SemaphoreEvent) {
        send(.semaphore(event(), source: source, at: .now()))
    }
    @inlinable func actor(_ event: @autoclosure () -> ActorEvent) {
        send(.actor(event(), source: source, at: .now()))
    }
    @inlinable func stream(_ event: @autoclosure () -> StreamEvent) {
        send(.stream(event(), source: source, at: .now()))
    }
    @inlinable func resource(_ event: @autoclosure () -> ResourceEvent) {
        send(.resource(event(), source: source, at: .now()))
    }
    @inlinable func health(_ event: @autoclosure () -> HealthEvent) {
        send(.health(event(), source: source, at: .now()))
    }

    /// Builds the event (and reads the clock) only when someone observes.
    @inlinable func send(_ event: @autoclosure () -> PatternEvent) {
        if isActive, let observer { observer.observe(event()) }
    }
}

import Synchronization

/// Progress of a stream at one moment.
public struct StreamStats: Sendable, Hashable {
    /// Elements produced so far.
    public var produced: Int
    /// Elements handed to the consumer so far.
    public var consumed: Int
    /// nil for open-ended generators.
    public var total: Int?
    /// Ended: ran to its end, failed, or its consumer stopped early.
    public var finished: Bool
    /// Whether it ended with an error.
    public var failed: Bool
    /// The consumer stopped iterating before the end.
    public var stoppedEarly: Bool
}

/// The counters of one iteration of a stream, and what its registry reads (and holds until
/// the run ends). Each iteration (`makeAsyncIterator`) is a run of its own: iterating twice
/// counts each run from zero instead of adding them up. When the iteration is dropped
/// before its end (the consumer broke out of its loop), its owner ends the run as stopped
/// early.
@usableFromInline
final class StreamProgress: Sendable, PatternProbe {
    @usableFromInline enum Ending: Int {
        case running = 0
        case finished, failed, stoppedEarly
    }

    @usableFromInline let total: Int?
    /// Relaxed, like `consumed`: counts to show, publishing no other memory.
    @usableFromInline let produced = Atomic<Int>(0)
    @usableFromInline let consumed = Atomic<Int>(0)
    private let ending = Atomic<Int>(Ending.running.rawValue)
    @usableFromInline let emit: Emitter

    /// Tells `latest` it is the stream's newest run (and keeps no reference to it: the
    /// stream's `LatestRun` holds this run, and a reference back would be a cycle).
    @usableFromInline init(total: Int?, name: String, registry: PatternRegistry?, latest: LatestRun) {
        self.total = total
        emit = Emitter(registry, PatternID(.stream, name))
        emit.register(self)
        latest.started(self)
    }

    var stats: StreamStats {
        let end = Ending(rawValue: ending.load(ordering: .acquiring)) ?? .running
        return StreamStats(
            produced: produced.load(ordering: .relaxed), consumed: consumed.load(ordering: .relaxed),
            total: total, finished: end != .running, failed: end == .failed, stoppedEarly: end == .stoppedEarly)
    }

    func read() -> PatternReading { .stream(snapshot()) }

    private func snapshot() -> StreamSnapshot {
        let s = stats
        var snap = StreamSnapshot(name: emit.source.name)
        snap.produced = s.produced
        snap.consumed = s.consumed
        snap.total = s.total
        snap.isFinished = s.finished
        snap.isFailed = s.failed
        snap.stoppedEarly = s.stoppedEarly
        return snap
    }

    @inlinable func produce() {
        let count = produced.wrappingAdd(1, ordering: .relaxed).newValue
        if emit.wants(notable: false) { emit.stream(.produced(count: count, total: total)) }
    }

    @inlinable func consume() {
        let count = consumed.wrappingAdd(1, ordering: .relaxed).newValue
        if emit.wants(notable: false) { emit.stream(.consumed(count: count, total: total)) }
    }

    /// An element produced and handed over at once (a pull stream): one check of whether
    /// anyone listens for both events.
    @inlinable func handOver() {
        let made = produced.wrappingAdd(1, ordering: .relaxed).newValue
        let taken = consumed.wrappingAdd(1, ordering: .relaxed).newValue
        guard emit.wants(notable: false) else { return }
        emit.stream(.produced(count: made, total: total))
        emit.stream(.consumed(count: taken, total: total))
    }

    /// Ends the run once (later calls do nothing), reports it and leaves the registry.
    @usableFromInline func end(_ how: Ending) {
        guard ending.compareExchange(expected: Ending.running.rawValue, desired: how.rawValue, ordering: .acquiringAndReleasing).exchanged
        else { return }
        let count = produced.load(ordering: .relaxed)
        switch how {
        case .finished: emit.stream(.finished(count: count))
        case .failed: emit.stream(.failed(count: count))
        case .stoppedEarly: emit.stream(.stoppedEarly(count: count))
        case .running: preconditionFailure("a run cannot end as running")
        }
        emit.retire(.stream(snapshot()))
    }
}

/// The stream value's view of its most recent run, for `stats`.
@usableFromInline
final class LatestRun: Sendable {
    private let run = Locked<StreamProgress?>(nil)
    private let total: Int?

    @usableFromInline init(total: Int?) { self.total = total }

    func started(_ run: StreamProgress) { self.run.withLock { $0 = run } }

    var stats: StreamStats {
        run.withLock { $0 }?.stats
            ?? StreamStats(produced: 0, consumed: 0, total: total, finished: false, failed: false, stoppedEarly: false)
    }
}

/// Owns one iteration of a pull stream: when the iterator holding it is dropped before the
/// end, the run ends as stopped early.
@usableFromInline
final class StreamRunOwner: Sendable {
    @usableFromInline let progress: StreamProgress
    @usableFromInline init(_ progress: StreamProgress) { self.progress = progress }
    deinit { progress.end(.stoppedEarly) }
}

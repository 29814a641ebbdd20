import Synchronization

/// An `AsyncSequence` over a collection of known length that reports progress (the
/// tutorial's `AsyncDataStream`): each element is produced after `delay` on `clock`.
///
/// Pull-based: nothing runs ahead of the consumer, no task is spawned. An element counts
/// as consumed when the consumer asks for the next one (or stops iterating).
/// Emits `StreamEvent`s: produced, consumed, finished, failed (cancelled).
public struct ProgressStream<Base: Collection & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    public typealias Element = Base.Element

    @usableFromInline let base: Base
    @usableFromInline let delay: Duration
    @usableFromInline let clock: any Clock<Duration>
    @usableFromInline let emit: Emitter
    @usableFromInline let progress: StreamProgress

    /// - Parameters:
    ///   - base: the elements; `base.count` is the known total.
    ///   - delay: the wait before each element (zero for none).
    ///   - clock: what `delay` is measured on.
    ///   - name: the name in events; `observer` receives them.
    public init(_ base: Base, delay: Duration = .zero, clock: any Clock<Duration> = ContinuousClock(),
                name: String = "stream", observer: (any PatternObserver)? = nil) {
        self.base = base
        self.delay = delay
        self.clock = clock
        self.emit = Emitter(observer, PatternID(.stream, name))
        self.progress = StreamProgress(total: base.count)
    }

    /// Produced and consumed so far across every iteration of this stream.
    public var stats: StreamStats { progress.stats }

    @inlinable
    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, index: base.startIndex)
    }

    // Inlinable so that a client's iteration is specialized for its collection: generic
    // code called across the module boundary costs a metadata lookup per element.
    public struct Iterator: AsyncIteratorProtocol {
        @usableFromInline let stream: ProgressStream
        @usableFromInline var index: Base.Index
        @usableFromInline var handedOut = false
        @usableFromInline var done = false

        @inlinable
        init(stream: ProgressStream, index: Base.Index) {
            self.stream = stream
            self.index = index
        }

        /// Suspends for `delay` on the clock, then returns the next element, or nil at the end.
        /// - Throws: `CancellationError` if cancelled while waiting (the stream fails).
        @inlinable
        public mutating func next() async throws -> Element? {
            if handedOut { stream.consumed() }
            handedOut = false
            guard !done else { return nil }
            guard index != stream.base.endIndex else {
                done = true
                stream.finished()
                return nil
            }
            do {
                if stream.delay > .zero { try await stream.clock.sleep(for: stream.delay) }
            } catch {
                done = true
                stream.failed()
                throw error
            }
            let element = stream.base[index]
            stream.base.formIndex(after: &index)
            stream.produced()
            handedOut = true
            return element
        }
    }

    @inlinable
    func produced() {
        let count = progress.produce()
        emit.stream(.produced(count: count, total: progress.total))
    }
    @inlinable
    func consumed() {
        let count = progress.consume()
        emit.stream(.consumed(count: count, total: progress.total))
    }
    @usableFromInline
    func finished() {
        progress.finish(failed: false)
        emit.stream(.finished(count: progress.stats.produced))
    }
    @usableFromInline
    func failed() {
        progress.finish(failed: true)
        emit.stream(.failed(count: progress.stats.produced))
    }
}

/// Progress of a stream at one moment.
public struct StreamStats: Sendable, Hashable {
    public var produced: Int
    public var consumed: Int
    /// nil for open-ended generators.
    public var total: Int?
    public var finished: Bool
    public var failed: Bool
}

/// Shared counters behind a stream (iterators are values; progress is one place).
/// Atomics, not a lock: produced and consumed are counted once per element.
@usableFromInline
final class StreamProgress: Sendable {
    @usableFromInline let total: Int?
    @usableFromInline let produced = Atomic<Int>(0)
    @usableFromInline let consumed = Atomic<Int>(0)
    /// 0 running, 1 finished, 2 failed.
    let ending = Atomic<Int>(0)

    init(total: Int?) { self.total = total }

    var stats: StreamStats {
        let end = ending.load(ordering: .acquiring)
        return StreamStats(produced: produced.load(ordering: .relaxed), consumed: consumed.load(ordering: .relaxed),
                           total: total, finished: end != 0, failed: end == 2)
    }

    @inlinable func produce() -> Int { produced.wrappingAdd(1, ordering: .relaxed).newValue }
    @inlinable func consume() -> Int { consumed.wrappingAdd(1, ordering: .relaxed).newValue }
    func finish(failed: Bool) { ending.store(failed ? 2 : 1, ordering: .releasing) }
}

extension AsyncSequence where Self: Sendable {
    /// Gathers every element into an array (an async comprehension:
    /// `[n async for n in s]`). Suspends until the sequence ends.
    public func collect() async throws -> [Element] {
        var result: [Element] = []
        for try await element in self { result.append(element) }
        return result
    }
}

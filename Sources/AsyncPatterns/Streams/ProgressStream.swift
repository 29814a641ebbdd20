import Synchronization

/// An `AsyncSequence` over a collection of known length that reports progress (the
/// tutorial's `AsyncDataStream`): each element is produced after `delay` on `clock`.
///
/// Pull-based: nothing runs ahead of the consumer, no task is spawned. An element counts
/// as consumed when the consumer asks for the next one (or stops iterating).
/// Emits `StreamEvent`s: produced, consumed, finished, failed (cancelled).
public struct ProgressStream<Base: Collection & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    public typealias Element = Base.Element

    let base: Base
    let delay: Duration
    let clock: any Clock<Duration>
    let emit: Emitter
    let progress: StreamProgress

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

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, index: base.startIndex)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: ProgressStream
        var index: Base.Index
        var handedOut = false
        var done = false

        /// Suspends for `delay` on the clock, then returns the next element, or nil at the end.
        /// - Throws: `CancellationError` if cancelled while waiting (the stream fails).
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

    func produced() {
        let count = progress.produce()
        emit.stream(.produced(count: count, total: progress.total))
    }
    func consumed() {
        let count = progress.consume()
        emit.stream(.consumed(count: count, total: progress.total))
    }
    func finished() {
        progress.finish(failed: false)
        emit.stream(.finished(count: progress.stats.produced))
    }
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
final class StreamProgress: Sendable {
    let total: Int?
    private let state: Locked<StreamStats>

    init(total: Int?) {
        self.total = total
        state = Locked(StreamStats(produced: 0, consumed: 0, total: total, finished: false, failed: false))
    }

    var stats: StreamStats { state.withLock { $0 } }

    func produce() -> Int { state.withLock { $0.produced += 1; return $0.produced } }
    func consume() -> Int { state.withLock { $0.consumed += 1; return $0.consumed } }
    func finish(failed: Bool) {
        state.withLock {
            $0.finished = true
            $0.failed = failed
        }
    }
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

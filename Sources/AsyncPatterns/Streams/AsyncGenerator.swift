import Synchronization

/// An async generator (the tutorial's `async def ... yield`): a producer closure that
/// yields elements, consumed as an `AsyncSequence` that composes with `filter`, `map`, ...
///
/// The producer runs in its own task, at most `buffer` elements ahead of the consumer
/// (back-pressure through a `BoundedQueue`, not `AsyncStream`). When the consumer stops
/// early, the producer is cancelled. Emits `StreamEvent`s like `ProgressStream`.
public struct AsyncGenerator<Element: Sendable>: AsyncSequence, Sendable {
    /// Hands one element to the consumer; suspends while the buffer is full.
    public typealias Yield = @Sendable (Element) async throws -> Void

    @usableFromInline let produce: @Sendable (Yield) async throws -> Void
    @usableFromInline let buffer: Int
    @usableFromInline let emit: Emitter
    @usableFromInline let progress: StreamProgress

    /// - Parameters:
    ///   - total: how many elements it will yield, if known (for progress and ETA).
    ///   - buffer: how far the producer may run ahead (at least 1).
    ///   - produce: the body; call `yield` for each element, return to finish, throw to fail.
    public init(total: Int? = nil, buffer: Int = 1, name: String = "generator",
                observer: (any PatternObserver)? = nil,
                _ produce: @escaping @Sendable (Yield) async throws -> Void) {
        precondition(buffer >= 1, "a generator buffer must be at least 1")
        self.produce = produce
        self.buffer = buffer
        self.emit = Emitter(observer, PatternID(.stream, name))
        self.progress = StreamProgress(total: total)
    }

    public var stats: StreamStats { progress.stats }

    @inlinable
    public func makeAsyncIterator() -> Iterator {
        Iterator(run: GeneratorRun(self))
    }

    // Inlinable, like the run below, so a client's loop is specialized for its element type.
    public struct Iterator: AsyncIteratorProtocol {
        @usableFromInline let run: GeneratorRun<Element>
        @usableFromInline var handedOut = false
        @usableFromInline var started = false

        @inlinable
        init(run: GeneratorRun<Element>) { self.run = run }

        /// Suspends until the producer yields, then returns the element; nil once it returns.
        /// - Throws: what the producer threw.
        @inlinable
        public mutating func next() async throws -> Element? {
            if handedOut {
                handedOut = false
                run.consumed()
            }
            if !started {
                started = true
                run.start()
            }
            guard let element = try await run.next() else { return nil }
            handedOut = true
            return element
        }
    }
}

/// One iteration of a generator: its producer task and buffer. Cancels the producer when
/// the iterator is dropped, so an abandoned generator never leaks a task.
public final class GeneratorRun<Element: Sendable>: Sendable {
    @usableFromInline let buffer: BoundedQueue<Element>
    @usableFromInline let producer: Locked<Task<Void, Never>?> = Locked(nil)
    @usableFromInline let failure = FailureBox()
    @usableFromInline let generator: AsyncGenerator<Element>

    @usableFromInline
    init(_ generator: AsyncGenerator<Element>) {
        self.generator = generator
        buffer = BoundedQueue(capacity: generator.buffer, name: "generator-buffer")
    }

    deinit {
        cancelProducer()
        buffer.close()
    }

    @inlinable
    func start() {
        producer.withLock { task in
            if task != nil { return }
            let buffer = self.buffer
            let generator = self.generator
            let failure = self.failure
            task = Task {
                do {
                    try await generator.produce { element in
                        try await buffer.put(element)
                        let count = generator.progress.produce()
                        generator.emit.stream(.produced(count: count, total: generator.progress.total))
                    }
                } catch {
                    failure.record(error)
                }
                buffer.close()
            }
        }
    }

    @usableFromInline
    func cancelProducer() {
        producer.withLock { $0?.cancel() }
    }

    /// A cancelled consumer cancels the producer: checked on each call, and when a wait for
    /// the next element ends in `CancellationError` (the buffer's get is cancellable), which
    /// is cheaper than a cancellation handler installed for every element.
    @inlinable
    func next() async throws -> Element? {
        if Task.isCancelled { cancelProducer() }
        do {
            return try await buffer.get()
        } catch is QueueClosed {
            return try finish()
        } catch {
            cancelProducer()
            throw error
        }
    }

    @usableFromInline
    func finish() throws -> Element? {
        if let error = failure.error {
            generator.progress.finish(failed: true)
            generator.emit.stream(.failed(count: generator.progress.stats.produced))
            throw error
        }
        generator.progress.finish(failed: false)
        generator.emit.stream(.finished(count: generator.progress.stats.produced))
        return nil
    }

    @inlinable
    func consumed() {
        let count = generator.progress.consume()
        generator.emit.stream(.consumed(count: count, total: generator.progress.total))
    }
}

/// The tutorial's `async_range(start, stop, step)`: yields `start, start+step, ...` up to
/// (not including) `stop`, waiting `delay` on `clock` before each (0.01 s in the tutorial).
/// Pull-based: no task, no buffer. Composes with `filter`/`map`:
/// `asyncRange(0, 5).filter { $0 % 2 == 0 }.collect()` is `[0, 2, 4]`.
public func asyncRange(_ start: Int, _ stop: Int, step: Int = 1, delay: Duration = .milliseconds(10),
                       clock: any Clock<Duration> = ContinuousClock(), name: String = "async_range",
                       observer: (any PatternObserver)? = nil) -> ProgressStream<IntStride> {
    ProgressStream(IntStride(start, stop, step: step), delay: delay, clock: clock, name: name, observer: observer)
}

/// `start, start+step, ...` up to (not including) `stop`, as a collection computed from
/// its index: a million-element range costs no memory (`stride` is only a sequence, and an
/// array of it would allocate every element).
public struct IntStride: RandomAccessCollection, Sendable, Hashable {
    public let start: Int
    public let step: Int
    public let count: Int

    public init(_ start: Int, _ stop: Int, step: Int = 1) {
        precondition(step != 0, "asyncRange step cannot be zero")
        self.start = start
        self.step = step
        let span = step > 0 ? stop - start : start - stop
        count = span <= 0 ? 0 : (span - 1) / abs(step) + 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> Int {
        precondition(position >= 0 && position < count, "IntStride index out of range")
        return start + position * step
    }
}

/// The producer task's error, shared with the iterator without the task owning the run
/// (which would keep an abandoned run, and its task, alive).
@usableFromInline
final class FailureBox: Sendable {
    private let state = Locked<(any Error)?>(nil)
    @usableFromInline init() {}
    @usableFromInline var error: (any Error)? { state.withLock { $0 } }
    @usableFromInline func record(_ error: any Error) { state.withLock { $0 = error } }
}

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

    let produce: @Sendable (Yield) async throws -> Void
    let buffer: Int
    let emit: Emitter
    let progress: StreamProgress

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

    public func makeAsyncIterator() -> Iterator {
        Iterator(run: GeneratorRun(self))
    }

    public struct Iterator: AsyncIteratorProtocol {
        let run: GeneratorRun<Element>
        var handedOut = false

        /// Suspends until the producer yields, then returns the element; nil once it returns.
        /// - Throws: what the producer threw.
        public mutating func next() async throws -> Element? {
            if handedOut {
                handedOut = false
                run.consumed()
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
    private let buffer: BoundedQueue<Element>
    private let producer: Locked<Task<Void, Never>?> = Locked(nil)
    private let failure = FailureBox()
    private let generator: AsyncGenerator<Element>

    init(_ generator: AsyncGenerator<Element>) {
        self.generator = generator
        buffer = BoundedQueue(capacity: generator.buffer, name: "generator-buffer")
    }

    deinit {
        producer.withLock { $0?.cancel() }
        buffer.close()
    }

    private func start() {
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

    func next() async throws -> Element? {
        start()
        do {
            return try await withTaskCancellationHandler {
                try await buffer.get()
            } onCancel: {
                producer.withLock { $0?.cancel() }
            }
        } catch is QueueClosed {
            if let error = failure.error {
                generator.progress.finish(failed: true)
                generator.emit.stream(.failed(count: generator.progress.stats.produced))
                throw error
            }
            generator.progress.finish(failed: false)
            generator.emit.stream(.finished(count: generator.progress.stats.produced))
            return nil
        }
    }

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
                       observer: (any PatternObserver)? = nil) -> ProgressStream<[Int]> {
    precondition(step != 0, "asyncRange step cannot be zero")
    return ProgressStream(Array(stride(from: start, to: stop, by: step)), delay: delay, clock: clock,
                          name: name, observer: observer)
}

/// The producer task's error, shared with the iterator without the task owning the run
/// (which would keep an abandoned run, and its task, alive).
final class FailureBox: Sendable {
    private let state = Locked<(any Error)?>(nil)
    var error: (any Error)? { state.withLock { $0 } }
    func record(_ error: any Error) { state.withLock { $0 = error } }
}

import Synchronization

/// An async generator (the tutorial's `async def ... yield`): a producer closure that
/// yields elements, consumed as an `AsyncSequence` that composes with `filter`, `map`, ...
///
/// The producer runs in its own task, at most `buffer` elements ahead of the consumer
/// (back-pressure through a `BoundedQueue`, not `AsyncStream`). When the consumer stops
/// early, the producer is cancelled and the run ends as stopped early. Each iteration is a
/// run of its own, listed in the registry while it runs, like `ProgressStream`'s.
public struct AsyncGenerator<Element: Sendable>: AsyncSequence, Sendable {
    /// What the producer calls to hand one element to the consumer: `try await yield(x)`.
    ///
    /// A value, not a closure: the call runs in the caller's isolation (no hop to the
    /// global executor) and, specialized in the caller, hands an element to a buffer with
    /// room without calling into an async function (each such call allocates a frame).
    /// It may be copied and called from several tasks of the producer.
    public struct Yield: Sendable {
        @usableFromInline let buffer: BoundedQueue<Element>
        @usableFromInline let progress: StreamProgress

        @inlinable init(buffer: BoundedQueue<Element>, progress: StreamProgress) {
            self.buffer = buffer
            self.progress = progress
        }

        /// Hands `element` to the consumer; suspends while the buffer is full.
        /// - Throws: once the consumer has stopped (the buffer is closed: `QueueClosed`),
        ///   or `CancellationError` when cancelled while waiting for room; either way the
        ///   element was not handed over, and the producer should return.
        @inlinable
        nonisolated(nonsending) public func callAsFunction(_ element: Element) async throws {
            try await buffer.put(element)
            progress.produce()
        }
    }

    @usableFromInline let produce: @Sendable (Yield) async throws -> Void
    @usableFromInline let buffer: Int
    @usableFromInline let total: Int?
    @usableFromInline let name: String
    @usableFromInline let registry: PatternRegistry?
    @usableFromInline let latest: LatestRun

    /// - Parameters:
    ///   - total: how many elements it will yield, if known (for progress and ETA).
    ///   - buffer: how far the producer may run ahead (at least 1).
    ///   - name: the name in snapshots and events.
    ///   - registry: where each iteration is listed while it runs (nil: nowhere).
    ///   - produce: the body; call `yield` for each element, return to finish, throw to fail.
    public init(
        total: Int? = nil, buffer: Int = 1, name: String = "generator",
        registry: PatternRegistry? = .shared,
        _ produce: @escaping @Sendable (Yield) async throws -> Void
    ) {
        precondition(buffer >= 1, "a generator buffer must be at least 1")
        self.produce = produce
        self.buffer = buffer
        self.total = total
        self.name = name
        self.registry = registry
        self.latest = LatestRun(total: total)
    }

    /// Produced and consumed so far in the most recent iteration.
    public var stats: StreamStats { latest.stats }

    /// Starts a run: the producer starts on the first `next()`.
    @inlinable
    public func makeAsyncIterator() -> Iterator {
        Iterator(run: GeneratorRun(self))
    }

    // Inlinable, like the run below, so a client's loop is specialized for its element type.
    /// One run of the generator: its producer task and its buffer.
    public struct Iterator: AsyncIteratorProtocol {
        @usableFromInline let run: GeneratorRun<Element>
        @usableFromInline var started = false
        @usableFromInline var taken: UInt32 = 0

        @inlinable
        init(run: GeneratorRun<Element>) { self.run = run }

        /// Suspends until the producer yields, then returns the element; nil once it returns.
        /// - Throws: what the producer threw.
        @inlinable
        nonisolated(nonsending) public mutating func next() async throws -> Element? {
            if !started {
                started = true
                run.start()
            }
            // A cancelled consumer cancels the producer: looked at every 32nd call (the look
            // is a thread-local read and a runtime call), and a wait for an element is itself
            // cancellable (`run.next()`).
            taken &+= 1
            if taken & 31 == 0, Task.isCancelled { run.cancelProducer() }
            guard let element = try await run.next() else { return nil }
            run.progress.consume()
            return element
        }
    }
}

/// One iteration of a generator: its producer task, buffer and progress. Cancels the
/// producer when the iterator is dropped, so an abandoned generator never leaks a task.
@usableFromInline
final class GeneratorRun<Element: Sendable>: Sendable {
    @usableFromInline let buffer: BoundedQueue<Element>
    @usableFromInline let producer: Locked<Task<Void, Never>?> = Locked(nil)
    @usableFromInline let failure = FailureBox()
    @usableFromInline let generator: AsyncGenerator<Element>
    @usableFromInline let progress: StreamProgress

    @usableFromInline
    init(_ generator: AsyncGenerator<Element>) {
        self.generator = generator
        buffer = BoundedQueue(capacity: generator.buffer, name: "generator-buffer", registry: nil)
        progress = StreamProgress(
            total: generator.total, name: generator.name, registry: generator.registry,
            latest: generator.latest)
    }

    deinit {
        cancelProducer()
        buffer.close()
        progress.end(.stoppedEarly)
    }

    @inlinable
    func start() {
        producer.withLock { task in
            if task != nil { return }
            let buffer = self.buffer
            let generator = self.generator
            let failure = self.failure
            let progress = self.progress
            task = Task {
                do {
                    try await generator.produce(AsyncGenerator.Yield(buffer: buffer, progress: progress))
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

    /// The next element, waiting for it if none is ready. A wait ended by the consumer's
    /// cancellation (the buffer's get is cancellable) cancels the producer, which is cheaper
    /// than a cancellation handler installed for every element.
    @inlinable
    nonisolated(nonsending) func next() async throws -> Element? {
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
            progress.end(.failed)
            throw error
        }
        progress.end(.finished)
        return nil
    }
}

/// The tutorial's `async_range(start, stop, step)`: yields `start, start+step, ...` up to
/// (not including) `stop`, waiting `delay` on `clock` before each (0.01 s in the tutorial).
/// Pull-based: no task, no buffer. Composes with `filter`/`map`:
/// `asyncRange(0, 5).filter { $0 % 2 == 0 }` yields `0, 2, 4`.
/// - Parameters:
///   - start: the first element.
///   - stop: the end, not included.
///   - step: the difference between elements (not zero; negative counts down).
///   - delay: the wait on `clock` before each element.
///   - clock: what `delay` is measured on (`ContinuousClock` by default).
///   - name: the name in snapshots and events.
///   - registry: where each iteration is listed while it runs (nil: nowhere).
public func asyncRange<C: Clock>(
    _ start: Int, _ stop: Int, step: Int = 1, delay: Duration = .milliseconds(10),
    clock: C = ContinuousClock(), name: String = "async_range",
    registry: PatternRegistry? = .shared
) -> ProgressStream<IntStride, C> where C.Duration == Duration {
    ProgressStream(IntStride(start, stop, step: step), delay: delay, clock: clock, name: name, registry: registry)
}

/// `start, start+step, ...` up to (not including) `stop`, as a collection computed from
/// its index: a million-element range costs no memory (`stride` is only a sequence, and an
/// array of it would allocate every element).
public struct IntStride: RandomAccessCollection, Sendable, Hashable {
    /// The first element.
    public let start: Int
    /// The difference between elements (not zero).
    public let step: Int
    /// How many elements there are.
    public let count: Int

    /// The elements `start, start+step, ...` before `stop`.
    public init(_ start: Int, _ stop: Int, step: Int = 1) {
        precondition(step != 0, "asyncRange step cannot be zero")
        self.start = start
        self.step = step
        let span = step > 0 ? stop - start : start - stop
        count = span <= 0 ? 0 : (span - 1) / abs(step) + 1
    }

    /// Zero.
    public var startIndex: Int { 0 }
    /// `count`.
    public var endIndex: Int { count }
    /// The element at `position` (0..<count), computed.
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

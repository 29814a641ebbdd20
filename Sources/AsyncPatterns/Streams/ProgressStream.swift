import Synchronization

/// An `AsyncSequence` over a collection of known length that reports progress (the
/// tutorial's `AsyncDataStream`): each element is produced after `delay` on `clock`.
///
/// Pull-based: nothing runs ahead of the consumer, no task is spawned. An element counts as
/// produced and consumed when it is handed to the consumer. Each iteration is a run of its
/// own, listed in the registry until it ends: at the end of the collection (finished), when
/// the wait throws (failed, e.g. cancelled), or when the consumer stops iterating early.
/// Emits `StreamEvent`s to those who subscribe to the registry.
///
/// Generic over its clock, like every timed call in this library: a `ManualClock` in tests,
/// a `ScenarioClock` in simulations, `ContinuousClock` (the default) otherwise.
public struct ProgressStream<Base: Collection & Sendable, C: Clock>: AsyncSequence, Sendable where Base.Element: Sendable {
    /// The collection's element.
    public typealias Element = Base.Element

    @usableFromInline let base: Base
    @usableFromInline let delay: C.Duration
    @usableFromInline let clock: C
    @usableFromInline let name: String
    @usableFromInline let registry: PatternRegistry?
    @usableFromInline let latest: LatestRun

    /// - Parameters:
    ///   - base: the elements; `base.count` is the known total.
    ///   - delay: the wait before each element (zero for none).
    ///   - clock: what `delay` is measured on.
    ///   - name: the name in snapshots and events.
    ///   - registry: where each iteration is listed while it runs (nil: nowhere).
    public init(
        _ base: Base, delay: C.Duration = .zero, clock: C = ContinuousClock(),
        name: String = "stream", registry: PatternRegistry? = .shared
    ) {
        self.base = base
        self.delay = delay
        self.clock = clock
        self.name = name
        self.registry = registry
        self.latest = LatestRun(total: base.count)
    }

    /// Produced and consumed so far in the most recent iteration.
    public var stats: StreamStats { latest.stats }

    /// Starts a run of its own (listed in the registry until it ends).
    @inlinable
    public func makeAsyncIterator() -> Iterator {
        let run = StreamProgress(total: base.count, name: name, registry: registry, latest: latest)
        return Iterator(stream: self, index: base.startIndex, run: run, owner: StreamRunOwner(run))
    }

    // Inlinable so that a client's iteration is specialized for its collection: generic
    // code called across the module boundary costs a metadata lookup per element.
    /// One iteration: waits `delay` before each element, reports progress.
    public struct Iterator: AsyncIteratorProtocol {
        @usableFromInline let stream: ProgressStream
        @usableFromInline var index: Base.Index
        @usableFromInline let run: StreamProgress
        /// Ends the run as stopped early if this iterator is dropped before the end.
        @usableFromInline let owner: StreamRunOwner
        @usableFromInline var done = false

        @inlinable
        init(stream: ProgressStream, index: Base.Index, run: StreamProgress, owner: StreamRunOwner) {
            self.stream = stream
            self.index = index
            self.run = run
            self.owner = owner
        }

        /// Suspends for `delay` on the clock, then returns the next element, or nil at the end.
        /// - Throws: `CancellationError` if cancelled while waiting (the run fails).
        @inlinable
        public mutating func next() async throws -> Element? {
            guard !done else { return nil }
            guard index != stream.base.endIndex else {
                done = true
                run.end(.finished)
                return nil
            }
            do {
                if stream.delay > .zero { try await stream.clock.sleep(for: stream.delay) }
            } catch {
                done = true
                run.end(.failed)
                throw error
            }
            let element = stream.base[index]
            stream.base.formIndex(after: &index)
            run.handOver()
            return element
        }
    }
}

/// A `ProgressStream` on the continuous clock, the common case, named without its clock:
/// `let pages: ContinuousProgressStream<[URL]> = ProgressStream(urls, delay: .milliseconds(5))`.
/// (`ProgressStream(urls)` alone infers the same type; the name is for stored properties,
/// parameters and results.)
public typealias ContinuousProgressStream<Base: Collection & Sendable> = ProgressStream<Base, ContinuousClock>
where Base.Element: Sendable

extension AsyncSequence where Self: Sendable {
    /// Gathers every element into an array (an async comprehension:
    /// `[n async for n in s]`). Suspends until the sequence ends. For the package's own
    /// code and tests: not API (swift-async-algorithms has the public equivalent).
    package func collect() async throws -> [Element] {
        var result: [Element] = []
        for try await element in self { result.append(element) }
        return result
    }
}

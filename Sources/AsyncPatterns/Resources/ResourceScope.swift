import Synchronization

/// Async resource scopes (the tutorial's async context managers), observable.
///
/// `with(open:close:body:)` opens a resource, runs the body, and always runs the async
/// `close`: on success, on a thrown error and on cancellation. `close` runs in a task of its
/// own that is not cancelled, so its awaits complete even when the scope's task was
/// cancelled. The body's error is re-thrown, never swallowed.
/// Keeps its counts and how long resources stayed open; emits `ResourceEvent`s (opening,
/// opened, closing, closed, openFailed, timed) to those who subscribe to its registry.
public final class ResourceScope: Sendable {
    struct State: Sendable {
        var stats = ResourceStats()
        let held = LatencyDistribution()
        let timed = LatencyDistribution()
    }

    private let emit: Emitter
    private let state = Locked(State())
    /// What the registry reads (the state, not the scope).
    private let probe: LockedProbe<State>

    /// The identity in events (`kind` is `.resource`).
    public var id: PatternID { emit.source }

    /// - Parameters:
    ///   - name: the name in snapshots and events.
    ///   - registry: where the scope is listed while it lives (nil: nowhere).
    public init(name: String = "resources", registry: PatternRegistry? = .shared) {
        emit = Emitter(registry, PatternID(.resource, name))
        probe = LockedProbe(state) { s, gone in
            var r = ResourceSnapshot(name: name)
            r.opening = s.stats.opening
            r.open = s.stats.open
            r.closing = s.stats.closing
            r.opened = s.stats.opened
            r.closed = s.stats.closed
            r.failed = s.stats.failed
            r.openFailed = s.stats.openFailed
            r.closeFailed = s.stats.closeFailed
            r.held = s.held.percentiles()
            r.timed = s.timed.percentiles()
            r.isGone = gone
            return .resource(r)
        }
        emit.register(probe)
    }

    deinit { emit.retire(probe.last()) }

    /// Opens a resource, runs `body` with it, and closes it whatever happens.
    ///
    /// `open` and `body` run in the caller's isolation (`isolation` defaults to it), so
    /// inside an actor or on the main actor they may use its state, and the result need not
    /// be `Sendable`. `close` runs in a task of its own that is not cancelled, so a
    /// cancelled caller still gets a complete async close: that is why the resource is
    /// `Sendable` and `close` is `@Sendable`.
    /// - Suspends: during `open`, `body` and `close`.
    /// - Throws: `open`'s error (nothing was opened, `close` does not run); else `body`'s
    ///   error after `close` ran; else `close`'s error.
    /// - Emits: `.opening`, then `.opened` or `.openFailed`; `.closing` and `.closed`.
    public func with<R: Sendable, T>(
        isolation: isolated (any Actor)? = #isolation,
        open: () async throws -> R,
        close: @escaping @Sendable (R) async throws -> Void,
        body: (R) async throws -> sending T
    ) async throws -> sending T {
        update { $0.opening += 1 }
        emit.resource(.opening)
        let openStart = monotonicNanoseconds()
        let resource: R
        do {
            resource = try await open()
        } catch {
            update {
                $0.opening -= 1
                $0.openFailed += 1
            }
            emit.resource(.openFailed)
            throw error
        }
        let openedAt = monotonicNanoseconds()
        update {
            $0.opening -= 1
            $0.open += 1
            $0.opened += 1
        }
        emit.resource(.opened(openNanos: openedAt &- openStart))

        let result: Result<T, any Error>
        do {
            result = .success(try await body(resource))
        } catch {
            result = .failure(error)
        }

        update {
            $0.open -= 1
            $0.closing += 1
        }
        emit.resource(.closing)
        // Not the caller's task: a cancelled caller must still get a complete async close.
        let closeResult = await Task { try await close(resource) }.result
        let bodyFailed: Bool = if case .failure = result { true } else { false }
        let held = monotonicNanoseconds() &- openedAt
        state.withLock { s in
            s.stats.closing -= 1
            s.stats.closed += 1
            if bodyFailed { s.stats.failed += 1 }
            if case .failure = closeResult { s.stats.closeFailed += 1 }
            s.held.record(held)
        }
        emit.resource(.closed(heldNanos: held, bodyFailed: bodyFailed))
        let value = try result.get()
        try closeResult.get()
        return value
    }

    /// Runs `body` and reports how long it took on `clock` (the tutorial's `async_timer`).
    /// - Returns: the body's result and the duration; the duration is also emitted as
    ///   `.timed` even when `body` throws.
    public func timed<T, C: Clock>(
        isolation: isolated (any Actor)? = #isolation, clock: C, _ body: () async throws -> sending T
    ) async throws -> sending (T, C.Duration) {
        let start = clock.now
        let start0 = monotonicNanoseconds()
        defer {
            let nanos = monotonicNanoseconds() &- start0
            state.withLock { $0.timed.record(nanos) }
            emit.resource(.timed(nanos: nanos))
        }
        let value = try await body()
        return (value, start.duration(to: clock.now))
    }

    /// Open, closing and total counts right now.
    public var stats: ResourceStats { state.withLock { $0.stats } }

    private func update(_ change: (inout ResourceStats) -> Void) {
        state.withLock { change(&$0.stats) }
    }
}

/// Counts of a `ResourceScope` at one moment.
public struct ResourceStats: Sendable, Hashable {
    /// Scopes in `open` now.
    public var opening = 0
    /// Scopes whose body runs now.
    public var open = 0
    /// Scopes in `close` now.
    public var closing = 0
    /// Resources opened in all (each is closed exactly once).
    public var opened = 0
    /// Resources closed so far.
    public var closed = 0
    /// Scopes whose body threw or was cancelled (they were still closed).
    public var failed = 0
    /// Opens that threw (nothing to close).
    public var openFailed = 0
    /// Closes that threw.
    public var closeFailed = 0
}

/// `ResourceScope.with` without observation: opens, runs `body`, always closes (in a task
/// of its own, so a cancelled caller still gets a complete async close).
/// - Suspends: during `open`, `body` and `close`.
/// - Throws: `open`'s error (nothing was opened, `close` does not run); else `body`'s
///   error after `close` ran; else `close`'s error.
public func withResource<R: Sendable, T>(
    isolation: isolated (any Actor)? = #isolation,
    open: () async throws -> R,
    close: @escaping @Sendable (R) async throws -> Void,
    body: (R) async throws -> sending T
) async throws -> sending T {
    try await ResourceScope(registry: nil).with(isolation: isolation, open: open, close: close, body: body)
}

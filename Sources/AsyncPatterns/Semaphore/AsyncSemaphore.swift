import Synchronization

/// An async counting semaphore whose limit can change while tasks hold permits.
///
/// `acquire()` suspends while every permit is taken, FIFO among waiters; `release()` hands
/// the permit to the first waiter. Lowering the limit never revokes held permits: new
/// grants wait until in-use falls below the new limit. A cancelled or timed-out waiter
/// holds nothing, so permits are never leaked or granted twice. Every change is reported
/// as a `SemaphoreEvent` to those who subscribe to its registry; the semaphore keeps its own
/// numbers (`stats`, and a sample of wait times in its registry's snapshots).
///
/// While permits are free and nobody waits, `acquire`, `tryAcquire` and `release` take and
/// return them with one atomic compare-and-swap, without the lock; the lock is taken when a
/// task has to wait, while waiters are in line, when the limit changes, and while someone
/// subscribes to every event (its registry's snapshots alone do not slow it down).
public final class AsyncSemaphore: Sendable {
    @usableFromInline typealias Machine = AsyncSemaphoreStateMachine<UnsafeContinuation<Void, any Error>>

    @usableFromInline let state: Locked<Machine>
    /// The fast path's permits (see `PermitWord`); the probe reads it too.
    @usableFromInline let permits: PermitCounter
    @usableFromInline let emit: Emitter
    /// What the registry reads (the state, not the semaphore).
    let probe: LockedProbe<Machine>

    /// The identity in events (`kind` is `.semaphore`).
    public var id: PatternID { emit.source }

    /// - Parameters:
    ///   - limit: permits available (0 or more; 0 makes every acquire wait).
    ///   - name: the name shown in events and snapshots.
    ///   - registry: where the semaphore is listed while it lives (nil: nowhere); its
    ///     subscribers get the semaphore's events.
    public init(limit: Int, name: String = "semaphore", registry: PatternRegistry? = .shared) {
        precondition(limit >= 0, "AsyncSemaphore limit cannot be negative, got \(limit)")
        state = Locked(Machine(limit: limit, timed: registry != nil))
        let permits = PermitCounter()
        self.permits = permits
        emit = Emitter(registry, PatternID(.semaphore, name))
        probe = LockedProbe(state) { m, gone in
            permits.count(into: &m)
            var s = SemaphoreSnapshot(name: name)
            s.limit = m.limit
            s.inUse = m.inUse
            s.maxInUse = m.maxInUse
            s.waiting = m.waiters.count
            s.acquired = m.acquiredCount
            s.released = m.releasedCount
            s.abandoned = m.abandonedCount
            if let wait = m.wait { s.wait = wait.percentiles() }
            s.isGone = gone
            return .semaphore(s)
        }
        emit.register(probe)
    }

    deinit { emit.retire(probe.last()) }

    /// Takes a permit, suspending until one is free (FIFO).
    ///
    /// A permit granted is kept: a `release` hands it to this waiter under the lock, then
    /// resumes it. A cancel after the grant is too late: `acquire` returns normally and the
    /// task holds the permit (and must release it). Only a cancel before the grant throws.
    /// - Throws: `CancellationError` if cancelled while waiting (no permit is held).
    /// - Emits: `.waiting` when it has to wait, `.acquired` when granted.
    @inlinable
    nonisolated(nonsending) public func acquire() async throws(CancellationError) {
        if acquireWithoutLock() { return }
        let action = locked { $0.acquire() }
        switch action {
        case .granted(let gauges):
            emit.semaphore(.acquired(gauges: gauges))
        case .mustWait(let id):
            do {
                try await acquireWaiting(id: id)
            } catch {
                // The waiter is only ever resumed with CancellationError.
                throw CancellationError()
            }
        }
    }

    /// `acquire` that gives up after `timeout` on `clock`.
    /// - Throws: `TimedOut` (no permit is held), `CancellationError`.
    public func acquire<C: Clock>(timeout: C.Duration, clock: C) async throws {
        if tryAcquire() { return }
        try await withDeadline(timeout, clock: clock) { try await self.acquire() }
    }

    /// `acquire` with a timeout on the continuous clock.
    /// - Throws: `TimedOut` (no permit is held), `CancellationError`.
    public func acquire(timeout: Duration) async throws {
        try await acquire(timeout: timeout, clock: ContinuousClock())
    }

    /// Takes a permit if one is free and nobody waits, without suspending.
    /// - Returns: whether a permit is now held (release it with `release()`).
    /// - Emits: `.acquired` when it took one.
    @inlinable
    public func tryAcquire() -> Bool {
        if acquireWithoutLock() { return true }
        // A refused try leaves no waiter behind: `acquire()` only hands out a waiter id.
        guard case .granted(let gauges) = locked({ $0.acquire() }) else { return false }
        emit.semaphore(.acquired(gauges: gauges))
        return true
    }

    @usableFromInline
    nonisolated(nonsending) func acquireWaiting(id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                // The slow path: the clock read is small next to a suspension.
                let now = monotonicNanoseconds()
                let action = locked {
                    $0.suspend(id: id, token: continuation, isCancelled: Task.isCancelled, now: now)
                }
                switch action {
                case .suspended(let gauges):
                    emit.semaphore(.waiting(gauges: gauges))
                case .grantedNow(let waiter, let gauges):
                    waiter.resume()
                    emit.semaphore(.acquired(gauges: gauges))
                case .cancelled(let waiter):
                    waiter.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            if let (waiter, gauges) = locked({ $0.abandon(id: id) }) {
                waiter.resume(throwing: CancellationError())
                emit.semaphore(.waiterAbandoned(gauges: gauges))
            }
        }
    }

    /// Returns a permit; the first waiter, if any and if the limit allows, gets it.
    /// - Throws: `ReleaseWithoutAcquire` when no permit is held.
    /// - Emits: `.released`, and `.acquired` for the waiter that got it.
    @inlinable
    public func release() throws(ReleaseWithoutAcquire) {
        if try releaseWithoutLock() { return }
        let action = locked { $0.release(now: monotonicNanoseconds()) }
        switch action {
        case .notHeld:
            throw ReleaseWithoutAcquire()
        case .released(let gauges):
            emit.semaphore(.released(gauges: gauges))
        case .handedOff(let grant, let between):
            grant.token.resume()
            emit.semaphore(.released(gauges: between))
            emit.semaphore(.acquired(gauges: grant.gauges))
        }
    }

    /// Runs `body` holding a permit; the permit is returned when `body` returns, throws or
    /// is cancelled.
    ///
    /// `body` runs in the caller's isolation (`isolation` defaults to it), so inside an
    /// actor or on the main actor it may touch that actor's state and return non-`Sendable`
    /// values: `try await permits.withPermit { hits += 1 }`.
    /// - Suspends: while every permit is taken (FIFO), then while `body` runs.
    /// - Throws: what `acquire` or `body` throw.
    /// - Emits: what `acquire` and `release` emit.
    public func withPermit<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> sending T
    ) async throws -> sending T {
        try await acquire()
        defer { try! release() }  // we hold the permit we just acquired: release cannot fail
        return try await body()
    }

    /// Changes the limit while running. Raising it wakes waiters in order; lowering it
    /// revokes nothing (new grants wait until in-use is below it). Setting the current
    /// limit does nothing.
    /// - Emits: `.limitChanged`, and `.acquired` for each waiter it wakes.
    public func setLimit(_ limit: Int) {
        precondition(limit >= 0, "AsyncSemaphore limit cannot be negative, got \(limit)")
        guard
            let (grants, gauges) = locked({ machine -> ([Machine.Grant], SemaphoreGauges)? in
                guard machine.limit != limit else { return nil }
                let grants = machine.setLimit(limit, now: monotonicNanoseconds())
                return (grants, machine.gauges)
            })
        else { return }
        emit.semaphore(.limitChanged(gauges: gauges))
        for grant in grants {
            grant.token.resume()
            emit.semaphore(.acquired(gauges: grant.gauges))
        }
    }

    /// A consistent picture of the semaphore right now.
    public var stats: SemaphoreStats {
        state.withLock { m in
            permits.count(into: &m)
            return SemaphoreStats(
                limit: m.limit, inUse: m.inUse, waiting: m.waiters.count,
                acquired: m.acquiredCount, maxInUse: m.maxInUse)
        }
    }

    // MARK: the fast path

    /// Takes a free permit with one compare-and-swap, if the word allows it (nobody waits,
    /// nobody wants every event, in use below the ceiling).
    /// - Returns: false when the lock must decide.
    @inlinable
    func acquireWithoutLock() -> Bool {
        // `.acquired` is an event of every-event interest: only the lock path builds it.
        guard !emit.wants(notable: false) else { return false }
        return permits.tryAcquire()
    }

    /// Returns a permit with one compare-and-swap while the word holds the numbers.
    /// - Returns: false when the lock must decide.
    /// - Throws: `ReleaseWithoutAcquire` when the word says no permit is held (exact: the
    ///   word is the count while it is not slow).
    @inlinable
    func releaseWithoutLock() throws(ReleaseWithoutAcquire) -> Bool {
        guard !emit.wants(notable: false) else { return false }
        return try permits.tryRelease()
    }

    /// Runs `body` under the lock with the permit word frozen (slow), so neither a fast
    /// acquire nor a fast release changes the numbers while the machine decides; publishes
    /// the word again afterwards when the machine says the fast path may resume.
    ///
    /// Why this cannot lose a wake-up: a waiter joins the line only inside `body`, with the
    /// word frozen, and the word is not published again while the line is not empty, so
    /// every release from then on comes here and hands the permit over. A release that
    /// lands between an `acquire` that found no permit and its `suspend` is seen by
    /// `suspend`, which freezes the word again and grants at once.
    @inlinable
    func locked<Result>(_ body: (inout Machine) -> Result) -> Result {
        let eventsWanted = emit.wants(notable: false)
        return state.withLock { m in
            if m.isFast { m.freeze(from: permits.freeze()) }
            let result = body(&m)
            if let word = m.thaw(eventsWanted: eventsWanted) { permits.publish(word) }
            return result
        }
    }
}

/// Gauges and counters of an `AsyncSemaphore` at one moment.
public struct SemaphoreStats: Sendable, Hashable {
    /// Permits available in all.
    public var limit: Int
    /// Permits held now.
    public var inUse: Int
    /// Tasks suspended in `acquire`.
    public var waiting: Int
    /// Permits granted so far.
    public var acquired: Int
    /// The most permits held at once.
    public var maxInUse: Int
}

import DequeModule

/// The pure state of an `AsyncSemaphore`: the limit, permits in use and the FIFO line.
///
/// Invariant: new grants never push `inUse` above `limit`; lowering the limit never revokes
/// a held permit, so `inUse` may exceed `limit` until enough permits are released.
///
/// Permits are also taken and returned without the lock, on the `PermitWord`, while
/// `isFast`: then the word holds the in-use count and the grants not yet counted here, and
/// this machine's `inUse` is only the value last read from it. Every operation under the
/// lock that can change who holds what first calls `freeze(from:)` with the word it set
/// slow, and ends with `thaw(eventsWanted:)`, which publishes a word only when no waiter
/// is in line. Invariant: `waiters` is empty whenever `isFast`.
@usableFromInline struct AsyncSemaphoreStateMachine<Waiter> {
    @usableFromInline struct Waiting {
        @usableFromInline var id: UInt64
        @usableFromInline var token: Waiter
        @usableFromInline var since: UInt64
        @inlinable init(id: UInt64, token: Waiter, since: UInt64) {
            self.id = id
            self.token = token
            self.since = since
        }
    }

    @usableFromInline var limit: Int
    @usableFromInline var inUse = 0
    @usableFromInline var waiters: Deque<Waiting> = []
    @usableFromInline var acquiredCount = 0
    @usableFromInline var maxInUse = 0
    /// Whether the permit word holds the numbers (the fast path may run).
    @usableFromInline var isFast = false
    @usableFromInline var abandonedCount = 0
    @usableFromInline var nextID: UInt64 = 0
    /// How long a sample of acquires waited (0 for those granted at once); nil: not timed.
    @usableFromInline let wait: LatencyDistribution?
    @usableFromInline var sampler = LatencySampler()

    /// Permits returned so far: every grant was returned but those in use.
    @usableFromInline var releasedCount: Int { acquiredCount - inUse }

    @usableFromInline var gauges: SemaphoreGauges { SemaphoreGauges(limit: limit, inUse: inUse, waiting: waiters.count) }

    @inlinable init(limit: Int, timed: Bool = false) {
        precondition(limit >= 0, "a semaphore limit cannot be negative")
        self.limit = limit
        wait = timed ? LatencyDistribution() : nil
    }

    @usableFromInline enum AcquireAction: Equatable {
        case granted(SemaphoreGauges)
        case mustWait(id: UInt64)
    }

    /// Grants at once only when nobody waits (no barging past the line).
    @inlinable mutating func acquire() -> AcquireAction {
        assert(!isFast, "the permit word must be frozen first")
        if waiters.isEmpty, inUse < limit {
            grant(waitingSince: nil, now: 0)
            return .granted(gauges)
        }
        nextID &+= 1
        return .mustWait(id: nextID)
    }

    @usableFromInline enum SuspendAction {
        case suspended(SemaphoreGauges)
        case grantedNow(Waiter, SemaphoreGauges)
        case cancelled(Waiter)
    }

    @inlinable mutating func suspend(id: UInt64, token: Waiter, isCancelled: Bool, now: UInt64) -> SuspendAction {
        assert(!isFast, "the permit word must be frozen first")
        if isCancelled { return .cancelled(token) }
        if waiters.isEmpty, inUse < limit {
            grant(waitingSince: nil, now: 0)
            return .grantedNow(token, gauges)
        }
        waiters.append(Waiting(id: id, token: token, since: now))
        return .suspended(gauges)
    }

    @usableFromInline struct Grant {
        @usableFromInline var token: Waiter
        /// Gauges after this grant.
        @usableFromInline var gauges: SemaphoreGauges
        @inlinable init(token: Waiter, gauges: SemaphoreGauges) {
            self.token = token
            self.gauges = gauges
        }
    }

    @usableFromInline enum ReleaseAction {
        /// The permit went straight to the first waiter.
        /// `releasedGauges` are the gauges between the release and the hand-off.
        case handedOff(Grant, releasedGauges: SemaphoreGauges)
        case released(SemaphoreGauges)
        case notHeld
    }

    @inlinable mutating func release(now: @autoclosure () -> UInt64 = 0) -> ReleaseAction {
        assert(!isFast, "the permit word must be frozen first")
        guard inUse > 0 else { return .notHeld }
        inUse -= 1
        if inUse < limit, let next = waiters.popFirst() {
            let between = SemaphoreGauges(limit: limit, inUse: inUse, waiting: waiters.count + 1)
            grant(waitingSince: next.since, now: now())
            return .handedOff(Grant(token: next.token, gauges: gauges), releasedGauges: between)
        }
        return .released(gauges)
    }

    /// Removes exactly waiter `id` if it still waits; it holds no permit.
    @inlinable mutating func abandon(id: UInt64) -> (Waiter, SemaphoreGauges)? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        let token = waiters.remove(at: index).token
        abandonedCount += 1
        return (token, gauges)
    }

    /// Raising the limit grants to waiters in order; lowering revokes nothing.
    @inlinable mutating func setLimit(_ newLimit: Int, now: @autoclosure () -> UInt64 = 0) -> [Grant] {
        assert(!isFast, "the permit word must be frozen first")
        precondition(newLimit >= 0, "a semaphore limit cannot be negative")
        limit = newLimit
        var grants: [Grant] = []
        while inUse < limit, let next = waiters.popFirst() {
            grant(waitingSince: next.since, now: now())
            grants.append(Grant(token: next.token, gauges: gauges))
        }
        return grants
    }

    /// Counts a grant; a sample of grants records how long they waited (`waitingSince` nil:
    /// granted at once, 0 ns).
    @inlinable mutating func grant(waitingSince: UInt64?, now: @autoclosure () -> UInt64) {
        inUse += 1
        acquiredCount += 1
        maxInUse = max(maxInUse, inUse)
        guard let wait, sampler.tick() else { return }
        var waited: UInt64 = 0
        if let since = waitingSince {
            let t = now()
            waited = t &- Swift.min(t, since)
        }
        wait.record(waited)
        sampler.took(waited)
    }
}

// MARK: the fast path's word

extension AsyncSemaphoreStateMachine {
    /// Takes the numbers over from `word`, the value the word had when the caller set it
    /// slow: from now on only the lock changes who holds what.
    @inlinable mutating func freeze(from word: PermitWord) {
        precondition(isFast && !word.isSlow, "the permit word was frozen twice")
        isFast = false
        inUse = word.inUse
        countFastGrants(word.fastGrants)
    }

    /// Reads the numbers while the fast path runs: `word` is the value the caller swapped
    /// for one with no fast grants (so each grant is counted once). `inUse` is then exact
    /// as of that swap.
    @inlinable mutating func observe(_ word: PermitWord) {
        precondition(isFast && !word.isSlow, "observe reads a published word")
        inUse = word.inUse
        countFastGrants(word.fastGrants)
    }

    /// The word to publish so acquire and release may run without the lock, or nil to keep
    /// them on it: while a waiter is in line (a fast grant would barge past it, a fast
    /// release would not wake it), while someone wants every event (the events carry
    /// gauges that only the lock knows), or when the numbers do not fit the word.
    @inlinable mutating func thaw(eventsWanted: Bool) -> PermitWord? {
        guard !isFast, waiters.isEmpty, !eventsWanted, inUse <= PermitWord.fieldMax else { return nil }
        isFast = true
        return PermitWord(inUse: inUse, ceiling: Swift.min(limit, maxInUse, PermitWord.fieldMax))
    }

    /// Counts `count` permits granted without the lock, in the order they happened (all
    /// before anything the lock does next): each waited 0 ns, and the wait sample takes the
    /// same ones it would have taken had each been granted here.
    @inlinable mutating func countFastGrants(_ count: Int) {
        guard count > 0 else { return }
        acquiredCount += count
        assert(acquiredCount >= inUse && inUse <= Swift.max(limit, maxInUse))
        guard let wait else { return }
        // `count` ticks of the sampler at once: a sample every `countdown`, then `period`.
        var left = UInt32(truncatingIfNeeded: count)
        while left >= sampler.countdown {
            left -= sampler.countdown
            sampler.countdown = sampler.period
            wait.record(0)
            sampler.took(0)
        }
        sampler.countdown -= left
    }
}

extension AsyncSemaphoreStateMachine: Sendable where Waiter: Sendable {}
extension AsyncSemaphoreStateMachine.Waiting: Sendable where Waiter: Sendable {}

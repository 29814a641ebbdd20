import Synchronization

/// The one clock every scenario delay goes through: it scales durations by a speed factor
/// and, when paused, holds every sleeper and stops its elapsed time until resumed.
///
/// Its instants are scenario time since the clock was made. Rates shown per
/// "scenario-second" divide by this clock's elapsed time.
public final class ScenarioClock: Clock, Sendable {
    /// Scenario time since the clock was made.
    public typealias Instant = ManualClock.Instant

    /// The fastest and slowest speeds accepted.
    public static let speedRange: ClosedRange<Double> = 0.01...1000

    private struct State {
        var speed: Double
        var paused = false
        /// Scenario time at `anchor`.
        var base: Duration = .zero
        var anchor: ContinuousClock.Instant
        var resumeWaiters: [UInt64: UnsafeContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0

        func now(real: ContinuousClock.Instant) -> Duration {
            paused ? base : base + (real - anchor) * speed
        }

        mutating func rebase(real: ContinuousClock.Instant) {
            base = now(real: real)
            anchor = real
        }
    }

    /// Longest real sleep between checks of speed and pause: a speed change reaches a long
    /// sleeper within this, without a registry of sleepers.
    static let recheck: Duration = .milliseconds(200)

    private let state: Locked<State>
    private let real = ContinuousClock()

    /// - Parameter speed: scenario seconds per real second (1 = real time).
    public init(speed: Double = 1) {
        precondition(Self.speedRange.contains(speed), "speed must be within \(Self.speedRange)")
        state = Locked(State(speed: speed, anchor: ContinuousClock.now))
    }

    /// Scenario time now (frozen while paused).
    public var now: Instant { Instant(offset: state.withLock { $0.now(real: real.now) }) }
    /// One microsecond.
    public var minimumResolution: Duration { .microseconds(1) }

    /// Scenario time since the clock was made (frozen while paused).
    public var elapsed: Duration { now.offset }

    /// Scenario seconds per real second.
    public var speed: Double { state.withLock { $0.speed } }
    /// Whether scenario time is stopped.
    public var isPaused: Bool { state.withLock { $0.paused } }

    /// Changes the speed; sleepers pick it up within `recheck` of real time.
    public func setSpeed(_ speed: Double) {
        precondition(Self.speedRange.contains(speed), "speed must be within \(Self.speedRange)")
        let now = real.now
        state.withLock {
            $0.rebase(real: now)
            $0.speed = speed
        }
    }

    /// Stops scenario time; every sleeper holds until `resume()`.
    public func pause() {
        let now = real.now
        state.withLock {
            guard !$0.paused else { return }
            $0.rebase(real: now)
            $0.paused = true
        }
    }

    /// Restarts scenario time and releases held sleepers.
    public func resume() {
        let now = real.now
        let waiters = state.withLock { state -> [UnsafeContinuation<Void, any Error>] in
            guard state.paused else { return [] }
            state.anchor = now
            state.paused = false
            let waiters = Array(state.resumeWaiters.values)
            state.resumeWaiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Suspends until scenario time reaches `deadline`.
    /// - Throws: `CancellationError` if cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        while true {
            try Task.checkCancellation()
            let (remaining, paused, speed) = state.withLock { s in
                (deadline.offset - s.now(real: real.now), s.paused, s.speed)
            }
            if remaining <= .zero { return }
            if paused {
                try await waitForResume()
            } else {
                try await real.sleep(for: min(remaining / speed, Self.recheck))
            }
        }
    }

    /// Returns at once when running; while paused, suspends until `resume()`.
    /// - Throws: `CancellationError` if cancelled while waiting.
    public func waitWhilePaused() async throws {
        if isPaused { try await waitForResume() }
    }

    private func waitForResume() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> Bool? in
                    if Task.isCancelled { return false }
                    if !s.paused { return true }
                    s.resumeWaiters[id] = continuation
                    return nil
                }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            state.withLock { $0.resumeWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

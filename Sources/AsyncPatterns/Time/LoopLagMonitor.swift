import Synchronization

/// A heartbeat on the cooperative pool that measures how late it gets to run, like
/// asyncio's debug mode flagging callbacks that block the loop for more than 100 ms.
///
/// Every `interval` (real time) it wakes and compares when it ran with when it asked to.
/// When something blocks the pool's threads, the heartbeat runs late and the lag shows.
/// Keeps its figures and a lag distribution; emits `.loopLag` for each beat to those who
/// ask for every event.
public final class LoopLagMonitor: Sendable {
    struct State: Sendable {
        var stats = LagStats()
        let lag = LatencyDistribution()
    }

    /// Time between beats (positive).
    public let interval: Duration
    private let emit: Emitter
    private let state = Locked(State())
    /// What the registry reads (the state, not the monitor).
    private let probe: LockedProbe<State>

    /// The identity in events (`kind` is `.health`).
    public var id: PatternID { emit.source }

    /// - Parameters:
    ///   - interval: time between beats; must be positive (a zero interval would beat in a
    ///     busy loop).
    ///   - name: the name in snapshots and events.
    ///   - registry: where the monitor is listed while it lives (nil: nowhere).
    public init(interval: Duration = .milliseconds(50), name: String = "loop-lag", registry: PatternRegistry? = .shared) {
        precondition(interval > .zero, "LoopLagMonitor interval must be positive, got \(interval)")
        self.interval = interval
        emit = Emitter(registry, PatternID(.health, name))
        probe = LockedProbe(state) { s, _ in
            var h = HealthSnapshot()
            h.beats = s.stats.beats
            h.lastLagNanos = s.stats.last.wireNanoseconds
            h.maxLagNanos = s.stats.max.wireNanoseconds
            h.lag = s.lag.percentiles()
            return .health(h)
        }
        emit.register(probe)
    }

    deinit { emit.retire(probe.last()) }

    /// Beats until the calling task is cancelled. Suspends between beats.
    /// - Parameter scenarioClock: a scenario clock whose pause also pauses the heartbeat, so a
    ///   paused scenario is entirely still.
    public func run(pausedWith scenarioClock: ScenarioClock? = nil) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            do { try await scenarioClock?.waitWhilePaused() } catch { return }
            let expected = clock.now.advanced(by: interval)
            do {
                try await clock.sleep(until: expected)
            } catch {
                return
            }
            let late = clock.now - expected
            let nanos =
                UInt64(max(0, late.components.seconds)) * 1_000_000_000
                + UInt64(max(0, late.components.attoseconds / 1_000_000_000))
            let lag = Duration.nanoseconds(Int64(clamping: nanos))
            state.withLock {
                $0.stats.beats += 1
                $0.stats.last = lag
                $0.stats.max = Swift.max($0.stats.max, lag)
                $0.lag.record(nanos)
            }
            emit.health(.loopLag(lagNanos: nanos))
        }
    }

    /// The beats so far and how late they ran.
    public var stats: LagStats { state.withLock { $0.stats } }
}

/// How late the heartbeat of a `LoopLagMonitor` ran.
public struct LagStats: Sendable, Hashable {
    /// Beats so far.
    public var beats = 0
    /// How late the last beat ran.
    public var last: Duration = .zero
    /// The latest any beat ran.
    public var max: Duration = .zero
}

extension Duration {
    /// Whole nanoseconds, clamped at zero: how the wire format (snapshots, events) keeps
    /// times.
    var wireNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}

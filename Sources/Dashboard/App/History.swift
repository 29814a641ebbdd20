import AsyncPatterns
import TUI

/// Fixed-size history of a value, oldest first (for sparklines and trends).
public struct History: Sendable {
    public private(set) var values: [Double] = []
    public let capacity: Int

    public init(capacity: Int = 120) { self.capacity = capacity }

    public mutating func append(_ value: Double) {
        if values.count == capacity { values.removeFirst() }
        values.append(value)
    }

    /// Change per sample over the last `n` samples (0 with too few).
    public func trend(over n: Int) -> Double {
        guard values.count > n, n > 0 else { return 0 }
        return (values[values.count - 1] - values[values.count - 1 - n]) / Double(n)
    }
}

/// The state the dashboard folds from snapshots over time (tokio-console's `state/`):
/// histories sampled twice a second, so sparklines show the last minute.
public struct DashboardHistory: Sendable {
    public static let samplesPerSecond = 2.0
    public var queueDepth: [String: History] = [:]
    public var semaphoreInUse: [String: History] = [:]
    public var actorDepth: [String: History] = [:]
    public var lag = History()
    /// The pool doctor's heartbeat delay (last beat), in milliseconds.
    public var poolDelay = History()
    private var lastSample: Duration?

    public init() {}

    /// Samples `snapshot` if half a second of scenario time has passed since the last
    /// sample (so a paused scenario's history holds still). `actorCount`: how many actors
    /// there are, when the snapshot lists only some (`PatternRegistry.snapshot(actors:)`:
    /// every one while there are at most `actorHistoryLimit`, else at least every actor with
    /// messages waiting).
    public mutating func sample(_ snapshot: Snapshot, actorCount: Int? = nil) {
        if let last = lastSample, snapshot.elapsed - last < .milliseconds(500) { return }
        lastSample = snapshot.elapsed
        for q in snapshot.queues { queueDepth[q.name, default: History()].append(Double(q.depth)) }
        for s in snapshot.semaphores { semaphoreInUse[s.name, default: History()].append(Double(s.inUse)) }
        // Patterns that are no longer listed take their histories with them.
        if queueDepth.count > snapshot.queues.count {
            let names = Set(snapshot.queues.map(\.name))
            queueDepth = queueDepth.filter { names.contains($0.key) }
        }
        if semaphoreInUse.count > snapshot.semaphores.count {
            let names = Set(snapshot.semaphores.map(\.name))
            semaphoreInUse = semaphoreInUse.filter { names.contains($0.key) }
        }
        sampleActors(snapshot.actors, count: max(actorCount ?? 0, snapshot.actors.count))
        lag.append(Double(snapshot.health.lastLagNanos) / 1e6)
        if let pool = snapshot.pool { poolDelay.append(Double(pool.delayLastNanos) / 1e6) }
    }

    /// Actors whose histories are kept, at most: with 100,000 actors, a history each would
    /// cost 100 MB and a dictionary update per actor twice a second.
    public static let actorHistoryLimit = 1_000

    /// Every actor's depth while there are few; past the limit, only actors with messages
    /// waiting (or with a history already), and histories that stayed at zero for their
    /// whole window are dropped. An actor with a history that a partial snapshot does not
    /// list had no messages waiting: it samples 0.
    private mutating func sampleActors(_ actors: [ActorSnapshot], count: Int) {
        let few = count <= Self.actorHistoryLimit
        var sampled: Set<String> = []
        for a in actors where few || a.mailboxDepth > 0 || actorDepth[a.name] != nil {
            actorDepth[a.name, default: History()].append(Double(a.mailboxDepth))
            if count > actors.count { sampled.insert(a.name) }
        }
        if count > actors.count {
            for name in actorDepth.keys where !sampled.contains(name) { actorDepth[name]?.append(0) }
        }
        guard actorDepth.count > Self.actorHistoryLimit else { return }
        actorDepth = actorDepth.filter { $0.value.values.count < $0.value.capacity || $0.value.values.contains { $0 > 0 } }
    }
}

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
    private var lastSample: Duration?

    public init() {}

    /// Samples `snapshot` if half a second of scenario time has passed since the last
    /// sample (so a paused scenario's history holds still).
    public mutating func sample(_ snapshot: Snapshot) {
        if let last = lastSample, snapshot.elapsed - last < .milliseconds(500) { return }
        lastSample = snapshot.elapsed
        for q in snapshot.queues { queueDepth[q.name, default: History()].append(Double(q.depth)) }
        for s in snapshot.semaphores { semaphoreInUse[s.name, default: History()].append(Double(s.inUse)) }
        for a in snapshot.actors { actorDepth[a.name, default: History()].append(Double(a.mailboxDepth)) }
        lag.append(Double(snapshot.health.lastLagNanos) / 1e6)
    }
}

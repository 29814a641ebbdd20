/// A queue's measured numbers beside what queueing theory predicts for it, published in a
/// `Snapshot` by a run that models its queues (a pipeline file's scenario does). Rates are
/// per second and times in seconds of the registry's time source.
public struct QueueModelSnapshot: Sendable, Hashable, Codable {
    /// The queue's name.
    public var name: String
    /// The model the prediction comes from, e.g. `M/M/c` or an approximation.
    public var model = ""
    /// Measured arrival rate λ.
    public var arrivalRate: Double = 0
    /// Measured service rate μ of one server (1 / mean service time).
    public var serviceRate: Double = 0
    /// Servers c.
    public var servers: Int
    /// ρ = λ / (cμ); 1 or more means the queue grows without bound.
    public var utilization: Double = 0
    /// Measured mean time an item waited in the queue (Wq).
    public var measuredWaitSeconds: Double = 0
    /// Measured mean number of items waiting, over time (Lq).
    public var measuredDepth: Double = 0
    /// Little's law from the measured rate and wait: λ·Wq, to compare with `measuredDepth`.
    public var littleDepth: Double = 0
    /// The model's mean wait; nil when ρ ≥ 1 (no steady state).
    public var predictedWaitSeconds: Double?
    /// The model's mean depth; nil when ρ ≥ 1.
    public var predictedDepth: Double?
    /// The fewest servers that make ρ < 1 at the measured rates.
    public var serversForStability = 0
    /// Items the measured wait averages over.
    public var samples = 0

    /// Zero numbers for the queue `name` with `servers` servers.
    public init(name: String, servers: Int) {
        self.name = name
        self.servers = servers
    }

    /// Whether the queue grows without bound at these rates (ρ ≥ 1).
    public var isUnstable: Bool { utilization >= 1 }
}

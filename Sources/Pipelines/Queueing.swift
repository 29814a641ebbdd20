/// Queueing formulas for a queue in front of `c` identical servers: Erlang B and C, the
/// M/M/c waiting time, the Allen-Cunneen approximation for M/G/c and G/G/c, and Little's law.
/// Rates are per second, times in seconds.
public enum Queueing {
    /// Erlang B: the chance that all `servers` are busy with `offered` erlangs (a = λ/μ) and
    /// no waiting room. Computed by the stable recursion B(k) = a·B(k-1) / (k + a·B(k-1)).
    public static func erlangB(servers: Int, offered a: Double) -> Double {
        precondition(servers >= 0 && a >= 0, "servers and load cannot be negative")
        var b = 1.0
        for k in stride(from: 1, through: servers, by: 1) { b = a * b / (Double(k) + a * b) }
        return b
    }

    /// Erlang C: the chance that an arrival waits in an M/M/c queue with `offered` erlangs on
    /// `servers` servers; 1 when a ≥ c (the queue grows without bound).
    public static func erlangC(servers: Int, offered a: Double) -> Double {
        guard servers > 0, a < Double(servers) else { return 1 }
        guard a > 0 else { return 0 }
        let b = erlangB(servers: servers, offered: a)
        let c = Double(servers)
        return c * b / (c - a * (1 - b))
    }

    /// What a model predicts for one queue; nil fields where ρ ≥ 1 (no steady state).
    public struct Prediction: Sendable, Equatable {
        /// ρ = λ / (cμ).
        public var utilization: Double
        /// The chance an item waits at all (Erlang C).
        public var waitProbability: Double
        /// Mean time in the queue, Wq.
        public var meanWait: Double?
        /// Mean items waiting, Lq = λ·Wq (Little's law).
        public var meanDepth: Double?
        /// Mean time in queue and service, W = Wq + 1/μ.
        public var meanSojourn: Double?
        /// Whether the M/M/c formula was used as is (arrivals and service both exponential).
        public var isExact: Bool
    }

    /// The mean wait and depth of a queue with arrival rate `arrivalRate` (λ) served by
    /// `servers` (c) at `serviceRate` (μ) each. With both squared coefficients of variation
    /// at 1 (Poisson arrivals, exponential service) this is M/M/c (Erlang C); otherwise the
    /// Allen-Cunneen approximation Wq ≈ Wq(M/M/c) · (ca² + cs²) / 2.
    public static func predict(
        arrivalRate λ: Double, serviceRate μ: Double, servers: Int, arrivalSCV ca2: Double = 1, serviceSCV cs2: Double = 1
    ) -> Prediction {
        let c = Double(servers)
        let ρ = servers > 0 && μ > 0 ? λ / (c * μ) : .infinity
        let exact = abs(ca2 - 1) < 1e-9 && abs(cs2 - 1) < 1e-9
        guard ρ < 1 else {
            return Prediction(utilization: ρ, waitProbability: 1, meanWait: nil, meanDepth: nil, meanSojourn: nil, isExact: exact)
        }
        let pw = erlangC(servers: servers, offered: λ / μ)
        let wq = pw / (c * μ - λ) * (exact ? 1 : (ca2 + cs2) / 2)
        return Prediction(
            utilization: ρ, waitProbability: pw, meanWait: wq, meanDepth: littlesLaw(arrivalRate: λ, time: wq),
            meanSojourn: wq + 1 / μ, isExact: exact)
    }

    /// Little's law: the mean number in a system, L = λ·W.
    public static func littlesLaw(arrivalRate λ: Double, time w: Double) -> Double { λ * w }

    /// The fewest servers that keep ρ = λ/(cμ) below 1.
    public static func smallestStableServers(arrivalRate λ: Double, serviceRate μ: Double) -> Int {
        guard μ > 0 else { return Int.max }
        return Int((λ / μ).rounded(.down)) + 1
    }
}

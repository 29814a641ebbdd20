import AsyncPatterns
import Pipelines
import Testing

/// A single queue before `servers` exponential servers (mean service 1 s) fed by Poisson
/// arrivals at `rate`: M/M/c, with a queue too large to ever fill.
func mmc(rate: Double, servers: Int, service: String = "{ dist = \"exponential\", mean = \"1s\" }") throws -> PipelineSpec {
    try PipelineSpec.parse(
        """
        name = "mmc"
        [[source]]
        name = "arrivals"
        rate = \(rate)
        arrivals = "poisson"
        to = "line"
        [[queue]]
        name = "line"
        capacity = 10000000
        [[pool]]
        name = "servers"
        from = "line"
        workers = \(servers)
        service = \(service)
        [knobs]
        "servers.workers" = { min = 1, max = 64 }
        """, file: "mmc.toml")
}

@Suite struct SimulationTests {
    @Test func sameSeedSameEventsOtherSeedOtherEvents() async throws {
        let spec = try mmc(rate: 3, servers: 4)
        let a = await PipelineSimulation.run(spec, seconds: 2000, seed: 7)
        let b = await PipelineSimulation.run(spec, seconds: 2000, seed: 7)
        let c = await PipelineSimulation.run(spec, seconds: 2000, seed: 8)
        #expect(a.totals.emitted > 5000)
        #expect(a.totals == b.totals)
        #expect(a.models == b.models)
        #expect(a.jobs == b.jobs)
        #expect(a.p99 == b.p99)
        #expect(a.models != c.models)
    }

    @Test func virtualTimeAdvancesOnlyToDeadlines() async throws {
        // 1000 virtual seconds take far less than a real second, and end exactly there.
        let spec = try mmc(rate: 1, servers: 2)
        let start = ContinuousClock.now
        let r = await PipelineSimulation.run(spec, seconds: 1000, seed: 1)
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(r.seconds >= 1000 && r.seconds < 1001)
        #expect(r.totals.emitted > 800 && r.totals.emitted < 1200)
    }

    @Test func aFiniteRunDrainsEveryItem() async throws {
        let spec = try PipelineSpec.parse(
            """
            [[source]]
            name = "s"
            rate = 50
            items = 500
            to = "fan"
            [[actor]]
            name = "fan"
            mailbox = 10
            to = ["a", "b"]
            [[queue]]
            name = "a"
            capacity = 5
            [[queue]]
            name = "b"
            capacity = 5
            [[pool]]
            name = "pa"
            from = "a"
            workers = 2
            service = "30ms"
            failure = 0.1
            retries = 0
            [[pool]]
            name = "pb"
            from = "b"
            workers = 1
            service = { dist = "lognormal", p50 = "5ms", p99 = "50ms" }
            feedback = { to = "b", chance = 0.2 }
            """, file: "fan.toml")
        let r = await PipelineSimulation.run(spec, seconds: 100_000, seed: 3, finite: true)
        // 500 items, copied to two queues, plus feedback: nothing is lost.
        #expect(r.totals.emitted >= 1000)
        #expect(r.totals.emitted == r.totals.completed + r.totals.failed + r.totals.dropped + r.totals.undelivered)
        #expect(r.totals.undelivered == 0)
        #expect(r.totals.failed > 10 && r.totals.failed < 100)
        #expect(r.seconds < 1000)
    }

    /// Simulation agrees with Erlang C: M/M/c at ρ = 0.5, 0.8 and 0.95, independent
    /// replications after a warm-up; the mean wait's 95% confidence interval (Student t over
    /// the replications) must be narrower than ±10% of the prediction (enough items to say
    /// so), and the mean within 10% of it.
    @Test(arguments: [(0.5, 2, 10_000.0), (0.8, 4, 20_000.0), (0.95, 8, 30_000.0)])
    func meanWaitMatchesErlangC(rho: Double, servers: Int, seconds: Double) async throws {
        let rate = rho * Double(servers)  // μ = 1 per second
        let predicted = Queueing.predict(arrivalRate: rate, serviceRate: 1, servers: servers).meanWait!
        let spec = try mmc(rate: rate, servers: servers)
        let replications = 8
        var means: [Double] = []
        var items = 0
        for seed in 1...replications {
            let r = await PipelineSimulation.run(spec, seconds: seconds, warmUp: seconds / 10, seed: UInt64(seed))
            let m = try #require(r.models.first)
            means.append(m.measuredWaitSeconds)
            items += m.samples
        }
        let mean = means.reduce(0, +) / Double(replications)
        let variance = means.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(replications - 1)
        let t95 = 2.365  // Student t, 7 degrees of freedom, two-sided 95%
        let halfWidth = t95 * (variance / Double(replications)).squareRoot()
        #expect(halfWidth < 0.1 * predicted, "ρ \(rho): ±\(halfWidth) s over \(items) items is too wide to judge")
        #expect(abs(mean - predicted) < 0.1 * predicted, "ρ \(rho): simulated \(mean) s, Erlang C \(predicted) s")
    }
}

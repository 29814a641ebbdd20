import AsyncPatterns
import Scenarios

/// What one run in virtual time measured.
public struct SimulationResult: Sendable {
    /// Worker counts of the pools, by name.
    public var workers: [String: Int]
    /// Counts of the whole run.
    public var totals: PipelineTotals
    /// End-to-end times of items born after the warm-up (1% resolution).
    public var p50: Double?
    /// The 99th percentile of end-to-end times.
    public var p99: Double?
    /// The mean end-to-end time.
    public var mean: Double?
    /// Items the percentiles count.
    public var measured: Int
    /// Each queue's theory after the warm-up.
    public var models: [QueueModelSnapshot]
    /// Virtual seconds simulated.
    public var seconds: Double
    /// Executor jobs run (a measure of the work done).
    public var jobs: Int
}

/// Runs a pipeline in virtual time on a `SimulationExecutor` of its own: as fast as the
/// machine goes, the same events for the same seed.
public enum PipelineSimulation {
    /// Runs `spec` with `knobs` for `seconds` of virtual time with sources that keep
    /// emitting; items born in the first `warmUp` seconds are left out of the measurement.
    /// With `finite`, sources stop after their items (or `seed_duration`) and the run ends
    /// when every item is through (`seconds` is then only an upper bound).
    public static func run(
        _ spec: PipelineSpec, knobs: [String: Double] = [:], seconds: Double, warmUp: Double = 0, seed: UInt64 = 1,
        finite: Bool = false
    ) async -> SimulationResult {
        let executor = SimulationExecutor()
        let engine = PipelineEngine(
            spec: spec, knobs: knobs, clock: .virtual(executor), executor: executor, registry: nil, seed: seed, measureFrom: warmUp)
        let task = Task(executorPreference: executor) {
            let running = engine.start(finite: finite)
            if warmUp > 0 {
                try? await executor.sleep(warmUp)
                engine.resetTallies()
            }
            var models: [QueueModelSnapshot] = []
            var end = 0.0
            if finite {
                // Drained, or out of time: whichever comes first ends the measurement (the
                // other child then runs out on its own: a sleeper wakes at its deadline).
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await engine.waitUntilDrained() }
                    group.addTask { try? await executor.sleep(max(0, seconds - warmUp)) }
                    await group.next()
                    models = engine.models()
                    end = executor.now
                    group.cancelAll()
                }
            } else {
                try? await executor.sleep(max(0, seconds - warmUp))
                models = engine.models()
                end = executor.now
            }
            await running.stop()
            return (models, end)
        }
        // Nothing to run and nobody on the clock: the run is over, or every task waits on
        // something only another task could give; either way, stop what is left. Installed
        // once the root task exists (its first job is queued already), so no idle moment
        // seen before it started can cancel it.
        executor.whenIdle { task.cancel() }
        let (models, now) = await task.value
        let jobs = executor.jobCount
        executor.shutdown()
        let (totals, latency) = engine.ledger.withLock { ($0.totals, $0.latency) }
        let workers = engine.parameters.withLock { $0.workers }
        return SimulationResult(
            workers: workers, totals: totals, p50: latency.quantile(0.5), p99: latency.quantile(0.99),
            mean: latency.mean, measured: latency.count, models: models, seconds: now, jobs: jobs)
    }
}

/// `sluice plan`: the fewest workers that meet a p99 target at the file's load, found by
/// simulation in virtual time.
public enum Planner {
    /// One simulated setting and what it gave.
    public struct Try: Sendable {
        /// Worker count per pool knob.
        public var workers: [String: Int]
        /// What the simulation measured.
        public var result: SimulationResult
        /// Met the target at the full load.
        public var meets: Bool
        /// Why not, or what it measured.
        public var verdict: String
        /// Workers in all.
        public var total: Int { workers.values.reduce(0, +) }
    }

    /// Why a plan cannot start.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        /// What to do about it.
        public var description: String
    }

    /// Searches the worker knobs: first every pool at its knob's maximum (the ceiling: if that
    /// misses, nothing in range meets the target); then every pool at the fewest workers that
    /// keep ρ < 1 at the rates the ceiling measured; then, while the target is missed, one
    /// more worker for the pool whose queue waits longest. Greedy: each step is the cheapest
    /// fix for the worst queue, not a proof that no smaller total exists.
    /// - Parameter report: called with each try as it finishes.
    public static func plan(
        _ spec: PipelineSpec, knobs: [String: Double] = [:], targetP99: Double, seconds: Double, seed: UInt64,
        report: (Try) -> Void
    ) async throws(Refusal) -> (best: Try?, tries: [Try]) {
        let workerKnobs = spec.knobs.filter { $0.field == .workers }
        guard !workerKnobs.isEmpty else {
            throw Refusal(
                description:
                    "no worker knobs to search: declare some under [knobs], e.g. \"\(spec.pools.first?.name ?? "pool").workers\" = { min = 1, max = 64 }"
            )
        }
        let warmUp = seconds / 10
        var tries: [Try] = []
        func attempt(_ workers: [String: Int], baseline: Int?) async -> Try {
            var values = knobs
            for k in workerKnobs { values[k.name] = Double(workers[k.name]!) }
            let result = await PipelineSimulation.run(spec, knobs: values, seconds: seconds, warmUp: warmUp, seed: seed)
            var verdict: String
            var meets = false
            let p99 = result.p99 ?? .infinity
            if let baseline, Double(result.totals.fromSources) < 0.99 * Double(baseline) {
                verdict = "misses: back-pressure slowed the sources (\(result.totals.fromSources) items of \(baseline))"
            } else if p99 > targetP99 {
                verdict = "misses: p99 \(result.p99.map(formatShortSeconds) ?? "none") above \(formatShortSeconds(targetP99))"
            } else {
                meets = true
                verdict = "meets: p99 \(formatShortSeconds(p99))"
            }
            if let worst = result.models.max(by: { $0.measuredWaitSeconds < $1.measuredWaitSeconds }), !meets {
                verdict +=
                    "; longest wait at \(worst.name) (\(formatShortSeconds(worst.measuredWaitSeconds)), ρ \(formatDecimal(worst.utilization)))"
            }
            let t = Try(workers: workers, result: result, meets: meets, verdict: verdict)
            tries.append(t)
            report(t)
            return t
        }
        let ceiling = Dictionary(uniqueKeysWithValues: workerKnobs.map { ($0.name, Int($0.range.upperBound)) })
        let top = await attempt(ceiling, baseline: nil)
        guard top.meets else { return (nil, tries) }
        let baseline = top.result.totals.fromSources
        var current: [String: Int] = [:]
        for k in workerKnobs {
            let queue = spec.pools.first { $0.name == k.stage }!.from
            let stable = top.result.models.first { $0.name == queue }?.serversForStability ?? Int(k.range.lowerBound)
            current[k.name] = min(Int(k.range.upperBound), max(Int(k.range.lowerBound), stable))
        }
        var best: Try? = top
        while true {
            let t = await attempt(current, baseline: baseline)
            if t.meets {
                best = t
                break
            }
            // One more worker where items wait longest (among pools that can still grow).
            let grow = workerKnobs.filter { current[$0.name]! < Int($0.range.upperBound) }
            guard
                let pick = grow.max(by: { a, b in
                    wait(of: a, in: t, spec) < wait(of: b, in: t, spec)
                })
            else { break }
            current[pick.name]! += 1
        }
        return (best, tries)
    }

    static func wait(of knob: KnobDeclaration, in t: Try, _ spec: PipelineSpec) -> Double {
        let queue = spec.pools.first { $0.name == knob.stage }!.from
        guard let m = t.result.models.first(where: { $0.name == queue }) else { return 0 }
        return m.isUnstable ? .infinity : m.measuredWaitSeconds
    }
}

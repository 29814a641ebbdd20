import AsyncPatterns
import Scenarios

/// A pipeline file as a scenario: the dashboard, keys, knobs, headless runs, recording and
/// speed work as for the built-in ones. `seed` runs each source for its `items` (or the
/// file's `seed_duration`) and ends when every item is through; `live` runs until stopped.
/// Every snapshot carries the queueing theory of each queue with a pool
/// (`Snapshot.queueModels`).
public struct PipelineFileScenario: Scenario {
    /// The file's pipeline.
    public let spec: PipelineSpec

    /// The scenario of a checked pipeline.
    public init(_ spec: PipelineSpec) { self.spec = spec }

    public var name: String { spec.name }
    public var summary: String { spec.summary }
    public var explanation: String {
        spec.explanation.isEmpty
            ? "A pipeline from a file: \(spec.sources.count) sources, \(spec.queues.count) queues, \(spec.pools.count) pools. The theory pane puts each queue's measured wait beside what queueing theory predicts."
            : spec.explanation
    }
    public var knobs: [KnobSpec] { spec.knobs.map(\.spec) }
    public var seedValues: [String: Double] { [:] }
    public var panes: [PatternKind] {
        [.queue] + (spec.semaphores.isEmpty ? [] : [.semaphore]) + (spec.actors.isEmpty ? [] : [.actor]) + [.health]
    }

    public func refusal(of values: [String: Double], preset: Preset) -> String? {
        guard preset == .seed else { return nil }
        let p = Parameters(spec, knobs: values)
        if let pool = spec.pools.first(where: { p.workers[$0.name]! == 0 }) {
            return "\(pool.name) has 0 workers: the seed run could never finish; use more, or --preset live."
        }
        if let s = spec.semaphores.first(where: { p.permits[$0.name]! == 0 }) {
            return "\(s.name) has 0 permits: the seed run could never finish; use more, or --preset live."
        }
        return nil
    }

    public func run(_ context: ScenarioContext) async throws {
        let engine = PipelineEngine(
            spec: spec, knobs: context.knobs.values, clock: .scenario(context.clock), executor: nil, registry: context.registry,
            seed: UInt64(context.pick(0..<Int.max)), say: { context.say($0) })
        context.annotateSnapshots { $0.queueModels = engine.models() }
        let running = engine.start(finite: context.preset == .seed)
        let spec = self.spec
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var version = context.knobs.version
                while true {
                    do { version = try await context.knobs.waitForChange(after: version) } catch { return }
                    let values = context.knobs.values
                    engine.update(Parameters(spec, knobs: values))
                    running.apply()
                    engine.resetTallies()
                }
            }
            if context.preset == .seed {
                await engine.waitUntilDrained()
                group.cancelAll()
            }
            await group.waitForAll()
        }
        await running.stop()
        let (totals, latency) = engine.ledger.withLock { ($0.totals, $0.latency) }
        var line = "\(totals.emitted) items: \(totals.completed) completed, \(totals.failed) failed"
        if totals.dropped > 0 { line += ", \(totals.dropped) feedback dropped (queue full)" }
        if totals.undelivered > 0 { line += ", \(totals.undelivered) in hand at stop" }
        if let p50 = latency.quantile(0.5), let p99 = latency.quantile(0.99) {
            line += "; end to end p50 \(formatShortSeconds(p50)), p99 \(formatShortSeconds(p99))"
        }
        context.say(line)
    }
}

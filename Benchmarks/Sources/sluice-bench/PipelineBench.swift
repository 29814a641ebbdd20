// Issue #24: what a simulated second of a big pipeline costs in virtual time (what `sluice
// plan` and the accuracy tests run on).
#if canImport(Glibc)
import Glibc
#endif
import Pipelines

/// CPU time of this process (every thread), in milliseconds.
func processCPUMillis() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
}

/// Ten stages (a queue and a pool of ten workers each, 100 workers in all, exponential
/// service at ρ 0.8) fed by Poisson arrivals at 10,000 items/s: the median CPU milliseconds
/// of `runs` simulated seconds, with the items finished and executor jobs of the last.
func pipelineSimulationCost(runs: Int) async -> (cpuMillis: Double, completed: Int, jobs: Int) {
    var text = """
        name = "ten-stages"
        [[source]]
        name = "in"
        rate = 10000
        to = "q1"

        """
    for i in 1...10 {
        text += """
            [[queue]]
            name = "q\(i)"
            capacity = 100000
            [[pool]]
            name = "p\(i)"
            from = "q\(i)"
            workers = 10
            service = { dist = "exponential", mean = "0.8ms" }
            \(i < 10 ? "to = \"q\(i + 1)\"" : "")

            """
    }
    let spec: PipelineSpec
    do { spec = try PipelineSpec.parse(text, file: "ten-stages.toml") } catch { fatalError("\(error)") }
    var samples: [Double] = []
    var last: SimulationResult?
    for _ in 0..<max(1, runs) {
        let start = processCPUMillis()
        last = await PipelineSimulation.run(spec, seconds: 1, seed: 1)
        samples.append(processCPUMillis() - start)
    }
    samples.sort()
    return (samples[samples.count / 2], last?.totals.completed ?? 0, last?.jobs ?? 0)
}

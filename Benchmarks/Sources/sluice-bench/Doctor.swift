// Issue #21's targets: what the pool doctor costs a program that does not stall (queue 1/1
// and mailbox with the doctor on against off, runs alternated so drift cancels), and what
// one capture costs when it does.
#if canImport(Glibc)
import Glibc
#endif
@_spi(Benchmarks) import AsyncPatterns
@_spi(Benchmarks) import PoolDoctor

struct DoctorCosts {
    /// Workload, rate with the doctor off, with it on (medians), and on/off.
    var rows: [(name: String, off: Double, on: Double)] = []
    /// CPU of the whole process per capture, and frames per captured stack.
    var captureMicros: Double = .nan
    var frames = 0
}

@MainActor
func doctorCosts(quick: Bool) async -> DoctorCosts {
    var costs = DoctorCosts()
    let workloads: [(String, () async -> Void)] = [
        ("queue 1/1", { await sluiceQueue(producers: 1, consumers: 1, registry: nil) }),
        ("mailbox", { await sluiceMailbox(registry: nil) }),
    ]
    for (name, work) in workloads {
        var off: [Double] = []
        var on: [Double] = []
        for _ in 0..<(quick ? 2 : 9) {
            off.append(await timed(work))
            // As the agent runs it with a viewer attached: heartbeat, watchdog, enqueue hook.
            let doctor = PoolDoctor(registry: nil)
            doctor.installHook()
            on.append(await timed(work))
            doctor.stop()
        }
        costs.rows.append((name, off.sorted()[off.count / 2], on.sorted()[on.count / 2]))
    }
    if let capture = PoolDoctor.measureCaptureCost(captures: quick ? 50 : 500) {
        costs.captureMicros = capture.micros
        costs.frames = capture.frames
    }
    return costs
}

@MainActor
private func timed(_ work: () async -> Void) async -> Double {
    let start = ContinuousClock.now
    await work()
    return Double(items) / (ContinuousClock.now - start).seconds
}

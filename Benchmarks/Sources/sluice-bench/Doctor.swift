// Issue #21's targets: what the pool doctor costs a program that does not stall (queue 1/1
// and mailbox with the doctor on against off, runs alternated so drift cancels), and what
// one capture costs when it does.
#if canImport(Glibc)
import Glibc
#endif
@_spi(Benchmarks) import AsyncPatterns
@_spi(Benchmarks) import PoolDoctor

struct DoctorCosts {
    /// Workload, rate with the doctor off, on (as in a program nobody watches: heartbeat and
    /// watchdog), and on with the enqueue hook (someone watches); medians.
    var rows: [(name: String, off: Double, on: Double, hooked: Double)] = []
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
        var hooked: [Double] = []
        for _ in 0..<(quick ? 2 : 9) {
            off.append(await timed(work))
            let doctor = startedDoctor()
            on.append(await timed(work))
            // As the agent runs it while a viewer watches: the enqueue hook counts every job.
            doctor.installHook()
            hooked.append(await timed(work))
            doctor.stop()
        }
        func median(_ list: [Double]) -> Double { list.sorted()[list.count / 2] }
        costs.rows.append((name, median(off), median(on), median(hooked)))
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

/// The workloads whose cost with the doctor on is a target, by their engine names.
let doctorWorkloads = ["queue 1/1", "mailbox"]
/// A callgrind workload name with this suffix runs with the doctor on and watched.
let doctoredSuffix = "+doctor"

/// A doctor that has started: its start (reading the executable's symbol table, once) is
/// not what is measured.
func startedDoctor(_ options: PoolDoctor.Options = PoolDoctor.Options()) -> PoolDoctor {
    let doctor = PoolDoctor(options: options, registry: nil)
    while doctor.captureCost.warmNanos == 0 || doctor.snapshot().beats < 2 { usleep(5_000) }
    return doctor
}

/// A started doctor with its enqueue hook in, as the agent runs it while a viewer watches.
func startWatchedDoctor(threshold: Duration) -> PoolDoctor {
    let doctor = startedDoctor(PoolDoctor.Options(threshold: threshold))
    doctor.installHook()
    return doctor
}

/// Instructions per item of each doctor workload, off and on (nil pass: none).
func doctorCallgrindRows(_ pass: CallgrindPass?) -> [(name: String, off: Double, on: Double)] {
    guard let pass else { return [] }
    return doctorWorkloads.compactMap { name in
        guard let off = pass.rows.first(where: { $0.workload == name })?.median,
            let on = pass.rows.first(where: { $0.workload == name + doctoredSuffix })?.median
        else { return nil }
        return (name, off, on)
    }
}

// Issue #23's row for a program that `sluice attach` watches: queue 1/1 and the mailbox with
// their patterns in a registry, the agent started (with its pool doctor) and one viewer
// taking snapshots and notable events 10 times a second, against the bare engine (no
// registry, no agent). Measured twice: by the wall clock, bare and watched runs interleaved
// run by run, and by callgrind (instructions per item, `NAME` against `NAME+watched`).
//
// The viewer is a process of its own (`sluice-bench --watch-agent SOCKET`), as `sluice
// attach` is: what it spends reading and decoding is not the watched program's cost, and
// under valgrind it runs natively (valgrind does not trace children) so it is not counted.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import PoolDoctor
@_spi(Benchmarks) import SluiceAgent
import SluiceWire

struct WatchedCosts {
    /// Medians of the bare and the watched runs, and the median over rounds of watched/bare
    /// in the same round (`medianRatio`): the figure judged.
    var rows: [(name: String, bare: Double, watched: Double, ratio: Double)] = []
    var runs = 0
    /// Snapshots the agent sent while the workloads ran: proof that someone watched.
    var snapshotsSent = 0
}

/// The workloads of the row, by their engine names; each also has a callgrind twin
/// `NAME+watched`.
let watchedWorkloads = ["queue 1/1", "mailbox"]

/// A callgrind workload name with this suffix runs watched: registered, the agent and its
/// pool doctor started, a viewer process taking snapshots and notable events at 10 Hz.
let watchedSuffix = "+watched"

@MainActor
func watchedCosts(quick: Bool) async -> WatchedCosts? {
    let registry = PatternRegistry()
    guard let watch = WatchedProgram(registry: registry, doctor: PoolDoctor.Options()) else { return nil }
    defer { watch.stop() }
    var costs = WatchedCosts()
    // One two-core run lands anywhere between 88% and 110% of the bare one; 21 rounds give
    // the median of ratios something to stand on (about 4 s a workload).
    costs.runs = quick ? 3 : 21
    let sentBefore = watch.agent.stats.snapshotsSent
    for name in watchedWorkloads {
        guard let work = engine.first(where: { $0.name == name })?.run else { continue }
        let runs = await timeInterleaved(items, [{ await work(nil) }, { await work(registry) }], runs: costs.runs)
        costs.rows.append((name, Rate(runs: runs[0]).median, Rate(runs: runs[1]).median, medianRatio(runs[0], runs[1])))
    }
    costs.snapshotsSent = watch.agent.stats.snapshotsSent - sentBefore
    return costs
}

/// An agent on `registry` and a viewer process watching it at 10 Hz with notable events;
/// `init` returns once the viewer has had its first snapshot (so the doctor's enqueue hook,
/// which a viewer turns on, is in), or nil.
final class WatchedProgram {
    let bench: BenchAgent
    let viewer: pid_t
    var agent: SluiceAgent { bench.agent }

    init?(registry: PatternRegistry, doctor: PoolDoctor.Options, waitingAtMost limit: Duration = .seconds(10)) {
        guard let bench = BenchAgent("watched", registry: registry, pool: doctor) else { return nil }
        guard let viewer = spawnSelf(["--watch-agent", bench.agent.socketPath]) else {
            bench.stop()
            return nil
        }
        self.bench = bench
        self.viewer = viewer
        let deadline = ContinuousClock.now + limit
        while bench.agent.stats.snapshotsSent == 0, ContinuousClock.now < deadline { usleep(10_000) }
        guard bench.agent.stats.snapshotsSent > 0 else {
            stop()
            return nil
        }
    }

    func stop() {
        kill(viewer, SIGTERM)
        var status: Int32 = 0
        waitpid(viewer, &status, 0)
        bench.stop()
    }
}

/// Starts this program again with `arguments` (not under valgrind: it does not trace
/// children); its pid, or nil.
///
/// With no signal blocked: a child inherits its spawner's mask, and the pool's threads
/// (libdispatch's workers) block nearly all, SIGTERM included, so `stop` could not end it.
func spawnSelf(_ arguments: [String]) -> pid_t? {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var unblocked = sigset_t()
    sigemptyset(&unblocked)
    posix_spawnattr_setsigmask(&attributes, &unblocked)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv = ([CommandLine.arguments[0]] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, CommandLine.arguments[0], nil, &attributes, argv, environ) == 0 else { return nil }
    return pid
}

/// `--watch-agent SOCKET`: the viewer, in a process of its own. Watches at 10 Hz with notable
/// events until the agent closes the connection, the parent goes, or ten minutes pass.
func runWatchingViewer(socket: String) -> Never {
    let parent = getppid()
    guard let viewer = try? AgentConnection.open(path: socket, client: "bench viewer", waitingAtMost: .seconds(30)) else {
        print("sluice-bench: --watch-agent could not attach to \(socket)")
        exit(69)
    }
    viewer.watch(snapshotsPerSecond: 10, events: .notable)
    let deadline = ContinuousClock.now + .seconds(600)
    while viewer.closedReason == nil, getppid() == parent, ContinuousClock.now < deadline { usleep(50_000) }
    viewer.close()
    exit(0)
}

/// Pass rows of a watched workload beside its count: per item without the agent's thread,
/// and the agent thread's instructions a snapshot.
let agentApartSuffix = ", agent apart"
let perSnapshotSuffix = ", a snapshot"

/// Instructions per item of each watched workload (nil pass: none): bare; watched, as
/// counted; the same without the agent's thread; and the agent's instructions a snapshot
/// (NaN when callgrind_annotate could not split them).
///
/// Why the split: valgrind slows the program 50-100x and the agent snapshots by real time,
/// so a counted run gets 2-12 snapshots where the program natively gets a fraction of one,
/// and how many follows valgrind's speed and the machine's load (queue 1/1 +5.7% to +8.5%
/// as counted, BENCHMARKS.md). The rest of the watched count is steady.
func watchedCallgrindRows(_ pass: CallgrindPass?) -> [(name: String, bare: Double, watched: Double, apart: Double, perSnapshot: Double)] {
    guard let pass else { return [] }
    func median(_ workload: String) -> Double? { pass.rows.first(where: { $0.workload == workload })?.median }
    return watchedWorkloads.compactMap { name in
        guard let bare = median(name), let watched = median(name + watchedSuffix) else { return nil }
        return (
            name, bare, watched, median(name + watchedSuffix + agentApartSuffix) ?? .nan,
            median(name + watchedSuffix + perSnapshotSuffix) ?? .nan
        )
    }
}

/// The watched cost judged (instructions per item): the count without the agent's thread,
/// plus the agent's instructions a snapshot at 10 snapshots a second over the watched rate
/// the wall clock measured (items a second): the snapshots' share at the program's own
/// speed. The count as measured when it could not be split.
func judgedWatchedCount(
    _ row: (name: String, bare: Double, watched: Double, apart: Double, perSnapshot: Double), watchedRate: Double
) -> Double {
    guard row.apart.isFinite, row.perSnapshot.isFinite, watchedRate.isFinite, watchedRate > 0 else { return row.watched }
    return row.apart + row.perSnapshot * 10 / watchedRate
}

// Issue #23's row for a program that `sluice attach` watches: queue 1/1 and the mailbox with
// their patterns in a registry, the agent started (with its pool doctor) and one viewer
// taking snapshots and notable events 10 times a second, against the bare engine (no
// registry, no agent). Runs alternate so the machine's drift cancels; medians.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import SluiceAgent
import SluiceWire

struct WatchedCosts {
    var rows: [(name: String, bare: Double, watched: Double)] = []
    /// Snapshots the agent sent while the workloads ran: proof that someone watched.
    var snapshotsSent = 0
}

@MainActor
func watchedCosts(quick: Bool) async -> WatchedCosts? {
    let registry = PatternRegistry()
    guard let bench = BenchAgent("watched", registry: registry) else { return nil }
    defer { bench.stop() }
    let agent = bench.agent
    guard let viewer = try? AgentConnection.open(path: agent.socketPath, client: "bench") else { return nil }
    defer { viewer.close() }
    viewer.watch(snapshotsPerSecond: 10, events: .notable)
    usleep(300_000)  // the viewer has had its first snapshot, and the doctor's hook is in
    var costs = WatchedCosts()
    let sentBefore = agent.stats.snapshotsSent
    let workloads: [(String, (PatternRegistry?) async -> Void)] = [
        ("queue 1/1", { await sluiceQueue(producers: 1, consumers: 1, registry: $0) }),
        ("mailbox", { await sluiceMailbox(registry: $0) }),
    ]
    for (name, work) in workloads {
        var bare: [Double] = []
        var watched: [Double] = []
        for _ in 0..<(quick ? 2 : 9) {
            bare.append(await itemsPerSecond { await work(nil) })
            watched.append(await itemsPerSecond { await work(registry) })
        }
        func median(_ list: [Double]) -> Double { list.sorted()[list.count / 2] }
        costs.rows.append((name, median(bare), median(watched)))
    }
    costs.snapshotsSent = agent.stats.snapshotsSent - sentBefore
    return costs
}

@MainActor
private func itemsPerSecond(_ work: () async -> Void) async -> Double {
    let start = ContinuousClock.now
    await work()
    return Double(items) / (ContinuousClock.now - start).seconds
}

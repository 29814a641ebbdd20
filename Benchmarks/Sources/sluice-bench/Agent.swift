// What `sluice attach` costs (issue #13): a snapshot of 1,000 patterns on the wire, and the
// agent's own thread with 0, 1 and 4 viewers at 10 snapshots a second.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import NIOCore
import PoolDoctor
@_spi(Benchmarks) import SluiceAgent
import SluiceWire

struct AgentCosts {
    var patterns = 0
    var snapshotMicros = 0.0
    var encodeMicros = 0.0
    var decodeMicros = 0.0
    var bytes = 0
    /// Percent of one core the agent's thread used, by number of viewers.
    var cpuPercent: [Int: Double] = [:]
}

/// 1,000 patterns with numbers in them: 400 queues, 300 semaphores, 300 actors.
func agentCosts(seconds: Double) -> AgentCosts {
    let registry = PatternRegistry()
    let queues = (0..<400).map { BoundedQueue<Int>(capacity: 64, name: "queue-\($0)", registry: registry) }
    for (i, queue) in queues.enumerated() {
        for n in 0..<(i % 17) { _ = try? queue.tryPut(n) }
        for _ in 0..<(i % 5) { _ = try? queue.tryGet() }
    }
    let semaphores = (0..<300).map { AsyncSemaphore(limit: 4, name: "semaphore-\($0)", registry: registry) }
    for (i, semaphore) in semaphores.enumerated() where i % 3 == 0 { _ = semaphore.tryAcquire() }
    let actors = (0..<300).map { MailboxActor<Int>(name: "actor-\($0)", registry: registry) }
    var costs = AgentCosts(patterns: registry.count)

    costs.snapshotMicros = medianMicros(20) { _ = registry.snapshot() }
    let message = AgentMessage.snapshot(snapshot: registry.snapshot(), knobs: ["workers": 4], dropped: 0)
    var bytes: [UInt8] = []
    costs.encodeMicros = medianMicros(20) { bytes = WireCoding.encode(message) }
    costs.bytes = bytes.count
    let payload = ByteBuffer(bytes: bytes)
    costs.decodeMicros = medianMicros(20) { _ = try? WireCoding.decodeAgentMessage(from: payload) }

    guard let bench = BenchAgent("agent", registry: registry) else { return costs }
    defer { bench.stop() }
    let agent = bench.agent
    var viewers: [AgentConnection] = []
    for count in [0, 1, 4] {
        while viewers.count < count {
            guard let viewer = try? AgentConnection.open(path: agent.socketPath, client: "bench") else { return costs }
            viewer.watch(snapshotsPerSecond: 10, events: .notable)
            viewers.append(viewer)
        }
        usleep(300_000)  // every viewer has had its first snapshot
        let cpu0 = agent.threadCPUTime()
        let wall0 = ContinuousClock.now
        usleep(UInt32(seconds * 1e6))
        let cpu = agent.threadCPUTime() - cpu0
        costs.cpuPercent[count] = cpu.seconds / (ContinuousClock.now - wall0).seconds * 100
    }
    for viewer in viewers { viewer.close() }
    withExtendedLifetime((queues, semaphores, actors)) {}
    return costs
}

func medianMicros(_ runs: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        body()
        times.append((ContinuousClock.now - start).seconds * 1e6)
    }
    return times.sorted()[runs / 2]
}

/// An agent for a benchmark, its socket in a folder of this run's own
/// (`/tmp/sluice-bench-NAME-PID`), which `stop()` removes with the agent.
final class BenchAgent {
    let agent: SluiceAgent
    private let folder: String

    init?(_ name: String, registry: PatternRegistry, pool: PoolDoctor.Options? = PoolDoctor.Options()) {
        folder = "/tmp/sluice-bench-\(name)-\(getpid())"
        guard
            let agent = try? SluiceAgent.start(
                name: "bench", registry: registry, directory: SocketDirectory(path: folder), pool: pool)
        else { return nil }
        self.agent = agent
    }

    func stop() {
        agent.stop()
        rmdir(folder)
    }
}

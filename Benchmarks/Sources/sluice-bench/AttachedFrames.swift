// What `sluice attach` costs with 100,000 actors (issue #23): the agent's message for one
// viewer, every actor against only those its screen shows, and the viewer's own frames.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
@_spi(Benchmarks) import SluiceAgent
import SluiceWire
import TUI

struct AttachedCosts {
    /// One viewer's message read and encoded, median: every actor (as before #23), and
    /// only the actors a 200x60 actors screen shows with their totals.
    var wholeMicros = 0.0
    var screenMicros = 0.0
    var wholeBytes = 0
    var screenBytes = 0
    /// Of which the registry's read alone, median.
    var wholeReadMicros = 0.0
    var screenReadMicros = 0.0
    /// The registry's first two reads for a screen: the first builds its actor index (every
    /// actor read and sorted by name), the second reads each actor once more.
    var firstScreenReadMicros = 0.0
    var secondScreenReadMicros = 0.0
    /// The agent thread's CPU for each snapshot it sent to one viewer at 10 a second.
    var wholeAgentMicros = 0.0
    var screenAgentMicros = 0.0
    /// A 200x60 attached actors frame at 20 frames a second: refresh, compose, diff; and
    /// the same from an agent that sends every actor (a connection of version 2, as before).
    var frameMicros = 0.0
    var wholeFrameMicros = 0.0
}

/// `count` idle actors in a registry an agent serves, on this machine's socket.
@MainActor
func attachedCosts(actors count: Int, quick: Bool) async -> AttachedCosts? {
    let registry = PatternRegistry()
    let actors = (0..<count).map { MailboxActor<Int>(name: "actor-\($0)", registry: registry) }
    defer { withExtendedLifetime(actors) {} }
    guard let bench = BenchAgent("attached", registry: registry, pool: nil) else { return nil }
    defer { bench.stop() }
    let agent = bench.agent
    var costs = AttachedCosts()

    // One viewer's message, read and encoded on this thread while no viewer watches: the
    // query a 200x60 actors screen asks at its top (what `actorsScreen` below sends).
    let query = DashboardApp(backend: TestBackend(width: 200, height: 60), choices: []).actorQuery
    let runs = quick ? 3 : 9
    costs.firstScreenReadMicros = medianMicros(1) { _ = agent.screen(actors: query) }
    costs.secondScreenReadMicros = medianMicros(1) { _ = agent.screen(actors: query) }
    var bytes: [UInt8] = []
    costs.wholeMicros = medianMicros(runs) { bytes = agent.freshMessage(actors: nil) }
    costs.wholeBytes = bytes.count
    costs.screenMicros = medianMicros(runs) { bytes = agent.freshMessage(actors: query) }
    costs.screenBytes = bytes.count
    costs.wholeReadMicros = medianMicros(runs) { _ = agent.snapshot() }
    costs.screenReadMicros = medianMicros(runs) { _ = agent.screen(actors: query) }

    // The agent's thread while one viewer watches at 10 a second: every actor first (as a
    // viewer before #23, or a recording, is sent), then only its screen's.
    guard let connection = try? AgentConnection.open(path: agent.socketPath, client: "bench") else { return nil }
    let source = AttachedSource(connection, rate: 10)
    source.waitForFirstSnapshot(atMost: .seconds(30))
    func agentMicrosPerSnapshot() -> Double {
        usleep(300_000)
        let cpu0 = agent.threadCPUTime()
        let sent0 = agent.stats.snapshotsSent
        usleep(quick ? 1_000_000 : 3_000_000)
        let cpu = agent.threadCPUTime() - cpu0
        return cpu.seconds * 1e6 / Double(max(1, agent.stats.snapshotsSent - sent0))
    }
    costs.wholeAgentMicros = agentMicrosPerSnapshot()

    // The dashboard on its actors pane: its first refresh sends its screen's query.
    let app = actorsScreen(source)
    costs.screenAgentMicros = agentMicrosPerSnapshot()

    costs.frameMicros = await frameMicros(app, frames: quick ? 50 : 200)
    app.quit()
    guard let old = try? AgentConnection.open(path: agent.socketPath, client: "bench", versions: [2]) else { return costs }
    let whole = AttachedSource(old, rate: 10)
    whole.waitForFirstSnapshot(atMost: .seconds(30))
    let before = actorsScreen(whole)
    costs.wholeFrameMicros = await frameMicros(before, frames: quick ? 50 : 200)
    before.quit()
    return costs
}

/// A 200x60 dashboard of `source` on its actors pane.
@MainActor
func actorsScreen(_ source: AttachedSource) -> DashboardApp {
    let app = DashboardApp(
        backend: TestBackend(width: 200, height: 60),
        choices: [SourceChoice(name: "bench", summary: "", explanation: "", knobs: []) { _ in source }])
    app.open(0, values: [:])
    app.refresh()
    _ = app.press(.tab)
    app.refresh()
    return app
}

/// Microseconds inside each of `frames` frames (refresh, compose, diff), one every
/// `cadence` (nil: back to back).
@MainActor
func frameMicros(_ app: DashboardApp, frames: Int, cadence: Duration? = .milliseconds(50)) async -> Double {
    var previous = app.frame()
    var inside = Duration.zero
    for _ in 0..<frames {
        let start = ContinuousClock.now
        app.refresh()
        let frame = app.frame()
        _ = frame.diff(from: previous)
        previous = frame
        inside += ContinuousClock.now - start
        if let cadence { try? await Task.sleep(until: start + cadence) }
    }
    return inside.seconds / Double(frames) * 1e6
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Patience
import SluiceAgent
import SluiceWire
import TUI
import Testing

@testable import AsyncPatterns
@testable import Dashboard

/// `sluice attach` with a program of many actors: the dashboard asks the agent for only the
/// actors its screen shows (protocol version 3), and shows what it would show from every
/// actor; a recording still gets every actor; an agent of version 2 still sends them all.
@MainActor
@Suite final class AttachedScreenTests {
    let folder = "/tmp/sluice-attached-screen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    deinit {
        for entry in SocketDirectory(path: folder).entries() { unlink(entry.path) }
        rmdir(folder)
    }

    /// 1,500 actors with counters set by hand on a clock that stands still (every read
    /// agrees): processed counts with ties, some with mail, some with dead letters.
    static func registry() -> PatternRegistry {
        let registry = PatternRegistry(timeSource: { .seconds(5) })
        for i in 0..<1_500 {
            let counters = ActorCounters(name: "actor-\(i)")
            registry.add(counters, id: registry.reserveID())
            counters.processed.store((i * 7919) % 1000, ordering: .relaxed)
            if i % 41 == 0 { counters.sent.store(i % 7 + 1, ordering: .relaxed) }
            if i % 97 == 0 { counters.deadLetters.store(i % 3 + 1, ordering: .relaxed) }
        }
        return registry
    }

    func agent(_ registry: PatternRegistry) throws -> SluiceAgent {
        try SluiceAgent.start(name: "many", registry: registry, directory: SocketDirectory(path: folder), pool: nil)
    }

    func app(_ source: any Source) -> DashboardApp {
        let choice = SourceChoice(name: "many", summary: "s", explanation: "e", knobs: []) { _ in source }
        let app = DashboardApp(backend: TestBackend(width: 200, height: 60), choices: [choice])
        // An attached program's panes are those its first snapshot shows.
        (source as? AttachedSource)?.waitForFirstSnapshot(atMost: patience)
        app.open(0, values: [:])
        app.refresh()
        app.press(.tab)  // the actors pane
        return app
    }

    /// The actors pane's rows and count, as a frame draws them.
    func actorLines(_ app: DashboardApp) -> [String] {
        app.refresh()
        return app.frame().lines.filter { $0.contains("actor-") || $0.contains("Actors (") }
    }

    @Test func theAttachedScreenIsTheScreenOfEveryActor() throws {
        let registry = Self.registry()
        let agent = try agent(registry)
        defer { agent.stop() }
        let connection = try AgentConnection.open(path: agent.socketPath, client: "test")
        let attached = app(AttachedSource(connection, rate: 50))
        defer { attached.quit() }
        let local = app(RegistrySource(registry, partial: false))
        let totals = ActorTotals(of: registry.snapshot().actors)
        func same(_ what: String, rows: Int = 20) throws {
            let expected = actorLines(local)
            #expect(expected.count >= rows, "\(what): the pane shows rows")
            // Until the agent's answer to a new query is in, the rows are the last query's.
            do {
                try eventuallyBlocking(what) { actorLines(attached) == expected && attached.lastSnapshot.actors.count < 400 }
            } catch {
                let shown = actorLines(attached).joined(separator: "\n")
                Issue.record(
                    "\(what): \(attached.lastSnapshot.actors.count) listed; attached:\n\(shown)\nexpected:\n\(expected.joined(separator: "\n"))"
                )
                throw error
            }
            var all = totals
            (all.offset, all.listedBefore) = (attached.lastActors.offset, attached.lastActors.listedBefore)
            #expect(attached.lastActors == all, "\(what)")
        }
        for _ in ActorOrder.allCases {
            let order = local.state.actorSort
            try same("\(order), top")
            for _ in 0..<75 { [local, attached].forEach { $0.press(.down) } }
            try same("\(order), scrolled")
            [local, attached].forEach { $0.press(.enter) }
            try same("\(order), detail", rows: 1)
            [local, attached].forEach { $0.press(.escape) }
            // The bottom of the list: the agent sends the rows there, not every row above them.
            for _ in 0..<150 { [local, attached].forEach { $0.press(.pageDown) } }
            try same("\(order), bottom")
            #expect(attached.lastActors.offset > 1_000, "\(order): a window down the list")
            for _ in 0..<150 { [local, attached].forEach { $0.press(.pageUp) } }
            [local, attached].forEach { $0.press(.char("s")) }
            #expect(attached.state.actorSort == order.next)
        }
        #expect(actorLines(attached).contains { $0.contains("Actors (1500)") })
        #expect(agent.stats.closedForErrors == 0)
    }

    /// A new viewer with an agent of version 2 (here: a connection that offers only 2):
    /// every actor, and their totals, as before version 3.
    @Test func anAgentOfVersion2SendsEveryActor() throws {
        let registry = Self.registry()
        let agent = try agent(registry)
        defer { agent.stop() }
        let source = AttachedSource(try AgentConnection.open(path: agent.socketPath, client: "test", versions: [2]), rate: 50)
        defer { source.stop(waitingAtMost: .seconds(1)) }
        #expect(source.connection.version == 2)
        let query = ActorQuery(order: .processed, first: 32)
        try eventuallyBlocking("a snapshot") { source.snapshot(actors: query).snapshot.actors.count == 1_500 }
        #expect(source.snapshot(actors: query).actors == ActorTotals(of: registry.snapshot().actors))
        #expect(source.connection.closedReason == nil && agent.stats.closedForErrors == 0)
    }

    /// Asked for every actor after a screen's, the source asks the agent for them all again.
    @Test func aWholeSnapshotAfterAScreenAsksForEveryActorAgain() throws {
        let registry = Self.registry()
        let agent = try agent(registry)
        defer { agent.stop() }
        let source = AttachedSource(try AgentConnection.open(path: agent.socketPath, client: "test"), rate: 50)
        defer { source.stop(waitingAtMost: .seconds(1)) }
        let query = ActorQuery(order: .name, first: 10)
        try eventuallyBlocking("a screen") {
            source.snapshot(actors: query).snapshot.actors.count < 100 && source.connection.latestActors?.actors != nil
        }
        try eventuallyBlocking("every actor") { source.snapshot().actors.count == 1_500 }
        #expect(source.connection.latestActors?.actors == nil)
    }

    /// `sluice attach --record`: the recorder needs every actor (a replay may sort by any
    /// column and open any actor), so the recording source reads them all, the agent is
    /// never asked for a screen, and the replay has every actor.
    @Test func aRecordingOfAnAttachedProgramHasEveryActor() throws {
        let registry = Self.registry()
        let agent = try agent(registry)
        defer { agent.stop() }
        let attached = AttachedSource(try AgentConnection.open(path: agent.socketPath, client: "test"), rate: 50)
        #expect(attached.waitForFirstSnapshot(atMost: patience))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-attached-\(getpid()).rec").path
        defer { unlink(path) }
        let recording = RecordingSource(attached, recorder: try Recorder(recording: attached, to: path))
        let app = app(recording)
        for _ in 0..<5 { _ = actorLines(app) }
        #expect(app.lastSnapshot.actors.count == 1_500)
        #expect(attached.connection.latestActors?.actors == nil, "the agent was never asked for a screen")
        app.quit()
        #expect(recording.recorder.isFinished)
        let replay = ReplaySource(try Recording.open(path: path), now: { 0 })
        #expect(replay.snapshot().actors.count == 1_500)
    }
}

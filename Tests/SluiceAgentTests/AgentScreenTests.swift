#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Patience
import Testing

@testable import AsyncPatterns
@testable import SluiceAgent
@testable import SluiceWire

/// Protocol version 3 end to end: a viewer says which actors it shows, and the agent sends
/// only those, with the totals of all (issue #23).
extension AgentTests {
    /// 1,500 actors with counters set by hand (a clock that stands still, so every read
    /// agrees): processed counts with many ties, some dead letters.
    static func actorRegistry() -> PatternRegistry {
        let registry = PatternRegistry(timeSource: { .seconds(5) })
        for i in 0..<1_500 {
            let counters = ActorCounters(name: "actor-\(i)")
            registry.add(counters, id: registry.reserveID())
            counters.processed.store((i * 7919) % 1000, ordering: .relaxed)
            if i % 97 == 0 { counters.deadLetters.store(i % 3 + 1, ordering: .relaxed) }
        }
        return registry
    }

    /// The names a snapshot for `query` lists: every actor with mail or dead letters, those
    /// named, and the `query.first` from place `query.offset` in the query's order.
    static func listed(by query: ActorQuery, in full: Snapshot) -> Set<String> {
        let extra = { (a: ActorSnapshot) in a.mailboxDepth > 0 || a.deadLetters > 0 || query.named.contains(a.name) }
        let window = full.actors.sorted(by: query.order.precedes).dropFirst(query.offset).prefix(query.first)
        return Set(full.actors.filter(extra).map(\.name) + window.map(\.name))
    }

    /// Waits until `viewer`'s latest screen lists what `query` asks, and checks it: only
    /// those rows, the same first rows as every actor sorted, the totals of all of them.
    func expectScreen(_ viewer: AgentConnection, _ query: ActorQuery, of full: Snapshot) throws {
        let expected = Self.listed(by: query, in: full)
        try eventuallyBlocking { viewer.latestActors.map { $0.actors != nil && Set($0.snapshot.actors.map(\.name)) == expected } == true }
        let latest = try #require(viewer.latestActors)
        #expect(latest.snapshot.actors.count == expected.count, "each listed once")
        #expect(latest.actors == ActorTotals(of: full.actors))
        #expect(
            latest.snapshot.actors.sorted(by: query.order.precedes).prefix(query.first).map(\.name)
                == full.actors.sorted(by: query.order.precedes).prefix(query.first).map(\.name))
    }

    @Test func aViewerGetsOnlyTheActorsItShowsAndTheTotalsOfAll() async throws {
        try await offPool {
            let registry = Self.actorRegistry()
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let full = registry.snapshot()
            #expect(full.actors.count == 1_500)
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            defer { viewer.close() }
            #expect(viewer.version == 3 && viewer.takesActorQueries)
            let byProcessed = ActorQuery(order: .processed, first: 40)
            viewer.show(actors: byProcessed)
            viewer.watch(snapshotsPerSecond: 50, events: .none)
            try expectScreen(viewer, byProcessed, of: full)
            #expect(viewer.latestActors!.snapshot.actors.count < 60, "40 rows and the 16 with dead letters")

            // Changed while watching: another order, fewer rows, an actor far down named.
            let byName = ActorQuery(order: .name, first: 10, named: ["actor-1234"])
            viewer.show(actors: byName)
            try expectScreen(viewer, byName, of: full)
            #expect(viewer.latestActors!.snapshot.actors.contains { $0.name == "actor-1234" })

            // Every actor again.
            viewer.show(actors: nil)
            try eventuallyBlocking { viewer.latestActors.map { $0.actors == nil && $0.snapshot.actors.count == 1_500 } == true }
            #expect(agent.stats.closedForErrors == 0)
        }
    }

    /// Two viewers of one program, each with its own query, each get theirs, snapshot after
    /// snapshot (the agent shares a screen's body only between viewers of the same query).
    @Test func twoViewersWithTheirOwnQueriesEachGetTheirs() async throws {
        try await offPool {
            let registry = Self.actorRegistry()
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let full = registry.snapshot()
            let queries = [ActorQuery(order: .processed, first: 25), ActorQuery(order: .deadLetters, first: 3, named: ["actor-7"])]
            let viewers = try queries.map { query in
                let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
                viewer.show(actors: query)
                viewer.watch(snapshotsPerSecond: 50, events: .none)
                return viewer
            }
            defer { viewers.forEach { $0.close() } }
            for (viewer, query) in zip(viewers, queries) { try expectScreen(viewer, query, of: full) }
            // From then on every screen each one reads is its own (no waiting for it).
            for _ in 0..<5 {
                let sent = agent.stats.snapshotsSent
                try eventuallyBlocking { agent.stats.snapshotsSent >= sent + 4 }
                for (viewer, query) in zip(viewers, queries) {
                    #expect(Set(viewer.latestActors?.snapshot.actors.map(\.name) ?? []) == Self.listed(by: query, in: full))
                }
            }
        }
    }

    /// A query past what the wire allows is refused with the reason; one within it but past
    /// the actors there are is answered with all of them; `show` at version 2 is refused.
    @Test func aHostileQueryIsRefusedWithItsReason() async throws {
        try await offPool {
            let registry = Self.actorRegistry()
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let hello = frame(WireCoding.encode(ViewerMessage.hello(versions: [2, 3], client: "hostile")))
            let cases: [([UInt8], String)] = [
                (
                    frame(Array(#"{"show":{"actors":{"order":"name","first":-1,"everyUpTo":0,"named":[]}}}"#.utf8)),
                    "bad message: impossible actor query: first -1 is not a row count in 0...1048576"
                ),
                (
                    frame(Array(#"{"show":{"actors":{"order":"colour","first":5,"everyUpTo":0,"named":[]}}}"#.utf8)),
                    "bad message: impossible actor query: no column 'colour' (the columns: name, mailbox, processed, rate, p99, deadLetters)"
                ),
                (
                    frame(Array(#"{"show":{"actors":{"order":"name","first":1e12,"everyUpTo":0,"named":[]}}}"#.utf8)),
                    "bad message: impossible actor query: first 1000000000000 is not a row count in 0...1048576"
                ),
                (
                    frame(Array(#"{"show":{"actors":{"order":"name","first":5,"offset":-1,"everyUpTo":0,"named":[]}}}"#.utf8)),
                    "bad message: impossible actor query: offset -1 is not a row count in 0...1048576"
                ),
                (
                    frame(Array(#"{"show":{"actors":{"order":"name","first":5,"offset":1e12,"everyUpTo":0,"named":[]}}}"#.utf8)),
                    "bad message: impossible actor query: offset 1000000000000 is not a row count in 0...1048576"
                ),
            ]
            for (show, reason) in cases {
                let answer = try RawPeer(path: agent.socketPath).send(hello + show).readUntilClosed()
                #expect(answer.last == .goodbye(reason: reason))
            }
            let old = frame(WireCoding.encode(ViewerMessage.hello(versions: [2], client: "old")))
            let show = frame(WireCoding.encode(ViewerMessage.show(actors: ActorQuery(order: .name, first: 5))))
            let answer = try RawPeer(path: agent.socketPath).send(old + show).readUntilClosed()
            #expect(answer.last == .goodbye(reason: "show needs protocol version 3; this connection speaks version 2"))
            try eventuallyBlocking { agent.stats.closedForErrors == cases.count + 1 }

            // The most a viewer may ask: every actor there is, and the agent stays well.
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            defer { viewer.close() }
            viewer.show(actors: ActorQuery(order: .rate, first: .max, named: (0..<99).map { "actor-\($0)" }))
            viewer.watch(snapshotsPerSecond: 50, events: .none)
            try eventuallyBlocking { viewer.latestActors.map { $0.actors?.count == 1_500 && $0.snapshot.actors.count == 1_500 } == true }
            #expect(viewer.closedReason == nil && agent.stats.closedForErrors == cases.count + 1)
        }
    }

    /// A viewer that speaks version 2 only (or a new viewer with an agent that does): no
    /// `show` is sent, every actor comes, and nothing is refused.
    @Test func atVersion2EveryActorComesAsBefore() async throws {
        try await offPool {
            let registry = Self.actorRegistry()
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "old", versions: [2])
            defer { viewer.close() }
            #expect(viewer.version == 2 && !viewer.takesActorQueries)
            viewer.show(actors: ActorQuery(order: .name, first: 5))
            viewer.watch(snapshotsPerSecond: 50, events: .none)
            let sent = agent.stats.snapshotsSent
            // Snapshots counted as sent may be on their way: wait for one to arrive too.
            try eventuallyBlocking { agent.stats.snapshotsSent >= sent + 3 && viewer.latestActors != nil }
            let latest = try #require(viewer.latestActors)
            #expect(latest.actors == nil && latest.snapshot.actors.count == 1_500)
            #expect(viewer.closedReason == nil && agent.stats.closedForErrors == 0)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import SluiceWire

/// A program running elsewhere, watched through its agent's socket: the patterns it
/// registered, the knobs it declared. It can be steered, not paused, sped up or restarted
/// (the program runs on its own time).
public final class AttachedSource: Source, Steerable {
    public let connection: AgentConnection
    /// Snapshots a second asked of the agent.
    public let rate: Double
    /// The events always asked for, whatever the event log shows.
    public let leastEvents: EventInterest

    /// Starts watching: snapshots at `rate` a second, and `events` (`sluice doctor` needs
    /// none: it reads the pool's figures).
    public init(_ connection: AgentConnection, rate: Double = 10, events: EventInterest = .notable) {
        self.connection = connection
        self.rate = rate
        leastEvents = events
        connection.watch(snapshotsPerSecond: rate, events: events)
    }

    /// Waits (on the calling thread, polling) until the program's first snapshot is in,
    /// at most `limit`; false when none came. A recording or a summary that starts before
    /// it would start from nothing.
    @discardableResult
    public func waitForFirstSnapshot(atMost limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while connection.latest == nil, connection.closedReason == nil, ContinuousClock.now < deadline { usleep(5_000) }
        return connection.latest != nil
    }

    public var origin: SourceOrigin { SourceOrigin(title: connection.program.name, kind: .attached, pid: connection.program.pid) }
    public var abilities: SourceAbilities { SourceAbilities(steer: self) }
    public var knobs: [KnobSpec] { connection.knobs }
    public var knobValues: [String: Double] { connection.latest?.knobs ?? [:] }

    /// Every kind the program has shown so far, in the usual order; none before its first
    /// snapshot (the screen says what it waits for, not an empty "Queue queue").
    public var panes: [PatternKind] {
        guard let snapshot = connection.latest?.snapshot else {
            return seen.withLock { s in PatternKind.allCases.filter { s.contains($0) } }
        }
        let present = Set(snapshot.kindsPresent)
        let kinds = seen.withLock { s in
            s.formUnion(present)
            return PatternKind.allCases.filter { s.contains($0) }
        }
        return kinds
    }
    /// Panes appear, never vanish: keys keep their places.
    private let seen = Locked(Set<PatternKind>())

    public var status: SourceStatus {
        guard let reason = connection.closedReason else { return .running }
        return .detached(detachReason(reason))
    }

    /// "NAME exited" when its process is gone, else what ended the connection.
    private func detachReason(_ reason: String) -> String {
        processIsAlive(Int32(connection.program.pid)) ? reason : "\(connection.program.name) exited"
    }

    /// The program's latest snapshot, every actor listed. After `snapshot(actors:)` asked
    /// the agent for a screen's actors, this asks for every actor again; the snapshot it
    /// returns then may still list only the screen's (the next one lists all).
    public func snapshot() -> Snapshot {
        if shown.withLock({ $0.take() }) != nil { connection.show(actors: nil) }
        return filled(connection.latest?.snapshot ?? Snapshot())
    }

    /// The latest snapshot with only the actors `query` lists, and what all the actors add
    /// up to: the agent reads and sends only those (protocol version 3). A new query is
    /// sent when this one differs from the last; the agent answers it at once, so until the
    /// answer is in (a round trip) the rows are those of the query before. An agent of an
    /// older version sends every actor: then they are all here, and their totals.
    public func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        guard connection.takesActorQueries else {
            let snapshot = snapshot()
            return (snapshot, ActorTotals(of: snapshot.actors))
        }
        let changed = shown.withLock { shown in
            defer { shown = query }
            return shown != query
        }
        if changed { connection.show(actors: query) }
        guard let latest = connection.latestActors else { return (filled(Snapshot()), ActorTotals()) }
        return (filled(latest.snapshot), latest.actors ?? ActorTotals(of: latest.snapshot.actors))
    }

    /// The query last sent to the agent (nil: none, it sends every actor).
    private let shown = Locked<ActorQuery?>(nil)

    /// With the events the connection received, and the pool's stacks named.
    private func filled(_ snapshot: Snapshot) -> Snapshot {
        var snapshot = snapshot
        connection.log.fill(&snapshot)
        snapshot.pool = snapshot.pool.map(Symbolicator.shared.symbolicate)
        return snapshot
    }

    public func events(after cursor: Int) -> SourceEvents {
        let (events, next, missed) = connection.log.events(since: UInt64(max(0, cursor)))
        return SourceEvents(events: events, next: Int(next), missed: Int(missed))
    }

    public func setKnob(_ name: String, to value: Double) -> KnobAnswer {
        switch connection.setKnob(name, to: value) {
        case .applied(let now): .applied(now)
        case .refused(let why): .refused(why)
        }
    }

    public func setEventInterest(_ interest: EventInterest) {
        connection.watch(snapshotsPerSecond: rate, events: max(interest, leastEvents))
    }

    public func stop(waitingAtMost limit: Duration) { connection.close(waitingAtMost: limit) }
}

extension SourceChoice {
    /// An attachable program as a picker entry; opening it connects (or shows why not).
    public static func program(_ entry: SocketEntry, rate: Double = 10, client: String) -> SourceChoice {
        SourceChoice(
            name: "\(entry.name) (pid \(entry.pid))", summary: "a running program, attached over \(entry.path)",
            explanation: "Its patterns and the knobs it declares, live. It runs on its own time: no pause, speed or restart.",
            knobs: []
        ) { _ throws(SourceUnavailable) in
            do {
                return AttachedSource(try AgentConnection.open(path: entry.path, client: client), rate: rate)
            } catch {
                throw SourceUnavailable("\(entry.name): \(error)")
            }
        }
    }
}

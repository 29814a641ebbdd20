#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import NIOCore
import NIOPosix
import PoolDoctor
import SluiceWire

/// Lets `sluice attach` watch this program's patterns and turn the knobs it declares.
///
/// ```swift
/// let agent = try SluiceAgent.start(name: "indexer", knobs: [.limit(of: openFiles)])
/// ```
///
/// The agent listens on a Unix socket in a folder only this user can enter (see
/// `SocketDirectory`) and refuses peers of another user. It runs on one thread of its own
/// and never on the program's tasks; with no viewer it does nothing at all. Each viewer
/// gets snapshots at the rate it asks (read from the registry, which the patterns keep
/// current anyway) and the events it asks for; a viewer that reads too slowly misses
/// snapshots (counted), and one stuck for `stuckLimit` is dropped (counted). Every
/// connection is bounded: one that asks without reading the answers is closed once they
/// pass the write buffer's high mark (1 MiB), one that neither watches nor asks for
/// `idleLimit` is closed, and one process holds at most `connectionsPerPeer` connections.
public final class SluiceAgent: Sendable {
    public let name: String
    /// The socket viewers connect to.
    public let socketPath: String
    public let maxViewers: Int
    let registry: PatternRegistry
    let knobs: [AgentKnob]
    let startedAt: Double
    let directory: SocketDirectory
    /// Resumed when the agent stops (for `run()`).
    // Locks are `Locked` (a pthread mutex) throughout: ThreadSanitizer sees those, and reports
    // false races on `Synchronization.Mutex`'s futex.
    let stopped = Locked(Stopping())
    let group: MultiThreadedEventLoopGroup
    let server = Locked<(any Channel)?>(nil)
    let counters = Locked(AgentStats())
    let sharedBody = Locked<(at: ContinuousClock.Instant, body: [UInt8])?>(nil)
    /// Screens (`show`) read lately, by query: viewers that show the same rows share one.
    let sharedScreens = Locked<[ActorQuery: (at: ContinuousClock.Instant, body: [UInt8])]>([:])
    /// Watches the program's cooperative pool and names what stalls it (nil: `pool: nil`).
    public let doctor: PoolDoctor?

    /// How long a viewer may leave the agent unable to write before it is dropped.
    public static let defaultStuckLimit = Duration.seconds(10)
    /// How long this agent lets a viewer stay stuck.
    public let stuckLimit: Duration
    /// How long a connection may take to say hello.
    public static let helloLimit = Duration.seconds(5)
    /// How long a connection that does not watch may stay without a request.
    public static let defaultIdleLimit = Duration.seconds(30)
    /// How long this agent lets a connection that does not watch stay silent.
    public let idleLimit: Duration
    /// Connections one process (one peer pid) may hold at once, so one peer cannot take
    /// every slot from its owner's `sluice ps` and `attach`.
    public static let connectionsPerPeer = 4
    /// Connections open per peer pid.
    let peers = Locked<[Int32: Int]>([:])
    /// Connections beyond the viewers that may be open at once (saying hello, `sluice ps`).
    static let extraConnections = 8

    /// Starts an agent: creates the socket and listens. Throws `AgentError` when the
    /// socket folder or the socket cannot be made.
    ///
    /// `pool`: the pool doctor's options (threshold, capture, hook); nil runs no doctor. The
    /// doctor starts with the agent; its enqueue hook is in while someone watches.
    public static func start(
        name: String = defaultName(), knobs: [AgentKnob] = [], registry: PatternRegistry = .shared,
        maxViewers: Int = 4, directory: SocketDirectory = .forThisUser(), pool: PoolDoctor.Options? = PoolDoctor.Options()
    ) throws(AgentError) -> SluiceAgent {
        let agent = SluiceAgent(
            name: name, knobs: knobs, registry: registry, maxViewers: maxViewers, directory: directory, pool: pool)
        do {
            try agent.listen(directory: directory)
        } catch {
            // The pool doctor started with the agent: it must not outlive a failed start.
            agent.stop()
            throw error
        }
        return agent
    }

    /// An agent not yet listening: `run()` (or a `ServiceGroup`) starts it. The pool doctor
    /// (`pool`, nil for none) starts at once.
    public init(
        name: String = defaultName(), knobs: [AgentKnob] = [], registry: PatternRegistry = .shared,
        maxViewers: Int = 4, directory: SocketDirectory = .forThisUser(), stuckLimit: Duration = defaultStuckLimit,
        idleLimit: Duration = defaultIdleLimit,
        pool: PoolDoctor.Options? = PoolDoctor.Options()
    ) {
        let doctor = pool.map { PoolDoctor(options: $0, registry: registry) }
        self.doctor = doctor
        self.stuckLimit = stuckLimit
        self.idleLimit = idleLimit
        precondition(maxViewers > 0, "an agent needs room for at least one viewer")
        let knobs = knobs + (doctor.map { [Self.thresholdKnob($0)] } ?? [])
        let names = knobs.map(\.spec.name)
        precondition(Set(names).count == names.count, "two knobs with one name: \(names)")
        self.name = name
        self.knobs = knobs
        self.registry = registry
        self.maxViewers = maxViewers
        self.directory = directory
        socketPath = directory.socketPath(name: name)
        startedAt = wallClockSeconds()
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// The pool doctor's stall threshold as a knob viewers can turn (`sluice doctor --threshold`).
    static func thresholdKnob(_ doctor: PoolDoctor) -> AgentKnob {
        let spec = PoolDoctor.thresholdKnob
        return AgentKnob(
            spec.name, unit: spec.unit, range: spec.range, step: spec.step, summary: spec.summary,
            actsOn: spec.actsOn, get: { doctor.stallThreshold / .milliseconds(1) },
            set: { doctor.setStallThreshold(.milliseconds($0)) })
    }

    /// The program's name as its command line gives it.
    public static func defaultName() -> String {
        let path = CommandLine.arguments.first ?? "program"
        return String(path.split(separator: "/").last ?? "program")
    }

    /// What the agent has seen so far.
    public var stats: AgentStats { counters.withLock { $0 } }

    func listen(directory: SocketDirectory) throws(AgentError) {
        guard !stopped.withLock({ $0.isStopped }) else { throw .cannotListen("the agent was stopped") }
        do {
            try directory.prepare()
        } catch {
            throw .cannotListen("\(error)")
        }
        removeStaleSockets(in: directory)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limit: Frame.viewerLimit)))
                    try channel.pipeline.syncOperations.addHandler(AgentHandler(agent: self))
                }
            }
        do {
            let channel = try bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).wait()
            // The folder already keeps others out; the socket's own mode says so twice.
            chmod(socketPath, 0o600)
            server.withLock { $0 = channel }
        } catch {
            throw .cannotListen("cannot listen at \(socketPath): \(error)")
        }
    }

    /// Sockets of programs that died without removing theirs (their pid is gone).
    private func removeStaleSockets(in directory: SocketDirectory) {
        for entry in directory.entries() where !entry.processExists {
            unlink(entry.path)
        }
    }

    /// Removes the socket and closes it and every connection. Returns at once; the
    /// agent's thread ends soon after. Call it before the program exits, or the socket
    /// stays behind (the next agent to start removes it, and `sluice ps` says it is stale).
    public func stop() {
        let waiters = stopped.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.isStopped = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
        doctor?.stop()
        guard
            let channel = server.withLock({ s -> (any Channel)? in
                defer { s = nil }
                return s
            })
        else { return }
        unlink(socketPath)
        channel.close(promise: nil)
        group.shutdownGracefully { _ in }
    }

    func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let resumeNow = stopped.withLock { s -> Bool in
                guard !s.isStopped else { return true }
                s.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// True while the socket is open.
    public var isListening: Bool { server.withLock { $0 != nil } }

    // MARK: - What handlers ask of the agent (on the agent's thread)

    func hello(version: Int) -> AgentMessage {
        let watching = counters.withLock { $0.viewers }
        let info = ProgramInfo(
            name: name, pid: Int(getpid()), startedAt: startedAt, patterns: registry.count, viewers: watching,
            maxViewers: maxViewers)
        return .hello(version: version, program: info, knobs: knobs.map { WireKnob($0.spec) })
    }

    /// The snapshot as every viewer gets it, read and encoded once for viewers whose ticks
    /// fall within `shareWindow` of each other (four viewers cost little more than one).
    func snapshotBody() -> [UInt8] {
        let now = ContinuousClock.now
        if let cached = sharedBody.withLock({ $0 }), now - cached.at < Self.shareWindow { return cached.body }
        let body = makeBody(actors: nil)
        sharedBody.withLock { $0 = (now, body) }
        return body
    }

    /// The body of a `screen` message for a viewer that shows `query`: only the actors it
    /// lists, and what every actor adds up to. Shared, as `snapshotBody` is, by the viewers
    /// whose ticks fall within `shareWindow` of each other and that show the same rows.
    func screenBody(for query: ActorQuery) -> [UInt8] {
        let now = ContinuousClock.now
        if let cached = sharedScreens.withLock({ $0[query] }), now - cached.at < Self.shareWindow { return cached.body }
        let body = makeBody(actors: query)
        sharedScreens.withLock { screens in
            // Only screens still fresh are kept: at most one per viewer.
            screens = screens.filter { now - $0.value.at < Self.shareWindow }
            screens[query] = (now, body)
        }
        return body
    }

    /// A body read and encoded now: a whole snapshot's (nil), or a screen's.
    func makeBody(actors query: ActorQuery?) -> [UInt8] {
        guard let query else { return SnapshotLayout.body(snapshot: snapshot(), knobs: knobValues) }
        let (snapshot, actors) = screen(actors: query)
        return SnapshotLayout.body(screen: snapshot, actors: actors, knobs: knobValues)
    }

    /// The registry's patterns with only the actors `query` lists (and the totals of all of
    /// them), and the pool doctor's figures: what a viewer that shows `query` gets.
    public func screen(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        var query = query
        // No heap larger than the actors there are (a query may ask for 2^20 rows): the
        // registry's live patterns, and the finished actors it keeps (at most 32).
        query.first = min(query.first, registry.count + 64)
        var (snapshot, actors) = registry.snapshot(actors: query)
        snapshot.pool = doctor?.snapshot()
        return (snapshot, actors)
    }

    /// The registry's patterns and the pool doctor's figures, as viewers get them. For
    /// swift-metrics: `PatternMetrics(snapshot: { agent.snapshot() })` exports the pool too.
    public func snapshot() -> Snapshot {
        var snapshot = registry.snapshot()
        snapshot.pool = doctor?.snapshot()
        return snapshot
    }

    /// Viewers at 10 snapshots a second see numbers at most this much older than they ask.
    static let shareWindow = Duration.milliseconds(20)

    var knobValues: [String: Double] {
        Dictionary(uniqueKeysWithValues: knobs.map { ($0.spec.name, $0.get()) })
    }

    func setKnob(id: Int, name: String, value: Double) -> AgentMessage {
        guard let knob = knobs.first(where: { $0.spec.name == name }) else {
            let names = knobs.map(\.spec.name).joined(separator: ", ")
            return .knobAnswer(
                id: id, name: name, applied: nil,
                refused: "\(self.name) has no knob '\(name)'" + (names.isEmpty ? "" : "; its knobs: \(names)"))
        }
        switch knob.apply(value) {
        case .success(let now):
            // A shared snapshot from before the change would show the old value.
            sharedBody.withLock { $0 = nil }
            sharedScreens.withLock { $0 = [:] }
            registry.note("\(name) set to \(knob.spec.format(now)) by a viewer", from: "agent")
            return .knobAnswer(id: id, name: name, applied: now, refused: nil)
        case .failure(let refusal):
            return .knobAnswer(id: id, name: name, applied: nil, refused: refusal.reason)
        }
    }
}

struct Stopping {
    var isStopped = false
    var waiters: [CheckedContinuation<Void, Never>] = []
}

/// What an agent has seen since it started.
public struct AgentStats: Sendable, Equatable {
    /// Viewers watching now.
    public var viewers = 0
    /// Connections open now (watching or not).
    public var connections = 0
    /// Snapshots not sent because a viewer read too slowly.
    public var droppedSnapshots = 0
    /// Viewers dropped for being stuck.
    public var droppedViewers = 0
    /// Connections closed for breaking the protocol (garbage, bad frames, wrong version).
    public var closedForErrors = 0
    /// Connections refused because their peer is another user.
    public var refusedPeers = 0
    /// Connections closed because they asked and did not read the answers (the replies
    /// waiting for them passed the write buffer's high mark).
    public var closedUnread = 0
    /// Connections closed for saying nothing, neither watching nor asking, for `idleLimit`.
    public var closedIdle = 0
    /// Connections refused because their process already held `connectionsPerPeer`.
    public var refusedBusyPeers = 0
    /// Snapshots sent.
    public var snapshotsSent = 0
}

public enum AgentError: Error, Sendable, CustomStringConvertible {
    case cannotListen(String)
    public var description: String {
        switch self {
        case .cannotListen(let why): "sluice agent: \(why)"
        }
    }
}

extension SluiceAgent {
    /// A message as one viewer that shows `query` (nil: every actor) gets it, read and
    /// encoded now, never shared: what one viewer's snapshot costs the agent (`make bench`).
    @_spi(Benchmarks) public func freshMessage(actors query: ActorQuery?) -> [UInt8] {
        SnapshotLayout.encode(
            body: makeBody(actors: query), dropped: 0, marker: query == nil ? SnapshotLayout.marker : SnapshotLayout.screenMarker)
    }

    /// CPU time the agent's thread has used: what the agent costs the program (`make bench`).
    @_spi(Benchmarks) public func threadCPUTime() -> Duration {
        let cpu = try? group.next().submit { () -> Duration in
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
        }.wait()
        return cpu ?? .zero
    }
}

import AsyncPatterns
import NIOCore
import NIOPosix
import Synchronization

/// A viewer's connection to one agent: says hello, then keeps the latest snapshot and the
/// events the agent sends, and carries knob changes there. Its methods return at once or
/// wait a bounded time; none needs the cooperative pool (the dashboard calls them from
/// its loop on the main thread).
public final class AgentConnection: Sendable {
    public let path: String
    /// Who answered hello.
    public let program: ProgramInfo
    /// The protocol version both sides speak (`WireVersion`).
    public let version: Int
    public let knobs: [KnobSpec]
    let channel: any Channel
    let state: ViewerBox
    private let nextKnobID = Atomic<Int>(1)

    /// The events received, numbered in arrival order; it keeps the latest few thousand.
    public let log: EventLog

    /// Connects and says hello; waits at most `limit`. Refuses a socket in a folder that is
    /// not this user's alone, and an agent that runs as another user (not root). `versions`:
    /// the protocol versions offered (all this build speaks; a test offers an older one).
    public static func open(
        path: String, client: String, waitingAtMost limit: Duration = .seconds(3), versions: [Int] = WireVersion.supported
    ) throws(AttachError) -> AgentConnection {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        do {
            try SocketDirectory(path: folder.isEmpty ? "/" : folder).checkTrusted()
        } catch {
            throw .untrusted(path, "\(error)")
        }
        let state = ViewerBox(ViewerState())
        let log = EventLog(capacity: 4096)
        let hello = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: HelloAnswer.self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(limit.seconds * 1000)))
            // Nothing the peer sends is read before the kernel has said who it is.
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limit: Frame.agentLimit)))
                    try channel.pipeline.syncOperations.addHandler(
                        ViewerHandler(state: state, log: log, hello: hello, offered: versions))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(unixDomainSocketPath: path).wait()
        } catch {
            // A promise left unfulfilled is a bug NIO traps on in debug builds.
            hello.fail(error)
            throw AttachError.connect(path, error)
        }
        // Nothing is said to an agent, or read from it, before the kernel has said who it is.
        if case .refused(let why) = (try? PeerCredentials.checkAgent(channel).wait()) ?? .refused("its user cannot be told") {
            hello.fail(AttachError.untrusted(path, why))
            channel.close(promise: nil)
            throw .untrusted(path, why)
        }
        channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in channel.close(promise: nil) }
        let scheduled = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(limit.seconds * 1000))) {
            hello.fail(AttachError.refused(path, "no hello from the program within \(formatDecimal(limit.seconds)) s"))
        }
        send(.hello(versions: versions, client: client), on: channel)
        let answer: HelloAnswer
        do {
            answer = try hello.futureResult.wait()
            scheduled.cancel()
        } catch {
            channel.close(promise: nil)
            if let error = error as? AttachError { throw error }
            throw AttachError.refused(path, "\(error)")
        }
        return AgentConnection(path: path, answer: answer, channel: channel, state: state, log: log)
    }

    private init(path: String, answer: HelloAnswer, channel: any Channel, state: ViewerBox, log: EventLog) {
        self.path = path
        self.log = log
        program = answer.program
        version = answer.version
        knobs = answer.knobs
        self.channel = channel
        self.state = state
    }

    /// Asks for snapshots at `rate` a second and for these events.
    public func watch(snapshotsPerSecond rate: Double, events: EventInterest) {
        Self.send(.watch(snapshotsPerSecond: rate, events: WireInterest(events)), on: channel)
    }

    /// Whether the agent lists only the actors asked for (`show`): protocol version 3 on.
    public var takesActorQueries: Bool { version >= WireVersion.actorQueries }

    /// Asks for only the actors `query` lists in each snapshot from now on (nil: every actor
    /// again), within what an agent reads (`ActorQuery.withinWireLimits`). The agent answers
    /// at once with a `screen`, then at the watched rate. Does nothing when the agent speaks
    /// an older version (`takesActorQueries`): it sends every actor.
    public func show(actors query: ActorQuery?) {
        guard takesActorQueries else { return }
        Self.send(.show(actors: query?.withinWireLimits), on: channel)
    }

    /// The latest snapshot, the knobs' values with it, and snapshots dropped for us. After a
    /// `show`, its actors are only those the query lists (see `latestActors`).
    public var latest: (snapshot: Snapshot, knobs: [String: Double], dropped: Int)? {
        state.withLock { s in s.snapshot.map { ($0, s.knobValues, s.dropped) } }
    }

    /// The latest snapshot and, when it lists only the actors a `show` asked for, what every
    /// actor adds up to (nil: it lists every actor).
    public var latestActors: (snapshot: Snapshot, actors: ActorTotals?)? {
        state.withLock { s in s.snapshot.map { ($0, s.actors) } }
    }

    /// Why the connection ended, or nil while it is open.
    public var closedReason: String? { state.withLock { $0.closedReason } }

    /// Events the agent could not send (its buffer for us overflowed).
    public var missedAtAgent: Int { state.withLock { $0.agentMissed } }

    /// Sets a knob in the program and waits at most `limit` for its answer.
    public func setKnob(_ name: String, to value: Double, waitingAtMost limit: Duration = .seconds(1)) -> KnobResult {
        guard value.isFinite else { return .refused("\(value) is not a number") }
        let id = nextKnobID.wrappingAdd(1, ordering: .relaxed).oldValue
        let promise = channel.eventLoop.makePromise(of: KnobResult.self)
        state.withLock { $0.knobAnswers[id] = promise }
        Self.send(.setKnob(id: id, name: name, value: value), on: channel)
        let timeout = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(limit.seconds * 1000))) {
            promise.succeed(.refused("no answer from \(self.program.name) within \(formatDecimal(limit.seconds)) s"))
        }
        let result = (try? promise.futureResult.wait()) ?? .refused("the connection to \(program.name) closed")
        timeout.cancel()
        state.withLock { _ = $0.knobAnswers.removeValue(forKey: id) }
        return result
    }

    /// Says bye and closes; waits at most `limit`.
    public func close(waitingAtMost limit: Duration = .milliseconds(300)) {
        Self.send(.bye, on: channel)
        let closed = Flag()
        channel.close().whenComplete { _ in closed.set() }
        let deadline = ContinuousClock.now + limit
        while !closed.isSet, ContinuousClock.now < deadline { usleep(1_000) }
    }

    static func send(_ message: ViewerMessage, on channel: any Channel) {
        channel.writeAndFlush(Frame.buffer(WireCoding.encode(message), allocator: channel.allocator), promise: nil)
    }
}

/// Set once, from any thread.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// The answer to a knob change, as the program gave it.
public enum KnobResult: Sendable, Equatable {
    case applied(Double)
    case refused(String)
}

struct HelloAnswer: Sendable {
    let version: Int
    let program: ProgramInfo
    let knobs: [KnobSpec]
}

/// The state a connection and its handler share, under a `Locked` (a pthread mutex, which
/// ThreadSanitizer sees, unlike `Synchronization.Mutex`'s futex).
typealias ViewerBox = Locked<ViewerState>

struct ViewerState: Sendable {
    var snapshot: Snapshot?
    /// With a `screen`: the totals of every actor (nil with a whole snapshot).
    var actors: ActorTotals?
    var knobValues: [String: Double] = [:]
    var dropped = 0
    var agentMissed = 0
    var knobAnswers: [Int: EventLoopPromise<KnobResult>] = [:]
    /// Knob values the program answered with, kept over snapshots taken before the change
    /// (the agent shares an encoded snapshot between viewers for a few milliseconds) until
    /// the hold passes: the next press starts from the value in force, not an older one.
    var answered: [String: (value: Double, until: ContinuousClock.Instant)] = [:]
    var closedReason: String?
    var helloDone = false
}

/// Reads the agent's messages into the connection's state, on the connection's event loop.
final class ViewerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let state: ViewerBox
    let log: EventLog
    let hello: EventLoopPromise<HelloAnswer>
    /// The versions this viewer offered: the agent must choose one of them.
    let offered: [Int]

    /// How long an answered knob value outranks the snapshots' (see `ViewerState.answered`).
    static let answerHold = Duration.milliseconds(250)

    init(state: ViewerBox, log: EventLog, hello: EventLoopPromise<HelloAnswer>, offered: [Int]) {
        self.state = state
        self.log = log
        self.hello = hello
        self.offered = offered
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        do {
            let message = try WireCoding.decodeAgentMessage(from: payload)
            try handle(message)
        } catch {
            end(context: context, reason: "the program sent \(error)")
        }
    }

    private func handle(_ message: AgentMessage) throws(WireError) {
        let helloDone = state.withLock { $0.helloDone }
        switch message {
        case .hello(let version, let program, let knobs):
            guard !helloDone else { throw .unexpected("a second hello") }
            guard offered.contains(version) else {
                throw .versionMismatch("the program chose version \(version); this sluice speaks \(offered)")
            }
            state.withLock { $0.helloDone = true }
            hello.succeed(HelloAnswer(version: version, program: program, knobs: knobs.compactMap(\.spec)))
        case .goodbye(let reason):
            state.withLock { $0.closedReason = reason }
            hello.fail(AttachError.refused("", reason))
        case _ where !helloDone:
            throw .unexpected("\(message) before hello")
        case .snapshot(let snapshot, let knobs, let dropped):
            keep(snapshot, actors: nil, knobs: knobs, dropped: dropped)
        case .screen(let snapshot, let actors, let knobs, let dropped):
            keep(snapshot, actors: actors, knobs: knobs, dropped: dropped)
        case .events(let events, let missed):
            state.withLock { $0.agentMissed += missed }
            for event in events { log.observe(event) }
        case .knobAnswer(let id, let name, let applied, let refused):
            let promise = state.withLock { s in
                // Only the answer to a change we asked for: a program cannot grow this map.
                if let applied, applied.isFinite, s.knobAnswers[id] != nil {
                    s.knobValues[name] = applied
                    s.answered[name] = (applied, ContinuousClock.now + Self.answerHold)
                }
                return s.knobAnswers.removeValue(forKey: id)
            }
            if let applied, applied.isFinite {
                promise?.succeed(.applied(applied))
            } else {
                promise?.succeed(.refused(refused ?? "refused without a reason"))
            }
        }
    }

    /// A snapshot or a screen in, knob values answered lately kept over it.
    private func keep(_ snapshot: Snapshot, actors: ActorTotals?, knobs: [String: Double], dropped: Int) {
        state.withLock {
            $0.snapshot = snapshot
            $0.actors = actors
            $0.knobValues = knobs
            $0.dropped = dropped
            let now = ContinuousClock.now
            $0.answered = $0.answered.filter { $0.value.until > now }
            for (name, held) in $0.answered { $0.knobValues[name] = held.value }
        }
    }

    private func end(context: ChannelHandlerContext, reason: String) {
        state.withLock { if $0.closedReason == nil { $0.closedReason = reason } }
        hello.fail(AttachError.refused("", reason))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let pending = state.withLock { s in
            if s.closedReason == nil { s.closedReason = "the connection closed" }
            defer { s.knobAnswers = [:] }
            return (Array(s.knobAnswers.values), s.closedReason!)
        }
        for promise in pending.0 { promise.succeed(.refused(pending.1)) }
        hello.fail(AttachError.refused("", pending.1))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(context: context, reason: "\(error)")
    }
}

/// Why attaching failed, each with the sentence a user reads.
public enum AttachError: Error, Sendable, CustomStringConvertible {
    case connect(String, any Error)
    case refused(String, String)
    /// The socket's folder or the program behind it is not this user's: nothing was said.
    case untrusted(String, String)

    public var description: String {
        switch self {
        case .connect(let path, let error):
            if let io = error as? IOError {
                switch io.errnoCode {
                case ENOENT: return "no program listens at \(path): the socket is gone"
                case ECONNREFUSED:
                    return "stale socket \(path): nothing listens there (its program exited without removing it)"
                case EACCES, EPERM: return "not allowed to connect to \(path): it belongs to another user"
                default: return "cannot connect to \(path): \(io)"
                }
            }
            return "cannot connect to \(path): \(error)"
        case .refused(let path, let why):
            return path.isEmpty ? "the program refused: \(why)" : "\(path): \(why)"
        case .untrusted(let path, let why):
            return "not attaching to \(path): \(why)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import NIOCore
import SluiceWire

/// One connection at the agent, on the agent's event loop: checks who connected, feeds
/// their messages to a `ViewerSession` and carries out its actions; while the viewer
/// watches, sends a snapshot (and the events since the last) every period.
final class AgentHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let agent: SluiceAgent
    var session = ViewerSession()
    var tick: Scheduled<Void>?
    var helloTimeout: Scheduled<Void>?
    /// Closes a connection that neither watches nor asks for the agent's `idleLimit`.
    var idleTimeout: Scheduled<Void>?
    /// The peer's pid, counted in the agent's connections per peer while open.
    var peerPID: Int32?
    var every = Duration.seconds(1)
    var log: EventLog?
    var subscription: EventSubscription?
    var cursor: UInt64 = 0
    var dropped = 0
    /// The actors this viewer shows (`show`); nil: it gets every actor.
    var actorQuery: ActorQuery?
    /// When the last update went out: a new query is answered at once, unless one went out
    /// less than a period ago (a viewer that changes its query in a loop gets its rate).
    var lastUpdate: NIODeadline?
    /// Since when the viewer has left us unable to write (nil while it reads).
    var stuckSince: NIODeadline?
    var isViewer = false
    var isOpen = false
    var isChecking = false
    /// A close has begun (a goodbye may still be on its way): nothing more is said or counted.
    var isClosing = false

    /// Events a viewer's buffer holds between two ticks; beyond it they are counted missed.
    static let eventCapacity = 4096

    init(agent: SluiceAgent) { self.agent = agent }

    func channelActive(context: ChannelHandlerContext) {
        let tooMany = agent.counters.withLock { c -> Bool in
            guard c.connections < agent.maxViewers + SluiceAgent.extraConnections else { return true }
            c.connections += 1
            return false
        }
        guard !tooMany else { return close(context, reason: "too many connections to \(agent.name)") }
        isOpen = true
        isChecking = true
        PeerCredentials.check(context.channel).assumeIsolated().whenSuccess { [self] answer in
            isChecking = false
            if case .refused(let why) = answer.verdict {
                agent.counters.withLock { $0.refusedPeers += 1 }
                return close(context, reason: why)
            }
            guard let pid = answer.pid, isOpen else { return }
            let held = agent.peers.withLock { peers -> Int in
                peers[pid, default: 0] += 1
                return peers[pid]!
            }
            peerPID = pid
            if held > SluiceAgent.connectionsPerPeer {
                agent.counters.withLock { $0.refusedBusyPeers += 1 }
                closeForError(
                    context,
                    reason:
                        "process \(pid) already has \(SluiceAgent.connectionsPerPeer) connections to \(agent.name), the most one process may hold"
                )
            }
        }
        helloTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .init(SluiceAgent.helloLimit)) {
            [self] in
            closeForError(context, reason: "no hello within \(SluiceAgent.helloLimit)")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing a peer says counts before the kernel has said who it is.
        guard !isChecking, session.state != .closed else { return }
        let message: ViewerMessage
        do {
            message = try WireCoding.decode(ViewerMessage.self, from: unwrapInboundIn(data))
        } catch {
            return closeForError(context, reason: "\(error)")
        }
        let watching = agent.counters.withLock { $0.viewers }
        switch session.receive(message, watching: watching, maxViewers: agent.maxViewers) {
        case .sayHello(let version):
            helloTimeout?.cancel()
            reply(agent.hello(version: version), context)
        case .startWatching(let every, let events):
            let admitted = agent.counters.withLock { c -> Bool in
                // Checked again under the lock: two viewers may ask at the same moment.
                guard c.viewers < agent.maxViewers else { return false }
                c.viewers += 1
                return true
            }
            guard admitted else {
                return close(context, reason: "this program already has \(agent.maxViewers) viewers, the most it allows")
            }
            isViewer = true
            idleTimeout?.cancel()
            agent.doctor?.installHook()
            self.every = every
            let log = EventLog(capacity: Self.eventCapacity)
            self.log = log
            subscription = agent.registry.subscribe(log, interest: events)
            sendUpdate(context)
            scheduleTick(context)
        case .changeWatching(let every, let events):
            self.every = every
            subscription?.setInterest(events)
        case .setKnob(let id, let name, let value):
            reply(agent.setKnob(id: id, name: name, value: value), context)
        case .show(let query):
            actorQuery = query
            let period = TimeAmount.nanoseconds(Int64(every.seconds * 1e9))
            if isViewer, lastUpdate.map({ NIODeadline.now() - $0 >= period }) ?? true { sendUpdate(context) }
        case .close(let reason?):
            closeForError(context, reason: reason)
        case .close(nil):
            close(context, reason: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeForError(context, reason: "\(error)")
    }

    /// A peer that broke the protocol (or asked for too much): counted, told why, and noted
    /// in the program's own events, so both sides can read what happened.
    private func closeForError(_ context: ChannelHandlerContext, reason: String) {
        guard context.channel.isActive, !isClosing else { return }
        agent.counters.withLock { $0.closedForErrors += 1 }
        agent.registry.note("sluice agent: closed a viewer: \(reason)", from: "agent")
        close(context, reason: reason)
    }

    func channelInactive(context: ChannelHandlerContext) {
        tick?.cancel()
        helloTimeout?.cancel()
        idleTimeout?.cancel()
        if let pid = peerPID {
            peerPID = nil
            agent.peers.withLock { peers in
                peers[pid, default: 1] -= 1
                if peers[pid] == 0 { peers.removeValue(forKey: pid) }
            }
        }
        subscription?.cancel()
        subscription = nil
        if isOpen {
            isOpen = false
            let wasViewer = isViewer
            let nobodyWatches = agent.counters.withLock {
                $0.connections -= 1
                if wasViewer { $0.viewers -= 1 }
                return $0.viewers == 0
            }
            // The enqueue hook costs every job of the program a call: only while watched.
            if wasViewer, nobodyWatches { agent.doctor?.removeHook() }
        }
        context.fireChannelInactive()
    }

    /// The next tick falls on a multiple of the period on the monotonic clock, so viewers
    /// at the same rate tick together and share one snapshot (`snapshotBody`).
    private func scheduleTick(_ context: ChannelHandlerContext) {
        let period = max(1, UInt64(every.seconds * 1e9))
        let now = NIODeadline.now().uptimeNanoseconds
        let next = NIODeadline.uptimeNanoseconds((now / period + 1) * period)
        tick = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { [self] in
            sendUpdate(context)
            if context.channel.isActive { scheduleTick(context) }
        }
    }

    /// A snapshot and the events since the last one, unless the viewer has not read what
    /// was sent before: then the snapshot is dropped and counted, and a viewer stuck for
    /// `stuckLimit` is closed.
    private func sendUpdate(_ context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            dropped += 1
            agent.counters.withLock { $0.droppedSnapshots += 1 }
            let now = NIODeadline.now()
            let since = stuckSince ?? now
            stuckSince = since
            if now - since >= .init(agent.stuckLimit) {
                agent.counters.withLock { $0.droppedViewers += 1 }
                // No goodbye: the viewer reads nothing, and writing more only fills memory.
                close(context, reason: nil)
            }
            return
        }
        stuckSince = nil
        if let log {
            let (events, next, missed) = log.events(since: cursor)
            cursor = next
            if !events.isEmpty || missed > 0 {
                write(.events(events: events, missed: Int(missed)), context)
            }
        }
        lastUpdate = .now()
        let payload =
            if let actorQuery {
                SnapshotLayout.encode(body: agent.screenBody(for: actorQuery), dropped: dropped, marker: SnapshotLayout.screenMarker)
            } else {
                SnapshotLayout.encode(body: agent.snapshotBody(), dropped: dropped)
            }
        context.write(wrapOutboundOut(Frame.buffer(payload, allocator: context.channel.allocator)), promise: nil)
        agent.counters.withLock { $0.snapshotsSent += 1 }
        context.flush()
    }

    private func write(_ message: AgentMessage, _ context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(Frame.buffer(WireCoding.encode(message), allocator: context.channel.allocator)), promise: nil)
    }

    /// An answer to a request. A peer that asks and does not read what it is told would
    /// make the agent hold every answer: once the unread ones pass the write buffer's high
    /// mark, it is closed instead. A connection that does not watch must ask again within
    /// the idle limit.
    private func reply(_ message: AgentMessage, _ context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            agent.counters.withLock { $0.closedUnread += 1 }
            agent.registry.note("sluice agent: closed a connection that asked and did not read the answers", from: "agent")
            // No goodbye: it reads nothing, and writing more only fills memory.
            return close(context, reason: nil)
        }
        write(message, context)
        context.flush()
        guard !isViewer else { return }
        idleTimeout?.cancel()
        idleTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .init(agent.idleLimit)) { [self] in
            agent.counters.withLock { $0.closedIdle += 1 }
            agent.registry.note("sluice agent: closed a connection idle for \(agent.idleLimit)", from: "agent")
            close(context, reason: "idle for \(agent.idleLimit): neither watching nor asking")
        }
    }

    /// Closes, saying why first when there is a reason to tell.
    private func close(_ context: ChannelHandlerContext, reason: String?) {
        tick?.cancel()
        guard context.channel.isActive, !isClosing else { return }
        isClosing = true
        if let reason {
            let goodbye = Frame.buffer(WireCoding.encode(AgentMessage.goodbye(reason: reason)), allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(goodbye)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }
}

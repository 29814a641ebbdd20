import AsyncPatterns

/// A snapshot carried forward event by event: what a replay shows between keyframes.
///
/// Counters and gauges follow the events exactly (every event carries the gauges after
/// it); rates and percentiles stay as the keyframe had them (events do not carry them).
struct SnapshotFold {
    static let notableKept = 256
    private(set) var snapshot: Snapshot
    private var queueAt: [String: Int] = [:]
    private var semaphoreAt: [String: Int] = [:]
    private var actorAt: [String: Int] = [:]
    private var streamAt: [String: Int] = [:]
    private var resourceAt: [String: Int] = [:]
    /// Events applied since the keyframe.
    private(set) var applied = 0
    /// The most recent events (at most 2 x `recentKept`, trimmed in chunks).
    private(set) var recent: [PatternEvent] = []
    static let recentKept = 256
    /// When the last applied event happened (nil: none yet).
    private(set) var lastAt: MonotonicInstant?

    init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        for (i, q) in snapshot.queues.enumerated() { queueAt[q.name] = i }
        for (i, s) in snapshot.semaphores.enumerated() { semaphoreAt[s.name] = i }
        for (i, a) in snapshot.actors.enumerated() { actorAt[a.name] = i }
        for (i, s) in snapshot.streams.enumerated() { streamAt[s.name] = i }
        for (i, r) in snapshot.resources.enumerated() { resourceAt[r.name] = i }
    }

    /// Starts the recent events with those before the keyframe.
    mutating func seed(recent events: [PatternEvent]) {
        recent = Array(events.suffix(Self.recentKept))
        lastAt = events.last?.at
    }

    mutating func apply(_ event: PatternEvent) {
        applied += 1
        lastAt = event.at
        recent.append(event)
        if recent.count >= 2 * Self.recentKept { recent.removeFirst(recent.count - Self.recentKept) }
        let name = event.source.name
        var operation = false
        switch event {
        case .queue(let e, _, _):
            let i = Self.index(&queueAt, name, in: &snapshot.queues, make: QueueSnapshot.init)
            var q = snapshot.queues[i]
            func gauges(_ g: QueueGauges) {
                q.depth = g.depth
                q.maxDepth = max(q.maxDepth, g.depth)
                q.waitingProducers = g.waitingProducers
                q.waitingConsumers = g.waitingConsumers
            }
            switch e {
            case .put(let g):
                q.put.increment()
                gauges(g)
                operation = true
            case .got(let g):
                q.got.increment()
                gauges(g)
                operation = true
            case .producerBlocked(let g), .consumerBlocked(let g): gauges(g)
            case .waiterAbandoned(let g, _):
                q.abandoned.increment()
                gauges(g)
            case .taskDone: q.done.increment()
            case .capacityChanged(let c, let g):
                q.capacity = c
                gauges(g)
            case .closed(let g):
                q.isClosed = true
                gauges(g)
            }
            snapshot.queues[i] = q
        case .semaphore(let e, _, _):
            let i = Self.index(&semaphoreAt, name, in: &snapshot.semaphores, make: SemaphoreSnapshot.init)
            var s = snapshot.semaphores[i]
            func gauges(_ g: SemaphoreGauges) {
                s.limit = g.limit
                s.inUse = g.inUse
                s.maxInUse = max(s.maxInUse, g.inUse)
                s.waiting = g.waiting
            }
            switch e {
            case .acquired(let g):
                s.acquired.increment()
                gauges(g)
                operation = true
            case .released(let g):
                s.released.increment()
                gauges(g)
            case .waiting(let g), .limitChanged(let g): gauges(g)
            case .waiterAbandoned(let g):
                s.abandoned.increment()
                gauges(g)
            }
            snapshot.semaphores[i] = s
        case .actor(let e, _, _):
            let i = Self.index(&actorAt, name, in: &snapshot.actors, make: ActorSnapshot.init)
            var a = snapshot.actors[i]
            switch e {
            case .enqueued(let d):
                a.mailboxDepth = d
                a.maxMailboxDepth = max(a.maxMailboxDepth, d)
            case .processed(let d):
                a.processed.increment()
                a.mailboxDepth = d
                operation = true
            case .deadLetter(let to, let reason):
                a.deadLetters.increment()
                a.recentDeadLetters = Array((a.recentDeadLetters + ["\(to) (\(reason.rawValue))"]).suffix(5))
            case .senderBlocked(let d):
                a.blockedSends.increment()
                a.mailboxDepth = d
            case .started: a.isStopped = false
            case .stopped: a.isStopped = true
            case .failed(let d):
                a.failed.increment()
                a.mailboxDepth = d
            }
            snapshot.actors[i] = a
        case .stream(let e, _, _):
            let i = Self.index(&streamAt, name, in: &snapshot.streams, make: StreamSnapshot.init)
            var s = snapshot.streams[i]
            switch e {
            case .produced(let n, let t):
                s.produced = n
                s.total = t
                operation = true
            case .consumed(let n, let t):
                s.consumed = n
                s.total = t
            case .finished: s.isFinished = true
            case .failed:
                s.isFinished = true
                s.isFailed = true
            case .stoppedEarly:
                s.isFinished = true
                s.stoppedEarly = true
            }
            snapshot.streams[i] = s
        case .resource(let e, _, _):
            let i = Self.index(&resourceAt, name, in: &snapshot.resources, make: ResourceSnapshot.init)
            var r = snapshot.resources[i]
            switch e {
            case .opening: r.opening.increment()
            case .opened:
                r.opening.decrementToZero()
                r.open.increment()
                r.opened.increment()
                operation = true
            case .closing:
                r.open.decrementToZero()
                r.closing.increment()
            case .closed(_, let failed):
                r.closing.decrementToZero()
                r.closed.increment()
                if failed { r.failed.increment() }
            case .openFailed:
                r.opening.decrementToZero()
                r.openFailed.increment()
            case .timed(let ns):
                r.timed.count.increment()
                r.timed.max = max(r.timed.max, ns)
                operation = true
            }
            snapshot.resources[i] = r
        case .health(let e, _, _):
            if case .loopLag(let ns) = e {
                snapshot.health.beats.increment()
                snapshot.health.lastLagNanos = ns
                snapshot.health.maxLagNanos = max(snapshot.health.maxLagNanos, ns)
            }
        }
        if operation { snapshot.operations.increment() }
        if event.isNotable {
            snapshot.notableEvents.append(event)
            if snapshot.notableEvents.count > 2 * Self.notableKept {
                let extra = snapshot.notableEvents.count - Self.notableKept
                snapshot.notableEvents.removeFirst(extra)
                snapshot.droppedNotableEvents.add(extra)
            }
        }
    }

    /// The snapshot with its event logs as a live one would show them.
    func finished(totalEvents: Int) -> Snapshot {
        let recent = Array(self.recent.suffix(Self.recentKept))
        var s = snapshot
        s.recentEvents = recent
        s.droppedEvents = max(0, totalEvents - recent.count)
        if s.notableEvents.count > Self.notableKept {
            s.droppedNotableEvents.add(s.notableEvents.count - Self.notableKept)
            s.notableEvents.removeFirst(s.notableEvents.count - Self.notableKept)
        }
        return s
    }

    private static func index<T>(_ map: inout [String: Int], _ name: String, in list: inout [T], make: (String) -> T) -> Int {
        if let i = map[name] { return i }
        list.append(make(name))
        map[name] = list.count - 1
        return list.count - 1
    }
}

/// A recording's keyframe may hold any count (a crafted one, `Int.max`): folding events onto
/// it saturates, never traps.
extension Int {
    fileprivate mutating func increment() { if self < .max { self += 1 } }
    fileprivate mutating func decrementToZero() { self = self > 0 ? self - 1 : 0 }
    fileprivate mutating func add(_ n: Int) { self = addingReportingOverflow(n).overflow ? .max : self + n }
}

extension UInt64 {
    fileprivate mutating func increment() { if self < .max { self += 1 } }
}

import DequeModule
import Histogram
import Synchronization

/// Folds every event into counters, gauges and latency histograms, and keeps a bounded
/// log of recent events; `snapshot()` returns all of it as a `Snapshot` value.
///
/// Each event costs one short lock and no allocation once a pattern has been seen.
/// Memory stays flat: one entry per pattern, fixed-size histograms, a bounded log.
public final class AggregatingObserver: PatternObserver {
    private let state: Locked<Aggregate>
    private let timeSource: @Sendable () -> Duration

    /// - Parameters:
    ///   - logCapacity: how many recent events to keep.
    ///   - timeSource: the time rates are measured in; pass a scenario clock's elapsed time
    ///     for rates per scenario-second. Defaults to real monotonic time.
    public init(logCapacity: Int = 256, timeSource: (@Sendable () -> Duration)? = nil) {
        precondition(logCapacity >= 1, "the event log keeps at least one event")
        state = Locked(Aggregate(logCapacity: logCapacity))
        self.timeSource = timeSource ?? { .nanoseconds(Int64(monotonicNanoseconds())) }
    }

    public func observe(_ event: PatternEvent) {
        state.withLock { $0.fold(event) }
    }

    /// Everything seen so far. Rates are over the last second of the time source;
    /// while the time source stands still (a paused clock) they hold their last value.
    public func snapshot() -> Snapshot {
        let now = timeSource()
        return state.withLock { $0.snapshot(now: now) }
    }

    /// Forgets everything (for a restart).
    public func reset() {
        state.withLock { $0 = Aggregate(logCapacity: $0.logCapacity) }
    }
}

// MARK: - folding

/// Percentiles are computed at most this often per histogram: a snapshot of 1,000 actors
/// must stay cheap at 20 frames a second.
private let percentileRefreshNanos: UInt64 = 250_000_000

struct LatencyRecorder {
    private var histogram: Histogram<UInt64>?
    private var cached = Percentiles()
    private var cachedAt: UInt64 = 0
    private var dirty = false

    mutating func record(_ nanos: UInt64) {
        if histogram == nil {
            // 1 µs to 1 hour at 2 significant digits: about 24 KiB, allocated on first use.
            var h = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 3_600_000_000_000,
                                      numberOfSignificantValueDigits: .two)
            h.autoResize = true
            histogram = h
        }
        _ = histogram!.record(max(1_000, nanos))
        dirty = true
    }

    mutating func percentiles(realNow: UInt64) -> Percentiles {
        guard dirty, let histogram, realNow &- cachedAt >= percentileRefreshNanos || cached.count == 0 else { return cached }
        var decades: [UInt64] = []
        var lower: UInt64 = 0
        for upper in Percentiles.decades {
            decades.append(histogram.count(within: lower...(upper - 1)))
            lower = upper
        }
        decades.append(histogram.max >= lower ? histogram.count(within: lower...histogram.max) : 0)
        cached = Percentiles(count: histogram.totalCount, p50: histogram.valueAtPercentile(50),
                             p99: histogram.valueAtPercentile(99), max: histogram.max, decadeCounts: decades)
        cachedAt = realNow
        dirty = false
        return cached
    }
}

/// A rate over windows of about a second of the time source.
struct RateMeter {
    private var anchorCount = 0
    private var anchorTime: Duration?
    private(set) var rate: Double = 0

    mutating func update(count: Int, now: Duration) -> Double {
        guard let anchorTime else {
            self.anchorTime = now
            anchorCount = count
            return rate
        }
        let dt = now - anchorTime
        if dt >= .seconds(1) {
            rate = Double(count - anchorCount) / dt.seconds
            self.anchorTime = now
            anchorCount = count
        }
        return rate
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

struct Aggregate {
    struct QueueAgg {
        var snap: QueueSnapshot
        var wait = LatencyRecorder()
        var putRate = RateMeter(), gotRate = RateMeter()
    }
    struct SemaphoreAgg {
        var snap: SemaphoreSnapshot
        var wait = LatencyRecorder()
        var rate = RateMeter()
    }
    struct ActorAgg {
        var snap: ActorSnapshot
        var processing = LatencyRecorder()
        var rate = RateMeter()
    }
    struct StreamAgg {
        var snap: StreamSnapshot
        var rate = RateMeter()
    }
    struct ResourceAgg {
        var snap: ResourceSnapshot
        var held = LatencyRecorder(), timed = LatencyRecorder()
        var rate = RateMeter()
    }

    let logCapacity: Int
    var index: [PatternID: Int] = [:]
    var lastSource: (id: PatternID, slot: Int)?
    var queues: [QueueAgg] = []
    var semaphores: [SemaphoreAgg] = []
    var actors: [ActorAgg] = []
    var streams: [StreamAgg] = []
    var resources: [ResourceAgg] = []
    var health = HealthSnapshot()
    var lag = LatencyRecorder()
    var log: Deque<PatternEvent> = []
    var notable: Deque<PatternEvent> = []
    var notableTotal = 0
    var total = 0
    /// Events offered to the log (all but heartbeats).
    var loggedTotal = 0
    var eventRate = RateMeter()

    init(logCapacity: Int) {
        self.logCapacity = logCapacity
        log.reserveCapacity(logCapacity)
    }

    /// The slot of `id` in its kind's array, created on first sight.
    private mutating func slot(_ id: PatternID) -> Int {
        // Events come in runs from one pattern: comparing with the last one (the same string
        // storage, so a pointer compare) skips hashing the name.
        if let last = lastSource, last.id == id { return last.slot }
        if let i = index[id] {
            lastSource = (id, i)
            return i
        }
        let i: Int
        switch id.kind {
        case .queue: i = queues.count; queues.append(QueueAgg(snap: QueueSnapshot(name: id.name)))
        case .semaphore: i = semaphores.count; semaphores.append(SemaphoreAgg(snap: SemaphoreSnapshot(name: id.name)))
        case .actor: i = actors.count; actors.append(ActorAgg(snap: ActorSnapshot(name: id.name)))
        case .stream: i = streams.count; streams.append(StreamAgg(snap: StreamSnapshot(name: id.name)))
        case .resource: i = resources.count; resources.append(ResourceAgg(snap: ResourceSnapshot(name: id.name)))
        case .health: i = 0
        }
        index[id] = i
        lastSource = (id, i)
        return i
    }

    mutating func fold(_ event: PatternEvent) {
        total += 1
        // Heartbeats are folded into the health gauges only: twenty a second would flood the log.
        if case .health(.loopLag, _, _) = event {} else {
            loggedTotal += 1
            if log.count == logCapacity { log.removeFirst() }
            log.append(event)
            if event.isNotable {
                notableTotal += 1
                if notable.count == logCapacity { notable.removeFirst() }
                notable.append(event)
            }
        }
        // The folds are static: an instance method borrowing `self` while one of its arrays
        // is passed inout makes Swift copy `self`, and the array with it, on every event.
        switch event {
        case .queue(let e, let source, _): Self.foldQueue(e, &queues[slot(source)])
        case .semaphore(let e, let source, _): Self.foldSemaphore(e, &semaphores[slot(source)])
        case .actor(let e, let source, _): Self.foldActor(e, &actors[slot(source)])
        case .stream(let e, let source, _): Self.foldStream(e, &streams[slot(source)].snap)
        case .resource(let e, let source, _): Self.foldResource(e, &resources[slot(source)])
        case .health(let e, _, _): foldHealth(e)
        }
    }

    private static func foldQueue(_ event: QueueEvent, _ q: inout QueueAgg) {
        func gauges(_ g: QueueGauges) {
            q.snap.depth = g.depth
            q.snap.maxDepth = max(q.snap.maxDepth, g.depth)
            q.snap.waitingProducers = g.waitingProducers
            q.snap.waitingConsumers = g.waitingConsumers
        }
        switch event {
        case .put(let g):
            q.snap.put += 1
            gauges(g)
            q.snap.maxDepth = max(q.snap.maxDepth, g.depth == 0 ? 1 : g.depth)
        case .got(let g, let waited):
            q.snap.got += 1
            gauges(g)
            q.wait.record(waited)
        case .producerBlocked(let g), .consumerBlocked(let g):
            gauges(g)
        case .waiterAbandoned(let g, _):
            q.snap.abandoned += 1
            gauges(g)
        case .taskDone:
            q.snap.done += 1
        case .capacityChanged(let capacity, let g):
            q.snap.capacity = capacity
            gauges(g)
        case .closed(let g):
            q.snap.isClosed = true
            gauges(g)
        }
    }

    private static func foldSemaphore(_ event: SemaphoreEvent, _ s: inout SemaphoreAgg) {
        func gauges(_ g: SemaphoreGauges) {
            s.snap.limit = g.limit
            s.snap.inUse = g.inUse
            s.snap.maxInUse = max(s.snap.maxInUse, g.inUse)
            s.snap.waiting = g.waiting
        }
        switch event {
        case .acquired(let g, let waited):
            s.snap.acquired += 1
            gauges(g)
            s.wait.record(waited)
        case .released(let g):
            s.snap.released += 1
            gauges(g)
        case .waiting(let g), .limitChanged(let g):
            gauges(g)
        case .waiterAbandoned(let g):
            s.snap.abandoned += 1
            gauges(g)
        }
    }

    private static func foldActor(_ event: ActorEvent, _ a: inout ActorAgg) {
        switch event {
        case .enqueued(let depth):
            a.snap.mailboxDepth = depth
            a.snap.maxMailboxDepth = max(a.snap.maxMailboxDepth, depth)
        case .processed(let depth, let nanos):
            a.snap.processed += 1
            a.snap.mailboxDepth = depth
            a.processing.record(nanos)
        case .failed(let depth):
            a.snap.failed += 1
            a.snap.mailboxDepth = depth
        case .deadLetter(let to, let reason):
            a.snap.deadLetters += 1
            a.snap.recentDeadLetters.append("\(to): \(reason.rawValue)")
            if a.snap.recentDeadLetters.count > 5 { a.snap.recentDeadLetters.removeFirst() }
        case .senderBlocked:
            a.snap.blockedSends += 1
        case .started:
            a.snap.isRunning = true
            a.snap.isStopped = false
        case .stopped:
            a.snap.isRunning = false
            a.snap.isStopped = true
            a.snap.mailboxDepth = 0
        }
    }

    private static func foldStream(_ event: StreamEvent, _ s: inout StreamSnapshot) {
        switch event {
        case .produced(let count, let total):
            s.produced = max(s.produced, count)
            s.total = total
        case .consumed(let count, let total):
            s.consumed = max(s.consumed, count)
            s.total = total
        case .finished(let count):
            s.produced = max(s.produced, count)
            s.isFinished = true
        case .failed(let count):
            s.produced = max(s.produced, count)
            s.isFinished = true
            s.isFailed = true
        }
    }

    private static func foldResource(_ event: ResourceEvent, _ r: inout ResourceAgg) {
        switch event {
        case .opening:
            r.snap.opening += 1
        case .opened:
            r.snap.opening = max(0, r.snap.opening - 1)
            r.snap.open += 1
            r.snap.opened += 1
        case .closing:
            r.snap.open = max(0, r.snap.open - 1)
            r.snap.closing += 1
        case .closed(let held, let bodyFailed):
            r.snap.closing = max(0, r.snap.closing - 1)
            r.snap.closed += 1
            if bodyFailed { r.snap.failed += 1 }
            r.held.record(held)
        case .openFailed:
            r.snap.opening = max(0, r.snap.opening - 1)
            r.snap.openFailed += 1
        case .timed(let nanos):
            r.timed.record(nanos)
        }
    }

    private mutating func foldHealth(_ event: HealthEvent) {
        switch event {
        case .loopLag(let nanos):
            health.beats += 1
            health.lastLagNanos = nanos
            health.maxLagNanos = max(health.maxLagNanos, nanos)
            lag.record(nanos)
        case .note(let text):
            health.notes.append(text)
            if health.notes.count > 20 { health.notes.removeFirst() }
        }
    }

    mutating func snapshot(now: Duration) -> Snapshot {
        let realNow = monotonicNanoseconds()
        var s = Snapshot()
        s.elapsed = now
        s.totalEvents = total
        s.eventsPerSecond = eventRate.update(count: total, now: now)
        s.recentEvents = Array(log)
        s.droppedEvents = loggedTotal - log.count
        s.notableEvents = Array(notable)
        s.droppedNotableEvents = notableTotal - notable.count
        for i in queues.indices {
            queues[i].snap.putPerSecond = queues[i].putRate.update(count: queues[i].snap.put, now: now)
            queues[i].snap.gotPerSecond = queues[i].gotRate.update(count: queues[i].snap.got, now: now)
            queues[i].snap.wait = queues[i].wait.percentiles(realNow: realNow)
        }
        for i in semaphores.indices {
            semaphores[i].snap.acquiredPerSecond = semaphores[i].rate.update(count: semaphores[i].snap.acquired, now: now)
            semaphores[i].snap.wait = semaphores[i].wait.percentiles(realNow: realNow)
        }
        for i in actors.indices {
            actors[i].snap.processedPerSecond = actors[i].rate.update(count: actors[i].snap.processed, now: now)
            actors[i].snap.processing = actors[i].processing.percentiles(realNow: realNow)
        }
        for i in streams.indices {
            streams[i].snap.producedPerSecond = streams[i].rate.update(count: streams[i].snap.produced, now: now)
        }
        for i in resources.indices {
            resources[i].snap.openedPerSecond = resources[i].rate.update(count: resources[i].snap.opened, now: now)
            resources[i].snap.held = resources[i].held.percentiles(realNow: realNow)
            resources[i].snap.timed = resources[i].timed.percentiles(realNow: realNow)
        }
        s.queues = queues.map(\.snap)
        s.semaphores = semaphores.map(\.snap)
        s.actors = actors.map(\.snap)
        s.streams = streams.map(\.snap)
        s.resources = resources.map(\.snap)
        s.health = health
        s.health.lag = lag.percentiles(realNow: realNow)
        return s
    }
}

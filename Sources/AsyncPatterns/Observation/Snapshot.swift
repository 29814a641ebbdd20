/// Every registered pattern's numbers at one moment, read from the patterns themselves by
/// `PatternRegistry.snapshot()`. A value: take it, keep it, render it, encode it; it never
/// changes under you.
///
/// `Codable` with a stable shape (documented in `PROTOCOL.md`): field names are the
/// property names, durations are nanoseconds (`…Nanos`, `UInt64`) or seconds (`Double`).
public struct Snapshot: Sendable, Hashable, Codable {
    /// Live queues in registration order, then recently finished ones (at most
    /// `PatternRegistry.finishedToKeep` of each kind).
    public var queues: [QueueSnapshot] = []
    /// Live semaphores in registration order, then recently finished ones.
    public var semaphores: [SemaphoreSnapshot] = []
    /// Live actors in registration order, then recently stopped ones.
    public var actors: [ActorSnapshot] = []
    /// Running stream iterations, then recently ended ones.
    public var streams: [StreamSnapshot] = []
    /// Resource scopes in registration order, then recently released ones.
    public var resources: [ResourceSnapshot] = []
    /// The loop-lag monitor's figures (zero when none is registered).
    public var health = HealthSnapshot()
    /// The cooperative pool's health and top blockers (nil when no pool doctor runs).
    public var pool: PoolSnapshot?
    /// What patterns that have left the registry added up to (they are no longer listed).
    public var retired = RetiredTotals()
    /// Operations of every pattern so far (puts, gets, acquires, messages, elements, …):
    /// what would be one event each, counted by the patterns without emitting anything.
    public var operations = 0
    /// `operations` per second of the registry's time source, over the last second or so;
    /// before a second has passed (or after a quiet one), over the time since operations
    /// began (since the last snapshot that saw none), so it is not 0 while work is done.
    public var operationsPerSecond: Double = 0
    /// The registry's time source when the snapshot was taken, in seconds.
    public var elapsedSeconds: Double = 0
    /// The most recent events, oldest first (filled by the one who keeps an `EventLog`).
    public var recentEvents: [PatternEvent] = []
    /// Events that happened but are no longer in `recentEvents`.
    public var droppedEvents = 0
    /// The most recent notable events (`PatternEvent.isNotable`), oldest first.
    public var notableEvents: [PatternEvent] = []
    /// Notable events no longer in `notableEvents`.
    public var droppedNotableEvents = 0
    /// Queueing theory beside the measurement, for runs that publish it (a pipeline file's
    /// scenario); nil for others, and absent from older recordings.
    public var queueModels: [QueueModelSnapshot]?

    /// An empty snapshot (what a registry with no patterns reads).
    public init() {}

    /// `elapsedSeconds` as a duration; a value no clock could have reached (negative, not
    /// finite, beyond 290 years: a hostile agent's or recording's) reads as zero or the most.
    public var elapsed: Duration {
        get {
            guard elapsedSeconds.isFinite, elapsedSeconds > 0 else { return .zero }
            return .nanoseconds(Int64(min(elapsedSeconds * 1e9, 9.2e18).rounded()))
        }
        set { elapsedSeconds = newValue.seconds }
    }

    /// The first queue named `name`, if listed.
    public func queue(_ name: String) -> QueueSnapshot? { queues.first { $0.name == name } }
    /// The first semaphore named `name`, if listed.
    public func semaphore(_ name: String) -> SemaphoreSnapshot? { semaphores.first { $0.name == name } }
    /// The first actor named `name`, if listed.
    public func actor(_ name: String) -> ActorSnapshot? { actors.first { $0.name == name } }
    /// The first stream run named `name`, if listed.
    public func stream(_ name: String) -> StreamSnapshot? { streams.first { $0.name == name } }
    /// The first resource scope named `name`, if listed.
    public func resource(_ name: String) -> ResourceSnapshot? { resources.first { $0.name == name } }

    /// Dead letters of listed and retired actors.
    public var deadLetters: Int { actors.reduce(retired.actorDeadLetters) { $0 + $1.deadLetters } }
}

/// Latency percentiles in nanoseconds (0 when nothing was recorded) and how many samples
/// fell in each decade of `Percentiles.decadeLabels`. Fast patterns time a sample of their
/// operations (see `count`), slow ones every operation.
public struct Percentiles: Sendable, Hashable, Codable {
    /// Samples recorded.
    public var count: UInt64 = 0
    /// The median, in nanoseconds.
    public var p50: UInt64 = 0
    /// The 90th percentile, in nanoseconds.
    public var p90: UInt64 = 0
    /// The 99th percentile, in nanoseconds.
    public var p99: UInt64 = 0
    /// The largest sample, in nanoseconds.
    public var max: UInt64 = 0
    /// The mean, in nanoseconds.
    public var mean: UInt64 = 0
    /// How many samples fell in each decade.
    public var decades = DecadeCounts()

    /// Labels for the decades.
    public static let decadeLabels = ["<10µs", "<100µs", "<1ms", "<10ms", "<100ms", "<1s", ">=1s"]

    /// Percentiles with the given values (all zero by default: nothing recorded).
    public init(
        count: UInt64 = 0, p50: UInt64 = 0, p90: UInt64 = 0, p99: UInt64 = 0, max: UInt64 = 0, mean: UInt64 = 0,
        decades: DecadeCounts = DecadeCounts()
    ) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
        self.mean = mean
        self.decades = decades
    }

    /// Sample counts per decade, in the order of `decadeLabels`.
    public var decadeCounts: [UInt64] { decades.counts }

    /// The distribution's own buckets, for the package's exporters (histograms); only in
    /// snapshots read in the process inside `LatencyBuckets.reading`, neither encoded nor
    /// compared.
    package var buckets = LatencyBuckets()

    private enum CodingKeys: String, CodingKey {
        case count, p50, p90, p99, max, mean, decades
    }
}

/// The sample counts of a latency distribution's buckets (four per power of two from 64 ns
/// to about 137 s), as a snapshot read them. Not part of a snapshot's value: two readings
/// with the same percentiles are equal whatever their buckets, since a snapshot that crossed
/// the socket or came from a recording has none.
package struct LatencyBuckets: Sendable, Hashable {
    /// Samples per bucket, shortest first; empty when nothing was recorded or not read.
    package var counts: [UInt64] = []

    package init() {}

    package init(counts: [UInt64]) { self.counts = counts }

    /// Whether the snapshot being read should carry the buckets.
    @TaskLocal package static var isRequested = false

    /// Runs `body` (a `PatternRegistry.snapshot()`, say) with the buckets read into every
    /// `Percentiles`.
    package static func reading<T>(_ body: () throws -> T) rethrows -> T {
        try $isRequested.withValue(true, operation: body)
    }

    /// A duration that stands for the samples of bucket `index`: its midpoint, in
    /// nanoseconds (the width of a bucket is about 12% of its value).
    package static func value(ofBucket index: Int) -> UInt64 {
        let (lower, upper) = LatencyDistribution.bounds(index)
        return lower + (upper - lower) / 2
    }

    package static func == (a: Self, b: Self) -> Bool { true }
    package func hash(into hasher: inout Hasher) {}
}

/// Sample counts per decade: <10µs, <100µs, <1ms, <10ms, <100ms, <1s, >=1s. Seven fields,
/// not an array: a snapshot of 100,000 actors allocates nothing per actor for them.
public struct DecadeCounts: Sendable, Hashable, Codable {
    /// Samples under 10 µs.
    public var under10us: UInt64 = 0
    /// Samples from 10 µs to under 100 µs.
    public var under100us: UInt64 = 0
    /// Samples from 100 µs to under 1 ms.
    public var under1ms: UInt64 = 0
    /// Samples from 1 ms to under 10 ms.
    public var under10ms: UInt64 = 0
    /// Samples from 10 ms to under 100 ms.
    public var under100ms: UInt64 = 0
    /// Samples from 100 ms to under 1 s.
    public var under1s: UInt64 = 0
    /// Samples of 1 s or more.
    public var atLeast1s: UInt64 = 0

    /// No samples.
    public init() {}

    /// The seven counts, shortest decade first.
    public var counts: [UInt64] { [under10us, under100us, under1ms, under10ms, under100ms, under1s, atLeast1s] }

    mutating func add(_ n: UInt64, at nanos: UInt64) {
        switch nanos {
        case ..<10_000: under10us += n
        case ..<100_000: under100us += n
        case ..<1_000_000: under1ms += n
        case ..<10_000_000: under10ms += n
        case ..<100_000_000: under100ms += n
        case ..<1_000_000_000: under1s += n
        default: atLeast1s += n
        }
    }
}

/// A `BoundedQueue`'s numbers in a `Snapshot`.
public struct QueueSnapshot: Sendable, Hashable, Codable {
    /// The name it was created with.
    public var name: String
    /// Items it holds before `put` suspends.
    public var capacity = 0
    /// Items in the queue now.
    public var depth = 0
    /// The deepest it has been.
    public var maxDepth = 0
    /// Producers suspended in `put`.
    public var waitingProducers = 0
    /// Consumers suspended in `get`.
    public var waitingConsumers = 0
    /// Items put so far.
    public var put = 0
    /// Items got so far.
    public var got = 0
    /// Items marked done with `taskDone()`.
    public var done = 0
    /// Items dropped by a close that emptied the queue at once
    /// (`BoundedQueue.close(discardingItems:)`): `put == got + dropped + depth`.
    public var dropped = 0
    /// Puts and gets that gave up waiting (cancelled or timed out).
    public var abandoned = 0
    /// Whether `close()` was called.
    public var isClosed = false
    /// Released by the program (listed among the recently finished).
    public var isGone = false
    /// Items put per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var putPerSecond: Double = 0
    /// Items got per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var gotPerSecond: Double = 0
    /// How long items sat in the queue.
    public var wait = Percentiles()
    /// Zero numbers for the pattern named `name`.
    public init(name: String) { self.name = name }
}

extension QueueSnapshot {
    enum CodingKeys: String, CodingKey {
        case name, capacity, depth, maxDepth, waitingProducers, waitingConsumers, put, got, done, dropped, abandoned, isClosed
        case isGone, putPerSecond, gotPerSecond, wait
    }

    /// Decodes a queue's numbers; `dropped`, newer than the rest, reads as 0 when absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        capacity = try c.decode(Int.self, forKey: .capacity)
        depth = try c.decode(Int.self, forKey: .depth)
        maxDepth = try c.decode(Int.self, forKey: .maxDepth)
        waitingProducers = try c.decode(Int.self, forKey: .waitingProducers)
        waitingConsumers = try c.decode(Int.self, forKey: .waitingConsumers)
        put = try c.decode(Int.self, forKey: .put)
        got = try c.decode(Int.self, forKey: .got)
        done = try c.decode(Int.self, forKey: .done)
        dropped = try c.decodeIfPresent(Int.self, forKey: .dropped) ?? 0
        abandoned = try c.decode(Int.self, forKey: .abandoned)
        isClosed = try c.decode(Bool.self, forKey: .isClosed)
        isGone = try c.decode(Bool.self, forKey: .isGone)
        putPerSecond = try c.decode(Double.self, forKey: .putPerSecond)
        gotPerSecond = try c.decode(Double.self, forKey: .gotPerSecond)
        wait = try c.decode(Percentiles.self, forKey: .wait)
    }
}

/// An `AsyncSemaphore`'s numbers in a `Snapshot`.
public struct SemaphoreSnapshot: Sendable, Hashable, Codable {
    /// The name it was created with.
    public var name: String
    /// Permits available in all.
    public var limit = 0
    /// Permits held now.
    public var inUse = 0
    /// The most permits held at once.
    public var maxInUse = 0
    /// Tasks suspended in `acquire`.
    public var waiting = 0
    /// Permits granted so far.
    public var acquired = 0
    /// Permits returned so far.
    public var released = 0
    /// Acquires that gave up waiting (cancelled or timed out).
    public var abandoned = 0
    /// Released by the program (listed among the recently finished).
    public var isGone = false
    /// Permits granted per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var acquiredPerSecond: Double = 0
    /// How long acquires waited for a permit (0 for those granted at once).
    public var wait = Percentiles()
    /// Zero numbers for the pattern named `name`.
    public init(name: String) { self.name = name }
}

/// A `MailboxActor`'s numbers in a `Snapshot`.
public struct ActorSnapshot: Sendable, Hashable, Codable {
    /// The name it was created with.
    public var name: String
    /// Messages sent and not yet taken by the run loop.
    public var mailboxDepth = 0
    /// The deepest the mailbox has been seen.
    public var maxMailboxDepth = 0
    /// Messages handled without throwing.
    public var processed = 0
    /// Messages whose handling threw.
    public var failed = 0
    /// Messages this actor could not deliver (unknown recipient), and messages to it that
    /// could not be delivered (stopped, mailbox full): each dead letter is counted once.
    public var deadLetters = 0
    /// Sends that waited for room in a full bounded mailbox.
    public var blockedSends = 0
    /// Whether the actor stopped (or is stopping).
    public var isStopped = false
    /// Messages handled without throwing, per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var processedPerSecond: Double = 0
    /// How long a sample of messages took to process.
    public var processing = Percentiles()
    /// The most recent dead letters: who they were for and why (at most 5).
    public var recentDeadLetters: [String] = []
    /// Zero numbers for the pattern named `name`.
    public init(name: String) { self.name = name }
}

/// One stream iteration's numbers in a `Snapshot`.
public struct StreamSnapshot: Sendable, Hashable, Codable {
    /// The name it was created with.
    public var name: String
    /// Elements produced so far.
    public var produced = 0
    /// Elements handed to the consumer so far.
    public var consumed = 0
    /// How many elements there will be, when known.
    public var total: Int?
    /// Ended: ran to its end, failed, or its consumer stopped early.
    public var isFinished = false
    /// Whether it ended with an error.
    public var isFailed = false
    /// The consumer stopped iterating before the end.
    public var stoppedEarly = false
    /// Elements produced per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var producedPerSecond: Double = 0
    /// Fraction done, 0...1, when the total is known.
    public var fraction: Double? {
        guard let total, total > 0 else { return total == 0 ? 1 : nil }
        return min(1, Double(produced) / Double(total))
    }
    /// Seconds left at the current rate, when the total is known and the rate is not zero.
    public var etaSeconds: Double? {
        guard let total, !isFinished, producedPerSecond > 0 else { return nil }
        return Double(max(0, total - produced)) / producedPerSecond
    }
    /// Zero numbers for the pattern named `name`.
    public init(name: String) { self.name = name }
}

/// A `ResourceScope`'s numbers in a `Snapshot`.
public struct ResourceSnapshot: Sendable, Hashable, Codable {
    /// The name it was created with.
    public var name: String
    /// Resources being opened now.
    public var opening = 0
    /// Resources open (their bodies running) now.
    public var open = 0
    /// Resources being closed now.
    public var closing = 0
    /// Resources opened so far (their open succeeded).
    public var opened = 0
    /// Resources closed so far.
    public var closed = 0
    /// Scopes whose body threw or was cancelled (they were still closed).
    public var failed = 0
    /// Opens that threw (the resource never opened, so it is not closed).
    public var openFailed = 0
    /// Closes that threw.
    public var closeFailed = 0
    /// Released by the program (listed among the recently finished).
    public var isGone = false
    /// Resources opened per second of the registry's time (see `Snapshot.operationsPerSecond`).
    public var openedPerSecond: Double = 0
    /// How long resources stayed open.
    public var held = Percentiles()
    /// Durations reported by timing scopes.
    public var timed = Percentiles()
    /// Zero numbers for the pattern named `name`.
    public init(name: String) { self.name = name }
}

/// A `LoopLagMonitor`'s figures in a `Snapshot` (nanoseconds, as on the wire; `LoopLagMonitor.stats` has them as `Duration`s).
public struct HealthSnapshot: Sendable, Hashable, Codable {
    /// How late the last heartbeat ran, in nanoseconds.
    public var lastLagNanos: UInt64 = 0
    /// The latest any heartbeat ran, in nanoseconds.
    public var maxLagNanos: UInt64 = 0
    /// The distribution of heartbeat lateness.
    public var lag = Percentiles()
    /// Heartbeats so far.
    public var beats = 0
    /// No heartbeat yet.
    public init() {}
}

/// What the patterns that left the registry (finished, stopped or released) added up to,
/// so totals on screen do not drop when a pattern goes.
public struct RetiredTotals: Sendable, Hashable, Codable {
    /// Queues that left the registry.
    public var queues = 0
    /// Semaphores that left the registry.
    public var semaphores = 0
    /// Actors that left the registry.
    public var actors = 0
    /// Stream runs that ended.
    public var streams = 0
    /// Resource scopes that left the registry.
    public var resources = 0
    /// Messages the retired actors processed.
    public var actorProcessed = 0
    /// Dead letters of the retired actors.
    public var actorDeadLetters = 0
    /// Failed messages of the retired actors.
    public var actorFailed = 0
    /// Items the retired queues got.
    public var queueItems = 0
    /// Elements the ended stream runs produced.
    public var streamElements = 0
    /// Resource scopes that left the registry.
    public var resourcesOpened = 0
    /// Nothing retired yet.
    public init() {}
}

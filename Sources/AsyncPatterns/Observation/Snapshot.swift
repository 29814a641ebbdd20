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
    public var semaphores: [SemaphoreSnapshot] = []
    public var actors: [ActorSnapshot] = []
    public var streams: [StreamSnapshot] = []
    public var resources: [ResourceSnapshot] = []
    public var health = HealthSnapshot()
    /// What patterns that have left the registry added up to (they are no longer listed).
    public var retired = RetiredTotals()
    /// Operations of every pattern so far (puts, gets, acquires, messages, elements, …):
    /// what would be one event each, counted by the patterns without emitting anything.
    public var operations = 0
    /// `operations` per second of the registry's time source, over the last second or so.
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

    public init() {}

    /// `elapsedSeconds` as a duration.
    public var elapsed: Duration {
        get { .nanoseconds(Int64((elapsedSeconds * 1e9).rounded())) }
        set { elapsedSeconds = newValue.seconds }
    }

    public func queue(_ name: String) -> QueueSnapshot? { queues.first { $0.name == name } }
    public func semaphore(_ name: String) -> SemaphoreSnapshot? { semaphores.first { $0.name == name } }
    public func actor(_ name: String) -> ActorSnapshot? { actors.first { $0.name == name } }
    public func stream(_ name: String) -> StreamSnapshot? { streams.first { $0.name == name } }
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
    public var p50: UInt64 = 0
    public var p90: UInt64 = 0
    public var p99: UInt64 = 0
    public var max: UInt64 = 0
    public var mean: UInt64 = 0
    public var decades = DecadeCounts()

    /// Labels for the decades.
    public static let decadeLabels = ["<10µs", "<100µs", "<1ms", "<10ms", "<100ms", "<1s", ">=1s"]

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
}

/// Sample counts per decade: <10µs, <100µs, <1ms, <10ms, <100ms, <1s, >=1s. Seven fields,
/// not an array: a snapshot of 100,000 actors allocates nothing per actor for them.
public struct DecadeCounts: Sendable, Hashable, Codable {
    public var under10us: UInt64 = 0
    public var under100us: UInt64 = 0
    public var under1ms: UInt64 = 0
    public var under10ms: UInt64 = 0
    public var under100ms: UInt64 = 0
    public var under1s: UInt64 = 0
    public var atLeast1s: UInt64 = 0

    public init() {}

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

public struct QueueSnapshot: Sendable, Hashable, Codable {
    public var name: String
    public var capacity = 0
    public var depth = 0
    public var maxDepth = 0
    public var waitingProducers = 0
    public var waitingConsumers = 0
    public var put = 0
    public var got = 0
    public var done = 0
    /// Puts and gets that gave up waiting (cancelled or timed out).
    public var abandoned = 0
    public var isClosed = false
    /// Released by the program (listed among the recently finished).
    public var isGone = false
    public var putPerSecond: Double = 0
    public var gotPerSecond: Double = 0
    /// How long items sat in the queue.
    public var wait = Percentiles()
    public init(name: String) { self.name = name }
}

public struct SemaphoreSnapshot: Sendable, Hashable, Codable {
    public var name: String
    public var limit = 0
    public var inUse = 0
    public var maxInUse = 0
    public var waiting = 0
    public var acquired = 0
    public var released = 0
    public var abandoned = 0
    public var isGone = false
    public var acquiredPerSecond: Double = 0
    /// How long acquires waited for a permit (0 for those granted at once).
    public var wait = Percentiles()
    public init(name: String) { self.name = name }
}

public struct ActorSnapshot: Sendable, Hashable, Codable {
    public var name: String
    public var mailboxDepth = 0
    public var maxMailboxDepth = 0
    public var processed = 0
    public var failed = 0
    /// Messages this actor could not deliver (unknown recipient), and messages to it that
    /// could not be delivered (stopped, mailbox full): each dead letter is counted once.
    public var deadLetters = 0
    public var blockedSends = 0
    public var isStopped = false
    public var processedPerSecond: Double = 0
    public var processing = Percentiles()
    /// The most recent dead letters: who they were for and why (at most 5).
    public var recentDeadLetters: [String] = []
    public init(name: String) { self.name = name }
}

public struct StreamSnapshot: Sendable, Hashable, Codable {
    public var name: String
    public var produced = 0
    public var consumed = 0
    public var total: Int?
    /// Ended: ran to its end, failed, or its consumer stopped early.
    public var isFinished = false
    public var isFailed = false
    /// The consumer stopped iterating before the end.
    public var stoppedEarly = false
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
    public init(name: String) { self.name = name }
}

public struct ResourceSnapshot: Sendable, Hashable, Codable {
    public var name: String
    public var opening = 0
    public var open = 0
    public var closing = 0
    public var opened = 0
    public var closed = 0
    /// Scopes whose body threw or was cancelled (they were still closed).
    public var failed = 0
    public var openFailed = 0
    public var closeFailed = 0
    public var isGone = false
    public var openedPerSecond: Double = 0
    /// How long resources stayed open.
    public var held = Percentiles()
    /// Durations reported by timing scopes.
    public var timed = Percentiles()
    public init(name: String) { self.name = name }
}

public struct HealthSnapshot: Sendable, Hashable, Codable {
    public var lastLagNanos: UInt64 = 0
    public var maxLagNanos: UInt64 = 0
    public var lag = Percentiles()
    public var beats = 0
    public init() {}
}

/// What the patterns that left the registry (finished, stopped or released) added up to,
/// so totals on screen do not drop when a pattern goes.
public struct RetiredTotals: Sendable, Hashable, Codable {
    public var queues = 0
    public var semaphores = 0
    public var actors = 0
    public var streams = 0
    public var resources = 0
    public var actorProcessed = 0
    public var actorDeadLetters = 0
    public var actorFailed = 0
    public var queueItems = 0
    public var streamElements = 0
    public var resourcesOpened = 0
    public init() {}
}

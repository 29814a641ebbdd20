/// Everything the aggregating observer knows, at one moment. A value: take it, keep it,
/// render it; it never changes under you.
public struct Snapshot: Sendable {
    public var queues: [QueueSnapshot] = []
    public var semaphores: [SemaphoreSnapshot] = []
    public var actors: [ActorSnapshot] = []
    public var streams: [StreamSnapshot] = []
    public var resources: [ResourceSnapshot] = []
    public var health = HealthSnapshot()
    /// The most recent events, oldest first.
    public var recentEvents: [PatternEvent] = []
    /// Events that happened but are no longer in `recentEvents`.
    public var droppedEvents = 0
    /// The most recent notable events (`PatternEvent.isNotable`), oldest first.
    public var notableEvents: [PatternEvent] = []
    /// Notable events no longer in `notableEvents`.
    public var droppedNotableEvents = 0
    public var totalEvents = 0
    /// Events per second of the observer's time source, over the last second or so.
    public var eventsPerSecond: Double = 0
    /// The observer's time source when the snapshot was taken.
    public var elapsed: Duration = .zero

    public init() {}

    public func queue(_ name: String) -> QueueSnapshot? { queues.first { $0.name == name } }
    public func semaphore(_ name: String) -> SemaphoreSnapshot? { semaphores.first { $0.name == name } }
    public func actor(_ name: String) -> ActorSnapshot? { actors.first { $0.name == name } }
    public func stream(_ name: String) -> StreamSnapshot? { streams.first { $0.name == name } }
    public func resource(_ name: String) -> ResourceSnapshot? { resources.first { $0.name == name } }
}

/// Latency percentiles in nanoseconds (0 when nothing was recorded), and a coarse
/// histogram: how many samples fell in each decade of `Percentiles.decades`.
public struct Percentiles: Sendable, Hashable {
    public var count: UInt64 = 0
    public var p50: UInt64 = 0
    public var p99: UInt64 = 0
    public var max: UInt64 = 0
    /// Sample counts per decade: <10µs, <100µs, <1ms, <10ms, <100ms, <1s, >=1s.
    public var decadeCounts: [UInt64] = []

    /// The upper bounds of the histogram's decades, in nanoseconds (the last is open).
    public static let decades: [UInt64] = [10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]
    /// Labels for the decades.
    public static let decadeLabels = ["<10µs", "<100µs", "<1ms", "<10ms", "<100ms", "<1s", ">=1s"]

    public init(count: UInt64 = 0, p50: UInt64 = 0, p99: UInt64 = 0, max: UInt64 = 0, decadeCounts: [UInt64] = []) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
        self.max = max
        self.decadeCounts = decadeCounts
    }
}

public struct QueueSnapshot: Sendable, Hashable {
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
    public var putPerSecond: Double = 0
    public var gotPerSecond: Double = 0
    /// How long items sat in the queue.
    public var wait = Percentiles()
    public init(name: String) { self.name = name }
}

public struct SemaphoreSnapshot: Sendable, Hashable {
    public var name: String
    public var limit = 0
    public var inUse = 0
    public var maxInUse = 0
    public var waiting = 0
    public var acquired = 0
    public var released = 0
    public var abandoned = 0
    public var acquiredPerSecond: Double = 0
    /// How long acquires waited for a permit.
    public var wait = Percentiles()
    public init(name: String) { self.name = name }
}

public struct ActorSnapshot: Sendable, Hashable {
    public var name: String
    public var mailboxDepth = 0
    public var maxMailboxDepth = 0
    public var processed = 0
    public var failed = 0
    public var deadLetters = 0
    public var blockedSends = 0
    public var isRunning = false
    public var isStopped = false
    public var processedPerSecond: Double = 0
    public var processing = Percentiles()
    /// The most recent dead letters: who they were for and why.
    public var recentDeadLetters: [String] = []
    public init(name: String) { self.name = name }
}

public struct StreamSnapshot: Sendable, Hashable {
    public var name: String
    public var produced = 0
    public var consumed = 0
    public var total: Int?
    public var isFinished = false
    public var isFailed = false
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

public struct ResourceSnapshot: Sendable, Hashable {
    public var name: String
    public var opening = 0
    public var open = 0
    public var closing = 0
    public var opened = 0
    public var closed = 0
    public var failed = 0
    public var openFailed = 0
    public var openedPerSecond: Double = 0
    /// How long resources stayed open.
    public var held = Percentiles()
    /// Durations reported by timing scopes.
    public var timed = Percentiles()
    public init(name: String) { self.name = name }
}

public struct HealthSnapshot: Sendable, Hashable {
    public var lastLagNanos: UInt64 = 0
    public var maxLagNanos: UInt64 = 0
    public var lag = Percentiles()
    public var beats = 0
    /// Recent notes from scenarios, oldest first.
    public var notes: [String] = []
    public init() {}
}

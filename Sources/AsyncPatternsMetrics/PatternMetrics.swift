import AsyncPatterns
import CoreMetrics
import ServiceLifecycle
import Synchronization

/// Reports the patterns in a `Snapshot` through swift-metrics, so whatever backend the
/// program bootstrapped (swift-prometheus, swift-otel, statsd…) exports its queues,
/// semaphores, actors, streams and resource scopes next to its other metrics.
///
/// Each `update()` reads one snapshot and, for every pattern in it, emits:
/// - **gauges** (`Gauge`) for levels: `sluice_queue_depth`, `sluice_semaphore_in_use`,
///   `sluice_actor_mailbox_depth`, `sluice_resource_open`, …;
/// - **counters** (`Counter`, names ending in `_total`) for running totals:
///   `sluice_queue_put_total`, `sluice_actor_processed_total`, … A swift-metrics counter
///   only increments, so the reporter remembers the last total it reported per series and
///   increments by the difference. A total that went backwards means a pattern of the same
///   name was recreated: the new total is taken as the increment, so the exported counter
///   never decreases;
/// - **latencies** as histograms: a swift-metrics `Timer` per latency
///   (`sluice_queue_wait_seconds`, `sluice_semaphore_wait_seconds`,
///   `sluice_actor_processing_seconds`, `sluice_resource_held_seconds`,
///   `sluice_resource_timed_seconds`, `sluice_loop_lag_seconds`) that gets every sample the
///   pattern timed since the last update (each at its bucket's midpoint in the pattern's own
///   distribution, which is within about 12% of it). Histograms add up across processes:
///   `histogram_quantile(0.99, sum by (le) (rate(sluice_queue_wait_seconds_bucket[5m])))` is a
///   fleet's p99. Give the backend buckets that fit these ranges (`latencyBuckets`, from
///   1 µs to 10 s; swift-prometheus's default starts at 5 ms and would put every queue
///   wait in its first bucket), e.g.
///   `factory.defaultDurationHistogramBuckets = PatternMetrics.latencyBuckets`.
/// - **how much was timed**: a fast pattern times one operation in 32 (reading the clock
///   costs more than the operation), a slow one every operation. The histogram's count is
///   the number of timed operations; `sluice_queue_wait_sampled_ratio` (and its kin, one
///   per latency that has a count of operations) is the fraction of operations timed so
///   far, and `rate(sluice_queue_wait_seconds_count[5m]) / rate(sluice_queue_got_total[5m])`
///   the recent one. Quantiles are unaffected: which operation is timed does not depend on
///   how long it takes.
/// - **quantile gauges** only when asked (`quantileGauges: true`): gauges in seconds with a
///   `quantile` dimension ("0.5", "0.99", "1") per latency, named `…_quantile_seconds`
///   (`sluice_queue_wait_quantile_seconds{quantile="0.99"}`). One process's quantiles are
///   exact to the bucket, but quantiles of several processes cannot be added up.
///
/// - the cooperative pool's health when the snapshot has a pool doctor's figures
///   (`sluice_pool_delay_p99_seconds`, `sluice_pool_stalls_total`, …; kind "pool").
///
/// Every series has the dimensions `[("kind", kind), ("name", name)]` (quantile gauges add
/// `quantile`). Rates are not exported: the backend derives them from the counters.
///
/// When a pattern no longer appears in a snapshot, its remembered totals are dropped and
/// its handlers destroyed (`MetricsFactory.destroyCounter`/`destroyRecorder`/`destroyTimer`),
/// so memory stays flat however many patterns a program creates and drops.
///
/// Patterns of one kind are told apart by name: if two in one snapshot share a kind and a
/// name, only the first is reported.
///
/// It is a swift-service-lifecycle `Service`: put it in the program's `ServiceGroup` and it
/// updates every `interval` until graceful shutdown, then reports once more and returns.
public final class PatternMetrics: Sendable {
    private let snapshot: @Sendable () -> Snapshot
    private let factory: any MetricsFactory
    private let prefix: String
    private let quantileGauges: Bool
    /// How often `run()` (the `Service` entry point) updates.
    public let interval: Duration
    private let state = Mutex(ReporterState())

    /// Histogram bucket bounds that fit what the patterns measure: 1, 2.5 and 5 per decade
    /// from 1 µs (an item that waited in a busy queue) to 10 s (a resource held long). For
    /// the backend's `Timer`s, e.g. swift-prometheus's
    /// `PrometheusMetricsFactory.defaultDurationHistogramBuckets`, or per label with
    /// `latencyLabels(prefix:)`.
    public static let latencyBuckets: [Duration] = [
        .microseconds(1), .nanoseconds(2_500), .microseconds(5),
        .microseconds(10), .microseconds(25), .microseconds(50),
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2_500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]

    /// The labels of the `Timer`s the reporter makes with `prefix`, e.g. to give each its
    /// buckets: `for label in PatternMetrics.latencyLabels() { factory.durationHistogramBuckets[label] = PatternMetrics.latencyBuckets }`.
    public static func latencyLabels(prefix: String = "sluice") -> [String] {
        let start = prefix.isEmpty ? "" : prefix + "_"
        return PatternSamples.latencyMetrics.map { start + $0 + "_seconds" }
    }

    /// Creates a reporter; it reports nothing until `update()` or `run(every:)` is called.
    ///
    /// This is the one designated initializer: other sources of snapshots (such as a
    /// registry of live patterns) are convenience initializers that pass their `snapshot()`.
    ///
    /// - Parameters:
    ///   - snapshot: returns the current numbers of every pattern to report, for example
    ///     `{ registry.snapshot() }`. Called once per `update()`, never under the reporter's
    ///     lock; it must not block. Latency histograms need the snapshot of a registry in
    ///     this process (a snapshot decoded from elsewhere carries percentiles only).
    ///   - factory: the swift-metrics backend to report to. Defaults to the one the program
    ///     bootstrapped (`MetricsSystem.factory`, read now); pass one explicitly in tests.
    ///   - prefix: the start of every metric name, joined with `_` (`sluice_queue_depth`).
    ///     An empty prefix gives `queue_depth`.
    ///   - interval: how often `run()` updates when it runs as a `Service`.
    ///   - quantileGauges: also export each latency's p50, p99 and maximum as gauges
    ///     (`…_quantile_seconds`), for dashboards of one process.
    public init(
        snapshot: @escaping @Sendable () -> Snapshot,
        factory: any MetricsFactory = MetricsSystem.factory,
        prefix: String = "sluice",
        interval: Duration = .seconds(1),
        quantileGauges: Bool = false
    ) {
        precondition(interval > .zero, "the interval between updates must be positive")
        self.snapshot = snapshot
        self.factory = factory
        self.prefix = prefix.isEmpty ? "" : prefix + "_"
        self.interval = interval
        self.quantileGauges = quantileGauges
    }

    /// Reports every pattern registered in `registry` (by default the one patterns join
    /// unless told otherwise). Patterns that leave the registry leave its snapshot, and
    /// `update()` forgets them.
    public convenience init(
        registry: PatternRegistry = .shared,
        factory: any MetricsFactory = MetricsSystem.factory,
        prefix: String = "sluice",
        interval: Duration = .seconds(1),
        quantileGauges: Bool = false
    ) {
        self.init(
            snapshot: { registry.snapshot() }, factory: factory, prefix: prefix, interval: interval,
            quantileGauges: quantileGauges)
    }

    /// Reads one snapshot and reports it: sets every gauge, increments every counter by
    /// what its total grew since the last update, and destroys the handlers of patterns
    /// that are gone. Synchronous and does not suspend; concurrent calls are serialized.
    public func update() {
        let snapshot = LatencyBuckets.reading { self.snapshot() }
        var samples: [PatternSamples] = []
        samples.reserveCapacity(
            snapshot.queues.count + snapshot.semaphores.count + snapshot.actors.count
                + snapshot.streams.count + snapshot.resources.count + 1)
        samples.append(contentsOf: snapshot.queues.lazy.map(PatternSamples.init))
        samples.append(contentsOf: snapshot.semaphores.lazy.map(PatternSamples.init))
        samples.append(contentsOf: snapshot.actors.lazy.map(PatternSamples.init))
        samples.append(contentsOf: snapshot.streams.lazy.map(PatternSamples.init))
        samples.append(contentsOf: snapshot.resources.lazy.map(PatternSamples.init))
        if let health = PatternSamples(snapshot.health) { samples.append(health) }
        if let pool = snapshot.pool { samples.append(PatternSamples(pool)) }

        // The lock is held while calling the metrics backend. That breaks no promise the
        // backend relies on (swift-metrics handlers are thread-safe, quick and never call
        // back into us), and it keeps two concurrent updates from interleaving a pattern's
        // creation, increments and destruction.
        state.withLock { state in
            state.generation &+= 1
            let generation = state.generation
            for pattern in samples {
                report(pattern, generation: generation, into: &state)
            }
            state.forget(olderThan: generation)
        }
    }

    /// Calls `update()` now and then every `interval` (on the continuous clock) until the
    /// calling task is cancelled or, in a swift-service-lifecycle `ServiceGroup`, graceful
    /// shutdown begins; then updates once more, so the last numbers are reported, and
    /// returns without throwing. Suspends between updates.
    ///
    /// When an update takes longer than `interval`, the missed ticks are skipped rather
    /// than run back to back.
    public func run(every interval: Duration) async throws {
        precondition(interval > .zero, "the interval between updates must be positive")
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var deadline = clock.now
            while !Task.isCancelled {
                self.update()
                deadline = deadline.advanced(by: interval)
                let now = clock.now
                if deadline < now { deadline = now.advanced(by: interval) }
                do {
                    try await clock.sleep(until: deadline)
                } catch {
                    return  // cancelled, or graceful shutdown began
                }
            }
        }
        update()
    }

    // MARK: - internals

    private func report(_ pattern: PatternSamples, generation: UInt64, into state: inout ReporterState) {
        let key = PatternKey(kind: pattern.kind, name: pattern.name)
        var series = state.patterns.removeValue(forKey: key) ?? PatternSeries()
        guard series.generation != generation else {
            // A second pattern of this kind and name in the same snapshot: keep the first.
            state.patterns[key] = series
            return
        }
        series.generation = generation
        let dimensions = [("kind", pattern.kind), ("name", pattern.name)]
        for sample in pattern.samples {
            switch sample.value {
            case .gauge(let value):
                set(sample.metric, to: value, in: &series, dimensions)
            case .counter(let total):
                count(sample.metric, total: total, in: &series, dimensions)
            case .latency(let percentiles, let operations):
                record(sample.metric + "_seconds", percentiles, in: &series, dimensions)
                if let operations {
                    let ratio = operations > 0 ? min(1, Double(percentiles.count) / Double(operations)) : 0
                    set(sample.metric + "_sampled_ratio", to: ratio, in: &series, dimensions)
                }
                guard quantileGauges else { continue }
                for (quantile, nanos) in [("0.5", percentiles.p50), ("0.99", percentiles.p99), ("1", percentiles.max)] {
                    set(
                        sample.metric + "_quantile_seconds", quantile: quantile, to: Double(nanos) / 1e9, in: &series,
                        dimensions)
                }
            }
        }
        state.patterns[key] = series
    }

    /// Sets a gauge, creating it on first use.
    private func set(
        _ metric: String, quantile: String = "", to value: Double, in series: inout PatternSeries,
        _ dimensions: [(String, String)]
    ) {
        let id = SeriesID(metric: metric, quantile: quantile)
        let gauge =
            series.gauges[id]
            ?? Gauge(
                label: prefix + metric, dimensions: quantile.isEmpty ? dimensions : dimensions + [("quantile", quantile)],
                factory: factory)
        series.gauges[id] = gauge
        gauge.record(value)
    }

    /// Records into a timer the samples the distribution gained since the last report, each
    /// at its bucket's value, creating the timer with the first sample (an idle actor of a
    /// hundred thousand costs no histogram). Fewer samples than last time means a new
    /// pattern under an old name: all of its samples are new.
    private func record(_ metric: String, _ percentiles: Percentiles, in series: inout PatternSeries, _ dimensions: [(String, String)]) {
        let counts = percentiles.buckets.counts
        let id = SeriesID(metric: metric, quantile: "")
        guard
            var slot = series.timers[id]
                ?? (counts.isEmpty ? nil : TimerSlot(timer: Timer(label: prefix + metric, dimensions: dimensions, factory: factory)))
        else { return }
        if percentiles.count < slot.lastCount { slot.last = [] }
        if !counts.isEmpty {
            var previous = slot.last[...]
            var kept: [BucketCount] = []
            for (index, count) in counts.enumerated() where count > 0 {
                while let first = previous.first, Int(first.index) < index { previous.removeFirst() }
                let before = previous.first.map { Int($0.index) == index ? $0.count : 0 } ?? 0
                kept.append(BucketCount(index: UInt8(index), count: count))
                guard count > before else { continue }
                let nanos = Int64(clamping: min(LatencyBuckets.value(ofBucket: index), max(percentiles.max, 1)))
                for _ in 0..<(count - before) { slot.timer.recordNanoseconds(nanos) }
            }
            slot.last = kept
        }
        slot.lastCount = percentiles.count
        series.timers[id] = slot
    }

    /// Increments a counter by what `total` grew since the last report, creating the counter
    /// on first use (so a total of 0 shows as 0, not as nothing).
    private func count(_ metric: String, total: Int, in series: inout PatternSeries, _ dimensions: [(String, String)]) {
        let id = SeriesID(metric: metric, quantile: "")
        var slot =
            series.counters[id]
            ?? CounterSlot(counter: Counter(label: prefix + metric, dimensions: dimensions, factory: factory))
        // Backwards means a new pattern under an old name: its whole total is new.
        let delta = total >= slot.last ? total - slot.last : total
        if delta > 0 { slot.counter.increment(by: delta) }
        slot.last = total
        series.counters[id] = slot
    }
}

extension PatternMetrics {
    /// How many patterns the reporter remembers (for tests: it must fall to zero when
    /// every pattern is gone).
    var rememberedPatterns: Int { state.withLock { $0.patterns.count } }

    /// How many series (counters, gauges and timers) the reporter holds handlers for.
    var rememberedSeries: Int {
        state.withLock { $0.patterns.values.reduce(0) { $0 + $1.counters.count + $1.gauges.count + $1.timers.count } }
    }
}

// MARK: - state

private struct PatternKey: Hashable {
    var kind: String
    var name: String
}

/// One series of a pattern: the metric name without the prefix, and the quantile for a
/// latency ("" otherwise).
private struct SeriesID: Hashable {
    var metric: String
    var quantile: String
}

private struct CounterSlot {
    let counter: Counter
    /// The pattern's total when it was last reported.
    var last = 0
}

private struct TimerSlot {
    let timer: Timer
    /// The distribution's buckets that held samples when last reported, in order: a
    /// distribution fills a few of its 125 buckets, and a program may have 100,000 actors.
    var last: [BucketCount] = []
    var lastCount: UInt64 = 0
}

private struct BucketCount {
    var index: UInt8
    var count: UInt64
}

private struct PatternSeries {
    var generation: UInt64 = 0
    var counters: [SeriesID: CounterSlot] = [:]
    var gauges: [SeriesID: Gauge] = [:]
    var timers: [SeriesID: TimerSlot] = [:]
}

private struct ReporterState {
    var generation: UInt64 = 0
    var patterns: [PatternKey: PatternSeries] = [:]

    /// Drops the patterns not seen in the update numbered `generation`, and destroys their
    /// handlers so the backend forgets them too.
    mutating func forget(olderThan generation: UInt64) {
        guard patterns.values.contains(where: { $0.generation != generation }) else { return }
        var kept: [PatternKey: PatternSeries] = [:]
        kept.reserveCapacity(patterns.count)
        for (key, series) in patterns {
            if series.generation == generation {
                kept[key] = series
            } else {
                for slot in series.counters.values { slot.counter.destroy() }
                for gauge in series.gauges.values { gauge.destroy() }
                for slot in series.timers.values { slot.timer.destroy() }
            }
        }
        patterns = kept
    }
}

// MARK: - what each kind of pattern reports

private enum SampleValue {
    case gauge(Double)
    case counter(Int)
    /// The distribution, and how many operations could have been timed (nil: no such count).
    case latency(Percentiles, operations: Int?)
}

private struct Sample {
    /// The metric name without the prefix, e.g. `queue_depth`; for a latency, the name
    /// before `_seconds` (the histogram), `_sampled_ratio` and `_quantile_seconds`.
    var metric: String
    var value: SampleValue

    init(_ metric: String, _ value: SampleValue) {
        self.metric = metric
        self.value = value
    }

    static func gauge(_ metric: String, _ value: Int) -> Sample { Sample(metric, .gauge(Double(value))) }
    static func flag(_ metric: String, _ value: Bool) -> Sample { Sample(metric, .gauge(value ? 1 : 0)) }
    static func counter(_ metric: String, _ total: Int) -> Sample { Sample(metric, .counter(total)) }
    static func latency(_ metric: String, _ percentiles: Percentiles, operations: Int?) -> Sample {
        Sample(metric, .latency(percentiles, operations: operations))
    }
}

private struct PatternSamples {
    /// Every latency a pattern reports, without the prefix and `_seconds`.
    static let latencyMetrics = [
        "queue_wait", "semaphore_wait", "actor_processing", "resource_held", "resource_timed", "loop_lag",
    ]

    var kind: String
    var name: String
    var samples: [Sample]

    init(_ q: QueueSnapshot) {
        kind = "queue"
        name = q.name
        samples = [
            .gauge("queue_depth", q.depth),
            .gauge("queue_max_depth", q.maxDepth),
            .gauge("queue_capacity", q.capacity),
            .gauge("queue_waiting_producers", q.waitingProducers),
            .gauge("queue_waiting_consumers", q.waitingConsumers),
            .flag("queue_closed", q.isClosed),
            .counter("queue_put_total", q.put),
            .counter("queue_got_total", q.got),
            .counter("queue_done_total", q.done),
            .counter("queue_dropped_total", q.dropped),
            .counter("queue_abandoned_total", q.abandoned),
            .latency("queue_wait", q.wait, operations: q.got),
        ]
    }

    init(_ s: SemaphoreSnapshot) {
        kind = "semaphore"
        name = s.name
        samples = [
            .gauge("semaphore_in_use", s.inUse),
            .gauge("semaphore_max_in_use", s.maxInUse),
            .gauge("semaphore_limit", s.limit),
            .gauge("semaphore_waiting", s.waiting),
            .counter("semaphore_acquired_total", s.acquired),
            .counter("semaphore_released_total", s.released),
            .counter("semaphore_abandoned_total", s.abandoned),
            .latency("semaphore_wait", s.wait, operations: s.acquired),
        ]
    }

    init(_ a: ActorSnapshot) {
        kind = "actor"
        name = a.name
        samples = [
            .gauge("actor_mailbox_depth", a.mailboxDepth),
            .gauge("actor_max_mailbox_depth", a.maxMailboxDepth),
            .flag("actor_stopped", a.isStopped),
            .counter("actor_processed_total", a.processed),
            .counter("actor_failed_total", a.failed),
            .counter("actor_dead_letters_total", a.deadLetters),
            .counter("actor_blocked_sends_total", a.blockedSends),
            .latency("actor_processing", a.processing, operations: a.processed),
        ]
    }

    init(_ s: StreamSnapshot) {
        kind = "stream"
        name = s.name
        samples = [
            .counter("stream_produced_total", s.produced),
            .counter("stream_consumed_total", s.consumed),
            .flag("stream_finished", s.isFinished),
            .flag("stream_failed", s.isFailed),
        ]
        // Only streams that know their length have one; the others never create the series.
        if let total = s.total { samples.append(.gauge("stream_expected_items", total)) }
    }

    init(_ r: ResourceSnapshot) {
        kind = "resource"
        name = r.name
        samples = [
            .gauge("resource_opening", r.opening),
            .gauge("resource_open", r.open),
            .gauge("resource_closing", r.closing),
            .counter("resource_opened_total", r.opened),
            .counter("resource_closed_total", r.closed),
            .counter("resource_failed_total", r.failed),
            .counter("resource_open_failed_total", r.openFailed),
            .latency("resource_held", r.held, operations: r.closed),
            .latency("resource_timed", r.timed, operations: nil),
        ]
    }

    /// The loop-lag heartbeat, when one has beaten (otherwise there is nothing to report).
    /// The snapshot folds every heartbeat into one `HealthSnapshot` without a name, so the
    /// name is the monitor's default, "loop-lag".
    init?(_ h: HealthSnapshot) {
        guard h.beats > 0 else { return nil }
        kind = "health"
        name = "loop-lag"
        samples = [
            Sample("loop_lag_last_seconds", .gauge(Double(h.lastLagNanos) / 1e9)),
            Sample("loop_lag_max_seconds", .gauge(Double(h.maxLagNanos) / 1e9)),
            .counter("loop_beats_total", h.beats),
            .latency("loop_lag", h.lag, operations: h.beats),
        ]
    }

    /// The pool doctor's figures (`SluiceAgent` runs one): kind "pool", name "cooperative".
    init(_ p: PoolSnapshot) {
        kind = "pool"
        name = "cooperative"
        samples = [
            Sample("pool_delay_p50_seconds", .gauge(Double(p.delayP50Nanos) / 1e9)),
            Sample("pool_delay_p99_seconds", .gauge(Double(p.delayP99Nanos) / 1e9)),
            Sample("pool_delay_max_seconds", .gauge(Double(p.delayMaxNanos) / 1e9)),
            Sample("pool_stalled_now_seconds", .gauge(Double(p.stalledNowNanos) / 1e9)),
            .gauge("pool_threads", p.threads),
            .gauge("pool_blockers", p.blockers.count),
            .counter("pool_stalls_total", p.stalls),
            .counter("pool_stalled_milliseconds_total", Int(p.stalledNanos / 1_000_000)),
            .counter("pool_beats_total", p.beats),
            .counter("pool_jobs_enqueued_total", p.jobsEnqueued),
        ]
    }
}

/// A reporter as a swift-service-lifecycle `Service`: `ServiceGroup(services: [metrics, …])`.
extension PatternMetrics: Service {
    /// `run(every: interval)`: updates until graceful shutdown or cancellation, then once
    /// more, and returns.
    public func run() async throws {
        try await run(every: interval)
    }
}

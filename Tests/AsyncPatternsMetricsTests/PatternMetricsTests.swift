import AsyncPatternsServices
import Logging
import MetricsTestKit
import Patience
import ServiceLifecycle
import Synchronization
import Testing
@testable import AsyncPatterns
@testable import AsyncPatternsMetrics

/// A snapshot the test sets by hand, read by the reporter like a registry's.
final class SnapshotSource: Sendable {
    private let current = Mutex(Snapshot())
    private let reads = Atomic<Int>(0)
    init() {}
    func set(_ snapshot: Snapshot) { current.withLock { $0 = snapshot } }
    func read() -> Snapshot {
        reads.wrappingAdd(1, ordering: .relaxed)
        return current.withLock { $0 }
    }
    var readCount: Int { reads.load(ordering: .relaxed) }
}

private func dims(_ kind: String, _ name: String) -> [(String, String)] { [("kind", kind), ("name", name)] }

private func queue(_ name: String, depth: Int = 0, put: Int = 0, got: Int = 0) -> QueueSnapshot {
    var q = QueueSnapshot(name: name)
    q.capacity = 8
    q.depth = depth
    q.put = put
    q.got = got
    return q
}

@Suite struct PatternMetricsTests {
    let metrics = TestMetrics()
    let source = SnapshotSource()

    func reporter(prefix: String = "sluice", quantileGauges: Bool = false) -> PatternMetrics {
        let source = source
        return PatternMetrics(snapshot: { source.read() }, factory: metrics, prefix: prefix, quantileGauges: quantileGauges)
    }

    @Test func gaugesAndCountersOfEveryKindWithKindAndNameDimensions() throws {
        var snap = Snapshot()
        var q = queue("jobs", depth: 3, put: 5, got: 2)
        q.waitingProducers = 1
        snap.queues = [q]
        var s = SemaphoreSnapshot(name: "db")
        s.limit = 4
        s.inUse = 3
        s.waiting = 2
        s.acquired = 7
        snap.semaphores = [s]
        var a = ActorSnapshot(name: "logger")
        a.mailboxDepth = 6
        a.processed = 40
        a.failed = 1
        a.deadLetters = 2
        snap.actors = [a]
        var st = StreamSnapshot(name: "pages")
        st.produced = 12
        st.total = 100
        snap.streams = [st]
        var r = ResourceSnapshot(name: "conn")
        r.open = 2
        r.opened = 9
        snap.resources = [r]
        source.set(snap)

        let m = reporter()
        m.update()

        #expect(try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs")).lastValue == 3)
        #expect(try metrics.expectGauge("sluice_queue_capacity", dims("queue", "jobs")).lastValue == 8)
        #expect(try metrics.expectGauge("sluice_queue_waiting_producers", dims("queue", "jobs")).lastValue == 1)
        #expect(try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs")).totalValue == 5)
        #expect(try metrics.expectCounter("sluice_queue_got_total", dims("queue", "jobs")).totalValue == 2)
        #expect(try metrics.expectGauge("sluice_semaphore_in_use", dims("semaphore", "db")).lastValue == 3)
        #expect(try metrics.expectGauge("sluice_semaphore_limit", dims("semaphore", "db")).lastValue == 4)
        #expect(try metrics.expectGauge("sluice_semaphore_waiting", dims("semaphore", "db")).lastValue == 2)
        #expect(try metrics.expectCounter("sluice_semaphore_acquired_total", dims("semaphore", "db")).totalValue == 7)
        #expect(try metrics.expectGauge("sluice_actor_mailbox_depth", dims("actor", "logger")).lastValue == 6)
        #expect(try metrics.expectGauge("sluice_actor_stopped", dims("actor", "logger")).lastValue == 0)
        #expect(try metrics.expectCounter("sluice_actor_processed_total", dims("actor", "logger")).totalValue == 40)
        #expect(try metrics.expectCounter("sluice_actor_failed_total", dims("actor", "logger")).totalValue == 1)
        #expect(try metrics.expectCounter("sluice_actor_dead_letters_total", dims("actor", "logger")).totalValue == 2)
        #expect(try metrics.expectCounter("sluice_stream_produced_total", dims("stream", "pages")).totalValue == 12)
        #expect(try metrics.expectGauge("sluice_stream_expected_items", dims("stream", "pages")).lastValue == 100)
        #expect(try metrics.expectGauge("sluice_resource_open", dims("resource", "conn")).lastValue == 2)
        #expect(try metrics.expectCounter("sluice_resource_opened_total", dims("resource", "conn")).totalValue == 9)
        // The exact dimensions, in order.
        let depth = try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs"))
        #expect(depth.dimensions.map { "\($0.0)=\($0.1)" } == ["kind=queue", "name=jobs"])
        // A counter that is still zero exists, so a backend shows 0 rather than nothing.
        #expect(try metrics.expectCounter("sluice_queue_abandoned_total", dims("queue", "jobs")).values == [])
        #expect(try metrics.expectCounter("sluice_queue_dropped_total", dims("queue", "jobs")).values == [])
        // No heartbeat ran: no loop-lag series.
        #expect(metrics.recorders(label: "sluice_loop_lag_last_seconds").isEmpty)
    }

    @Test func countersIncrementByTheDeltaAndGaugesFollowTheLevel() throws {
        let m = reporter()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", depth: 3, put: 5, got: 2)]
                return s
            }())
        m.update()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", depth: 1, put: 9, got: 8)]
                return s
            }())
        m.update()
        m.update()  // nothing changed: no increment at all

        let put = try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs"))
        #expect(put.values == [5, 4])
        #expect(put.totalValue == 9)
        let got = try metrics.expectCounter("sluice_queue_got_total", dims("queue", "jobs"))
        #expect(got.values == [2, 6])
        #expect(got.totalValue == 8)
        #expect(try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs")).values == [3, 1, 1])
    }

    @Test func aCounterThatGoesBackwardsCountsItsNewTotal() throws {
        let m = reporter()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", put: 10)]
                return s
            }())
        m.update()
        // The queue was dropped and a new one made under the same name between two reads.
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", put: 4)]
                return s
            }())
        m.update()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", put: 6)]
                return s
            }())
        m.update()

        let put = try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs"))
        #expect(put.values == [10, 4, 2])
        #expect(put.totalValue == 16)
    }

    @Test func quantileGaugesInSecondsOnlyWhenAskedFor() throws {
        var q = queue("jobs")
        q.wait = Percentiles(count: 10, p50: 1_500_000, p99: 250_000_000, max: 2_000_000_000)
        var a = ActorSnapshot(name: "worker")
        a.processing = Percentiles(count: 3, p50: 20_000, p99: 40_000, max: 41_000)
        var snap = Snapshot()
        snap.queues = [q]
        snap.actors = [a]
        source.set(snap)
        reporter().update()
        // Percentiles without the distribution's buckets (decoded from elsewhere): no
        // histogram, rather than an empty one per pattern.
        #expect(metrics.timers.isEmpty)
        #expect(metrics.recorders(label: "sluice_queue_wait_quantile_seconds").isEmpty)
        #expect(metrics.recorders(label: "sluice_actor_processing_quantile_seconds").isEmpty)

        reporter(quantileGauges: true).update()
        func quantile(_ label: String, _ kind: String, _ name: String, _ q: String) throws -> Double? {
            try metrics.expectGauge(label, dims(kind, name) + [("quantile", q)]).lastValue
        }
        #expect(try quantile("sluice_queue_wait_quantile_seconds", "queue", "jobs", "0.5") == 0.0015)
        #expect(try quantile("sluice_queue_wait_quantile_seconds", "queue", "jobs", "0.99") == 0.25)
        #expect(try quantile("sluice_queue_wait_quantile_seconds", "queue", "jobs", "1") == 2)
        #expect(try quantile("sluice_actor_processing_quantile_seconds", "actor", "worker", "0.5") == 0.00002)
        #expect(try quantile("sluice_actor_processing_quantile_seconds", "actor", "worker", "1") == 0.000041)
        let gauge = try metrics.expectGauge("sluice_queue_wait_quantile_seconds", dims("queue", "jobs") + [("quantile", "0.99")])
        #expect(gauge.dimensions.map { "\($0.0)=\($0.1)" } == ["kind=queue", "name=jobs", "quantile=0.99"])
        // Three quantiles per latency, nothing else under that label.
        #expect(metrics.recorders(label: "sluice_queue_wait_quantile_seconds").count == 3)
    }

    /// Only a reader that asks gets the buckets (a dashboard's frames do not pay for them).
    @Test func bucketsOnlyWhenAsked() {
        let distribution = LatencyDistribution()
        distribution.record(5_000)
        #expect(distribution.percentiles().buckets.counts.isEmpty)
        let counts = LatencyBuckets.reading { distribution.percentiles() }.buckets.counts
        #expect(counts.count == 125 && counts.reduce(0, +) == 1)
        #expect(distribution.percentiles().buckets.counts.isEmpty)
    }

    /// A distribution the engine filled (fast waits and a slow tail) goes into a Timer as
    /// its samples, each within a bucket's width of what was recorded; the next update
    /// adds only the new samples, and a pattern recreated under the same name counts anew.
    @Test func latenciesGoIntoTimersSampleBySample() throws {
        let distribution = LatencyDistribution()
        for _ in 0..<990 { distribution.record(2_000) }  // 2 µs
        for _ in 0..<10 { distribution.record(40_000_000) }  // 40 ms
        var q = queue("jobs", put: 4_000, got: 4_000)
        q.wait = LatencyBuckets.reading { distribution.percentiles() }
        var snap = Snapshot()
        snap.queues = [q]
        source.set(snap)
        let m = reporter()
        m.update()

        let timer = try metrics.expectTimer("sluice_queue_wait_seconds", dims("queue", "jobs"))
        #expect(timer.values.count == 1_000)
        #expect(timer.values.filter { abs(Double($0) - 2_000) / 2_000 < 0.13 }.count == 990)
        #expect(timer.values.filter { abs(Double($0) - 40e6) / 40e6 < 0.13 }.count == 10)
        // 1,000 of 4,000 items were timed.
        #expect(try metrics.expectGauge("sluice_queue_wait_sampled_ratio", dims("queue", "jobs")).lastValue == 0.25)

        m.update()  // nothing new
        #expect(timer.values.count == 1_000)
        for _ in 0..<5 { distribution.record(300_000) }
        snap.queues[0].wait = LatencyBuckets.reading { distribution.percentiles() }
        source.set(snap)
        m.update()
        #expect(timer.values.count == 1_005)
        #expect(timer.values.suffix(5).allSatisfy { abs(Double($0) - 300_000) / 300_000 < 0.13 })

        // Recreated under the same name with fewer samples: all of them are new.
        let fresh = LatencyDistribution()
        for _ in 0..<3 { fresh.record(1_000_000) }
        snap.queues[0].wait = LatencyBuckets.reading { fresh.percentiles() }
        source.set(snap)
        m.update()
        #expect(timer.values.count == 1_008)
    }

    /// What a histogram backend does with the timer's samples: counts per bucket of
    /// `latencyBuckets`, then Prometheus's `histogram_quantile` (linear within the bucket).
    /// Two processes' buckets add up, and the p99 of the sum lands near the true p99.
    @Test func histogramsOfTwoProcessesAddUpToAFleetQuantile() throws {
        let bounds = PatternMetrics.latencyBuckets.map { Double($0.components.attoseconds) / 1e18 + Double($0.components.seconds) }
        #expect(bounds == bounds.sorted() && bounds.first == 1e-6 && bounds.last == 10)
        var fleet = [Double](repeating: 0, count: bounds.count + 1)
        for (fast, slow) in [(UInt64(30_000), UInt64(3_000_000)), (UInt64(80_000), UInt64(7_000_000))] {
            let metrics = TestMetrics()
            let distribution = LatencyDistribution()
            for _ in 0..<980 { distribution.record(fast) }
            for _ in 0..<20 { distribution.record(slow) }
            var q = queue("jobs", got: 1_000)
            q.wait = LatencyBuckets.reading { distribution.percentiles() }
            var snap = Snapshot()
            snap.queues = [q]
            let reading = snap
            PatternMetrics(snapshot: { reading }, factory: metrics).update()
            for nanos in try metrics.expectTimer("sluice_queue_wait_seconds", dims("queue", "jobs")).values {
                fleet[bounds.firstIndex { Double(nanos) / 1e9 <= $0 } ?? bounds.count] += 1
            }
        }
        // histogram_quantile(0.99, …) over both: of 2,000 samples the slow ones (3 and 7 ms) are
        // the top 2%, so the 1,980th is the last 3 ms one; the estimate falls in its bucket
        // (2.5 to 5 ms). The processes' own p99s (3 and 7 ms) give no such number: their
        // mean is 5 ms, their maximum 7.
        let rank = 0.99 * fleet.reduce(0, +)
        var seen = 0.0
        var p99 = 0.0
        for (i, count) in fleet.enumerated() where count > 0 {
            if seen + count >= rank {
                let lower = i == 0 ? 0 : bounds[i - 1]
                p99 = lower + (bounds[i] - lower) * (rank - seen) / count
                break
            }
            seen += count
        }
        #expect(p99 > 2.5e-3 && p99 <= 5e-3)
        #expect(PatternMetrics.latencyLabels().contains("sluice_queue_wait_seconds"))
        #expect(PatternMetrics.latencyLabels(prefix: "app").contains("app_loop_lag_seconds"))
    }

    @Test func loopLagIsReportedOnceTheHeartbeatHasBeaten() throws {
        var snap = Snapshot()
        snap.health.beats = 20
        snap.health.lastLagNanos = 3_000_000
        snap.health.maxLagNanos = 120_000_000
        snap.health.lag = Percentiles(count: 20, p50: 1_000_000, p99: 100_000_000, max: 120_000_000)
        source.set(snap)
        reporter().update()

        let loop = dims("health", "loop-lag")
        #expect(try metrics.expectGauge("sluice_loop_lag_last_seconds", loop).lastValue == 0.003)
        #expect(try metrics.expectGauge("sluice_loop_lag_max_seconds", loop).lastValue == 0.12)
        #expect(try metrics.expectCounter("sluice_loop_beats_total", loop).totalValue == 20)
        #expect(try metrics.expectGauge("sluice_loop_lag_sampled_ratio", loop).lastValue == 1)  // every beat is timed
        #expect(metrics.recorders(label: "sluice_loop_lag_quantile_seconds").isEmpty)
    }

    @Test func thePoolDoctorsFiguresAreReported() throws {
        var snap = Snapshot()
        var pool = PoolSnapshot()
        pool.beats = 40
        pool.delayP50Nanos = 1_000_000
        pool.delayP99Nanos = 150_000_000
        pool.delayMaxNanos = 400_000_000
        pool.stalls = 3
        pool.stalledNanos = 900_000_000
        pool.threads = 2
        pool.jobsEnqueued = 1234
        pool.blockers = [PoolBlocker(location: "hashFile(_:)")]
        snap.pool = pool
        source.set(snap)
        reporter().update()
        let p = dims("pool", "cooperative")
        #expect(try metrics.expectGauge("sluice_pool_delay_p99_seconds", p).lastValue == 0.15)
        #expect(try metrics.expectGauge("sluice_pool_delay_max_seconds", p).lastValue == 0.4)
        #expect(try metrics.expectGauge("sluice_pool_threads", p).lastValue == 2)
        #expect(try metrics.expectGauge("sluice_pool_blockers", p).lastValue == 1)
        #expect(try metrics.expectCounter("sluice_pool_stalls_total", p).totalValue == 3)
        #expect(try metrics.expectCounter("sluice_pool_stalled_milliseconds_total", p).totalValue == 900)
        #expect(try metrics.expectCounter("sluice_pool_jobs_enqueued_total", p).totalValue == 1234)
    }

    @Test func patternsThatAreGoneAreForgottenAndTheirHandlersDestroyed() throws {
        let m = reporter()
        var many = Snapshot()
        many.queues = (0..<10_000).map { queue("q\($0)", depth: $0 % 7, put: $0) }
        source.set(many)
        m.update()
        #expect(m.rememberedPatterns == 10_000)
        #expect(metrics.counters(label: "sluice_queue_put_total").count == 10_000)
        #expect(metrics.counterTotal(label: "sluice_queue_put_total") == Int64((0..<10_000).reduce(0, +)))

        // Half of them go.
        many.queues.removeLast(5_000)
        source.set(many)
        m.update()
        #expect(m.rememberedPatterns == 5_000)
        #expect(metrics.counters(label: "sluice_queue_put_total").count == 5_000)
        #expect(metrics.recorders(label: "sluice_queue_depth").count == 5_000)

        // All of them go: nothing is left, here or in the backend.
        source.set(Snapshot())
        m.update()
        #expect(m.rememberedPatterns == 0)
        #expect(m.rememberedSeries == 0)
        #expect(metrics.counters.isEmpty)
        #expect(metrics.recorders.isEmpty)
        #expect(metrics.meters.isEmpty)
    }

    @Test func aPatternThatComesBackStartsAfresh() throws {
        let m = reporter()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", put: 10)]
                return s
            }())
        m.update()
        source.set(Snapshot())
        m.update()
        #expect(metrics.counters.isEmpty)
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", put: 3)]
                return s
            }())
        m.update()
        // A new handler: the destroyed one's 10 is not carried over.
        #expect(try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs")).totalValue == 3)
    }

    @Test func onePatternPerKindAndNameAndKindsDoNotCollide() throws {
        var snap = Snapshot()
        snap.queues = [queue("jobs", depth: 2, put: 5), queue("jobs", depth: 7, put: 50)]
        var a = ActorSnapshot(name: "jobs")
        a.processed = 4
        snap.actors = [a]
        source.set(snap)
        let m = reporter()
        m.update()
        m.update()
        #expect(try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs")).values == [5])
        #expect(try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs")).values == [2, 2])
        #expect(try metrics.expectCounter("sluice_actor_processed_total", dims("actor", "jobs")).totalValue == 4)
        #expect(m.rememberedPatterns == 2)
    }

    @Test func thePrefixStartsEveryName() throws {
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", depth: 1)]
                return s
            }())
        reporter(prefix: "app").update()
        reporter(prefix: "").update()
        #expect(try metrics.expectGauge("app_queue_depth", dims("queue", "jobs")).lastValue == 1)
        #expect(try metrics.expectGauge("queue_depth", dims("queue", "jobs")).lastValue == 1)
    }

    @Test func reportsRealPatternsThroughARegistry() async throws {
        let registry = PatternRegistry()
        let jobs = BoundedQueue<Int>(capacity: 4, name: "jobs", registry: registry)
        try await jobs.put(1)
        try await jobs.put(2)
        try await jobs.put(3)
        _ = try await jobs.get()
        let m = PatternMetrics(registry: registry, factory: metrics)
        m.update()
        #expect(try metrics.expectCounter("sluice_queue_put_total", dims("queue", "jobs")).totalValue == 3)
        #expect(try metrics.expectCounter("sluice_queue_got_total", dims("queue", "jobs")).totalValue == 1)
        #expect(try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs")).lastValue == 2)
        #expect(try metrics.expectGauge("sluice_queue_capacity", dims("queue", "jobs")).lastValue == 4)
        // The first get is timed (a pattern times its first operation, then one in 32 while busy).
        #expect(try metrics.expectTimer("sluice_queue_wait_seconds", dims("queue", "jobs")).values.count == 1)
        #expect(try metrics.expectGauge("sluice_queue_wait_sampled_ratio", dims("queue", "jobs")).lastValue == 1)
        _ = try await jobs.get()
        m.update()
        #expect(try metrics.expectCounter("sluice_queue_got_total", dims("queue", "jobs")).values == [1, 1])
    }

    @Test func runUpdatesAtOnceAndEndsQuietlyWhenCancelledAfterALastUpdate() async throws {
        // The snapshot closure says when it was read: no sleeping to wait for the first tick.
        let (reads, reader) = AsyncStream.makeStream(of: Void.self)
        let source = source
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", depth: 5)]
                return s
            }())
        let m = PatternMetrics(
            snapshot: {
                defer { reader.yield() }
                return source.read()
            }, factory: metrics)
        let task = Task { try await m.run(every: .seconds(3600)) }
        var iterator = reads.makeAsyncIterator()
        await iterator.next()
        source.set(
            {
                var s = Snapshot()
                s.queues = [queue("jobs", depth: 6)]
                return s
            }())
        task.cancel()
        try await task.value  // returns, does not throw CancellationError
        #expect(source.readCount == 2)  // at once, and once more on the way out
        #expect(try metrics.expectGauge("sluice_queue_depth", dims("queue", "jobs")).values == [5, 6])
    }

    /// In a ServiceGroup: the reporter updates at once, and at graceful shutdown reports the
    /// last numbers and returns; the actor run by its one-line adapter stops with it.
    @Test func reporterAndActorRunAsServicesAndStopAtGracefulShutdown() async throws {
        let registry = PatternRegistry()
        let actor = MailboxActor<Tally>(name: "tally", registry: registry)
        let m = PatternMetrics(registry: registry, factory: metrics, interval: .seconds(3600))
        let group = ServiceGroup(services: [m, actor.service(TallyBehavior())], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await actor.tell(.add(5))
        #expect(try await actor.ask { .getCount($0) } == 5)
        try await eventually { (try? metrics.expectGauge("sluice_actor_mailbox_depth", dims("actor", "tally"))) != nil }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(actor.stats.isStopped)
        await #expect(throws: ActorStopped.self) { try await actor.tell(.increment) }
        // The update on the way out saw both messages.
        #expect(try metrics.expectCounter("sluice_actor_processed_total", dims("actor", "tally")).totalValue == 2)
        #expect(try metrics.expectGauge("sluice_actor_stopped", dims("actor", "tally")).lastValue == 1)
    }
}

/// Graceful shutdown lets an actor service finish what was already sent: the messages
/// queued behind a slow one are processed before the service returns; later sends are
/// refused.
@Test func anActorServiceFinishesItsMailboxAtGracefulShutdown() async throws {
    final class Seen: Sendable {
        let count = Mutex(0)
    }
    struct Slow: ActorBehavior {
        let gate: ManualClock
        let seen: Seen
        mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
            try await gate.sleep(for: .seconds(1))
            seen.count.withLock { $0 += 1 }
        }
    }
    let gate = ManualClock()
    let seen = Seen()
    let directory = ActorDirectory<Tally>()
    let actor = MailboxActor<Tally>(name: "draining", directory: directory, registry: nil)
    let group = ServiceGroup(services: [actor.service(Slow(gate: gate, seen: seen))], logger: Logger(label: "test"))
    let running = Task { try await group.run() }
    for _ in 0..<4 { try await actor.tell(.increment) }
    await gate.waitForSleepers(1)  // the first is being handled, three wait
    await group.triggerGracefulShutdown()
    try await eventually { directory.count == 0 }  // finished: it left its directory
    await #expect(throws: ActorStopped(name: "draining")) { try await actor.tell(.increment) }
    for _ in 0..<4 {
        await gate.waitForSleepers(1)
        gate.advance(by: .seconds(1))
    }
    try await running.value
    #expect(seen.count.withLock { $0 } == 4)
    #expect(actor.stats.processed == 4 && actor.stats.deadLetters == 1 && actor.stats.isStopped)
}

/// Messages for the actor service test.
enum Tally: Sendable {
    case increment
    case add(Int)
    case getCount(ReplyTo<Int>)
}

struct TallyBehavior: ActorBehavior {
    var count = 0
    mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
        switch envelope.message {
        case .increment: count += 1
        case .add(let n): count += n
        case .getCount(let replyTo): replyTo.send(count)
        }
    }
}

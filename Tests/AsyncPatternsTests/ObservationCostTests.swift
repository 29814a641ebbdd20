import Synchronization
import Testing

@testable import AsyncPatterns

/// What watching a pattern as the dashboard does costs it (issue #23): routine events are
/// not built for a notable-only subscriber; a queue's wait sample is stamped and recorded
/// without the queue's lock.
@Suite struct ObservationCostTests {
    /// Counts the events a subscription delivers, by notability.
    final class Tally: PatternObserver {
        let notable = Atomic<Int>(0)
        let routine = Atomic<Int>(0)
        func observe(_ event: PatternEvent) {
            if event.isNotable {
                notable.wrappingAdd(1, ordering: .relaxed)
            } else {
                routine.wrappingAdd(1, ordering: .relaxed)
            }
        }
    }

    /// A slot's stamp belongs to its item only when the slot's sequence number says so
    /// (`Position.stamped`): a later item in the same slot that is not one of the sample
    /// reads no stamp, though the slot still holds the one of a lap ago (nobody clears it).
    @Test func onlySampledItemsCarryAStamp() {
        let ring = QueueRing<Int>(capacity: 4, timed: true)
        ring.samplePeriodMask.store(3, ordering: .relaxed)  // position 0 of the first lap
        var clock: UInt64 = 1_000
        func push(_ items: Range<Int>) {
            for i in items {
                clock += 1
                let time = clock
                if case .pushed = ring.tryPush(i, now: { time }) { continue }
                Issue.record("room for \(i)")
            }
        }
        push(0..<4)
        var stamps: [UInt64] = []
        while case .item(_, let stamp) = ring.tryPop() { stamps.append(stamp) }
        #expect(stamps == [1_001, 0, 0, 0])
        // The second lap reuses the slots; with one item in 256, none of its positions is sampled.
        ring.samplePeriodMask.store(QueueWaitSample.sparsestMask, ordering: .relaxed)
        push(4..<8)
        stamps = []
        let taken = ring.tryPopBatch(max: 8) { _, stamp in stamps.append(stamp) }
        #expect(taken == 4 && stamps == [0, 0, 0, 0])
        // Every item of a lap sampled, then a ring that grows: the stamps move with the items.
        ring.samplePeriodMask.store(0, ordering: .relaxed)
        push(8..<12)
        ring.replace(slotCount: 8)
        stamps = []
        while case .item(_, let stamp) = ring.tryPop() { stamps.append(stamp) }
        #expect(stamps == [1_009, 1_010, 1_011, 1_012])
        // Stamped while every item was sampled, got after the period went back to one in
        // 256: the gets follow what each put did, not the period now.
        push(12..<16)
        ring.samplePeriodMask.store(QueueWaitSample.sparsestMask, ordering: .relaxed)
        stamps = []
        #expect(ring.tryPopBatch(max: 2) { _, stamp in stamps.append(stamp) } == 2)
        while case .item(_, let stamp) = ring.tryPop() { stamps.append(stamp) }
        #expect(stamps == [1_013, 1_014, 1_015, 1_016])
        // The next lap, unsampled, in slots that still hold the stamps of 8..<12: none is read.
        push(16..<20)
        stamps = []
        while case .item(_, let stamp) = ring.tryPop() { stamps.append(stamp) }
        #expect(stamps == [0, 0, 0, 0])
    }

    /// The sampling period halves at each sampled get that finds items came more than
    /// 20 µs apart, down to every item, and doubles back while they come fast, up to one in 256.
    @Test func samplingFollowsTheSpacingOfItems() {
        let sample = QueueWaitSample()
        var now: UInt64 = 1_000_000
        var mask = QueueWaitSample.sparsestMask
        #expect(sample.record(since: now - 10, now: now, mask: mask) == mask)  // the first sample: no spacing yet
        var masks: [Int] = []
        for _ in 0..<8 {  // items 30 µs apart
            now += UInt64(mask + 1) * 30_000
            mask = sample.record(since: now - 10, now: now, mask: mask)
            masks.append(mask)
        }
        #expect(masks == [127, 63, 31, 15, 7, 3, 1, 0])
        masks = []
        for _ in 0..<9 {  // items 1 µs apart
            now += UInt64(mask + 1) * 1_000
            mask = sample.record(since: now - 10, now: now, mask: mask)
            masks.append(mask)
        }
        #expect(masks == [1, 3, 7, 15, 31, 63, 127, 255, 255])
        let p = sample.distribution.percentiles()
        #expect(p.count == 18 && p.max == 10)
    }

    /// Several writers record into one distribution at once, with no lock, while a reader
    /// reads it: no sample is lost, and what the reader sees is consistent. (Under
    /// ThreadSanitizer, a plain read-modify-write here would be reported as a race.)
    @Test func sharedRecordsLoseNothing() async {
        let distribution = LatencyDistribution()
        let writers = 4
        let perWriter = underThreadSanitizer ? 5_000 : 50_000
        @Sendable func value(_ i: Int, _ w: Int) -> UInt64 { UInt64(1 + (i &* 7_919 &+ w) % 1_000_000) }
        let finished = Counter()
        let readerDone = Counter()
        let badReads = Counter()
        for w in 0..<writers {
            #expect(
                startDetachedThread {
                    for i in 0..<perWriter { distribution.recordShared(value(i, w)) }
                    finished.add()
                })
        }
        // The reader: patterns read percentiles under their lock, one reader at a time.
        let readerLock = Mutex(())
        #expect(
            startDetachedThread {
                while finished.load < writers {
                    let p = readerLock.withLock { _ in distribution.percentiles() }
                    if p.p50 > p.p90 || p.p90 > p.p99 || p.p99 > p.max { badReads.add() }
                }
                readerDone.add()
            })
        while readerDone.load == 0 { await Task.yield() }
        let p = readerLock.withLock { _ in distribution.percentiles() }
        let largest = (0..<writers).flatMap { w in (0..<perWriter).map { value($0, w) } }.max()
        #expect(badReads.load == 0)
        #expect(p.count == UInt64(writers * perWriter) && p.max == largest)
        #expect(p.decades.counts.reduce(0, +) == UInt64(writers * perWriter))
    }

    /// Consumers record the wait of sampled items at the same time, without the queue's
    /// lock: every item goes through once, and the snapshot's wait sample counts at most
    /// one per item got, the first item's among them.
    @Test func concurrentConsumersRecordWaits() async throws {
        let registry = PatternRegistry()
        let q = BoundedQueue<Int>(capacity: 64, name: "waits", registry: registry)
        let perProducer = underThreadSanitizer ? 2_000 : 20_000
        let executor = QueueFastPathStressTests.executor
        let got = Counter()
        let consumers = (0..<4).map { _ in
            Task(executorPreference: executor) {
                while (try? await q.get()) != nil { got.add() }
            }
        }
        let producers = (0..<4).map { _ in
            Task(executorPreference: executor) { for i in 0..<perProducer { try await q.put(i) } }
        }
        for p in producers { try await p.value }
        q.close()
        for c in consumers { await c.value }
        let snap = registry.snapshot().queue("waits")
        #expect(got.load == 4 * perProducer && snap?.got == 4 * perProducer)
        let samples = snap?.wait.count ?? 0
        #expect(samples >= 1 && samples <= UInt64(4 * perProducer))
    }

    /// With only notable events subscribed (the dashboard), routine events are not
    /// delivered (since issue #23 not even built), and the notable ones still arrive.
    @Test func notableSubscriberGetsNoRoutineEvents() async throws {
        let registry = PatternRegistry()
        let tally = Tally()
        let subscription = registry.subscribe(tally, interest: .notable)
        struct Nop: ActorBehavior {
            mutating func receive(_ envelope: Envelope<Int>, context: ActorContext<Int>) async throws {}
        }
        let actor = MailboxActor<Int>(name: "quiet", registry: registry)
        let run = Task { await actor.run(Nop()) }
        for i in 0..<100 { try await actor.tell(i) }
        let generator = AsyncGenerator<Int>(buffer: 4, registry: registry) { yield in for i in 0..<100 { try await yield(i) } }
        for try await _ in generator {}
        while actor.stats.processed < 100 { await Task.yield() }
        actor.stop()
        await run.value
        // started and stopped (the actor), finished (the generator's run).
        #expect(tally.notable.load(ordering: .relaxed) == 3 && tally.routine.load(ordering: .relaxed) == 0)
        subscription.cancel()
    }

    /// A queue's fast paths read a flag of their own, set when every event becomes wanted
    /// and cleared when it no longer is: for a queue registered before the change and for
    /// one registered after it.
    @Test func queuesFollowEveryEventInterest() throws {
        let registry = PatternRegistry()
        let tally = Tally()
        let subscription = registry.subscribe(tally, interest: .notable)
        let early = BoundedQueue<Int>(capacity: 8, name: "early", registry: registry)
        func cycle(_ q: BoundedQueue<Int>) throws {
            try q.tryPut(1)
            _ = try q.tryGet()
            try q.taskDone()
        }
        try cycle(early)
        #expect(tally.routine.load(ordering: .relaxed) == 0 && !early.ring.everyEvent.load(ordering: .relaxed))
        subscription.setInterest(.all)
        let late = BoundedQueue<Int>(capacity: 8, name: "late", registry: registry)
        try cycle(early)
        try cycle(late)
        #expect(tally.routine.load(ordering: .relaxed) == 6)  // put, got, taskDone each
        subscription.setInterest(.notable)
        try cycle(early)
        try cycle(late)
        #expect(tally.routine.load(ordering: .relaxed) == 6)
        #expect(!early.ring.everyEvent.load(ordering: .relaxed) && !late.ring.everyEvent.load(ordering: .relaxed))
        subscription.cancel()
    }
}

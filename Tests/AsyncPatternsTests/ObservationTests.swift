import Foundation
import Synchronization
import Testing
@testable import AsyncPatterns

/// Counts what a subscription delivers.
final class CountingObserver: PatternObserver {
    let count = Atomic<Int>(0)
    func observe(_ event: PatternEvent) { count.wrappingAdd(1, ordering: .relaxed) }
}

@Suite struct ObservationTests {
    @Test func eventLogIsBoundedAndCountsWhatItDropped() {
        let log = EventLog(capacity: 10)
        let id = PatternID(.health, "t")
        for i in 0..<1_000 { log.observe(.health(.note(text: "n\(i)"), source: id, at: .now())) }
        var snap = Snapshot()
        log.fill(&snap)
        #expect(snap.recentEvents.count == 10 && snap.droppedEvents == 990 && log.total == 1_000)
        #expect(snap.notableEvents.count == 10 && snap.droppedNotableEvents == 990)
        let (events, next, missed) = log.events(since: 985)
        #expect(events.count == 10 && next == 1_000 && missed == 5)
        #expect(log.events(since: 1_000).events.isEmpty)
    }

    @Test func ratesFollowTheTimeSource() async throws {
        let clock = ManualClock()
        let registry = PatternRegistry(timeSource: { clock.now.offset })
        let q = BoundedQueue<Int>(capacity: 1_000, name: "q", registry: registry)
        _ = registry.snapshot()
        for i in 0..<50 { try q.tryPut(i) }
        _ = registry.snapshot()  // anchors the queue's meter
        for i in 0..<100 { try q.tryPut(i) }
        clock.advance(by: .seconds(2))
        #expect(registry.snapshot().queue("q")?.putPerSecond == 75)  // 150 puts over 2 s
        #expect(registry.snapshot().queue("q")?.putPerSecond == 75)  // time stood still: held
        #expect(registry.snapshot().elapsed == .seconds(2))
    }

    /// The rate shows from the first operations, over the time they had, not 0 for a second:
    /// from the registry's start when nobody read before, from the last read that saw none
    /// after a quiet spell. Once a second has passed, it is the last second's again.
    @Test func operationsPerSecondCountsFromTheFirstOperations() throws {
        let clock = ManualClock()
        let registry = PatternRegistry(timeSource: { clock.now.offset })
        let q = BoundedQueue<Int>(capacity: 10_000, name: "q", registry: registry)
        for i in 0..<30 { try q.tryPut(i) }
        clock.advance(by: .milliseconds(500))
        let first = registry.snapshot()  // nobody read before: from the registry's start
        #expect(first.operations == 30 && first.operationsPerSecond == 60)

        let quiet = PatternRegistry(timeSource: { clock.now.offset })
        let r = BoundedQueue<Int>(capacity: 10_000, name: "r", registry: quiet)
        _ = quiet.snapshot()
        clock.advance(by: .seconds(3))
        #expect(quiet.snapshot().operationsPerSecond == 0)  // idle: nothing yet
        for i in 0..<100 { try r.tryPut(i) }
        clock.advance(by: .milliseconds(250))
        #expect(quiet.snapshot().operationsPerSecond == 400)  // 100 in the 0.25 s since the idle read
        for i in 0..<100 { try r.tryPut(i) }
        clock.advance(by: .milliseconds(250))
        #expect(quiet.snapshot().operationsPerSecond == 400)  // 200 in 0.5 s
        for i in 0..<500 { try r.tryPut(i) }
        clock.advance(by: .milliseconds(500))
        #expect(quiet.snapshot().operationsPerSecond == 700)  // a full second: 700 in it
        for i in 0..<10 { try r.tryPut(i) }
        clock.advance(by: .milliseconds(100))
        #expect(quiet.snapshot().operationsPerSecond == 700)  // held until the next second is full
    }

    /// Without a time source, elapsed counts from the registry's creation, not from boot.
    @Test func elapsedStartsWithTheRegistry() {
        #expect(PatternRegistry().snapshot().elapsedSeconds < 5)
    }

    /// With nobody asking for every event, an item through a queue emits nothing; notable
    /// subscribers get only notable events.
    @Test func eventsGoOnlyToThoseWhoAsk() throws {
        let registry = PatternRegistry()
        let q = BoundedQueue<Int>(capacity: 10, name: "q", registry: registry)
        let notable = CountingObserver()
        let everything = CountingObserver()
        let s1 = registry.subscribe(notable, interest: .notable)
        for i in 0..<5 { try q.tryPut(i) }
        for _ in 0..<5 { _ = try q.tryGet() }
        #expect(notable.count.load(ordering: .relaxed) == 0)
        let s2 = registry.subscribe(everything, interest: .all)
        try q.tryPut(1)
        _ = try q.tryGet()
        q.setCapacity(20)
        #expect(everything.count.load(ordering: .relaxed) == 3)
        #expect(notable.count.load(ordering: .relaxed) == 1)  // the capacity change
        s2.cancel()
        s1.setInterest(.none)
        try q.tryPut(1)
        q.close()
        #expect(everything.count.load(ordering: .relaxed) == 3 && notable.count.load(ordering: .relaxed) == 1)
        #expect(registry.interest.load(ordering: .relaxed) == 0)
    }

    /// Patterns that are released leave the registry: memory stays flat however many names
    /// a program makes up, and their numbers are kept in the retired totals.
    @Test func releasedPatternsLeaveTheRegistry() throws {
        let registry = PatternRegistry(finishedToKeep: 8)
        for i in 0..<10_000 {
            let q = BoundedQueue<Int>(capacity: 2, name: "q\(i)", registry: registry)
            try q.tryPut(i)
        }
        let snap = registry.snapshot()
        #expect(registry.count == 0)
        #expect(snap.queues.count == 8 && snap.queues.allSatisfy(\.isGone))
        #expect(snap.queues.last?.name == "q9999")
        #expect(snap.retired.queues == 10_000 && snap.retired.queueItems == 10_000)
        #expect(snap.operations == 10_000)
    }

    /// Gauges are read from the patterns, so after a storm they are the truth, whatever
    /// order events were delivered in.
    @Test func gaugesAreTheTruthWhenIdle() async throws {
        let registry = PatternRegistry()
        let log = EventLog(capacity: 16)
        let subscription = registry.subscribe(log, interest: .all)
        let sem = AsyncSemaphore(limit: 2, name: "s", registry: registry)
        let q = BoundedQueue<Int>(capacity: 1, name: "q", registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    try await sem.withPermit { await Task.yield() }
                    try await q.put(i)
                }
                group.addTask { _ = try await q.get() }
            }
            try await group.waitForAll()
        }
        let snap = registry.snapshot()
        #expect(snap.semaphore("s")?.inUse == 0 && snap.semaphore("s")?.waiting == 0)
        #expect(snap.semaphore("s")?.acquired == 200 && snap.semaphore("s")?.released == 200)
        #expect(snap.queue("q")?.depth == 0 && snap.queue("q")?.waitingProducers == 0 && snap.queue("q")?.waitingConsumers == 0)
        #expect(snap.queue("q")?.put == 200 && snap.queue("q")?.got == 200)
        subscription.cancel()
    }

    /// A message to a stopped actor is one dead letter, not two (recipient and sender).
    @Test func aDeadLetterIsCountedOnce() async throws {
        let registry = PatternRegistry()
        let directory = ActorDirectory<Tally>()
        let a = MailboxActor<Tally>(name: "a", directory: directory, registry: registry)
        let b = MailboxActor<Tally>(name: "b", mailboxCapacity: 1, directory: directory, registry: registry)
        try await b.tell(.increment)
        #expect(await a.send(to: "b", .increment, ifFull: .fail) == false)  // full
        #expect(await a.send(to: "nobody", .increment) == false)  // unknown
        let snap = registry.snapshot()
        #expect(snap.actor("a")?.deadLetters == 1 && snap.actor("b")?.deadLetters == 1)
        #expect(snap.deadLetters == 2)
        #expect(snap.actor("b")?.recentDeadLetters == ["b: mailbox full"])
    }

    @Test func actorsFindEachOtherThroughTheDirectory() async throws {
        let directory = ActorDirectory<Tally>()
        let actors = (0..<100).map { MailboxActor<Tally>(name: "a\($0)", directory: directory, registry: nil) }
        #expect(directory.count == 100)
        #expect(directory.actor(named: "a42") === actors[42])
        actors[42].stop()
        #expect(directory.actor(named: "a42") == nil && directory.count == 99)
    }

    /// A consumer that breaks out early leaves the stream ended (stopped early) with what it
    /// got counted; iterating twice counts each run from zero.
    @Test func streamsCountWhatTheConsumerGot() async throws {
        let registry = PatternRegistry()
        let stream = ProgressStream(0..<10, name: "s", registry: registry)
        for try await n in stream where n == 2 { break }
        var stats = stream.stats
        #expect(stats.produced == 3 && stats.consumed == 3 && stats.finished && stats.stoppedEarly)
        #expect(registry.snapshot().stream("s")?.stoppedEarly == true)
        for try await _ in stream {}
        stats = stream.stats
        #expect(stats.produced == 10 && stats.consumed == 10 && stats.finished && !stats.stoppedEarly)

        let generator = AsyncGenerator<Int>(total: 10, name: "g", registry: registry) { yield in
            for i in 0..<10 { try await yield(i) }
        }
        for try await n in generator where n == 2 { break }
        #expect(generator.stats.consumed == 3 && generator.stats.stoppedEarly)
        for try await _ in generator {}
        #expect(generator.stats.consumed == 10 && generator.stats.produced == 10 && !generator.stats.stoppedEarly)
    }

    @Test func latencyDistributionIsSmallAndClose() {
        #expect(LatencyDistribution.bucketCount * 8 + 3 * 8 <= 1_024)
        let d = LatencyDistribution()
        for v in 1...1_000 { d.record(UInt64(v) * 1_000) }  // 1 µs ... 1 ms, uniform
        let p = d.percentiles()
        #expect(p.count == 1_000 && p.max == 1_000_000)
        #expect(abs(Double(p.p50) - 500_000) / 500_000 < 0.13)
        #expect(abs(Double(p.p99) - 990_000) / 990_000 < 0.13)
        // Decades are counted by bucket, so a bucket that straddles a decade's edge lands whole.
        #expect(abs(Int(p.decades.under10us) - 9) <= 2 && abs(Int(p.decades.under100us) - 90) <= 10)
        #expect(p.decades.counts.reduce(0, +) == 1_000 && p.decades.under1ms >= 880)
        for i in 1..<LatencyDistribution.bucketCount {
            let (lower, _) = LatencyDistribution.bounds(i)
            #expect(LatencyDistribution.bucket(lower) == i)
        }
    }

    @Test func snapshotsAndEventsRoundTripThroughJSON() throws {
        let registry = PatternRegistry()
        let q = BoundedQueue<Int>(capacity: 4, name: "jobs", registry: registry)
        try q.tryPut(1)
        let snap = registry.snapshot()
        let decoded = try JSONDecoder().decode(Snapshot.self, from: JSONEncoder().encode(snap))
        #expect(decoded == snap)
        let event = PatternEvent.queue(
            .capacityChanged(capacity: 8, gauges: QueueGauges(depth: 1, waitingProducers: 0, waitingConsumers: 2)),
            source: PatternID(.queue, "jobs"), at: MonotonicInstant(nanoseconds: 42))
        let json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        #expect(json.contains(#""kind":"queue""#) && json.contains(#""name":"jobs""#) && json.contains(#""at":42"#))
        #expect(try JSONDecoder().decode(PatternEvent.self, from: Data(json.utf8)) == event)
    }
}

@Suite struct RegistryStressTests {
    /// Patterns made and released on several tasks while snapshots are taken without pause:
    /// a snapshot never reads a pattern that is gone (the registry holds no reference to
    /// them), and everything released is retired exactly once.
    @Test func snapshotsWhilePatternsComeAndGo() async throws {
        let registry = PatternRegistry(finishedToKeep: 4)
        let reading = Atomic<Bool>(true)
        let snapshots = Task.detached {
            var taken = 0
            while reading.load(ordering: .relaxed) {
                let snap = registry.snapshot()
                #expect(snap.queues.count <= registry.finishedToKeep + 2)
                taken += 1
                await Task.yield()  // the pool's threads are shared with every other test
            }
            return taken
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<2 {
                group.addTask {
                    for i in 0..<250 {
                        let q = BoundedQueue<Int>(capacity: 4, name: "q\(worker)-\(i)", registry: registry)
                        try q.tryPut(i)
                        let a = MailboxActor<Int>(name: "a\(worker)-\(i)", registry: registry)
                        try await a.tell(i)
                        a.stop()
                        for try await _ in ProgressStream(0..<3, name: "s\(worker)-\(i)", registry: registry) {}
                        _ = try q.tryGet()
                    }
                }
            }
            try await group.waitForAll()
        }
        reading.store(false, ordering: .relaxed)
        #expect(await snapshots.value > 0)
        let snap = registry.snapshot()
        #expect(registry.count == 0)
        #expect(snap.retired.queues == 500 && snap.retired.actors == 500 && snap.retired.streams == 500)
        #expect(snap.retired.queueItems == 500 && snap.retired.streamElements == 1_500)
    }
}

@Suite struct StreamLifetimeTests {
    /// A stream that ends, and is dropped, leaves nothing behind: the registry lets go of
    /// its run, and nothing holds the run in a cycle (which once kept every round of the
    /// streams scenario alive: 470 MB in 20 s).
    @Test func finishedStreamsAreReleased() async throws {
        let registry = PatternRegistry()
        weak var run: StreamProgress?
        weak var early: StreamProgress?
        do {
            let stream = ProgressStream(0..<3, name: "s", registry: registry)
            var iterator = stream.makeAsyncIterator()
            run = iterator.run
            while try await iterator.next() != nil {}
            let other = ProgressStream(0..<3, name: "t", registry: registry)
            var stopped = other.makeAsyncIterator()
            early = stopped.run
            _ = try await stopped.next()
        }
        #expect(run == nil && early == nil)
        #expect(registry.count == 0)
        #expect(registry.snapshot().streams.map(\.name) == ["s", "t"])
    }
}

import Patience
import Testing
@testable import AsyncPatterns

/// Issue #15: the library as other people's code uses it. Each test failed (or did not
/// compile, or hung) before the fix it names.
@Suite struct PublicAPITests {
    // MARK: 1. usable inside an actor and on the main actor

    /// A non-Sendable result: returned from a body that ran in the caller's isolation.
    final class Page {
        var hits = 0
    }

    actor Crawler {
        var hits = 0
        let permits = AsyncSemaphore(limit: 2, registry: nil)
        let connections = ResourceScope(name: "connections", registry: nil)

        func fetch() async throws -> Int {
            try await permits.withPermit { hits += 1 }  // actor state inside the body
            let page = try await permits.withPermit { Page() }  // non-Sendable result
            page.hits = hits
            let viaScope = try await connections.with(
                open: { 7 }, close: { _ in },
                body: { connection in
                    hits += connection
                    return Page()
                })
            viaScope.hits = hits
            let (timed, _) = try await connections.timed(clock: ContinuousClock()) { Page() }
            timed.hits = try await withResource(open: { 1 }, close: { _ in }, body: { $0 + hits })
            return page.hits + viaScope.hits - timed.hits
        }
    }

    @Test func patternsTakeClosuresThatRunInTheCallersIsolation() async throws {
        let crawler = Crawler()
        #expect(try await crawler.fetch() == 1 + 8 - 9)
        #expect(await crawler.hits == 8)
        #expect(try await onTheMainActor() == 1)
    }

    @MainActor var mainHits: Int { MainState.hits }
    @MainActor enum MainState { static var hits = 0 }

    @MainActor func onTheMainActor() async throws -> Int {
        let permits = AsyncSemaphore(limit: 1, registry: nil)
        MainState.hits = 0
        try await permits.withPermit { MainState.hits += 1 }
        return MainState.hits
    }

    // MARK: 2. ask

    @Test(.timeLimit(.minutes(1))) func cancellingAnAskEndsIt() async throws {
        let actor = MailboxActor<Tally>(name: "never-run", registry: nil)
        let asked = Task { try await actor.ask { .getCount($0) } }
        while actor.stats.mailboxDepth < 1 { await Task.yield() }  // delivered, waiting for a reply
        asked.cancel()
        await #expect(throws: CancellationError.self) { try await asked.value }
    }

    @Test(.timeLimit(.minutes(1))) func anAskTimesOutOnTheGivenClock() async throws {
        let clock = ManualClock()
        let actor = MailboxActor<Tally>(name: "never-run", registry: nil)
        let asked = Task { try await actor.ask(timeout: .seconds(5), clock: clock) { .getCount($0) } }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        await #expect(throws: TimedOut.self) { try await asked.value }
    }

    @Test func anAskAnsweredInTimeReturnsTheReply() async throws {
        let actor = MailboxActor<Tally>(name: "counter", registry: nil)
        let run = Task { await actor.run(TallyBehavior()) }
        try await actor.tell(.add(41))
        #expect(try await actor.ask(timeout: patience) { .getCount($0) } == 41)
        actor.stop()
        await run.value
    }

    @Test(.timeLimit(.minutes(1))) func stopBeforeRunReportsTheMailboxAndFailsItsAsks() async throws {
        let registry = PatternRegistry()
        let actor = MailboxActor<Tally>(name: "idle", registry: registry)
        try await actor.tell(.increment)
        let asked = Task { try await actor.ask { .getCount($0) } }
        try await eventually("actor.stats.mailboxDepth >= 2") { actor.stats.mailboxDepth >= 2 }
        actor.stop()
        await #expect(throws: ActorStopped.self) { try await asked.value }
        let snap = registry.snapshot().actor("idle")
        #expect(snap?.deadLetters == 2 && snap?.processed == 0 && snap?.isStopped == true)
        #expect(actor.stats.mailboxDepth == 0)
        await actor.run(TallyBehavior())  // stopped: returns at once, processes nothing
        #expect(registry.snapshot().actor("idle")?.processed == 0)
    }

    /// Cancelling the task that runs the actor stops it: the message in progress fails (its
    /// wait was cancelled), the rest are dead letters, not failures handed to a behaviour
    /// whose task is cancelled (the loop used to fail every message, and spin).
    @Test(.timeLimit(.minutes(1))) func cancellingTheRunTaskStopsTheActor() async throws {
        struct Slow: ActorBehavior {
            let clock: ManualClock
            mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
                try await clock.sleep(for: .seconds(1))
            }
        }
        let registry = PatternRegistry()
        let clock = ManualClock()
        let actor = MailboxActor<Tally>(name: "worker", registry: registry)
        for _ in 0..<10 { try await actor.tell(.increment) }
        let run = Task { await actor.run(Slow(clock: clock)) }
        await clock.waitForSleepers(1)
        run.cancel()
        await run.value
        let snap = registry.snapshot().actor("worker")
        #expect(snap?.failed == 1 && snap?.deadLetters == 9 && snap?.processed == 0)
        #expect(actor.stats.isStopped)
        await #expect(throws: ActorStopped.self) { try await actor.tell(.increment) }
    }

    // MARK: 3. the queue is an AsyncSequence, and closes with an error

    @Test func aQueueIsAnAsyncSequenceThatEndsAtClose() async throws {
        let queue = BoundedQueue<Int>(capacity: 8, registry: nil)
        for i in 1...3 { try await queue.put(i) }
        queue.close()
        var got: [Int] = []
        for try await item in queue { got.append(item) }
        #expect(got == [1, 2, 3])
    }

    struct Upstream: Error {}

    @Test func closingWithAnErrorEndsTheIterationWithIt() async throws {
        let queue = BoundedQueue<Int>(capacity: 8, registry: nil)
        try await queue.put(1)
        queue.close(throwing: Upstream())
        queue.close()  // only the first close counts
        await #expect(throws: QueueClosed.self) { try await queue.put(2) }
        var got: [Int] = []
        await #expect(throws: Upstream.self) {
            for try await item in queue { got.append(item) }
        }
        #expect(got == [1])
        await #expect(throws: Upstream.self) { try await queue.get() }
    }

    @Test(.timeLimit(.minutes(1))) func aWaitingConsumerGetsTheCloseError() async throws {
        let queue = BoundedQueue<Int>(capacity: 1, registry: nil)
        let consumer = Task { () -> [Int] in
            var got: [Int] = []
            for try await item in queue { got.append(item) }
            return got
        }
        try await eventually("queue.stats.waitingConsumers >= 1") { queue.stats.waitingConsumers >= 1 }
        queue.close(throwing: Upstream())
        await #expect(throws: Upstream.self) { try await consumer.value }
    }

    // MARK: 4. symmetric timeouts, streams generic over the clock

    @Test(.timeLimit(.minutes(1))) func putTakesAPlainDurationLikeGet() async throws {
        let queue = BoundedQueue<Int>(capacity: 1, registry: nil)
        try await queue.put(1, timeout: patience)  // room: at once
        #expect(try await queue.get(timeout: patience) == 1)
    }

    /// The common case names no clock: a stored property of the continuous clock's stream.
    @Test func aProgressStreamOnTheContinuousClockNeedsNoClockInItsType() async throws {
        struct Crawler {
            let pages: ContinuousProgressStream<[String]>
            init(_ urls: [String]) { pages = ProgressStream(urls, name: "pages", registry: nil) }
        }
        let crawler = Crawler(["a", "b"])
        #expect(try await crawler.pages.collect() == ["a", "b"])
        #expect(crawler.pages.stats.consumed == 2)
    }

    @Test func aProgressStreamRunsOnAnyClock() async throws {
        let clock = ManualClock()
        let stream: ProgressStream<Range<Int>, ManualClock> = ProgressStream(0..<2, delay: .seconds(1), clock: clock, registry: nil)
        let range: ProgressStream<IntStride, ManualClock> = asyncRange(0, 2, delay: .seconds(1), clock: clock, registry: nil)
        let all = Task { (try await stream.collect(), try await range.collect()) }
        for _ in 0..<4 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
        }
        let (a, b) = try await all.value
        #expect(a == [0, 1] && b == [0, 1])
    }

    @Test func everyErrorOfTheLibraryIsAnAsyncPatternsError() {
        let errors: [any Error] = [
            QueueClosed(), TimedOut(), TaskDoneWithoutItem(), ReleaseWithoutAcquire(), NoReply(),
            ActorStopped(name: "a"), MailboxFull(name: "a"),
        ]
        #expect(errors.allSatisfy { $0 is any AsyncPatternsError })
    }

    @Test func latenciesReadAsDurations() {
        #expect(ResourceEvent.closed(heldNanos: 1_500, bodyFailed: false).duration == .nanoseconds(1_500))
        #expect(ResourceEvent.opening.duration == nil)
        #expect(HealthEvent.loopLag(lagNanos: 2_000_000).lag == .milliseconds(2))
        #expect(MonotonicInstant(nanoseconds: 5_000).duration(since: MonotonicInstant(nanoseconds: 2_000)) == .microseconds(3))
        let lag: Duration = LagStats().max
        #expect(lag == .zero)
    }

    // MARK: 5. full means full

    /// tryPut returns false only when the queue is full, whatever producers wait: the queue
    /// used to refuse with depth 3 of 4 and one producer waiting (half-capacity rule).
    @Test(.timeLimit(.minutes(1))) func tryPutRefusesOnlyWhenFull() async throws {
        let queue = BoundedQueue<Int>(capacity: 4, registry: nil)
        for i in 0..<4 { try await queue.put(i) }
        let producer = Task { try await queue.put(4) }
        try await eventually("queue.stats.waitingProducers >= 1") { queue.stats.waitingProducers >= 1 }
        _ = try await queue.get()
        try await producer.value  // its item took the freed slot
        for _ in 0..<4 {
            let before = queue.stats
            let stored = try queue.tryPut(99)
            #expect(stored == (before.depth < before.capacity), "depth \(before.depth) of \(before.capacity)")
            _ = try queue.tryGet()
            _ = try queue.tryGet()
        }
    }

    /// A timed put waits only when the queue is full: the queue used to be at depth 3 of 4
    /// with a producer waiting, where a timed put waited out its timeout.
    @Test(.timeLimit(.minutes(1))) func aTimedPutWaitsOnlyWhenFull() async throws {
        let clock = ManualClock()
        let queue = BoundedQueue<Int>(capacity: 4, registry: nil)
        for i in 0..<4 { try await queue.put(i) }
        let producer = Task { try await queue.put(4) }
        try await eventually("queue.stats.waitingProducers >= 1") { queue.stats.waitingProducers >= 1 }
        _ = try await queue.get()
        let s = queue.stats
        #expect(s.depth == s.capacity && s.waitingProducers == 0, "room (\(s.depth) of \(s.capacity)) while a producer waits")
        try await producer.value
        let full = Task { try await queue.put(5, timeout: .seconds(1), clock: clock) }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        await #expect(throws: TimedOut.self) { try await full.value }  // full: it waited, and gave up
        _ = try await queue.get()
        try await queue.put(6, timeout: .seconds(1), clock: clock)  // room: at once, no wait
        #expect(queue.stats.depth == 4 && clock.sleeperCount == 0)
    }

    /// A sender blocked on a full bounded mailbox gets in as soon as the run loop takes a
    /// message (it used to wait until the mailbox had drained to half), and `.fail` refuses
    /// only when the mailbox is full.
    @Test(.timeLimit(.minutes(1))) func aBoundedMailboxAdmitsABlockedSenderAsSoonAsThereIsRoom() async throws {
        struct Gated: ActorBehavior {
            let clock: ManualClock
            mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
                try await clock.sleep(for: .seconds(1))
            }
        }
        let clock = ManualClock()
        let actor = MailboxActor<Tally>(name: "bounded", mailboxCapacity: 4, registry: nil)
        for _ in 0..<4 { try await actor.tell(.increment, ifFull: .fail) }
        await #expect(throws: MailboxFull.self) { try await actor.tell(.increment, ifFull: .fail) }
        let blocked = Task { try await actor.tell(.add(1)) }
        while actor.stats.mailboxDepth < 5 { await Task.yield() }  // counted while it waits
        let run = Task { await actor.run(Gated(clock: clock)) }
        await clock.waitForSleepers(1)  // the first message is in progress: a slot is free
        try await blocked.value  // the blocked sender got in
        await #expect(throws: MailboxFull.self) { try await actor.tell(.increment, ifFull: .fail) }  // 4 of 4
        actor.stop()
        clock.advance(by: .seconds(1))
        await run.value
    }

    /// With a low-water mark, producers whose items went in are resumed together once the
    /// depth is below it; meanwhile a put with room is still stored.
    @Test(.timeLimit(.minutes(1))) func aLowWaterMarkBatchesWakeUpsWithoutChangingCapacity() async throws {
        let queue = BoundedQueue<Int>(capacity: 4, resumeProducersBelow: 2, registry: nil)
        for i in 0..<4 { try await queue.put(i) }
        let producer = Task { try await queue.put(4) }
        try await eventually("queue.stats.waitingProducers >= 1") { queue.stats.waitingProducers >= 1 }
        _ = try await queue.get()  // 4 moves in; the producer stays suspended (depth 4)
        _ = try await queue.get()  // depth 3: still not below 2
        #expect(queue.stats.depth == 3 && queue.stats.waitingProducers == 1 && queue.stats.put == 5)
        #expect(try queue.tryPut(5))  // room: stored
        _ = try await queue.get()
        _ = try await queue.get()  // depth 2
        _ = try await queue.get()  // depth 1: below the mark, the producer goes on
        try await producer.value
        #expect(queue.stats.waitingProducers == 0 && queue.stats.depth == 1)
    }

    // MARK: 6. bad values are refused

    @Test func aZeroLoopLagIntervalIsRefused() async {
        await #expect(processExitsWith: .failure) {
            _ = LoopLagMonitor(interval: .zero, registry: nil)
        }
    }

    @Test func aManualClockNeverMovesBackwards() async {
        await #expect(processExitsWith: .failure) {
            ManualClock().advance(by: .seconds(-10))
        }
    }
}

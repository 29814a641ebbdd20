import Synchronization
import Testing
@testable import AsyncPatterns

@Suite struct StreamTests {
    @Test func tutorialComprehensionGivesEvens() async throws {
        let evens = try await asyncRange(0, 5).filter { $0 % 2 == 0 }.collect()
        #expect(evens == [0, 2, 4])
    }

    @Test func intStrideIsStrideWithoutTheArray() {
        for (a, b, step) in [(0, 10, 2), (0, 5, 1), (5, 0, -1), (10, 0, -3), (0, 0, 1), (3, 1, 1), (1, 3, -1), (0, 1, 5), (-5, 5, 4)] {
            #expect(Array(IntStride(a, b, step: step)) == Array(stride(from: a, to: b, by: step)), "\(a) \(b) \(step)")
        }
        #expect(IntStride(0, 1_000_000_000, step: 3).count == 333_333_334)
    }

    @Test func progressStreamReportsProducedConsumedAndFinished() async throws {
        let registry = PatternRegistry()
        let clock = ManualClock()
        let stream = ProgressStream(
            ["a", "b", "c", "d", "e"], delay: .milliseconds(100), clock: clock,
            name: "data", registry: registry)
        let reader = Task { try await stream.map { $0.uppercased() }.collect() }
        for _ in 0..<5 {
            await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(100))
        }
        #expect(try await reader.value == ["A", "B", "C", "D", "E"])
        #expect(clock.now.offset == .milliseconds(500))
        let snap = registry.snapshot().stream("data")
        #expect(snap?.produced == 5 && snap?.consumed == 5 && snap?.total == 5 && snap?.isFinished == true)
        #expect(snap?.fraction == 1)
    }

    @Test func generatorClosureFormComposesAndStopsItsProducerWhenAbandoned() async throws {
        let produced = Counter()
        let gen = AsyncGenerator<Int>(buffer: 2) { yield in
            var i = 0
            while true {
                try await yield(i)
                produced.add()
                i += 1
            }
        }
        var firstSquares: [Int] = []
        for try await sq in gen.map({ $0 * $0 }) {
            firstSquares.append(sq)
            if firstSquares.count == 4 { break }
        }
        #expect(firstSquares == [0, 1, 4, 9])
        #expect(produced.load <= 4 + 2 + 1)  // at most a buffer ahead
    }

    /// The consumer's cancellation reaches the producer whether it lands while the consumer
    /// waits for an element or between two elements.
    @Test(.timeLimit(.minutes(1))) func cancellingTheConsumerCancelsTheProducer() async throws {
        let clock = ManualClock()
        let producerCancelled = Counter()
        let gen = AsyncGenerator<Int>(buffer: 1) { yield in
            try await yield(1)
            do {
                try await clock.sleep(for: .seconds(3600))
            } catch {
                producerCancelled.add()
                throw error
            }
        }
        let consumer = Task { () -> (GeneratorRun<Int>, Bool) in
            var iterator = gen.makeAsyncIterator()
            let first = try? await iterator.next()
            var cancelled = false
            do { _ = try await iterator.next() } catch is CancellationError { cancelled = true } catch {}
            // The run is handed back alive, so its deinit is not what stops the producer.
            return (iterator.run, first == 1 && cancelled)
        }
        await clock.waitForSleepers(1)  // 1 was yielded; the producer waits on the clock
        consumer.cancel()
        let (run, sawCancellation) = await consumer.value
        #expect(sawCancellation)
        // It must happen, so wait for it (the time limit cancels this test if it never does).
        while producerCancelled.load == 0 {
            try Task.checkCancellation()
            await Task.yield()
        }
        #expect(producerCancelled.load == 1)
        withExtendedLifetime(run) {}
    }

    @Test func generatorErrorsReachTheConsumer() async throws {
        struct Broken: Error {}
        let registry = PatternRegistry()
        let gen = AsyncGenerator<Int>(total: 3, name: "g", registry: registry) { yield in
            try await yield(1)
            throw Broken()
        }
        var got: [Int] = []
        await #expect(throws: Broken.self) { for try await x in gen { got.append(x) } }
        #expect(got == [1])
        #expect(registry.snapshot().stream("g")?.isFailed == true)
    }
}

@Suite struct ResourceTests {
    struct Boom: Error {}

    @Test func closeRunsOnSuccessErrorAndCancellationAndTheBodyErrorIsRethrown() async throws {
        let registry = PatternRegistry()
        let scope = ResourceScope(name: "db", registry: registry)
        let closes = Counter()
        let clock = ManualClock()
        let close: @Sendable (Int) async throws -> Void = { _ in
            try await Task.sleep(for: .milliseconds(1))  // a real async close, even when cancelled
            closes.add()
        }
        #expect(try await scope.with(open: { 1 }, close: close, body: { $0 + 1 }) == 2)
        await #expect(throws: Boom.self) { try await scope.with(open: { 1 }, close: close, body: { _ in throw Boom() }) }
        let cancelled = Task { try await scope.with(open: { 1 }, close: close, body: { _ in try await clock.sleep(for: .seconds(5)) }) }
        await clock.waitForSleepers(1)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        await #expect(throws: Boom.self) { try await scope.with(open: { () throws -> Int in throw Boom() }, close: close, body: { $0 }) }
        #expect(closes.load == 3)  // not for the failed open
        let stats = scope.stats
        #expect(stats.opened == 3 && stats.closed == 3 && stats.failed == 2 && stats.openFailed == 1 && stats.open == 0)
        let snap = registry.snapshot().resource("db")
        #expect(snap?.opened == 3 && snap?.closed == 3 && snap?.failed == 2 && snap?.open == 0 && snap?.closing == 0)
    }

    @Test func timedScopeMeasuresOnTheClock() async throws {
        let clock = ManualClock()
        let scope = ResourceScope()
        let timed = Task {
            try await scope.timed(clock: clock) {
                try await clock.sleep(for: .milliseconds(250))
                return "ok"
            }
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(250))
        let (value, duration) = try await timed.value
        #expect(value == "ok" && duration == .milliseconds(250))
    }
}

@Suite struct ClockTests {
    @Test func scenarioClockScalesAndPauses() async throws {
        let clock = ScenarioClock(speed: 1000)
        let start = ContinuousClock.now
        // 100 scenario seconds = 0.1 s real. An unscaled sleep cannot end before 100 s, so
        // that is the bound: a suite run side by side under a sanitizer on a loaded machine
        // has held a 0.1 s sleep's wake-up for 70 s.
        try await clock.sleep(for: .seconds(100))
        #expect(ContinuousClock.now - start < .seconds(100))
        #expect(clock.elapsed >= .seconds(100))
        clock.pause()
        let frozen = clock.elapsed
        let sleeper = Task { try await clock.sleep(for: .milliseconds(1)) }
        try await Task.sleep(for: .milliseconds(30))
        #expect(clock.elapsed == frozen)  // time stands still while paused
        clock.resume()
        try await sleeper.value
        #expect(clock.elapsed > frozen)
    }

    @Test func manualClockWakesInDeadlineOrderAndCancels() async throws {
        let clock = ManualClock()
        let order = Recorder<Int>()
        let a = Task {
            try await clock.sleep(for: .seconds(2))
            order.append(2)
        }
        let b = Task {
            try await clock.sleep(for: .seconds(1))
            order.append(1)
        }
        let c = Task { try await clock.sleep(for: .seconds(1)) }
        await clock.waitForSleepers(3)
        c.cancel()
        await #expect(throws: CancellationError.self) { try await c.value }
        clock.advance(by: .seconds(1))
        try await b.value
        clock.advance(by: .seconds(1))
        try await a.value
        #expect(order.all == [1, 2])
    }
}

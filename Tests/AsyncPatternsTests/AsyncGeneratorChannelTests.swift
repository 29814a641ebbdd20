import Synchronization
import Testing
@testable import AsyncPatterns

/// The generator's lock-free hand-off (issue #16): back-pressure stays exact however the
/// slots are batched, errors come after the elements, early stops free everything.
@Suite struct AsyncGeneratorChannelTests {
    /// Waits (yielding, no sleeping) until `condition` holds; the time limit on the test
    /// ends it if it never does.
    private func until(_ condition: () -> Bool) async throws {
        while !condition() {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: [1, 3, 8, 256])
    func theProducerRunsExactlyBufferAhead(buffer: Int) async throws {
        let gen = AsyncGenerator<Int>(buffer: buffer, registry: nil) { yield in
            for i in 0..<(buffer * 5) { try await yield(i) }
        }
        var iterator = gen.makeAsyncIterator()
        #expect(try await iterator.next() == 0)
        // The producer fills every slot but the one just handed out... and that one, which
        // the consumer returns, whether at once or with its group.
        try await until { iterator.run.buffer.parked.withLock { $0.producers.count } == 1 }
        let ahead = gen.stats.produced - gen.stats.consumed
        #expect(ahead <= buffer && ahead >= buffer - iterator.run.buffer.returnEvery + 1, "\(ahead) ahead")
        var expected = 1
        while let n = try await iterator.next() {
            #expect(n == expected)
            expected += 1
            let s = gen.stats
            #expect(s.produced - s.consumed <= buffer && s.consumed == expected)
        }
        #expect(expected == buffer * 5)
        #expect(gen.stats.finished && gen.stats.produced == buffer * 5 && gen.stats.consumed == buffer * 5)
    }

    @Test func anErrorComesAfterEveryElementYieldedBeforeIt() async throws {
        struct Broken: Error {}
        let gen = AsyncGenerator<Int>(buffer: 64, registry: nil) { yield in
            for i in 0..<1_000 { try await yield(i) }
            throw Broken()
        }
        var got: [Int] = []
        await #expect(throws: Broken.self) { for try await n in gen { got.append(n) } }
        #expect(got == Array(0..<1_000))
        #expect(gen.stats.failed && gen.stats.consumed == 1_000)
    }

    @Test func yieldFromSeveralTasksDeliversEachElementOnce() async throws {
        let gen = AsyncGenerator<Int>(buffer: 16, registry: nil) { yield in
            // `yield` is @Sendable: the group's tasks may share it while the body runs.
            try await withoutActuallyEscaping(yield) { yield in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for t in 0..<4 {
                        group.addTask { for i in 0..<5_000 { try await yield(t * 5_000 + i) } }
                    }
                    try await group.waitForAll()
                }
            }
        }
        var seen = [Bool](repeating: false, count: 20_000)
        var count = 0
        for try await n in gen {
            #expect(!seen[n], "\(n) delivered twice")
            seen[n] = true
            count += 1
        }
        #expect(count == 20_000 && seen.allSatisfy { $0 })
    }

    /// Elements left in the buffer when the consumer stops are destroyed with the run (no
    /// leak), and a producer waiting for room is released with `CancellationError`.
    @Test(.timeLimit(.minutes(1))) func stoppingEarlyReleasesTheProducerAndTheElementsLeft() async throws {
        final class Tracked: Sendable {
            let alive: Counter
            init(_ alive: Counter) {
                self.alive = alive
                alive.add()
            }
            deinit { alive.subtract() }
        }
        let alive = Counter()
        let producerEnded = Recorder<String>()
        let gen = AsyncGenerator<Tracked>(buffer: 8, registry: nil) { yield in
            do {
                while true { try await yield(Tracked(alive)) }
            } catch {
                producerEnded.append(String(describing: type(of: error)))
                throw error
            }
        }
        do {
            var iterator = gen.makeAsyncIterator()
            for _ in 0..<3 { _ = try await iterator.next() }
            try await until { iterator.run.buffer.parked.withLock { $0.producers.count } == 1 }
        }
        try await until { !producerEnded.all.isEmpty }
        #expect(producerEnded.all == ["CancellationError"])
        try await until { alive.load == 0 }  // the channel went with its last reference
        #expect(gen.stats.stoppedEarly && gen.stats.consumed == 3)
    }

    @Test func everyEventIsCountedWhenSubscribed() async throws {
        let registry = PatternRegistry()
        let observer = RecordingObserver()
        let subscription = registry.subscribe(observer, interest: .all)
        defer { subscription.cancel() }
        let gen = AsyncGenerator<Int>(total: 100, buffer: 4, name: "g", registry: registry) { yield in
            for i in 0..<100 { try await yield(i) }
        }
        var sum = 0
        for try await n in gen { sum += n }
        #expect(sum == 4_950)
        let events = observer.events.withLock { $0 }
        var produced: [Int] = []
        var consumed: [Int] = []
        for case .stream(let e, _, _) in events {
            if case .produced(let c, _) = e { produced.append(c) }
            if case .consumed(let c, _) = e { consumed.append(c) }
        }
        #expect(produced == Array(1...100) && consumed == Array(1...100))
    }

    /// Random buffers, producers that fail or not, consumers that stop early or are
    /// cancelled, from a seed: elements arrive in order, none lost or twice, and the run's
    /// numbers agree with what the consumer saw.
    @Test(.timeLimit(.minutes(1)), arguments: 0..<6)
    func seededRunsKeepOrderAndCounts(round: Int) async throws {
        struct Broken: Error {}
        let seed = stressSeed() &+ UInt64(round) &* 1_009
        var rng = TestRandom(seed)
        for _ in 0..<20 {
            let buffer = Int.random(in: 1...40, using: &rng)
            let total = Int.random(in: 0...3_000, using: &rng)
            let failAt: Int? = total > 0 && Bool.random(using: &rng) ? Int.random(in: 0..<total, using: &rng) : nil
            let stopAt: Int? = Bool.random(using: &rng) ? Int.random(in: 0...total, using: &rng) : nil
            let yieldEvery = Int.random(in: 1...50, using: &rng)
            let gen = AsyncGenerator<Int>(buffer: buffer, registry: nil) { yield in
                for i in 0..<total {
                    if i == failAt { throw Broken() }
                    try await yield(i)
                    if i % yieldEvery == 0 { await Task.yield() }
                }
            }
            var got = 0
            var failed = false
            do {
                for try await n in gen {
                    #expect(n == got, "seed \(seed)")
                    got += 1
                    let s = gen.stats
                    #expect(s.produced - s.consumed <= buffer && s.consumed == got, "seed \(seed): \(s)")
                    if got == stopAt { break }
                    if got % yieldEvery == 0 { await Task.yield() }
                }
            } catch is Broken {
                failed = true
            }
            let s = gen.stats
            if let stopAt, stopAt > 0, stopAt <= (failAt ?? total) {
                #expect(got == stopAt && s.stoppedEarly && !failed, "seed \(seed)")
            } else if let failAt {
                #expect(got == failAt && failed && s.failed, "seed \(seed): \(got) of \(total), fail at \(failAt)")
            } else {
                #expect(got == total && s.finished && !s.failed && s.produced == total, "seed \(seed)")
            }
        }
    }
}

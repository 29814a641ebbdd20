import Dispatch
import Synchronization
import Testing

@testable import AsyncPatterns

/// A serial executor on a dispatch queue of its own (never the shared pool) that counts the
/// jobs it is given: each is a hop onto the actor that uses it.
final class CountingSerialExecutor: SerialExecutor {
    private let queue = DispatchQueue(label: "sluice-tests.counting-executor")
    private let jobs = Counter()

    var enqueued: Int { jobs.load }

    func enqueue(_ job: consuming ExecutorJob) {
        jobs.add()
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}

/// A producer isolated to an actor whose executor counts hops.
actor IsolatedProducer {
    let executor = CountingSerialExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func produce(_ yield: AsyncGenerator<Int>.Yield, count: Int) async throws {
        for i in 0..<count { try await yield(i) }
    }
}

@Suite struct AsyncGeneratorTests {
    /// `yield` runs in the caller's isolation: an actor that yields elements into a buffer
    /// with room is entered once, not once more per element (a `@Sendable` closure left the
    /// actor for the global executor on each call and came back: 201 hops for 200 elements).
    @Test(.timeLimit(.minutes(10))) func yieldRunsInTheCallersIsolation() async throws {
        let producer = IsolatedProducer()
        let count = 200
        let gen = AsyncGenerator<Int>(buffer: count, registry: nil) { yield in
            try await producer.produce(yield, count: count)
        }
        var got: [Int] = []
        for try await x in gen { got.append(x) }
        #expect(got == Array(0..<count))
        // One hop in; a few more would be harmless, one per element is what this guards.
        #expect(producer.executor.enqueued < 10, "hops onto the producer's actor: \(producer.executor.enqueued)")
    }

    /// `Yield` is a value: copies of it in several tasks of the producer hand over every
    /// element exactly once, each task's in its own order.
    @Test(.timeLimit(.minutes(10))) func yieldsFromSeveralTasksArriveExactlyOnce() async throws {
        let tasks = 4
        let each = 2_000
        let gen = AsyncGenerator<Int>(buffer: 3, registry: nil) { yield in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask { for i in 0..<each { try await yield(t * each + i) } }
                }
                try await group.waitForAll()
            }
        }
        var got: [Int] = []
        for try await x in gen { got.append(x) }
        #expect(got.sorted() == Array(0..<(tasks * each)))
        for t in 0..<tasks {
            let mine = got.filter { $0 / each == t }
            #expect(mine == Array((t * each)..<((t + 1) * each)))
        }
        #expect(gen.stats.produced == tasks * each && gen.stats.consumed == tasks * each && gen.stats.finished)
    }

    /// A consumer cancelled while its producer stays ahead (every element taken without a
    /// wait) still stops the producer: the fast path looks at cancellation every 32nd
    /// element, and the loop then ends with `CancellationError` once the buffer is drained.
    @Test(.timeLimit(.minutes(10))) func aCancelledConsumerStopsAProducerThatStaysAhead() async throws {
        let buffer = 64
        let yielded = Watermark()
        let gen = AsyncGenerator<Int>(buffer: buffer, registry: nil) { yield in
            defer { yielded.finish() }
            var i = 0
            while true {
                try await yield(i)
                i += 1
                yielded.raise(to: i)
            }
        }
        let consumer = Task { () -> (count: Int, error: (any Error)?) in
            var count = 0
            do {
                for try await _ in gen {
                    count += 1
                    if count == 100 { withUnsafeCurrentTask { $0?.cancel() } }
                    if count == 5_000 { break }  // the producer was never stopped: fail, not hang
                    // Wait (suspended, not polling) until the buffer is full again or the
                    // producer is gone, so the next element is always taken without a wait.
                    await yielded.wait(atLeast: count + buffer)
                }
            } catch {
                return (count, error)
            }
            return (count, nil)
        }
        let (count, error) = await consumer.value
        #expect(error is CancellationError)
        #expect(count >= 100 && count <= 100 + 32 + buffer + 1, "elements taken: \(count)")
        #expect(yielded.isFinished)
    }

    /// Random buffers, lengths and early stops: the consumer gets a prefix of what was
    /// yielded, in order, each element once; the counters agree; a consumer that stops
    /// early ends its producer (the producer's body returns, no task is left behind).
    @Test(.timeLimit(.minutes(10))) func seededRunsKeepOrderAndEndTheProducer() async throws {
        var rng = SplitMix64(seed: 0x5EED_0023)
        for round in 0..<40 {
            let buffer = Int.random(in: 1...16, using: &rng)
            let length = Int.random(in: 0...1_000, using: &rng)
            let stopAt: Int? = Bool.random(using: &rng) ? Int.random(in: 0...length, using: &rng) : nil
            let ended = Gate()
            let gen = AsyncGenerator<Int>(buffer: buffer, registry: nil) { yield in
                defer { ended.open() }
                for i in 0..<length { try await yield(i) }
            }
            var got: [Int] = []
            if let stopAt, stopAt < length {
                for try await x in gen {
                    if got.count == stopAt { break }
                    got.append(x)
                }
                #expect(got == Array(0..<stopAt), "round \(round)")
                await ended.wait()  // the abandoned run cancelled its producer
                let stats = gen.stats
                #expect(stats.stoppedEarly && stats.consumed == stopAt + 1, "round \(round): \(stats)")
                #expect(stats.produced >= stats.consumed && stats.produced <= stats.consumed + buffer, "round \(round): \(stats)")
            } else {
                for try await x in gen { got.append(x) }
                #expect(got == Array(0..<length), "round \(round)")
                await ended.wait()
                let stats = gen.stats
                #expect(stats.finished && !stats.stoppedEarly && stats.consumed == length && stats.produced == length)
            }
        }
    }
}

/// A count that only rises, and tasks suspended until it reaches theirs (or it finishes).
final class Watermark: Sendable {
    private struct State {
        var value = 0
        var finished = false
        var waiters: [(target: Int, continuation: UnsafeContinuation<Void, Never>)] = []
    }
    private let state = Locked(State())

    var isFinished: Bool { state.withLock { $0.finished } }

    func raise(to value: Int) { release { $0.value = Swift.max($0.value, value) } }
    func finish() { release { $0.finished = true } }

    func wait(atLeast target: Int) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.finished || s.value >= target { return true }
                s.waiters.append((target, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func release(_ change: (inout State) -> Void) {
        let ready = state.withLock { s -> [UnsafeContinuation<Void, Never>] in
            change(&s)
            let done = s.waiters.filter { s.finished || s.value >= $0.target }
            s.waiters.removeAll { s.finished || s.value >= $0.target }
            return done.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }
}

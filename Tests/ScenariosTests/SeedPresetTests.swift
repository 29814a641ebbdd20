import AsyncPatterns
import Synchronization
import TestSupport
import Testing
@testable import Scenarios

/// Collects a run's transcript with the scenario time of each line.
final class Transcript: Sendable {
    private let lines = Locked<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// How a finished seed run ended.
struct SeedOutcome: Sendable {
    let final: Snapshot
    let elapsed: Duration
    func snapshot() -> Snapshot { final }
}

/// Runs a scenario's seed preset to the end on a sped-up clock, on threads of its own.
func runSeed(_ name: String, values: [String: Double] = [:], speed: Double = 20) async throws -> (SeedOutcome, [String]) {
    let scenario = try #require(Catalog.named(name))
    let transcript = Transcript()
    let outcome = try await withScenarioRun(
        scenario, preset: .seed, values: values, speed: speed, logCapacity: 10_000, transcript: { transcript.append($0) }
    ) { run in
        await run.wait()
        #expect(run.currentStatus == .done)
        return SeedOutcome(final: run.snapshot(), elapsed: run.elapsed)
    }
    return (outcome, transcript.all)
}

/// Each tutorial example, reproduced by its scenario's seed preset.
@Suite struct SeedPresetTests {
    @Test func producerConsumerConsumesFifteenItemsOnceEach() async throws {
        let (run, lines) = try await runSeed("producer-consumer")
        let q = try #require(run.snapshot().queue("queue"))
        #expect(q.capacity == 10 && q.put == 15 && q.got == 15 && q.done == 15 && q.depth == 0)
        #expect(q.maxDepth <= 10)
        let processed = lines.filter { $0.contains("processing: ") }.map { $0.components(after: "processing: ") }
        #expect(processed.count == 15 && Set(processed).count == 15)
        #expect(Set(processed) == Set((0..<3).flatMap { p in (0..<5).map { "item-\(p)-\($0)" } }))
    }

    @Test func actorsCounterReachesFiveSelfSendIsADeadLetterLoggerHasOneLine() async throws {
        let (run, lines) = try await runSeed("actors")
        let snap = run.snapshot()
        #expect(snap.actor("counter1")?.deadLetters == 1)
        #expect(lines.contains("counter2: added 5, now 5"))
        #expect(lines.contains("log: [counter2] operation complete"))
        #expect(lines.last == "counter2 = 5; logger holds 1 line")
        // As in the tutorial, each handles one message: reading the result is not work.
        #expect(snap.actor("counter2")?.processed == 1 && snap.actor("logger")?.processed == 1)
        #expect(snap.actor("counter1")?.processed == 0)
    }

    /// The tutorial's consumers give up after 1 s without an item; with producers slower
    /// than that, nothing would finish the rest. The run says so and ends.
    @Test func producerConsumerEndsWhenEveryConsumerGaveUp() async throws {
        // One producer: every gap between items (2.5...7.5 s) is longer than the 1 s idle timeout.
        // In real time (1x): a consumer's timeout must fire before the next item comes, and on
        // a machine loaded past its cores (a ThreadSanitizer run beside other builds) a wake-up
        // can come more than a second late. At 2x one did (the consumers went on to the fifth
        // item); at 1x the timer has 1.5 s to spare. Still a real-time test: the scenario clock
        // runs on real time, and virtual time for scenario runs (as pipelines have) is left.
        let (run, lines) = try await runSeed("producer-consumer", values: ["producers": 1, "interval": 5000], speed: 1)
        #expect(lines.last?.hasPrefix("every consumer gave up after 1 s without an item;") == true)
        let q = try #require(run.snapshot().queue("queue"))
        #expect(q.put < 5)
    }

    /// Seed runs that could never finish are refused up front, naming the knob.
    @Test func seedRunsThatCannotFinishAreRefused() throws {
        let cases: [(String, String)] = [
            ("producer-consumer", "consumers"), ("semaphore", "permits"), ("pipeline", "workers"),
            ("pipeline", "permits"), ("pipeline", "rate"),
        ]
        for (name, knob) in cases {
            let scenario = try #require(Catalog.named(name))
            var values = scenario.values(for: .seed)
            #expect(scenario.refusal(of: values, preset: .seed) == nil)
            values[knob] = 0
            #expect(scenario.refusal(of: values, preset: .seed)?.hasPrefix("--\(knob) 0 ") == true, "\(name) \(knob)")
            #expect(scenario.refusal(of: values, preset: .live) == nil)
        }
    }

    @Test func semaphoreRunsTenJobsAtMostThreeAtOnceInFourRounds() async throws {
        let (run, lines) = try await runSeed("semaphore")
        let sem = try #require(run.snapshot().semaphore("permits"))
        #expect(sem.acquired == 10 && sem.maxInUse == 3 && sem.inUse == 0)
        #expect(run.elapsed >= .seconds(4))  // ceil(10 / 3) rounds of 1 s cannot take less
        #expect(lines.filter { $0.hasSuffix("started") }.count == 10)
    }

    @Test func streamsProcessFiveItemsAndTheComprehensionGivesEvens() async throws {
        let (run, lines) = try await runSeed("streams")
        #expect(lines.filter { $0.hasPrefix("processing: ") } == (1...5).map { "processing: \($0)" })
        #expect(lines.filter { $0.hasPrefix("number: ") } == [0, 2, 4, 6, 8].map { "number: \($0)" })
        #expect(lines.last == "evens: [0, 2, 4]")
        let data = try #require(run.snapshot().stream("data"))
        #expect(data.produced == 5 && data.total == 5 && data.isFinished)
    }

    @Test func resourcesCloseOnSuccessAndOnErrorAndRethrow() async throws {
        let (run, lines) = try await runSeed("resources")
        let r = try #require(run.snapshot().resource("connections"))
        #expect(r.opened == 2 && r.closed == 2 && r.failed == 1 && r.open == 0)
        #expect(lines.contains("error re-thrown after cleanup: query failed"))
        let took = lines.first { $0.hasPrefix("async operation took ") }.map { $0.components(after: "took ").split(separator: " ")[0] }
        #expect(took.flatMap { Double($0) }.map { $0 >= 0.5 } == true)  // the timer measured at least its 0.5 s sleep
    }

    @Test func pipelineDeliversEveryItemToTheAggregator() async throws {
        let (run, lines) = try await runSeed("pipeline")
        let snap = run.snapshot()
        let q = try #require(snap.queue("queue"))
        #expect(q.put == 20 && q.got == 20 && q.done == 20)
        #expect(try #require(snap.semaphore("permits")).maxInUse <= 2)
        #expect(lines.last == "aggregated 20 items, sum = 210")
    }

    /// On the run's own two threads, which stand in for the pool: the suite's pool is never blocked.
    @Test func blockingShowsBothPhases() async throws {
        let (_, lines) = try await runSeed("blocking", speed: 10)
        #expect(lines.contains { $0.hasPrefix("blocking on the pool: heartbeat ran up to") })
        #expect(lines.contains { $0.hasPrefix("blocking calls offloaded: heartbeat") })
    }
}

extension String {
    /// The text after the first `marker`, or "" when it is absent.
    func components(after marker: String) -> String {
        let parts = split(separator: marker, maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? String(parts[1]) : ""
    }
}

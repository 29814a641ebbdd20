import AsyncPatterns
import TestSupport
import Testing
@testable import Scenarios

/// What a newcomer hit first (#25), at the level of runs and scenarios.
@Suite struct NewcomerTests {
    /// A seed run's time stops at DONE: the header said `t=9s DONE` of a 4 s run.
    @Test func aFinishedSeedRunsClockStandsStill() async throws {
        let scenario = try #require(Catalog.named("semaphore"))
        try await withScenarioRun(scenario, preset: .seed, speed: 50) { run in
            await run.wait()
            let atEnd = run.elapsed
            // A real wait (on the test's task, not blocking the pool): time must not move.
            try await Task.sleep(for: .milliseconds(100))
            #expect(run.elapsed == atEnd)
            #expect(run.clock.isPaused)
        }
    }

    /// The blocking scenario's defaults show the stall on any machine: more blocking
    /// workers than pool threads (2 on a 2-core machine flickered and mostly said "all clear").
    @Test func blockingDefaultsOutnumberThePool() throws {
        let spec = try #require(BlockingScenario().knobs.first { $0.name == "blocking" })
        #expect(Int(spec.defaultValue) > BlockingScenario.poolWidth)
        #expect(spec.range.contains(spec.defaultValue))
    }

    /// Knobs that act only in the seed preset or from the next round say so (#25).
    @Test func knobsThatDoNotActAtOnceAreDeclared() throws {
        func timing(_ scenario: String, _ knob: String) throws -> KnobTiming {
            try #require(Catalog.named(scenario)?.knob(named: knob)).timing
        }
        #expect(try timing("producer-consumer", "items") == .seedOnly)
        #expect(try timing("semaphore", "jobs") == .seedOnly)
        #expect(try timing("pipeline", "items") == .seedOnly)
        #expect(try timing("streams", "items") == .nextRound)
        #expect(try timing("streams", "delay") == .nextRound)
        #expect(try timing("producer-consumer", "consumers") == .now)
    }
}

import AsyncPatterns
import Patience
import TestSupport
import Testing
@testable import Scenarios

@Suite struct LiveKnobTests {
    @Test func moreConsumersDrainAFullQueue() async throws {
        let snapshot = try await withScenarioRun(
            ProducerConsumerScenario(), preset: .live,
            values: ["producers": 4, "consumers": 1, "interval": 20, "service": 200, "capacity": 40], speed: 10
        ) { run in
            try await eventually("the queue fills") { run.snapshot().queue("queue")?.depth == 40 }
            run.setKnob("consumers", to: 60)
            try await eventually("the queue drains") { (run.snapshot().queue("queue")?.depth ?? 99) < 10 }
            await run.stop()
            return run.snapshot()
        }
        let q = try #require(snapshot.queue("queue"))
        #expect(q.got == q.done)  // every item taken was finished, none dropped mid-way
    }

    @Test func lowerPermitLimitBoundsNewGrants() async throws {
        // Position in the event log (which leaves out heartbeats): logged = dropped + kept.
        func logged(_ s: Snapshot) -> Int { s.droppedEvents + s.recentEvents.count }
        let (snap, mark) = try await withScenarioRun(
            SemaphoreScenario(), preset: .live, values: ["permits": 4, "rate": 40, "hold": 400],
            speed: 10, logCapacity: 100_000
        ) { run in
            run.setAllEvents(true)
            try await eventually("4 permits in use") { run.snapshot().semaphore("permits")?.maxInUse == 4 }
            run.setKnob("permits", to: 1)
            try await eventually("in use falls to the new limit") { (run.snapshot().semaphore("permits")?.inUse ?? 9) <= 1 }
            let mark = logged(run.snapshot())
            try await eventually("more grants happen") { logged(run.snapshot()) > mark + 20 }
            await run.stop()
            return (run.snapshot(), mark)
        }
        let later = snap.recentEvents.suffix(logged(snap) - mark)
        let grants = later.compactMap { event -> Int? in
            if case .semaphore(.acquired(let g), _, _) = event { return g.inUse }
            return nil
        }
        #expect(!grants.isEmpty)
        #expect(grants.allSatisfy { $0 <= 1 })
    }

    @Test func knobsAreClampedAndEveryScenarioStartsAndStops() async throws {
        for scenario in Catalog.all {
            // At its defaults: `blocking` blocks the run's own two threads, not the suite's pool.
            try await withScenarioRun(scenario, preset: .live, speed: 5) { run in
                let first = scenario.knobs[0]
                #expect(run.setKnob(first.name, to: first.range.upperBound + 1_000) == first.range.upperBound)
                run.setKnob(first.name, to: first.defaultValue)
                try await eventually("\(scenario.name) shows its heartbeat") { run.snapshot().health.beats > 0 }
                run.pause()
                #expect(run.currentStatus == .paused)
                run.resume()
                run.restart()
                #expect(run.currentStatus == .running)
                await run.stop()
                #expect(run.currentStatus == .done)
            }
        }
    }

    /// It used to read as 0 and the scenario ran on with a wrong number.
    @Test func anUndeclaredKnobIsAProgrammerError() async {
        await #expect(processExitsWith: .failure) {
            let board = KnobBoard(specs: [KnobSpec("a", range: 0...1, step: 1, default: 0, "a")], values: [:])
            _ = board.value("nosuch")
        }
    }

    @Test func noKnobIsNamedLikeACommandLineOption() {
        for scenario in Catalog.all {
            for knob in scenario.knobs {
                #expect(!Catalog.reservedOptionNames.contains(knob.name), "\(scenario.name): knob \(knob.name) shadows an option")
            }
        }
    }

    @Test func knobParsingHelpersFormatValues() {
        let k = KnobSpec("service", unit: "ms", range: 1...5000, step: 25, default: 150, "x")
        #expect(k.format(150) == "150 ms" && k.rangeText == "1...5000")
        #expect(k.stepped(150, by: 1) == 175 && k.stepped(10, by: -1) == 1)
        #expect(formatDecimal(3.5) == "3.5" && formatDecimal(0.125) == "0.13")
        #expect(
            formatFixed(0.5, places: 3) == "0.500" && formatFixed(12.345, places: 2) == "12.35" && formatFixed(-0.05, places: 1) == "-0.1")
    }
}

/// Records the context of each session it runs, and waits until cancelled.
private struct ContextRecorder: Scenario {
    let contexts = Locked<[ScenarioContext]>([])
    let name = "recorder"
    let summary = ""
    let explanation = ""
    let knobs: [KnobSpec] = []
    let seedValues: [String: Double] = [:]
    let panes: [PatternKind] = [.health]

    func run(_ context: ScenarioContext) async throws {
        contexts.withLock { $0.append(context) }
        _ = try await context.knobs.waitForChange(after: context.knobs.version)
    }
}

@Suite struct StopTests {
    /// A left session is stopped for good at once, without waiting for the pool: its
    /// blocking loops see `isStopped` after their current block.
    @Test func restartAndStopMarkTheLeftSessionStopped() async throws {
        let recorder = ContextRecorder()
        let run = ScenarioRun(recorder)
        try await eventually("the first session runs") { recorder.contexts.withLock { $0.count } == 1 }
        run.restart()
        try await eventually("the second session runs") { recorder.contexts.withLock { $0.count } == 2 }
        let (first, second) = recorder.contexts.withLock { ($0[0], $0[1]) }
        #expect(first.isStopped && !second.isStopped)
        // A blocking wait: on a thread of its own, so the run's task can have the pool.
        #expect(try await runOffPool { run.stop(waitingAtMost: patience) })
        #expect(second.isStopped && run.currentStatus == .done)
    }
}

import AsyncPatterns
import Patience
import Pipelines
import Scenarios
import Testing

/// A pipeline file through `ScenarioRun`, as the dashboard and the headless runner drive it.
@Suite struct FileScenarioTests {
    let spec: PipelineSpec

    init() throws {
        spec = try PipelineSpec.parse(
            """
            name = "two-stage"
            [[source]]
            name = "in"
            rate = 200
            items = 100
            to = "q"
            [[queue]]
            name = "q"
            capacity = 50
            [[pool]]
            name = "p"
            from = "q"
            workers = 2
            service = { dist = "exponential", mean = "5ms" }
            [knobs]
            "p.workers" = { min = 0, max = 16 }
            "q.capacity" = { min = 1, max = 100 }
            """, file: "two-stage.toml")
    }

    @Test func aSeedRunFinishesWithEveryItemAndTheTheoryInItsSnapshot() async throws {
        let lines = Locked<[String]>([])
        let run = ScenarioRun(PipelineFileScenario(spec), preset: .seed, speed: 20) { line in lines.withLock { $0.append(line) } }
        // Not thrown: the run must stop either way.
        let finished = (try? await eventually("the seed run finishes") { run.currentStatus == .done }) != nil
        let snapshot = run.snapshot()
        await run.stop()
        #expect(finished)
        #expect(snapshot.queue("q")?.got == 100)
        let model = try #require(snapshot.queueModels?.first)
        #expect(model.name == "q" && model.servers == 2 && model.arrivalRate > 0 && model.serviceRate > 0)
        #expect(lines.withLock { $0 }.last?.hasPrefix("100 items: 100 completed, 0 failed") == true)
    }

    @Test func knobsApplyLiveAndTheSeedPresetRefusesNoWorkers() async throws {
        let scenario = PipelineFileScenario(spec)
        #expect(scenario.knobs.map(\.name) == ["p.workers", "q.capacity"])
        #expect(scenario.refusal(of: ["p.workers": 0], preset: .seed)?.contains("0 workers") == true)
        #expect(scenario.refusal(of: ["p.workers": 0], preset: .live) == nil)
        let run = ScenarioRun(scenario, preset: .live, speed: 10)
        run.setKnob("q.capacity", to: 7)
        run.setKnob("p.workers", to: 5)
        let applied =
            (try? await eventually("the knobs apply") {
                let s = run.snapshot()
                return s.queue("q")?.capacity == 7 && s.queueModels?.first?.servers == 5
            }) != nil
        await run.stop()
        #expect(applied)
    }
}

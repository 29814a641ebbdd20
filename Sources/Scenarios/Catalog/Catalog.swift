/// Every scenario, in the order the picker lists them.
public enum Catalog {
    public static let all: [any Scenario] = [
        ProducerConsumerScenario(),
        ActorsScenario(),
        SemaphoreScenario(),
        StreamsScenario(),
        ResourcesScenario(),
        PipelineScenario(),
        BlockingScenario(),
    ]

    public static var names: [String] { all.map(\.name) }

    /// Option names of `sluice run`: no knob may be called like one, or the command line
    /// could not tell them apart (a knob named `duration` once shadowed `--duration`).
    public static let reservedOptionNames: Set<String> = [
        "preset", "speed", "seed", "headless", "duration", "json", "progress", "no-color", "help", "version",
    ]

    public static func named(_ name: String) -> (any Scenario)? {
        all.first { $0.name == name }
    }
}

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

    public static func named(_ name: String) -> (any Scenario)? {
        all.first { $0.name == name }
    }
}

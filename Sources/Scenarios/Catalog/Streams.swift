import AsyncPatterns

/// The tutorial's async iterator and async generator: a data stream with known length
/// (so progress and ETA are known) and `async_range` with a filtering comprehension.
public struct StreamsScenario: Scenario {
    public init() {}
    public let name = "streams"
    public let summary = "An async data stream with progress and an async generator with a filter"
    public let explanation = """
        `data` yields `items` elements, each after `delay`: its bar shows progress, rate and \
        ETA. `async_range` is a generator stepping every `step` ms; `evens` keeps only the \
        even numbers (the tutorial's comprehension), so it produces half as many. When a \
        round ends the next starts.
        """
    public let panes: [PatternKind] = [.stream, .health]
    public let knobs = [
        KnobSpec("items", range: 1...1_000_000, step: 10, default: 200, timing: .nextRound, "elements in the data stream"),
        KnobSpec("delay", unit: "ms", range: 0...10_000, step: 10, default: 50, timing: .nextRound, "wait before each data element"),
        KnobSpec("step", unit: "ms", range: 0...10_000, step: 5, default: 10, timing: .nextRound, "wait between generator numbers"),
    ]
    /// Five elements 0.1 s apart; async_range steps every 0.01 s.
    public let seedValues: [String: Double] = ["items": 5, "delay": 100, "step": 10]

    public func run(_ context: ScenarioContext) async throws {
        if context.preset == .seed {
            let data = ProgressStream(
                1...context.count("items"), delay: .milliseconds(context.knob("delay")),
                clock: context.clock, name: "data", registry: context.registry)
            for try await item in data { context.say("processing: \(item)") }
            let step = Duration.milliseconds(context.knob("step"))
            for try await n in asyncRange(
                0, 10, step: 2, delay: step, clock: context.clock, name: "async_range(0, 10, 2)", registry: context.registry)
            {
                context.say("number: \(n)")
            }
            let evens = try await asyncRange(0, 5, delay: step, clock: context.clock, name: "async_range(0, 5)", registry: context.registry)
                .filter { $0 % 2 == 0 }.collect()
            context.say("evens: \(evens)")
            return
        }
        var round = 0
        while !Task.isCancelled {
            round += 1
            let round = round
            let items = context.count("items")
            let delay = Duration.milliseconds(context.knob("delay"))
            let step = Duration.milliseconds(context.knob("step"))
            let data = ProgressStream(
                0..<items, delay: delay, clock: context.clock,
                name: "data #\(round)", registry: context.registry)
            let evens = AsyncGenerator<Int>(total: (items + 1) / 2, name: "evens #\(round)", registry: context.registry) { yield in
                let numbers = asyncRange(
                    0, items, delay: step, clock: context.clock,
                    name: "async_range #\(round)", registry: context.registry)
                for try await n in numbers where n % 2 == 0 { try await yield(n) }
            }
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { for try await _ in data {} }
                    group.addTask { for try await _ in evens {} }
                    try await group.waitForAll()
                }
                context.say("round \(round) done: \(items) items")
            } catch {
                return
            }
        }
    }
}

extension Duration {
    /// A duration from a number of milliseconds that may have a fraction.
    static func milliseconds(_ ms: Double) -> Duration { .nanoseconds(Int64((ms * 1_000_000).rounded())) }
}

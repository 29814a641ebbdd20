import AsyncPatterns

/// Every pattern chained: a stream feeds a queue, semaphore-bounded workers process it,
/// an actor aggregates results and a logger records them, each step in a resource scope.
public struct PipelineScenario: Scenario {
    public init() {}
    public let name = "pipeline"
    public let summary = "Stream -> queue -> semaphore-bounded workers -> aggregator actor -> logger"
    public let explanation = """
        A source stream emits `rate` items per second into a bounded queue. `workers` tasks \
        take items, but only `permits` may process at once (a semaphore), each for `service` \
        ms inside a resource scope; `failure` percent fail (cleanup still runs). Results go \
        to an aggregator actor that reports every 10th to the logger. Find the bottleneck: \
        the queue fills when permits x (1000 / service) is below the rate.
        """
    public let panes: [PatternKind] = [.queue, .semaphore, .actor, .stream, .resource, .health]
    public let knobs = [
        KnobSpec("rate", unit: "items/s", range: 0...10_000, step: 1, default: 12, actsOn: .stream, "items the source emits per second"),
        KnobSpec("capacity", unit: "items", range: 1...1000, step: 1, default: 32, actsOn: .queue, "queue capacity"),
        KnobSpec("workers", range: 0...64, step: 1, default: 6, actsOn: .queue, "tasks taking items from the queue"),
        KnobSpec("permits", range: 0...64, step: 1, default: 3, actsOn: .semaphore, "workers allowed to process at once"),
        KnobSpec("service", unit: "ms", range: 1...10_000, step: 10, default: 200, actsOn: .semaphore, "processing time per item"),
        KnobSpec("failure", unit: "%", range: 0...100, step: 5, default: 5, actsOn: .resource, "share of items whose processing fails"),
        KnobSpec(
            "items", range: 1...1_000_000, step: 1, default: 20, actsOn: .stream, timing: .seedOnly,
            "items the source emits (seed preset only)"),
    ]
    public let seedValues: [String: Double] = [
        "rate": 10, "capacity": 10, "workers": 4, "permits": 2, "service": 200, "failure": 0, "items": 20,
    ]

    struct Failed: Error {}

    public func refusal(of values: [String: Double], preset: Preset) -> String? {
        seedRefusal(values, preset, needsAboveZero: ["workers", "permits", "rate"])
    }

    public func run(_ context: ScenarioContext) async throws {
        let registry = context.registry
        let directory = ActorDirectory<TutorialMessage>()
        let queue = BoundedQueue<Int>(capacity: context.count("capacity"), name: "queue", registry: registry)
        let semaphore = AsyncSemaphore(limit: context.count("permits"), name: "permits", registry: registry)
        let scope = ResourceScope(name: "work scopes", registry: registry)
        let logger = MailboxActor<TutorialMessage>(name: "logger", directory: directory, registry: registry)
        let aggregator = MailboxActor<TutorialMessage>(name: "aggregator", directory: directory, registry: registry)
        let seed = context.preset == .seed
        let loggerRun = context.spawn { await logger.run(LoggerBehavior { if seed { context.say("log: \($0)") } }) }
        let aggregatorRun = context.spawn { await aggregator.run(Aggregator()) }

        let worker: @Sendable (Int) -> Task<Void, Never> = { id in
            context.spawn {
                while !Task.isCancelled {
                    let item: Int
                    do { item = try await queue.get() } catch { return }
                    do {
                        try await semaphore.withPermit {
                            try await scope.with(open: { item }, close: { _ in }) { item in
                                await context.work(context.jittered(context.knob("service") / 1000, 0.3))
                                if context.chance(context.knob("failure") / 100) { throw Failed() }
                                try? await aggregator.tell(.add(item), from: "worker-\(id)")
                            }
                        }
                    } catch is Failed {
                        if seed { context.say("worker \(id): item \(item) failed (scope closed anyway)") }
                    } catch {
                        // Stopped while waiting for a permit: back into the queue, or said out loud.
                        if (try? queue.tryPut(item)) != true {
                            context.say("worker \(id): item \(item) undelivered (stopped while waiting for a permit)")
                        }
                    }
                    try? queue.taskDone()
                }
            }
        }
        let workers = WorkerPool(worker)

        if seed {
            workers.resize(to: context.count("workers"))
            let items = context.count("items")
            let source = ProgressStream(
                1...items, delay: .milliseconds(1000 / max(0.001, context.knob("rate"))),
                clock: context.clock, name: "source", registry: registry)
            for try await item in source { try await queue.put(item) }
            try await queue.join()
            await workers.shutdown()
            let total = try await aggregator.ask { .getCount($0) }
            context.say("aggregated \(items) items, sum = \(total)")
        } else {
            let source = context.spawn {
                let generator = AsyncGenerator<Int>(name: "source", registry: registry) { yield in
                    var n = 0
                    while true {
                        let rate = context.knob("rate")
                        try await context.sleep(rate > 0 ? context.jittered(1 / rate, 0.3) : 0.1)
                        if rate > 0 {
                            n += 1
                            try await yield(n)
                        }
                    }
                }
                do {
                    for try await item in generator { try await queue.put(item) }
                } catch {}
            }
            await supervise(context, pools: [("workers", workers)]) {
                queue.setCapacity(context.count("capacity"))
                semaphore.setLimit(context.count("permits"))
            }
            source.cancel()
            await source.value
            queue.close()
        }
        aggregator.stop()
        await aggregatorRun.value
        logger.stop()
        await loggerRun.value
    }
}

/// Sums results; reports every 10th to the logger.
private struct Aggregator: ActorBehavior {
    var sum = 0
    var count = 0
    mutating func receive(_ envelope: Envelope<TutorialMessage>, context: ActorContext<TutorialMessage>) async throws {
        switch envelope.message {
        case .add(let n):
            sum += n
            count += 1
            if count % 10 == 0 { await context.send(to: "logger", .text("\(count) results, sum \(sum)")) }
        case .getCount(let replyTo):
            replyTo.send(sum)
        default:
            break
        }
    }
}

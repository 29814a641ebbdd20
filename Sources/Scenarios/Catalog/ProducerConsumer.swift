import AsyncPatterns

/// The tutorial's async queue: producers put, consumers get (with a 1 s timeout), process
/// and mark done; a bounded queue applies back-pressure between them.
public struct ProducerConsumerScenario: Scenario {
    public init() {}
    public let name = "producer-consumer"
    public let summary = "Producers and consumers around a bounded queue with back-pressure"
    public let explanation = """
        Producers put items into a bounded queue; consumers get them, work on them, and mark \
        them done. When producers outrun consumers the queue fills up to its capacity and \
        producers block (back-pressure). Raise `consumers` or lower `service` to drain it; \
        raise `capacity` to absorb bursts.
        """
    public let panes: [PatternKind] = [.queue, .health]
    public let knobs = [
        KnobSpec("producers", range: 0...16, step: 1, default: 3, "tasks putting items"),
        KnobSpec("consumers", range: 0...64, step: 1, default: 2, "tasks getting and processing items"),
        KnobSpec("capacity", unit: "items", range: 1...1000, step: 1, default: 50, "queue capacity"),
        KnobSpec("interval", unit: "ms", range: 1...5000, step: 25, default: 100, "mean time between puts per producer"),
        KnobSpec("service", unit: "ms", range: 1...5000, step: 25, default: 150, "mean processing time per item"),
        KnobSpec("items", range: 1...1_000_000, step: 1, default: 5, timing: .seedOnly, "items per producer (seed preset only)"),
    ]
    /// 3 producers x 5 items every 0.1-0.3 s, 2 consumers taking 0.2-0.5 s, capacity 10.
    public let seedValues: [String: Double] = ["producers": 3, "consumers": 2, "capacity": 10, "interval": 200, "service": 350, "items": 5]

    public func refusal(of values: [String: Double], preset: Preset) -> String? {
        seedRefusal(values, preset, needsAboveZero: ["consumers"])
    }

    public func run(_ context: ScenarioContext) async throws {
        let queue = BoundedQueue<String>(capacity: context.count("capacity"), name: "queue", registry: context.registry)
        if context.preset == .seed {
            try await runSeed(context, queue)
        } else {
            try await runLive(context, queue)
        }
    }

    /// Consumes until cancelled; with `idleTimeout`, also stops after that long without an
    /// item (the tutorial's `wait_for(queue.get(), 1.0)`).
    private func consume(_ context: ScenarioContext, _ queue: BoundedQueue<String>, id: Int, idleTimeout: Double?) async {
        while !Task.isCancelled {
            let item: String
            do {
                if let idleTimeout {
                    item = try await queue.get(timeout: .seconds(idleTimeout), clock: context.clock)
                } else {
                    item = try await queue.get()
                }
            } catch {
                return  // timed out, cancelled or closed: nothing was taken
            }
            if context.preset == .seed { context.say("consumer \(id) processing: \(item)") }
            await context.work(context.jittered(context.knob("service") / 1000, 3.0 / 7.0))
            try? queue.taskDone()
        }
    }

    private func runSeed(_ context: ScenarioContext, _ queue: BoundedQueue<String>) async throws {
        let items = context.count("items")
        let consumers = WorkerPool { id in context.spawn { await consume(context, queue, id: id, idleTimeout: 1.0) } }
        consumers.resize(to: context.count("consumers"))
        let producers = (0..<context.count("producers")).map { p in
            context.spawn {
                for i in 0..<items {
                    let item = "item-\(p)-\(i)"
                    try await queue.put(item)
                    context.say("producer \(p) produced: \(item)")
                    try await context.sleep(context.jittered(context.knob("interval") / 1000))
                }
            }
        }
        // The tutorial's flaw: consumers give up after 1 s without an item, and then nothing
        // would ever finish the rest (`join` would wait forever). Whichever comes first ends it.
        let allDone = context.spawn {
            for producer in producers { try await producer.value }
            try await queue.join()
        }
        let giveUp: @Sendable () -> Void = {
            for producer in producers { producer.cancel() }
            allDone.cancel()
        }
        let consumersGone = context.spawn {
            await consumers.waitAll()
            giveUp()
        }
        do {
            try await withTaskCancellationHandler {
                try await allDone.value
            } onCancel: {
                giveUp()
            }
        } catch {
            await consumers.shutdown()
            await consumersGone.value
            if Task.isCancelled { throw CancellationError() }
            let stats = queue.stats
            context.say(
                "every consumer gave up after 1 s without an item; \(stats.put - stats.done) items put but not done, "
                    + "\(producers.count * items - stats.put) never put: stopping")
            return
        }
        context.say("all \(queue.stats.done) items done; stopping consumers")
        await consumers.shutdown()
        await consumersGone.value
    }

    private func runLive(_ context: ScenarioContext, _ queue: BoundedQueue<String>) async throws {
        let serial = SerialNumbers()
        let producers = WorkerPool { p in
            context.spawn {
                while !Task.isCancelled {
                    do {
                        try await context.sleep(context.jittered(context.knob("interval") / 1000))
                        try await queue.put("item-\(p)-\(serial.next())")
                    } catch {
                        return
                    }
                }
            }
        }
        let consumers = WorkerPool { id in context.spawn { await consume(context, queue, id: id, idleTimeout: nil) } }
        await supervise(context, pools: [("producers", producers), ("consumers", consumers)]) {
            queue.setCapacity(context.count("capacity"))
        }
        queue.close()
    }
}

/// Unique numbers across tasks.
final class SerialNumbers: Sendable {
    private let counter = Locked(0)
    func next() -> Int {
        counter.withLock {
            $0 += 1
            return $0
        }
    }
}

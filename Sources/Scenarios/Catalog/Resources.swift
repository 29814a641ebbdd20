import AsyncPatterns

/// The tutorial's async context managers: connections opened and closed through async
/// scopes whose cleanup runs on success, on error and on cancellation; and a timer scope.
public struct ResourcesScenario: Scenario {
    public init() {}
    public let name = "resources"
    public let summary = "Async resource scopes: open, use, always close, even on failure"
    public let explanation = """
        `workers` tasks each open a connection (`open` ms), use it (`hold` ms) and close it \
        (`close` ms). `failure` percent of uses throw: the scope still closes the connection \
        and re-throws the error, so opened always equals closed plus what is open now.
        """
    public let panes: [PatternKind] = [.resource, .health]
    public let knobs = [
        KnobSpec("workers", range: 0...256, step: 1, default: 4, "tasks opening connections"),
        KnobSpec("open", unit: "ms", range: 0...10_000, step: 10, default: 100, "time to open a connection"),
        KnobSpec("hold", unit: "ms", range: 0...60_000, step: 50, default: 300, "time a connection is used"),
        KnobSpec("close", unit: "ms", range: 0...10_000, step: 10, default: 100, "time to close a connection"),
        KnobSpec("failure", unit: "%", range: 0...100, step: 5, default: 10, "share of uses that throw"),
    ]
    public let seedValues: [String: Double] = ["open": 100, "close": 100, "hold": 0, "failure": 0]

    struct QueryFailed: Error, CustomStringConvertible {
        var description: String { "query failed" }
    }

    /// A stand-in for the tutorial's `{"dsn": ..., "connected": True}`.
    struct Connection: Sendable, CustomStringConvertible {
        let dsn: String
        var description: String { "{dsn: \(dsn), connected: true}" }
    }

    public func run(_ context: ScenarioContext) async throws {
        let scope = ResourceScope(name: "connections", registry: context.registry)
        let open: @Sendable (Bool) async throws -> Connection = { talk in
            if talk { context.say("opening database connection...") }
            try await context.sleep(context.knob("open") / 1000)
            return Connection(dsn: "postgresql://localhost/db")
        }
        let close: @Sendable (Bool) -> @Sendable (Connection) async throws -> Void = { talk in
            { _ in
                if talk { context.say("closing database connection...") }
                await context.work(context.knob("close") / 1000)
            }
        }
        if context.preset == .seed {
            try await scope.with(open: { try await open(true) }, close: close(true)) { connection in
                context.say("using connection: \(connection)")
            }
            context.say("connection closed")
            do {
                try await scope.with(open: { try await open(true) }, close: close(true)) { _ in
                    context.say("running a query that fails...")
                    throw QueryFailed()
                }
            } catch {
                context.say("error re-thrown after cleanup: \(error)")
            }
            let timer = ResourceScope(name: "timer", registry: context.registry)
            let (_, took) = try await timer.timed(clock: context.clock) { try await context.sleep(0.5) }
            context.say("async operation took \(formatFixed(took.seconds, places: 3)) s")
            return
        }
        let workers = WorkerPool { _ in
            context.spawn {
                while !Task.isCancelled {
                    do {
                        try await scope.with(open: { try await open(false) }, close: close(false)) { _ in
                            try await context.sleep(context.jittered(context.knob("hold") / 1000, 0.5))
                            if context.chance(context.knob("failure") / 100) { throw QueryFailed() }
                        }
                    } catch is QueryFailed {
                        continue
                    } catch {
                        return
                    }
                }
            }
        }
        await supervise(context, pools: [("workers", workers)])
    }
}

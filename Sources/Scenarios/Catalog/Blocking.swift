#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns

/// The tutorial's first best practice made visible: blocking calls on the cooperative
/// pool stall every task; the loop-lag heartbeat shows it; moving them off the pool cures it.
public struct BlockingScenario: Scenario {
    public init() {}
    public let name = "blocking"
    public let summary = "Blocking calls stall the cooperative pool; offloading cures it"
    public let explanation = """
        `blocking` workers call a blocking sleep of `block` ms; `awaiting` workers await \
        the clock as they should. The pool has one thread per core: once blocking calls \
        occupy them all, every task waits, and the loop-lag heartbeat (like asyncio's debug \
        mode, which flags >100 ms) shows the stall. Set `offload` to 1 to run the blocking \
        calls on threads of their own: the lag drops back to near zero.
        """
    public let panes: [PatternKind] = [.health, .resource]
    /// Threads in the cooperative pool: one per core the system has online (what
    /// libdispatch sizes it by on Linux).
    public static let poolWidth = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Two more blocking workers than pool threads: while one pauses between calls another
    /// still holds every thread, so the stall is steady on any machine (with as many workers
    /// as threads, a worker's pause frees a thread and the stall comes and goes).
    public let knobs = [
        KnobSpec(
            "blocking", range: 0...Double(max(16, 4 * poolWidth)), step: 1, default: Double(poolWidth + 2),
            "workers making blocking calls (default: the pool's threads + 2)"),
        KnobSpec("awaiting", range: 0...64, step: 1, default: 4, "workers that await instead"),
        KnobSpec("block", unit: "ms", range: 1...5000, step: 10, default: 200, "length of each blocking call"),
        KnobSpec("offload", range: 0...1, step: 1, default: 0, "1 = run blocking calls off the pool"),
    ]
    public let seedValues: [String: Double] = ["blocking": 2, "awaiting": 2, "block": 150, "offload": 0]

    public func run(_ context: ScenarioContext) async throws {
        let lag = context.lagMonitor
        let jobs = ResourceScope(name: "blocking calls", registry: context.registry)
        let awaits = ResourceScope(name: "awaiting calls", registry: context.registry)

        /// One blocking call: on the pool (bad) or off it (good). Real time scaled by speed.
        let blockOnce: @Sendable () async -> Void = {
            let micros = useconds_t(max(1, context.knob("block") * 1000 / context.clock.speed))
            if context.knob("offload") >= 1 {
                _ = try? await runOffPool { usleep(micros) }
            } else {
                usleep(micros)
            }
        }
        let blocking = WorkerPool { _ in
            context.spawn {
                // A stopped run's worker must not block again: its pool thread is wanted.
                while !Task.isCancelled, !context.isStopped {
                    _ = try? await jobs.timed(clock: context.clock) { await blockOnce() }
                    try? await context.sleep(context.knob("block") / 4000)  // a short pause between calls
                }
            }
        }
        let awaiting = WorkerPool { _ in
            context.spawn {
                while !Task.isCancelled {
                    do { _ = try await awaits.timed(clock: context.clock) { try await context.sleep(context.knob("block") / 1000) } } catch
                    { return }
                }
            }
        }
        if context.preset == .seed {
            for offload in [0.0, 1.0] {
                context.knobs.set("offload", to: offload)
                let before = lag.stats.max
                blocking.resize(to: context.count("blocking"))
                awaiting.resize(to: context.count("awaiting"))
                try await context.sleep(1.5)
                await blocking.shutdown()
                await awaiting.shutdown()
                let worst = (offload == 0 ? lag.stats.max : max(before, lag.stats.last)) / .milliseconds(1)
                context.say(
                    offload == 0
                        ? "blocking on the pool: heartbeat ran up to \(Int(worst)) ms late\(worst > 100 ? " (asyncio's debug mode would flag it)" : "")"
                        : "blocking calls offloaded: heartbeat \(Int(lag.stats.last / .milliseconds(1))) ms late")
            }
            return
        }
        await supervise(context, pools: [("blocking", blocking), ("awaiting", awaiting)])
    }
}

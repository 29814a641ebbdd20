import AsyncPatterns

/// The tutorial's semaphore-bounded concurrency: jobs take a permit, work, give it back.
public struct SemaphoreScenario: Scenario {
    public init() {}
    public let name = "semaphore"
    public let summary = "Jobs bounded by a semaphore whose permit limit changes live"
    public let explanation = """
        Jobs arrive at `rate` per second; each holds one of `permits` slots for `hold` ms. \
        Never more than `permits` run at once; the rest wait in line, first come first served. \
        Lowering permits never revokes a running job: new jobs wait until in-use drops below \
        the new limit. Throughput is at most permits / hold.
        """
    public let panes: [PatternKind] = [.semaphore, .health]
    public let knobs = [
        KnobSpec("permits", range: 0...256, step: 1, default: 3, "concurrent jobs allowed"),
        KnobSpec("rate", unit: "jobs/s", range: 0...10_000, step: 0.5, default: 3.5, "job arrivals per second"),
        KnobSpec("hold", unit: "ms", range: 1...60_000, step: 50, default: 1000, "time each job holds its permit"),
        KnobSpec("jobs", range: 1...100_000, step: 1, default: 10, timing: .seedOnly, "jobs to run (seed preset only)"),
    ]
    /// 10 jobs, 1 s each, 3 permits: about 4 s, never more than 3 at once.
    public let seedValues: [String: Double] = ["permits": 3, "hold": 1000, "jobs": 10]

    /// Jobs waiting beyond this are turned away in the live preset, so an arrival rate far
    /// above capacity cannot grow memory without bound.
    static let maxWaiting = 1_000

    public func refusal(of values: [String: Double], preset: Preset) -> String? {
        seedRefusal(values, preset, needsAboveZero: ["permits"])
    }

    public func run(_ context: ScenarioContext) async throws {
        let semaphore = AsyncSemaphore(limit: context.count("permits"), name: "permits", registry: context.registry)
        if context.preset == .seed {
            let start = context.clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<context.count("jobs") {
                    group.addTask {
                        try await semaphore.withPermit {
                            context.say("job \(i) started")
                            try await context.sleep(context.knob("hold") / 1000)
                            context.say("job \(i) done")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let stats = semaphore.stats
            let took = start.duration(to: context.clock.now).seconds
            context.say("\(stats.acquired) jobs, at most \(stats.maxInUse) at once, took \(formatDecimal(took)) s")
            return
        }
        let turnedAway = SerialNumbers()
        let jobs = JobSet(context)
        let source = WorkerPool { _ in
            context.spawn {
                while !Task.isCancelled {
                    let rate = context.knob("rate")
                    do { try await context.sleep(rate > 0 ? context.jittered(1 / rate, 0.5) : 0.1) } catch { return }
                    guard rate > 0 else { continue }
                    if semaphore.stats.waiting >= Self.maxWaiting {
                        let n = turnedAway.next()
                        if n == 1 || n % 100 == 0 { context.say("line full: \(n) jobs turned away so far") }
                        continue
                    }
                    jobs.start {
                        _ = try? await semaphore.withPermit {
                            await context.work(context.jittered(context.knob("hold") / 1000, 0.2))
                        }
                    }
                }
            }
        }
        source.resize(to: 1)
        await supervise(context, pools: []) {
            semaphore.setLimit(context.count("permits"))
        }
        await source.shutdown()
        await jobs.cancelAndWait()
    }
}

/// Tasks started one by one that remove themselves when done; `cancelAndWait` ends the
/// ones still running (a job waiting for a permit leaves the line holding nothing).
final class JobSet: Sendable {
    private let state = Locked<(next: Int, running: [Int: Task<Void, Never>])>((0, [:]))
    private let context: ScenarioContext

    init(_ context: ScenarioContext) { self.context = context }

    func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            s.next += 1
            let id = s.next
            s.running[id] = context.spawn {
                await body()
                self.state.withLock { _ = $0.running.removeValue(forKey: id) }
            }
        }
    }

    func cancelAndWait() async {
        let running = state.withLock { Array($0.running.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }
}

import AsyncPatterns
import Foundation
import Scenarios
import Synchronization

/// How a pipeline run keeps time: the live, scaled scenario clock of the dashboard, or the
/// virtual clock of a `SimulationExecutor` (planning, tests).
public struct SimulationClock: Sendable {
    /// Scenario seconds since the run started.
    public let now: @Sendable () -> Double
    /// Waits `seconds` of scenario time. - Throws: when cancelled.
    public let sleep: @Sendable (Double) async throws -> Void

    /// A clock from its two operations.
    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The scenario clock (speed and pause apply).
    public static func scenario(_ clock: ScenarioClock) -> SimulationClock {
        SimulationClock(now: { clock.elapsed.seconds }, sleep: { try await clock.sleep(for: .seconds($0)) })
    }

    /// The virtual clock of `executor`.
    public static func virtual(_ executor: SimulationExecutor) -> SimulationClock {
        SimulationClock(now: { executor.now }, sleep: { try await executor.sleep($0) })
    }
}

/// One item travelling through a pipeline.
struct Job: Sendable {
    var id: Int
    /// When its source emitted it.
    var born: Double
    /// When it was offered to the queue it is in (waits count from here, blocked or not).
    var enqueued: Double = 0
}

/// The values a run uses now: the file's, with knobs applied.
struct Parameters: Sendable {
    var rate: [String: Double] = [:]
    var workers: [String: Int] = [:]
    var failure: [String: Double] = [:]
    var service: [String: ServiceTime] = [:]
    var capacity: [String: Int] = [:]
    var permits: [String: Int] = [:]

    init(_ spec: PipelineSpec, knobs: [String: Double]) {
        for s in spec.sources { rate[s.name] = s.rate }
        for p in spec.pools {
            workers[p.name] = p.workers
            failure[p.name] = p.failure
            service[p.name] = p.service
        }
        for q in spec.queues { capacity[q.name] = q.capacity }
        for s in spec.semaphores { permits[s.name] = s.permits }
        for k in spec.knobs {
            guard let v = knobs[k.name] else { continue }
            switch k.field {
            case .rate: rate[k.stage] = v
            case .workers: workers[k.stage] = Int(v.rounded())
            case .failure: failure[k.stage] = v / 100
            case .service: service[k.stage] = service[k.stage]!.scaled(to: max(v, 0) / 1000)
            case .capacity: capacity[k.stage] = max(1, Int(v.rounded()))
            case .permits: permits[k.stage] = Int(v.rounded())
            }
        }
    }
}

/// A queue's running sums for the theory pane: arrivals, gaps, depth over time, waits and
/// service times, since `start` (reset when a knob changes, so the numbers describe the
/// pipeline as it is now).
struct QueueTally: Sendable {
    var start = 0.0
    var arrivals = 0
    var lastArrival: Double?
    var gapSum = 0.0
    var gapSquares = 0.0
    var waiting = 0
    var lastChange = 0.0
    var depthArea = 0.0
    var taken = 0
    var waitSum = 0.0
    var served = 0
    var serviceSum = 0.0
    var serviceSquares = 0.0

    mutating func advance(to now: Double) {
        depthArea += Double(waiting) * max(0, now - lastChange)
        lastChange = now
    }

    mutating func arrive(at now: Double) {
        advance(to: now)
        waiting += 1
        arrivals += 1
        if let last = lastArrival {
            let gap = now - last
            gapSum += gap
            gapSquares += gap * gap
        }
        lastArrival = now
    }

    /// An arrival that did not get in after all (the put was cancelled, the queue full).
    mutating func withdraw(at now: Double) {
        advance(to: now)
        waiting = max(0, waiting - 1)
        arrivals = max(0, arrivals - 1)
    }

    mutating func take(at now: Double, waited: Double) {
        advance(to: now)
        waiting = max(0, waiting - 1)
        taken += 1
        waitSum += waited
    }

    mutating func serve(_ seconds: Double) {
        served += 1
        serviceSum += seconds
        serviceSquares += seconds * seconds
    }

    /// Starts the sums again at `now`; items waiting now stay counted as waiting.
    mutating func reset(at now: Double) {
        self = QueueTally(start: now, waiting: waiting, lastChange: now)
    }

    static func scv(sum: Double, squares: Double, count: Int) -> Double? {
        guard count >= 2, sum > 0 else { return nil }
        let mean = sum / Double(count)
        return max(0, squares / Double(count) - mean * mean) / (mean * mean)
    }
}

/// End-to-end times of finished items, in buckets 1% wide (fixed memory), for percentiles.
struct LatencyTally: Sendable {
    static let base = 1e-6
    static let ratio = log(1.01)
    var buckets = [Int](repeating: 0, count: 2400)
    var count = 0
    var sum = 0.0

    mutating func record(_ seconds: Double) {
        count += 1
        sum += seconds
        let index = seconds <= Self.base ? 0 : Int(log(seconds / Self.base) / Self.ratio) + 1
        buckets[min(buckets.count - 1, index)] += 1
    }

    /// The `q` quantile (0...1), at the upper edge of its bucket.
    func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int((q * Double(count)).rounded(.up))
        var seen = 0
        for (i, n) in buckets.enumerated() {
            seen += n
            if seen >= rank { return Self.base * exp(Self.ratio * Double(i)) }
        }
        return nil
    }

    var mean: Double? { count > 0 ? sum / Double(count) : nil }
}

/// A value behind a lock that several tasks hold by reference. `Locked` (a pthread mutex,
/// as everywhere in Sluice): ThreadSanitizer reports `Synchronization.Mutex`'s sections as
/// races, since it does not see the futex as synchronization.
final class Guarded<Value: Sendable>: Sendable {
    let mutex: Locked<Value>
    init(_ value: Value) { mutex = Locked(value) }
}

/// A pool's numbers read per item.
struct PoolLive: Sendable {
    var failure: Double
    var service: ServiceTime
}

/// Items in the pipeline, what became of those that left, and who waits for the last.
struct Ledger: Sendable {
    var inFlight = 0
    var sourcesDone = false
    var waiter: CheckedContinuation<Void, Never>?
    var totals = PipelineTotals()
    var latency = LatencyTally()
    var nextID = 0

    /// The waiter, taken, once the sources are done and nothing is left in flight.
    mutating func takeWaiterIfDrained() -> CheckedContinuation<Void, Never>? {
        guard sourcesDone, inFlight == 0 else { return nil }
        defer { waiter = nil }
        return waiter
    }
}

/// Counts of a whole run.
public struct PipelineTotals: Sendable, Equatable {
    /// Items the sources emitted (and feedback created; fan-out copies count too).
    public var emitted = 0
    /// Items the sources emitted alone.
    public var fromSources = 0
    /// Items that reached the end of the pipeline.
    public var completed = 0
    /// Items given up after their retries.
    public var failed = 0
    /// Feedback items dropped because their queue was full.
    public var dropped = 0
    /// Items in hand when the run was stopped.
    public var undelivered = 0
}

/// A pipeline file running: its patterns, the tasks that move items between them, and the
/// sums the theory pane and the planner read.
final class PipelineEngine: Sendable {
    let spec: PipelineSpec
    let clock: SimulationClock
    let executor: (any TaskExecutor)?
    let queues: [String: BoundedQueue<Job>]
    let semaphores: [String: AsyncSemaphore]
    let actors: [String: MailboxActor<Job>]
    let parameters: Locked<Parameters>
    let tallies: [String: Guarded<QueueTally>]
    /// Items born before this do not count in the latencies (a warm-up).
    let measureFrom: Double
    /// Every item's coming and going under one lock: counts, latencies, who waits for the end.
    let ledger = Locked(Ledger())
    /// What each worker and source reads per item, without the dictionaries of `parameters`.
    private let poolLive: [String: Guarded<PoolLive>]
    private let sourceRate: [String: Guarded<Double>]
    private let random: Locked<SplitMix64>
    private let seed: UInt64
    private let say: @Sendable (String) -> Void

    init(
        spec: PipelineSpec, knobs: [String: Double], clock: SimulationClock, executor: (any TaskExecutor)?, registry: PatternRegistry?,
        seed: UInt64, measureFrom: Double = 0, say: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.spec = spec
        self.clock = clock
        self.executor = executor
        self.measureFrom = measureFrom
        self.say = say
        let parameters = Parameters(spec, knobs: knobs)
        self.parameters = Locked(parameters)
        poolLive = Dictionary(
            uniqueKeysWithValues: spec.pools.map {
                ($0.name, Guarded(PoolLive(failure: parameters.failure[$0.name]!, service: parameters.service[$0.name]!)))
            })
        sourceRate = Dictionary(uniqueKeysWithValues: spec.sources.map { ($0.name, Guarded(parameters.rate[$0.name]!)) })
        random = Locked(SplitMix64(seed: seed))
        self.seed = seed
        var queues: [String: BoundedQueue<Job>] = [:]
        var tallies: [String: Guarded<QueueTally>] = [:]
        for q in spec.queues {
            let capacity = parameters.capacity[q.name]!
            queues[q.name] = BoundedQueue(
                capacity: capacity, resumeProducersBelow: q.lowWater.map { min($0, capacity) }, name: q.name, registry: registry)
            tallies[q.name] = Guarded(QueueTally())
        }
        self.queues = queues
        self.tallies = tallies
        var semaphores: [String: AsyncSemaphore] = [:]
        for s in spec.semaphores {
            semaphores[s.name] = AsyncSemaphore(limit: parameters.permits[s.name]!, name: s.name, registry: registry)
        }
        self.semaphores = semaphores
        var actors: [String: MailboxActor<Job>] = [:]
        for a in spec.actors { actors[a.name] = MailboxActor(name: a.name, mailboxCapacity: a.mailbox, registry: registry) }
        self.actors = actors
    }

    /// Sets the values the run uses from now on (pools, queues and semaphores take theirs at
    /// the next `Running.apply()`).
    func update(_ p: Parameters) {
        parameters.withLock { $0 = p }
        for (name, live) in poolLive { live.mutex.withLock { $0 = PoolLive(failure: p.failure[name]!, service: p.service[name]!) } }
        for (name, rate) in sourceRate { rate.mutex.withLock { $0 = p.rate[name]! } }
    }

    /// Where an item goes next, looked up once per task.
    enum Target {
        case queue(BoundedQueue<Job>, Guarded<QueueTally>)
        case actor(MailboxActor<Job>)
    }

    func target(_ name: String) -> Target {
        if let q = queues[name] { return .queue(q, tallies[name]!) }
        return .actor(actors[name]!)
    }

    // MARK: randomness

    /// A uniform number in (0, 1].
    func uniform() -> Double {
        random.withLock { 1 - Double($0.next() >> 11) * 0x1p-53 }
    }

    /// One service time, drawing only the uniform numbers its distribution needs.
    func sample(_ service: ServiceTime) -> Double {
        switch service {
        case .fixed(let t): t
        case .exponential: service.sample(uniform(), 0)
        case .logNormal: service.sample(uniform(), uniform())
        }
    }

    // MARK: running

    /// Starts every task: actors, pools, sources. `finite`: sources stop after their items
    /// or `spec.seedDuration`, and `waitUntilDrained` returns once every item is through.
    func start(finite: Bool) -> Running {
        var tasks: [Task<Void, Never>] = []
        for a in spec.actors {
            let actor = actors[a.name]!
            let behavior = StageBehavior(engine: self, spec: a)
            tasks.append(Task(executorPreference: executor) { await actor.run(behavior) })
        }
        var pools: [String: WorkerPool] = [:]
        for p in spec.pools {
            let pool = WorkerPool { [self] _ in Task(executorPreference: executor) { await self.work(p) } }
            pool.resize(to: parameters.withLock { $0.workers[p.name]! })
            pools[p.name] = pool
        }
        let sources = spec.sources.map { s in Task(executorPreference: executor) { await self.emit(s, finite: finite) } }
        let sourcesDone = Task(executorPreference: executor) { [self] in
            for s in sources { await s.value }
            ledger.withLock { l -> CheckedContinuation<Void, Never>? in
                l.sourcesDone = true
                return l.takeWaiterIfDrained()
            }?.resume()
        }
        return Running(engine: self, actorTasks: tasks, pools: pools, sources: sources + [sourcesDone])
    }

    /// A started run's tasks.
    struct Running: Sendable {
        let engine: PipelineEngine
        let actorTasks: [Task<Void, Never>]
        let pools: [String: WorkerPool]
        let sources: [Task<Void, Never>]

        /// Applies the current parameters: pool sizes, capacities, permits.
        func apply() {
            let p = engine.parameters.withLock { $0 }
            // In the file's order, never a dictionary's (which differs from process to process):
            // the same seed must give the same events.
            for pool in engine.spec.pools { pools[pool.name]!.resize(to: max(0, p.workers[pool.name]!)) }
            for q in engine.spec.queues { engine.queues[q.name]!.setCapacity(p.capacity[q.name]!) }
            for s in engine.spec.semaphores { engine.semaphores[s.name]!.setLimit(max(0, p.permits[s.name]!)) }
        }

        /// Stops the sources, then the workers (each finishes the item it holds), then the
        /// actors; waits for all of them.
        func stop() async {
            for s in sources { s.cancel() }
            for s in sources { await s.value }
            for pool in engine.spec.pools { await pools[pool.name]!.shutdown() }
            for a in engine.spec.actors { engine.actors[a.name]!.stop() }
            for t in actorTasks { await t.value }
            for q in engine.spec.queues { engine.queues[q.name]!.close() }
        }
    }

    /// Returns once the sources are done and every item they emitted is finished.
    /// Also returns when the task is cancelled.
    func waitUntilDrained() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = ledger.withLock { l -> Bool in
                    if l.sourcesDone && l.inFlight == 0 || Task.isCancelled { return true }
                    l.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            ledger.withLock { l -> CheckedContinuation<Void, Never>? in
                defer { l.waiter = nil }
                return l.waiter
            }?.resume()
        }
    }

    /// `n` more items in the pipeline (fan-out copies); returns the last's id.
    @discardableResult
    func born(_ n: Int, fromSource: Bool = false) -> Int {
        ledger.withLock { l in
            l.inFlight += n
            l.totals.emitted += n
            if fromSource { l.totals.fromSources += n }
            l.nextID += n
            return l.nextID
        }
    }

    /// One item left the pipeline, counted under `outcome`.
    func gone(_ outcome: WritableKeyPath<PipelineTotals, Int>, bornAt born: Double? = nil) {
        let now = born == nil ? 0 : clock.now()
        let measure = measureFrom
        ledger.withLock { l -> CheckedContinuation<Void, Never>? in
            l.inFlight -= 1
            l.totals[keyPath: outcome] += 1
            if let born, born >= measure { l.latency.record(now - born) }
            return l.takeWaiterIfDrained()
        }?.resume()
    }

    func complete(_ job: Job) { gone(\.completed, bornAt: job.born) }

    private func emit(_ source: SourceSpec, finite: Bool) async {
        var emitted = 0
        // Each source draws its gaps from a stream of its own: two runs with the same seed
        // and different workers see the very same arrivals (common random numbers), so the
        // planner compares settings, not luck.
        var gaps = SplitMix64(seed: seed &+ 0x9E37_79B9 &* UInt64(spec.sources.firstIndex { $0.name == source.name }! + 1))
        let rateNow = sourceRate[source.name]!
        let to = target(source.to)
        while !Task.isCancelled {
            let rate = rateNow.mutex.withLock { $0 }
            guard rate > 0 else {
                if finite { return }
                do { try await clock.sleep(0.1) } catch { return }
                continue
            }
            var batch = 1
            let gap: Double
            switch source.arrivals {
            case .constant: gap = 1 / rate
            case .poisson: gap = -log(1 - Double(gaps.next() >> 11) * 0x1p-53) / rate
            case .bursty(let size):
                batch = size
                gap = Double(size) / rate
            }
            do { try await clock.sleep(gap) } catch { return }
            for _ in 0..<batch {
                if let limit = source.items, emitted >= limit { return }
                if finite, source.items == nil, clock.now() > spec.seedDuration { return }
                emitted += 1
                let id = born(1, fromSource: true)
                await deliver(Job(id: id, born: clock.now()), to: to)
            }
        }
    }

    /// Puts `job` into the queue or actor `target`, waiting for room (back-pressure).
    func deliver(_ job: Job, to target: Target) async {
        var job = job
        switch target {
        case .queue(let queue, let tally):
            let now = clock.now()
            job.enqueued = now
            tally.mutex.withLock { $0.arrive(at: now) }
            do {
                try await queue.put(job)
                return
            } catch {
                tally.mutex.withLock { $0.withdraw(at: clock.now()) }
            }
        case .actor(let actor):
            do {
                try await actor.tell(job)
                return
            } catch {}
        }
        gone(\.undelivered)
    }

    private func work(_ pool: PoolSpec) async {
        let queue = queues[pool.from]!
        let tally = tallies[pool.from]!
        let semaphore = pool.semaphore.map { semaphores[$0]! }
        let live = poolLive[pool.name]!
        let next = pool.to.map(target)
        let loop = pool.feedback.map { (chance: $0.chance, queue: queues[$0.to]!, tally: tallies[$0.to]!) }
        while true {
            let job: Job
            do { job = try await queue.get() } catch { return }
            let took = clock.now()
            tally.mutex.withLock { $0.take(at: took, waited: took - job.enqueued) }
            if let semaphore {
                do { try await semaphore.acquire() } catch {
                    // Stopped while waiting for a permit: the item goes on unserved.
                    gone(\.undelivered)
                    try? queue.taskDone()
                    return
                }
            }
            let current = live.mutex.withLock { $0 }
            let failure = current.failure
            let service = current.service
            var spent = 0.0
            var attempts = 0
            var failed: Bool
            repeat {
                let t = sample(service)
                // A cancelled worker (the pool shrank, or the run stops) finishes at once
                // what it holds: the item goes on rather than being lost.
                try? await clock.sleep(t)
                spent += t
                attempts += 1
                failed = failure > 0 && uniform() <= failure
            } while failed && attempts <= pool.retries
            if let semaphore { try? semaphore.release() }
            tally.mutex.withLock { $0.serve(spent) }
            try? queue.taskDone()
            if let loop, uniform() <= loop.chance {
                let now = clock.now()
                let id = born(1)
                // Counted before it goes in, so a worker that takes it at once finds it counted.
                loop.tally.mutex.withLock { $0.arrive(at: now) }
                if (try? loop.queue.tryPut(Job(id: id, born: now, enqueued: now))) != true {
                    loop.tally.mutex.withLock { $0.withdraw(at: now) }
                    gone(\.dropped)
                }
            }
            if failed {
                gone(\.failed)
            } else if let next {
                await deliver(job, to: next)
            } else {
                complete(job)
            }
        }
    }

    /// An actor's stage: spends its service time, then hands a copy to each target.
    struct StageBehavior: ActorBehavior {
        let engine: PipelineEngine
        let spec: ActorSpec
        let targets: [Target]

        init(engine: PipelineEngine, spec: ActorSpec) {
            self.engine = engine
            self.spec = spec
            targets = spec.to.map(engine.target)
        }

        mutating func receive(_ envelope: Envelope<Job>, context: ActorContext<Job>) async throws {
            if let service = spec.service { try? await engine.clock.sleep(engine.sample(service)) }
            let job = envelope.message
            guard !targets.isEmpty else { return engine.complete(job) }
            if targets.count > 1 { engine.born(targets.count - 1) }
            for target in targets { await engine.deliver(job, to: target) }
        }
    }

    // MARK: theory

    /// Starts every queue's sums again (after a knob change).
    func resetTallies() {
        let now = clock.now()
        for t in tallies.values { t.mutex.withLock { $0.reset(at: now) } }
    }

    /// Each queue with a pool: measured λ, μ, c, waits and depth beside the prediction.
    func models() -> [QueueModelSnapshot] {
        let now = clock.now()
        let p = parameters.withLock { $0 }
        return spec.queues.compactMap { q -> QueueModelSnapshot? in
            guard let pool = spec.pool(servingQueue: q.name) else { return nil }
            var t = tallies[q.name]!.mutex.withLock { $0 }
            t.advance(to: now)
            let span = now - t.start
            guard span > 0 else { return nil }
            var servers = p.workers[pool.name]!
            if let s = pool.semaphore { servers = min(servers, p.permits[s]!) }
            var m = QueueModelSnapshot(name: q.name, servers: servers)
            m.arrivalRate = Double(t.arrivals) / span
            let meanService = t.served > 0 ? t.serviceSum / Double(t.served) : p.service[pool.name]!.mean
            m.serviceRate = meanService > 0 ? 1 / meanService : 0
            m.utilization = servers > 0 && m.serviceRate > 0 ? m.arrivalRate / (Double(servers) * m.serviceRate) : .infinity
            m.measuredWaitSeconds = t.taken > 0 ? t.waitSum / Double(t.taken) : 0
            m.measuredDepth = t.depthArea / span
            m.littleDepth = Queueing.littlesLaw(arrivalRate: m.arrivalRate, time: m.measuredWaitSeconds)
            m.serversForStability = Queueing.smallestStableServers(arrivalRate: m.arrivalRate, serviceRate: m.serviceRate)
            m.samples = t.taken
            let ca2 = QueueTally.scv(sum: t.gapSum, squares: t.gapSquares, count: t.arrivals - 1) ?? 1
            let cs2 = QueueTally.scv(sum: t.serviceSum, squares: t.serviceSquares, count: t.served) ?? p.service[pool.name]!.scv
            let poissonIn = spec.sources.contains { $0.to == q.name && $0.arrivals == .poisson }
            let markov = poissonIn && p.service[pool.name]!.isExponential && pool.failure == 0 && abs(ca2 - 1) < 0.2
            let prediction = Queueing.predict(
                arrivalRate: m.arrivalRate, serviceRate: m.serviceRate, servers: servers, arrivalSCV: markov ? 1 : ca2,
                serviceSCV: markov ? 1 : cs2)
            m.model = markov ? "M/M/c" : "G/G/c ca²=\(formatDecimal(ca2)) cs²=\(formatDecimal(cs2))"
            m.predictedWaitSeconds = prediction.meanWait
            m.predictedDepth = prediction.meanDepth
            return m
        }
    }
}

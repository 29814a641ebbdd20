import AsyncPatterns

/// The tutorial's actor model: counters and a logger exchanging messages through
/// mailboxes, plus a mesh of N actors passing messages at a configurable rate.
public struct ActorsScenario: Scenario {
    public init() {}
    public let name = "actors"
    public let summary = "Actors with observable mailboxes, peers, replies and dead letters"
    public let explanation = """
        Each actor processes its mailbox one message at a time. A driver sends `rate` \
        messages per second into a mesh of actors; each forwards half of what it gets to a \
        random peer and reports to the logger. actor-0 is 4x slower than the rest: watch its \
        mailbox grow. Sends to unknown names, stopped actors or full mailboxes (with a \
        `mailbox` bound) show up as dead letters.
        """
    public let panes: [PatternKind] = [.actor, .health]
    public let knobs = [
        KnobSpec("actors", range: 1...100_000, step: 1, default: 8, "actors in the mesh"),
        KnobSpec("rate", unit: "msg/s", range: 0...100_000, step: 10, default: 100, "messages the driver sends per second"),
        KnobSpec("processing", unit: "ms", range: 0...5000, step: 5, default: 30, "time to process one message (actor-0 takes 4x)"),
        KnobSpec("mailbox", unit: "msgs", range: 0...10_000, step: 10, default: 0, "mailbox bound for new actors (0 = unbounded)"),
    ]
    public let seedValues: [String: Double] = [:]

    public func run(_ context: ScenarioContext) async throws {
        if context.preset == .seed {
            try await runSeed(context)
        } else {
            await runLive(context)
        }
    }

    /// counter1 sends "increment" to itself (not its own peer: a dead letter), `{value: 5}`
    /// to counter2; counter2 tells the logger "operation complete".
    private func runSeed(_ context: ScenarioContext) async throws {
        let directory = ActorDirectory<TutorialMessage>()
        let counter1 = MailboxActor<TutorialMessage>(name: "counter1", directory: directory, registry: context.registry)
        let counter2 = MailboxActor<TutorialMessage>(name: "counter2", directory: directory, registry: context.registry)
        let logger = MailboxActor<TutorialMessage>(name: "logger", directory: directory, registry: context.registry)
        // Final state is read from what the behaviours publish, not asked through the
        // mailboxes: an ask would be counted as a message processed.
        let counts = Locked<[String: Int]>([:])
        let logged = Locked(0)
        let onChange: @Sendable (String, TutorialMessage, Int) -> Void = { name, message, count in
            counts.withLock { $0[name] = count }
            switch message {
            case .add(let n): context.say("\(name): added \(n), now \(count)")
            default: context.say("\(name): counter=\(count)")
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await counter1.run(CounterBehavior(onChange: onChange)) }
            group.addTask { await counter2.run(CounterBehavior(onChange: onChange)) }
            group.addTask {
                await logger.run(
                    LoggerBehavior { line in
                        logged.withLock { $0 += 1 }
                        context.say("log: \(line)")
                    })
            }
            if await !counter1.send(to: "counter1", .increment) {
                context.say("dead letter: counter1 -> counter1 \"increment\" (unknown recipient: an actor is not its own peer)")
            }
            await counter1.send(to: "counter2", .add(5))
            await counter2.send(to: "logger", .text("operation complete"))
            try await context.sleep(0.5)
            for actor in [counter1, counter2, logger] { actor.stop() }
            try await group.waitForAll()
        }
        let (n, lines) = (counts.withLock { $0["counter2"] ?? 0 }, logged.withLock { $0 })
        context.say("counter2 = \(n); logger holds \(lines) line\(lines == 1 ? "" : "s")")
    }

    private func runLive(_ context: ScenarioContext) async {
        let directory = ActorDirectory<TutorialMessage>()
        let logger = MailboxActor<TutorialMessage>(name: "logger", directory: directory, registry: context.registry)
        let mesh = Mesh(context: context, directory: directory)
        let loggerRun = context.spawn { await logger.run(LoggerBehavior()) }
        let driver = WorkerPool { _ in
            context.spawn {
                var sent = 0
                while !Task.isCancelled {
                    let rate = context.knob("rate")
                    guard rate > 0 else {
                        do { try await context.sleep(0.1) } catch { return }
                        continue
                    }
                    // Send in small batches so high rates do not need one sleep per message.
                    let batch = max(1, Int(rate / 50))
                    do { try await context.sleep(Double(batch) / rate) } catch { return }
                    for _ in 0..<batch {
                        sent += 1
                        // Every 97th message goes to a name nobody has: a visible dead letter.
                        let target = sent % 97 == 0 ? "ghost" : mesh.randomName()
                        await mesh.driverSend(to: target, .increment)
                    }
                }
            }
        }
        driver.resize(to: 1)
        var version = context.knobs.version
        while true {
            await mesh.resize(to: context.count("actors"))
            do { version = try await context.knobs.waitForChange(after: version) } catch { break }
        }
        await driver.shutdown()
        await mesh.stopAll()
        logger.stop()
        await loggerRun.value
    }
}

/// The live mesh: actors added and removed as the `actors` knob moves.
private final class Mesh: Sendable {
    let context: ScenarioContext
    let directory: ActorDirectory<TutorialMessage>
    let driverActor: MailboxActor<TutorialMessage>
    private let members = Locked<[(MailboxActor<TutorialMessage>, Task<Void, Never>)]>([])

    init(context: ScenarioContext, directory: ActorDirectory<TutorialMessage>) {
        self.context = context
        self.directory = directory
        driverActor = MailboxActor(name: "driver", directory: directory, registry: context.registry)
    }

    func randomName() -> String {
        let n = members.withLock { $0.count }
        return "actor-\(context.pick(0..<max(1, n)))"
    }

    /// The driver sends as an actor of its own, so dead letters are counted against it.
    func driverSend(to name: String, _ message: TutorialMessage) async {
        let full: MailboxActor<TutorialMessage>.FullPolicy = context.count("mailbox") > 0 ? .fail : .wait
        await driverActor.send(to: name, message, ifFull: full)
    }

    func resize(to n: Int) async {
        let removed = members.withLock { list -> [(MailboxActor<TutorialMessage>, Task<Void, Never>)] in
            while list.count < n {
                let bound = context.count("mailbox")
                let actor = MailboxActor<TutorialMessage>(
                    name: "actor-\(list.count)", mailboxCapacity: bound > 0 ? bound : nil,
                    directory: directory, registry: context.registry)
                let behavior = MeshBehavior(context: context, slow: list.isEmpty, mesh: self)
                list.append((actor, context.spawn { await actor.run(behavior) }))
            }
            let removed = list.count > n ? Array(list[n...]) : []
            if list.count > n { list.removeLast(list.count - n) }
            return removed
        }
        for (actor, _) in removed { actor.stop() }
        for (_, task) in removed { await task.value }
    }

    var count: Int { members.withLock { $0.count } }

    func stopAll() async {
        let all = members.withLock { list -> [(MailboxActor<TutorialMessage>, Task<Void, Never>)] in
            defer { list.removeAll() }
            return list
        }
        for (actor, _) in all { actor.stop() }
        for (_, task) in all { await task.value }
    }
}

/// A mesh member: works on each message, forwards half of them to a random peer, and
/// reports every 20th to the logger.
private struct MeshBehavior: ActorBehavior {
    let context: ScenarioContext
    let slow: Bool
    /// Unowned: the mesh stops every member before it goes (no closure and weak reference
    /// an actor, with 100,000 of them).
    unowned let mesh: Mesh
    var handled = 0

    mutating func receive(_ envelope: Envelope<TutorialMessage>, context actor: ActorContext<TutorialMessage>) async throws {
        handled += 1
        let ms = context.knob("processing") * (slow ? 4 : 1)
        if ms > 0 { await context.work(context.jittered(ms / 1000, 0.3)) }
        if context.chance(0.5) {
            let peer = "actor-\(context.pick(0..<max(1, mesh.count)))"
            if peer != actor.name {
                await actor.send(to: peer, .increment, ifFull: context.count("mailbox") > 0 ? .fail : .wait)
            }
        }
        if handled % 20 == 0 {
            await actor.send(to: "logger", .text("\(actor.name) handled \(handled)"))
        }
    }
}

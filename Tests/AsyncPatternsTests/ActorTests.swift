import Synchronization
import Testing
@testable import AsyncPatterns

@Suite struct ActorTests {
    /// The tutorial's actor example: counter1 sends "increment" to itself (not its own peer:
    /// a dead letter), `{value: 5}` to counter2, counter2 tells the logger it is done.
    @Test func tutorialCounterAndLogger() async throws {
        let registry = PatternRegistry()
        let directory = ActorDirectory<TutorialMessage>()
        let counter1 = MailboxActor<TutorialMessage>(name: "counter1", directory: directory, registry: registry)
        let counter2 = MailboxActor<TutorialMessage>(name: "counter2", directory: directory, registry: registry)
        let logger = MailboxActor<TutorialMessage>(name: "logger", directory: directory, registry: registry)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await counter1.run(CounterBehavior()) }
            group.addTask { await counter2.run(CounterBehavior()) }
            group.addTask { await logger.run(LoggerBehavior()) }
            #expect(await counter1.send(to: "counter1", .increment) == false)
            #expect(await counter1.send(to: "counter2", .add(5)))
            #expect(await counter2.send(to: "logger", .text("operation complete")))
            #expect(try await counter2.ask(.getCount) == .count(5))
            #expect(try await counter1.ask(.getCount) == .count(0))
            #expect(try await logger.ask(.getLines) == .lines(["[counter2] operation complete"]))
            for a in [counter1, counter2, logger] { a.stop() }
            try await group.waitForAll()
        }
        let snap = registry.snapshot()
        #expect(snap.actor("counter1")?.deadLetters == 1)
        #expect(snap.actor("counter1")?.recentDeadLetters == ["counter1: unknown recipient"])
        #expect(snap.actor("counter2")?.processed == 2)
        #expect(snap.actor("logger")?.isStopped == true)
    }

    @Test func loggerKeepsTheLastHundredLines() async throws {
        let logger = MailboxActor<TutorialMessage>(name: "logger")
        let run = Task { await logger.run(LoggerBehavior()) }
        for i in 0..<150 { try await logger.tell(.text("line \(i)"), from: "t") }
        guard case .lines(let lines) = try await logger.ask(.getLines) else { Issue.record(); return }
        #expect(lines.count == 100 && lines.first == "[t] line 50" && lines.last == "[t] line 149")
        logger.stop()
        await run.value
    }

    @Test func boundedMailboxWaitsOrFailsAtTheSendersChoice() async throws {
        let registry = PatternRegistry()
        let slow = MailboxActor<TutorialMessage>(name: "slow", mailboxCapacity: 2, registry: registry)
        try await slow.tell(.increment)
        try await slow.tell(.increment)
        await #expect(throws: MailboxFull.self) { try await slow.tell(.increment, ifFull: .fail) }
        let waiting = Task { try await slow.tell(.add(10)) }
        while slow.stats.mailboxDepth < 3 { await Task.yield() }  // counted while it waits
        let run = Task { await slow.run(CounterBehavior()) }
        try await waiting.value
        #expect(try await slow.ask(.getCount) == .count(12))
        slow.stop()
        await run.value
        #expect(registry.snapshot().actor("slow")?.deadLetters == 1)
    }

    /// Stopping with a full mailbox: the message in progress finishes, every other one is
    /// reported as a dead letter; nothing vanishes. All 51 are taken in the run loop's first
    /// batch, so this also covers the messages in hand when the actor stops.
    @Test func stopWithAFullMailboxReportsEveryMessage() async throws {
        struct Gated: ActorBehavior {
            let gate: ManualClock
            mutating func receive(_ envelope: Envelope<TutorialMessage>, context: ActorContext<TutorialMessage>) async throws {
                try? await gate.sleep(for: .seconds(1))
            }
        }
        let registry = PatternRegistry()
        let gate = ManualClock()
        let actor = MailboxActor<TutorialMessage>(name: "a", registry: registry)
        for _ in 0..<50 { try await actor.tell(.increment) }
        let asked = Task { try await actor.ask(.getCount) }
        while actor.stats.mailboxDepth < 51 { await Task.yield() }
        let run = Task { await actor.run(Gated(gate: gate)) }
        await gate.waitForSleepers(1)  // the first message is in progress
        actor.stop()
        gate.advance(by: .seconds(1))
        await run.value
        await #expect(throws: ActorStopped.self) { try await asked.value }
        await #expect(throws: ActorStopped.self) { try await actor.tell(.increment) }
        let snap = registry.snapshot().actor("a")
        #expect(snap?.processed == 1)
        #expect(snap?.deadLetters == 51)  // 50 queued (49 + the ask) + the late tell
        #expect(actor.stats.mailboxDepth == 0)
    }

    @Test func askWithoutReplyFailsInsteadOfHanging() async throws {
        let actor = MailboxActor<TutorialMessage>(name: "mute")
        let run = Task { await actor.run(CounterBehavior()) }
        await #expect(throws: NoReply.self) { try await actor.ask(.increment) }
        actor.stop()
        await run.value
    }
}

import AsyncPatterns
import Testing
@testable import Scenarios

/// The tutorial's actors (counter and logger) on the engine's mailboxes.
@Suite struct TutorialActorsTests {
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
            #expect(try await counter2.ask { .getCount($0) } == 5)
            #expect(try await counter1.ask { .getCount($0) } == 0)
            #expect(try await logger.ask { .getLines($0) } == ["[counter2] operation complete"])
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
        let lines = try await logger.ask { .getLines($0) }
        #expect(lines.count == 100 && lines.first == "[t] line 50" && lines.last == "[t] line 149")
        logger.stop()
        await run.value
    }
}

import Synchronization
import Testing
@testable import AsyncPatterns

@Suite struct ActorTests {
    @Test func boundedMailboxWaitsOrFailsAtTheSendersChoice() async throws {
        let registry = PatternRegistry()
        let slow = MailboxActor<Tally>(name: "slow", mailboxCapacity: 2, registry: registry)
        try await slow.tell(.increment)
        try await slow.tell(.increment)
        await #expect(throws: MailboxFull.self) { try await slow.tell(.increment, ifFull: .fail) }
        let waiting = Task { try await slow.tell(.add(10)) }
        while slow.stats.mailboxDepth < 3 { await Task.yield() }  // counted while it waits
        let run = Task { await slow.run(TallyBehavior()) }
        try await waiting.value
        #expect(try await slow.ask { .getCount($0) } == 12)
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
            mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
                try? await gate.sleep(for: .seconds(1))
            }
        }
        let registry = PatternRegistry()
        let gate = ManualClock()
        let actor = MailboxActor<Tally>(name: "a", registry: registry)
        for _ in 0..<50 { try await actor.tell(.increment) }
        let asked = Task { try await actor.ask { .getCount($0) } }
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

    /// `finish()`: what was sent is processed (an ask among it answered), what comes after
    /// is a dead letter, and `run` returns once the mailbox is empty.
    @Test func finishProcessesWhatWasSentAndRefusesTheRest() async throws {
        struct Slow: ActorBehavior {
            let gate: ManualClock
            var count = 0
            mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
                switch envelope.message {
                case .increment:
                    try await gate.sleep(for: .seconds(1))
                    count += 1
                case .add(let n): count += n
                case .getCount(let replyTo): replyTo.send(count)
                }
            }
        }
        let gate = ManualClock()
        let registry = PatternRegistry()
        let actor = MailboxActor<Tally>(name: "finishing", registry: registry)
        let run = Task { await actor.run(Slow(gate: gate)) }
        for _ in 0..<3 { try await actor.tell(.increment) }
        let asked = Task { try await actor.ask { .getCount($0) } }
        await gate.waitForSleepers(1)  // the first increment is being handled
        while actor.stats.mailboxDepth < 3 { await Task.yield() }  // two increments and the ask wait
        actor.finish()
        await #expect(throws: ActorStopped(name: "finishing")) { try await actor.tell(.increment) }
        gate.advance(by: .seconds(1))
        for _ in 0..<2 {
            await gate.waitForSleepers(1)
            gate.advance(by: .seconds(1))
        }
        await run.value
        #expect(try await asked.value == 3)
        #expect(actor.stats.processed == 4 && actor.stats.deadLetters == 1 && actor.stats.isStopped)
        #expect(registry.snapshot().actor("finishing")?.isStopped == true)
    }

    @Test func askWithoutReplyFailsInsteadOfHanging() async throws {
        let actor = MailboxActor<Tally>(name: "mute")
        let run = Task { await actor.run(TallyBehavior()) }
        await #expect(throws: NoReply.self) { try await actor.ask { (_: ReplyTo<Int>) in .increment } }
        actor.stop()
        await run.value
    }
}

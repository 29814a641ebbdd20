import Testing
@testable import AsyncPatterns

/// Requests for the outcome tests: each asks for one way an `ask` can end.
private enum Request: Sendable {
    case answer(ReplyTo<Int>)
    case refuse(ReplyTo<Int>)
    case throwBeforeAnswering(ReplyTo<Int>)
    case ignore(ReplyTo<Int>)
    case waitOnGate(ReplyTo<Int>)
}

private struct Refused: Error, Hashable {}
private struct Broke: Error, Hashable {}

/// Answers, refuses, throws, ignores, or waits on a manual clock (a sleep that throws
/// `CancellationError` when the task running the actor is cancelled) and passes the error on.
private struct Outcomes: ActorBehavior {
    let gate: ManualClock
    mutating func receive(_ envelope: Envelope<Request>, context: ActorContext<Request>) async throws {
        switch envelope.message {
        case .answer(let reply): reply.send(42)
        case .refuse(let reply): reply.fail(Refused())
        case .throwBeforeAnswering: throw Broke()
        case .ignore: break
        case .waitOnGate(let reply):
            try await gate.sleep(for: .seconds(1))
            reply.send(1)
        }
    }
}

/// Every outcome `ask` documents, each with the error that reports it; `ActorStats.failed`
/// counts the messages whose handler threw.
@Suite struct AskOutcomeTests {
    @Test func eachOutcomeHasItsError() async throws {
        let gate = ManualClock()
        let actor = MailboxActor<Request>(name: "outcomes", registry: nil)
        let run = Task { await actor.run(Outcomes(gate: gate)) }

        #expect(try await actor.ask { .answer($0) } == 42)
        await #expect(throws: Refused()) { try await actor.ask { .refuse($0) } }
        await #expect(throws: Broke()) { try await actor.ask { .throwBeforeAnswering($0) } }
        await #expect(throws: NoReply()) { try await actor.ask { .ignore($0) } }
        // No answer in time on the given clock.
        let timing = Task { try await actor.ask(timeout: .seconds(5), clock: gate) { .waitOnGate($0) } }
        await gate.waitForSleepers(2)  // the behaviour's sleep and the ask's deadline
        gate.advance(by: .seconds(1))  // the behaviour answers 1 s in, before the deadline
        #expect(try await timing.value == 1)
        let late = Task { try await actor.ask(timeout: .milliseconds(500), clock: gate) { .waitOnGate($0) } }
        await gate.waitForSleepers(2)
        gate.advance(by: .milliseconds(500))
        await #expect(throws: TimedOut()) { try await late.value }
        gate.advance(by: .milliseconds(500))  // the behaviour finishes; its late answer is ignored

        // The asking task cancelled while it waits for the answer.
        let asker = Task { try await actor.ask { .waitOnGate($0) } }
        await gate.waitForSleepers(1)
        asker.cancel()
        await #expect(throws: CancellationError.self) { try await asker.value }
        gate.advance(by: .seconds(1))
        while actor.stats.processed < 6 { await Task.yield() }

        // Refusing through the handle is an answer: only the handler that threw failed.
        #expect(actor.stats.failed == 1)
        #expect(actor.stats.processed == 6)
        actor.stop()
        await run.value
        // Stopped: the message is a dead letter.
        await #expect(throws: ActorStopped(name: "outcomes")) { try await actor.ask { .answer($0) } }
    }

    /// The asker is not cancelled, but the task running the actor is, while the behaviour
    /// handles this message: the behaviour's sleep throws `CancellationError`, and that is
    /// the error the asker gets; the messages behind it become dead letters (`ActorStopped`).
    @Test func cancellingTheRunTaskMidMessageEndsTheAskInCancellationError() async throws {
        let gate = ManualClock()
        let actor = MailboxActor<Request>(name: "cancelled-run", registry: nil)
        let run = Task { await actor.run(Outcomes(gate: gate)) }
        let asker = Task { try await actor.ask { .waitOnGate($0) } }
        await gate.waitForSleepers(1)  // the message is being handled
        let queued = Task { try await actor.ask { .answer($0) } }
        while actor.stats.mailboxDepth < 1 { await Task.yield() }
        run.cancel()
        await run.value
        let error = await #expect(throws: CancellationError.self) { try await asker.value }
        #expect(error != nil)
        #expect(asker.isCancelled == false)
        await #expect(throws: ActorStopped(name: "cancelled-run")) { try await queued.value }
        #expect(actor.stats.failed == 1 && actor.stats.isStopped)
    }

    /// Stopped before `run` ever started: the ask ends in `ActorStopped` instead of hanging.
    @Test func stoppedBeforeItRanEndsTheAskInActorStopped() async throws {
        let actor = MailboxActor<Request>(name: "never-ran", registry: nil)
        let asker = Task { try await actor.ask { .answer($0) } }
        while actor.stats.mailboxDepth < 1 { await Task.yield() }
        actor.stop()
        await #expect(throws: ActorStopped(name: "never-ran")) { try await asker.value }
        #expect(actor.stats.failed == 0 && actor.stats.deadLetters == 1)
    }
}

/// Where the error set is closed, the calls say so in their type (typed throws): each `do`
/// below declares the one type its calls throw, so this test compiles only while they do.
@Suite struct TypedThrowsTests {
    @Test func closedErrorSetsAreTyped() async throws {
        let permits = AsyncSemaphore(limit: 1, name: "typed", registry: nil)
        do throws(ReleaseWithoutAcquire) {
            try permits.release()
            Issue.record("a release without a permit must throw")
        } catch {
            let typed: ReleaseWithoutAcquire = error
            #expect(typed == ReleaseWithoutAcquire())
        }
        let queue = BoundedQueue<Int>(capacity: 1, name: "typed", registry: nil)
        do throws(TaskDoneWithoutItem) {
            try queue.taskDone()
            Issue.record("taskDone without an item must throw")
        } catch {
            let typed: TaskDoneWithoutItem = error
            #expect(typed == TaskDoneWithoutItem())
        }
        try await permits.acquire()
        let waiter = Task { () -> CancellationError? in
            do throws(CancellationError) {
                try await permits.acquire()
                return nil
            } catch {
                return error  // a CancellationError, by its type
            }
        }
        while permits.stats.waiting < 1 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value != nil)
        try permits.release()
        #expect(permits.stats.inUse == 0)
    }
}

import Testing
@testable import AsyncPatterns

/// Synchronous tests of every lifecycle transition of a `MailboxActor`: no actor, no task.
@Suite struct ActorLifecycleTests {
    typealias State = ActorLifecycle.State

    /// The machine in `state` after one input, and what the input returned.
    func after<A>(_ state: State, _ input: (inout ActorLifecycle) -> A) -> (State, A) {
        var m = ActorLifecycle(state)
        let action = input(&m)
        return (m.state, action)
    }

    @Test func startRunsOnlyFromIdle() {
        #expect(after(.idle) { $0.start() } == (.running, .run))
        for state in [State.running, .cancelled, .stopping, .ended] {
            #expect(after(state) { $0.start() } == (state, .returnAtOnce), "start() in \(state)")
        }
    }

    @Test func stopBeforeRunDrainsHereAndEnds() {
        #expect(after(.idle) { $0.stop() } == (.ended, .drainMailbox))
    }

    @Test func stopWhileRunningLeavesTheDrainToTheLoop() {
        #expect(after(.running) { $0.stop() } == (.stopping, .none))
        #expect(after(.cancelled) { $0.stop() } == (.stopping, .none))
    }

    @Test func stopIsIdempotent() {
        #expect(after(.stopping) { $0.stop() } == (.stopping, .none))
        #expect(after(.ended) { $0.stop() } == (.ended, .none))
    }

    @Test func cancelStopsOnlyARunningLoop() {
        #expect(after(.running) { $0.cancel() }.0 == .cancelled)
        for state in [State.idle, .cancelled, .stopping, .ended] {
            #expect(after(state) { $0.cancel() }.0 == state, "cancel() in \(state)")
        }
    }

    @Test func theLoopEndsFromEveryStateItRunsIn() {
        for state in [State.running, .cancelled, .stopping] {
            #expect(after(state) { $0.loopEnded() }.0 == .ended, "loopEnded() in \(state)")
        }
    }

    @Test func sendsAreTakenUntilStopOrTheEnd() {
        #expect(ActorLifecycle(.idle).acceptsMessages)
        #expect(ActorLifecycle(.running).acceptsMessages)
        // Cancelled: still taken, and reported as dead letters by the loop's drain.
        #expect(ActorLifecycle(.cancelled).acceptsMessages)
        #expect(!ActorLifecycle(.stopping).acceptsMessages)
        #expect(!ActorLifecycle(.ended).acceptsMessages)
        #expect(ActorLifecycle(.stopping).isStopped && ActorLifecycle(.ended).isStopped)
        #expect(!ActorLifecycle(.cancelled).isStopped)
    }

    @Test func onlyARunningLoopTakesAnotherMessage() {
        for state in [State.idle, .running, .cancelled, .stopping, .ended] {
            #expect(ActorLifecycle(state).keepsProcessing == (state == .running), "\(state)")
        }
    }

    /// Every order of `run` and `stop` (and a cancellation) drains the mailbox exactly once.
    @Test func everyInterleavingDrainsExactlyOnce() {
        enum Input: CaseIterable { case start, stop, cancel }
        func drains(_ inputs: [Input]) -> Int {
            var m = ActorLifecycle()
            var drains = 0
            var loopRuns = false
            for input in inputs {
                switch input {
                case .start: loopRuns = m.start() == .run || loopRuns
                case .stop: drains += m.stop() == .drainMailbox ? 1 : 0
                case .cancel: if loopRuns { m.cancel() }
                }
            }
            if loopRuns {
                if m.state == .running { _ = m.stop() }  // the loop leaves only when stopped or cancelled
                m.loopEnded()
                drains += 1
            } else if m.state == .idle {
                drains += m.stop() == .drainMailbox ? 1 : 0
            }
            #expect(m.state == .ended)
            return drains
        }
        for a in Input.allCases {
            for b in Input.allCases {
                for c in Input.allCases {
                    #expect(drains([a, b, c]) == 1, "\([a, b, c])")
                }
            }
        }
    }

    /// The atomic storage applies the machine's transitions and returns their actions.
    @Test func storageAppliesTransitions() {
        let storage = ActorLifecycle.Storage()
        #expect(storage.current.state == .idle)
        #expect(storage.transition { $0.start() } == .run)
        #expect(storage.transition { $0.start() } == .returnAtOnce)
        storage.transition { $0.cancel() }
        #expect(storage.current.state == .cancelled)
        #expect(storage.transition { $0.stop() } == .none)
        storage.transition { $0.loopEnded() }
        #expect(storage.current.state == .ended)
    }
}

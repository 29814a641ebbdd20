import Testing
@testable import AsyncPatterns

@Suite struct AsyncSemaphoreStateMachineTests {
    typealias Machine = AsyncSemaphoreStateMachine<String>

    private func wait(_ m: inout Machine, _ token: String) -> UInt64 {
        guard case .mustWait(let id) = m.acquire() else {
            Issue.record("expected to wait")
            return 0
        }
        guard case .suspended = m.suspend(id: id, token: token, isCancelled: false, now: 0) else {
            Issue.record()
            return 0
        }
        return id
    }

    @Test func grantsUpToTheLimitThenQueuesInOrder() {
        var m = Machine(limit: 2)
        #expect(m.acquire() == .granted(SemaphoreGauges(limit: 2, inUse: 1, waiting: 0)))
        #expect(m.acquire() == .granted(SemaphoreGauges(limit: 2, inUse: 2, waiting: 0)))
        _ = wait(&m, "a")
        _ = wait(&m, "b")
        guard case .handedOff(let g, _) = m.release() else {
            Issue.record()
            return
        }
        #expect(g.token == "a" && g.gauges.inUse == 2 && g.gauges.waiting == 1)
        #expect(m.acquiredCount == 3 && m.maxInUse == 2)
    }

    @Test func noBargingPastTheLine() {
        var m = Machine(limit: 1)
        _ = m.acquire()
        _ = wait(&m, "a")
        guard case .handedOff = m.release() else {
            Issue.record("the permit goes to the waiter")
            return
        }
        guard case .mustWait = m.acquire() else {
            Issue.record("a newcomer must not pass the waiter")
            return
        }
    }

    @Test func releaseWithoutPermitIsRejected() {
        var m = Machine(limit: 1)
        guard case .notHeld = m.release() else {
            Issue.record()
            return
        }
    }

    @Test func abandonRemovesOnlyThatWaiterAndLeaksNothing() {
        var m = Machine(limit: 1)
        _ = m.acquire()
        let a = wait(&m, "a")
        _ = wait(&m, "b")
        let first = m.abandon(id: a)
        #expect(first?.0 == "a")
        let second = m.abandon(id: a)
        #expect(second == nil)
        guard case .handedOff(let g, _) = m.release() else {
            Issue.record()
            return
        }
        #expect(g.token == "b" && m.inUse == 1)
        guard case .released(let after) = m.release() else {
            Issue.record()
            return
        }
        #expect(after.inUse == 0 && after.waiting == 0)
    }

    @Test func cancelledBeforeSuspendingHoldsNothing() {
        var m = Machine(limit: 0)
        guard case .mustWait(let id) = m.acquire() else {
            Issue.record()
            return
        }
        guard case .cancelled("x") = m.suspend(id: id, token: "x", isCancelled: true, now: 0) else {
            Issue.record()
            return
        }
        #expect(m.waiters.isEmpty && m.inUse == 0)
    }

    @Test func suspendGrantsWhenAPermitFreedMeanwhile() {
        var m = Machine(limit: 1)
        _ = m.acquire()
        guard case .mustWait(let id) = m.acquire() else {
            Issue.record()
            return
        }
        _ = m.release()
        guard case .grantedNow("x", let g) = m.suspend(id: id, token: "x", isCancelled: false, now: 0) else {
            Issue.record()
            return
        }
        #expect(g.inUse == 1)
    }

    @Test func raisingTheLimitWakesWaitersLoweringRevokesNothing() {
        var m = Machine(limit: 2)
        _ = m.acquire()
        _ = m.acquire()
        _ = wait(&m, "a")
        _ = wait(&m, "b")
        _ = wait(&m, "c")
        let grants = m.setLimit(4)
        #expect(grants.map(\.token) == ["a", "b"] && m.inUse == 4)
        let none = m.setLimit(1)
        #expect(none.isEmpty && m.inUse == 4)  // held permits stay
        for _ in 0..<3 {
            guard case .released = m.release() else {
                Issue.record("in use >= limit: no hand-off")
                return
            }
        }
        #expect(m.inUse == 1)
        guard case .handedOff(let g, _) = m.release() else {
            Issue.record("below the limit: c gets it")
            return
        }
        #expect(g.token == "c" && m.inUse == 1)
        #expect(m.maxInUse == 4)
    }

    @Test func zeroLimitMakesEveryoneWait() {
        var m = Machine(limit: 0)
        _ = wait(&m, "a")
        let grants = m.setLimit(1)
        #expect(grants.map(\.token) == ["a"])
    }
}

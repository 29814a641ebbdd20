import Synchronization
import Testing
@testable import AsyncPatterns

/// Synchronous tests of the LIFO and priority orders and of the close that discards the
/// items, at the state machine: tokens are plain strings, no tasks.
@Suite struct QueueOrderStateMachineTests {
    typealias Machine = BoundedQueueStateMachine<Int, String, String, String>

    static func drain(_ m: inout Machine) -> [Int] {
        var got: [Int] = []
        while case .item(let e, _, _) = m.get(now: 0) { got.append(e) }
        return got
    }

    @Test func aLIFOMachineKeepsItsItemsUnderTheLockAndCountsThemInTheRing() {
        var m = Machine(capacity: 4, order: .lifo)
        #expect(m.ring.tryPush(9, now: { 0 }).isBlocked)  // no put without the lock
        for i in [1, 3, 2] {
            guard case .stored = m.put(i, now: 0) else {
                Issue.record("room for \(i)")
                return
            }
        }
        #expect(m.depth == 3 && m.putCount == 3 && m.maxDepth == 3 && m.locked?.count == 3)
        if case .item = m.ring.tryPop() { Issue.record("a get without the lock found an item") }
        #expect(m.ring.tryPopBatch(max: 8) { _, _ in } == 0)
        #expect(Self.drain(&m) == [2, 3, 1] && m.gotCount == 3 && m.depth == 0)
    }

    @Test func aPriorityMachineHandsOutInSortedOrderStableAmongEquals() {
        var r = SplitMix64(seed: 23)
        // Items are value * 1000 + put order; ordered by value alone.
        var m = Machine(capacity: 500, order: .priority(by: { $0 / 1000 < $1 / 1000 }))
        var items: [Int] = []
        for n in 0..<500 {
            let item = Int.random(in: 0..<20, using: &r) * 1000 + n
            items.append(item)
            _ = m.put(item, now: 0)
            if n % 7 == 0, case .item(let e, _, _) = m.get(now: 0) {  // interleaved gets
                items.removeAll { $0 == e }
                #expect(items.allSatisfy { $0 / 1000 > e / 1000 || ($0 / 1000 == e / 1000 && $0 > e) })
            }
        }
        #expect(Self.drain(&m) == items.sorted())  // value first, then put order: a stable sort
    }

    @Test func aWaitingConsumerOfAPriorityMachineIsHandedThePutAtOnce() {
        var m = Machine(capacity: 2, order: .priority(by: <))
        guard case .mustWait(let id) = m.get(now: 0),
            case .suspended(_, let none, waits: true) = m.suspendConsumer(id: id, token: "c", isCancelled: false, now: 0)
        else {
            Issue.record()
            return
        }
        #expect(none.isEmpty)
        guard case .stored(let g, let wakes) = m.put(5, now: 0) else {
            Issue.record()
            return
        }
        #expect(wakes.consumers.count == 1 && wakes.consumers.first?.token == "c" && wakes.consumers.first?.element == 5)
        #expect(g.depth == 0 && m.gotCount == 1)
    }

    @Test func aFullLIFOMachineAdmitsWaitingProducersInArrivalOrder() {
        var m = Machine(capacity: 1, order: .lifo)
        _ = m.put(0, now: 0)
        for (i, token) in [(10, "a"), (20, "b")] {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: token, isCancelled: false, now: 0)
        }
        guard case .item(0, _, let first) = m.get(now: 0), case .item(10, _, let second) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(first == ["a"] && second == ["b"])
        #expect(Self.drain(&m) == [20])
    }

    /// The low-water mark in every order: items go in as soon as there is room, producers
    /// are resumed together once the depth is below the mark.
    @Test(arguments: ["lifo", "priority"])
    func aLowWaterMarkResumesAdmittedProducersTogetherInEveryOrder(order: String) {
        var m = Machine(capacity: 3, order: order == "lifo" ? .lifo : .priority(by: <), resumeProducersBelow: 2)
        for i in 1...3 { _ = m.put(i, now: 0) }
        for i in 4...5 {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: "p\(i)", isCancelled: false, now: 0)
        }
        guard case .item(_, let g1, let none1) = m.get(now: 0), case .item(_, _, let none2) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(none1.isEmpty && none2.isEmpty && g1.depth == 3 && m.admitted.count == 2 && m.putCount == 5)
        guard case .item(_, _, let none3) = m.get(now: 0), case .item(_, let g4, let both) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(none3.isEmpty && both == ["p4", "p5"] && g4.depth == 1 && g4.waitingProducers == 0)
    }

    @Test(arguments: ["fifo", "lifo", "priority"])
    func aDiscardingCloseCountsTheItemsDroppedAndDoneAndLetsJoinersGo(order: String) {
        var m = Machine(capacity: 4, order: order == "fifo" ? .fifo : order == "lifo" ? .lifo : .priority(by: <))
        for i in 1...3 { _ = m.put(i, now: 0) }
        guard case .item = m.get(now: 0) else {
            Issue.record()
            return
        }
        m.completion.done.store(1, ordering: .relaxed)  // the item got is done
        let id = m.makeID()
        let waits = m.suspendJoiner(id: id, token: "j", isCancelled: false, done: 1)
        #expect(waits)
        let close = m.close(discardingItems: true)
        #expect(close.discarded.sorted() == (order == "lifo" ? [1, 2] : [2, 3]))
        #expect(close.joiners == ["j"] && close.wasOpen && close.consumers.isEmpty && close.producers.isEmpty)
        #expect(m.droppedCount == 2 && m.depth == 0 && m.gotCount == 3 && m.completion.done.load(ordering: .relaxed) == 3)
        guard case .closed = m.get(now: 0) else {
            Issue.record("closed and empty")
            return
        }
        let again = m.close(discardingItems: true)
        #expect(again.discarded.isEmpty && again.joiners.isEmpty && !again.wasOpen && m.droppedCount == 2)
    }

    @Test func aDiscardingCloseKeepsJoinersWhileAnItemGotIsNotDone() {
        var m = Machine(capacity: 4, order: .lifo)
        for i in 1...2 { _ = m.put(i, now: 0) }
        _ = m.get(now: 0)
        let id = m.makeID()
        let waits = m.suspendJoiner(id: id, token: "j", isCancelled: false, done: 0)
        #expect(waits)
        let close = m.close(discardingItems: true)
        #expect(close.discarded == [1] && close.joiners.isEmpty)
        #expect(m.finishedJoiners(done: m.completion.done.load(ordering: .relaxed) + 1) == ["j"])
    }

    @Test func aDiscardingCloseFailsWaitersAndResumesAdmittedProducersNormally() {
        var m = Machine(capacity: 1, order: .priority(by: <), resumeProducersBelow: 1)
        _ = m.put(1, now: 0)
        for (i, token) in [(2, "admitted"), (3, "waiting")] {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: token, isCancelled: false, now: 0)
        }
        _ = m.get(now: 0)  // 2 goes in; its producer waits for the depth to fall below 1
        let close = m.close(discardingItems: true)
        #expect(close.discarded == [2] && close.admitted == ["admitted"] && close.producers == ["waiting"])
        #expect(m.putCount == 2 && m.droppedCount == 1 && m.depth == 0)
    }

    /// The FIFO ring empties under a freeze: a get without the lock finds it blocked until the
    /// items are counted, then empty.
    @Test func discardingFromTheRingFreezesGetsUntilTheItemsAreCounted() {
        let ring = QueueRing<Int>(capacity: 4, timed: false)
        for i in 0..<4 { _ = ring.tryPush(i, now: { 0 }) }
        _ = ring.tryPop()
        ring.close()
        var seenDuring: String?
        let items = ring.discardAll { count in
            if case .blocked = ring.tryPop() { seenDuring = "blocked \(count)" }
        }
        #expect(items == [1, 2, 3] && seenDuring == "blocked 3")
        guard case .empty = ring.tryPop() else {
            Issue.record("empty after")
            return
        }
        #expect(ring.putCount == 4 && ring.gotCount == 4)
    }
}

extension QueueRing.PushOutcome {
    var isBlocked: Bool {
        if case .blocked = self { return true }
        return false
    }
}

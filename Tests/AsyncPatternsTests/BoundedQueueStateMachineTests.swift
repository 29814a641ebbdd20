import Testing
@testable import AsyncPatterns

/// Synchronous tests of every queue transition: tokens are plain strings, no tasks.
@Suite struct BoundedQueueStateMachineTests {
    typealias Machine = BoundedQueueStateMachine<Int, String, String, String>

    @Test func putStoresUntilFullThenMustWait() {
        var m = Machine(capacity: 2)
        guard case .stored(let g1, _) = m.put(1, now: 0) else {
            Issue.record("expected stored")
            return
        }
        #expect(g1.depth == 1)
        guard case .stored = m.put(2, now: 0) else {
            Issue.record("expected stored")
            return
        }
        guard case .mustWait = m.put(3, now: 0) else {
            Issue.record("expected mustWait")
            return
        }
        #expect(m.depth == 2 && m.putCount == 2 && m.maxDepth == 2)
    }

    @Test func getFromEmptyWaitsThenPutHandsOffToTheFirstConsumer() {
        var m = Machine(capacity: 2)
        guard case .mustWait(let id1) = m.get(now: 0) else {
            Issue.record("expected mustWait")
            return
        }
        guard case .suspended(let g, _, _) = m.suspendConsumer(id: id1, token: "c1", isCancelled: false, now: 0) else {
            Issue.record()
            return
        }
        #expect(g.waitingConsumers == 1)
        guard case .mustWait(let id2) = m.get(now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendConsumer(id: id2, token: "c2", isCancelled: false, now: 0)
        guard case .stored(let after, let wakes) = m.put(7, now: 0), wakes.consumers.count == 1 else {
            Issue.record("expected a hand-off")
            return
        }
        #expect(wakes.consumers[0].token == "c1" && wakes.consumers[0].element == 7)
        #expect(after.waitingConsumers == 1 && after.depth == 0)
        #expect(m.putCount == 1 && m.gotCount == 1)
    }

    @Test func getAdmitsTheFirstWaitingProducerInOrder() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let a, _) = m.put(2, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: a, element: 2, token: "p2", isCancelled: false, now: 0)
        guard case .mustWait(let b, _) = m.put(3, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: b, element: 3, token: "p3", isCancelled: false, now: 0)
        guard case .item(let e, let g, let admitted) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(e == 1 && admitted == ["p2"] && g.depth == 1 && g.waitingProducers == 1)
        guard case .item(let e2, _, let admitted2) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(e2 == 2 && admitted2 == ["p3"])
        guard case .item(let e3, _, let admitted3) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(e3 == 3 && admitted3.isEmpty && m.putCount == 3 && m.gotCount == 3)
    }

    /// Issue #15, point 5: with depth 3 of 4 and a producer waiting, a put used to be
    /// refused (the fixed half-capacity rule). A waiting producer's item now moves in as
    /// soon as a slot frees, so a waiting producer always means a full queue.
    @Test func aPutIsRefusedOnlyWhenTheQueueIsFull() {
        var m = Machine(capacity: 4)
        for i in 1...4 { _ = m.put(i, now: 0) }
        guard case .mustWait(let id, _) = m.put(5, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: id, element: 5, token: "p5", isCancelled: false, now: 0)
        guard case .item(1, let g1, let resumed) = m.get(now: 0) else {
            Issue.record()
            return
        }
        // p5's item took the freed slot and p5 goes on: full again, nobody waits.
        #expect(resumed == ["p5"] && g1.depth == 4 && g1.waitingProducers == 0)
        guard case .mustWait = m.put(6, now: 0) else {
            Issue.record("full: a newcomer waits")
            return
        }
        guard case .item(2, let g2, let none) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(none.isEmpty && g2.depth == 3)
        // Depth 3 of 4, nobody waiting: there is room, so a put is stored.
        guard case .stored(let g3, _) = m.put(7, now: 0) else {
            Issue.record("room: the put must be stored")
            return
        }
        #expect(g3.depth == 4)
        var order: [Int] = []
        while case .item(let e, _, _) = m.get(now: 0) { order.append(e) }
        #expect(order == [3, 4, 5, 7] && m.putCount == 6)
    }

    /// The low-water mark: items still move in as soon as there is room (FIFO), but the
    /// producers are resumed together once the depth is below the mark.
    @Test func aLowWaterMarkResumesAdmittedProducersTogether() {
        var m = Machine(capacity: 4, resumeProducersBelow: 2)
        for i in 1...4 { _ = m.put(i, now: 0) }
        for i in 5...6 {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: "p\(i)", isCancelled: false, now: 0)
        }
        guard case .item(1, let g1, let none1) = m.get(now: 0), case .item(2, let g2, let none2) = m.get(now: 0) else {
            Issue.record()
            return
        }
        // Both items moved in (full again), both producers still suspended.
        #expect(none1.isEmpty && none2.isEmpty && g1.depth == 4 && g2.depth == 4 && g2.waitingProducers == 2)
        #expect(m.putCount == 6 && m.producers.isEmpty && m.admitted.count == 2)
        guard case .item(3, _, let none3) = m.get(now: 0), none3.isEmpty else {
            Issue.record("depth 3: not below the mark yet")
            return
        }
        // Room and producers suspended: a put is stored all the same (full means full).
        guard case .stored = m.put(7, now: 0) else {
            Issue.record("room: the put must be stored")
            return
        }
        _ = m.get(now: 0)
        _ = m.get(now: 0)
        guard case .item(6, let g, let both) = m.get(now: 0) else {
            Issue.record()
            return
        }
        #expect(both == ["p5", "p6"] && g.depth == 1 && g.waitingProducers == 0)
    }

    @Test func cancellingAnAdmittedProducerCompletesItsPut() {
        var m = Machine(capacity: 2, resumeProducersBelow: 1)
        _ = m.put(1, now: 0)
        _ = m.put(2, now: 0)
        guard case .mustWait(let id, _) = m.put(3, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: id, element: 3, token: "p3", isCancelled: false, now: 0)
        _ = m.get(now: 0)  // 3 moves in; p3 waits for depth < 1
        guard case .alreadyPut("p3", _) = m.abandonProducer(id: id) else {
            Issue.record("its item is in: the put happened")
            return
        }
        #expect(m.abandonedCount == 0 && m.depth == 2 && m.putCount == 3)
        let close = m.close()
        #expect(close.admitted.isEmpty && close.producers.isEmpty)
    }

    @Test func closeResumesAdmittedProducersNormally() {
        var m = Machine(capacity: 1, resumeProducersBelow: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let id, _) = m.put(2, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: id, element: 2, token: "p2", isCancelled: false, now: 0)
        guard case .item(1, _, let none) = m.get(now: 0), none.isEmpty else {
            Issue.record()
            return
        }
        let close = m.close(error: CancellationError())
        #expect(close.admitted == ["p2"] && close.producers.isEmpty && m.closeError is CancellationError)
    }

    @Test func suspendReEvaluatesWhatChangedSinceTheFastPath() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let id, _) = m.put(2, now: 0) else {
            Issue.record()
            return
        }
        _ = m.get(now: 0)  // room appeared before the producer got to suspend
        guard case .suspended(let g, ["p"], waits: false) = m.suspendProducer(id: id, element: 2, token: "p", isCancelled: false, now: 0)
        else {
            Issue.record("expected the item in at once and the producer resumed")
            return
        }
        #expect(g.depth == 1 && m.producers.isEmpty)
    }

    @Test func cancelledBeforeSuspendingNeverEnqueues() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let id, _) = m.put(2, now: 0) else {
            Issue.record()
            return
        }
        guard case .cancelled("p") = m.suspendProducer(id: id, element: 2, token: "p", isCancelled: true, now: 0) else {
            Issue.record()
            return
        }
        #expect(m.producers.isEmpty && m.putCount == 1)
        var empty = Machine(capacity: 1)
        guard case .mustWait(let cid) = empty.get(now: 0) else {
            Issue.record()
            return
        }
        guard case .cancelled("c") = empty.suspendConsumer(id: cid, token: "c", isCancelled: true, now: 0) else {
            Issue.record()
            return
        }
        #expect(empty.consumers.isEmpty)
    }

    @Test func abandonRemovesExactlyThatWaiter() {
        var m = Machine(capacity: 1)
        _ = m.put(0, now: 0)
        var ids: [UInt64] = []
        for i in 1...3 {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: "p\(i)", isCancelled: false, now: 0)
            ids.append(id)
        }
        guard case .abandoned("p2", _) = m.abandonProducer(id: ids[1]) else {
            Issue.record("expected p2 abandoned")
            return
        }
        #expect(m.abandonProducer(id: ids[1]) == nil)  // already gone: a second cancel is a no-op
        #expect(m.producers.map(\.token) == ["p1", "p3"])
        var got: [Int] = []
        while case .item(let e, _, _) = m.get(now: 0) { got.append(e) }
        #expect(got == [0, 1, 3])  // the abandoned item 2 was never put
        #expect(m.putCount == 3)
    }

    @Test func abandonConsumerAndJoiner() {
        var m = Machine(capacity: 1)
        guard case .mustWait(let id) = m.get(now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendConsumer(id: id, token: "c", isCancelled: false, now: 0)
        let abandoned = m.abandonConsumer(id: id)
        #expect(abandoned?.0 == "c")
        #expect(m.consumers.isEmpty)
        guard case .stored = m.put(1, now: 0) else {
            Issue.record("the abandoned consumer must not get it")
            return
        }
        let jid = m.makeID()
        let waits = m.suspendJoiner(id: jid, token: "j", isCancelled: false, done: 0)
        #expect(waits)
        let joiner = m.abandonJoiner(id: jid)
        #expect(joiner == "j")
    }

    @Test func closeRejectsPutsReleasesWaitersAndDrains() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let id, _) = m.put(2, now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendProducer(id: id, element: 2, token: "p", isCancelled: false, now: 0)
        let close = m.close()
        #expect(close.producers == ["p"] && close.consumers.isEmpty && close.wasOpen)
        let again = m.close()
        #expect(again.wasOpen == false)
        guard case .closed = m.put(3, now: 0) else {
            Issue.record()
            return
        }
        guard case .item(1, _, let none) = m.get(now: 0), none.isEmpty else {
            Issue.record("drains what is left")
            return
        }
        guard case .closed = m.get(now: 0) else {
            Issue.record("then closed")
            return
        }
    }

    @Test func closeWakesWaitingConsumers() {
        var m = Machine(capacity: 1)
        guard case .mustWait(let id) = m.get(now: 0) else {
            Issue.record()
            return
        }
        _ = m.suspendConsumer(id: id, token: "c", isCancelled: false, now: 0)
        let close = m.close()
        #expect(close.consumers == ["c"])
        guard case .closed = m.suspendConsumer(id: 99, token: "late", isCancelled: false, now: 0) else {
            Issue.record()
            return
        }
    }

    /// `taskDone` is counted by `BoundedQueue` with atomics; the machine is told how many
    /// items are done and decides who waits.
    @Test func joinWaitsForEveryItemPutToBeDone() {
        var m = Machine(capacity: 4)
        let early = m.suspendJoiner(id: m.makeID(), token: "early", isCancelled: false, done: 0)
        #expect(!early)  // nothing unfinished
        _ = m.put(1, now: 0)
        _ = m.put(2, now: 0)
        let waits = m.suspendJoiner(id: m.makeID(), token: "j", isCancelled: false, done: 0)
        #expect(waits)
        let oneOfTwo = m.finishedJoiners(done: 1)
        #expect(oneOfTwo.isEmpty)
        let both = m.finishedJoiners(done: 2)
        #expect(both == ["j"] && m.joiners.isEmpty)
        let late = m.suspendJoiner(id: m.makeID(), token: "late", isCancelled: false, done: 2)
        let cancelled = m.suspendJoiner(id: m.makeID(), token: "cancelled", isCancelled: true, done: 0)
        #expect(!late && !cancelled && m.joiners.isEmpty)
    }

    @Test func growingCapacityAdmitsWaitingProducersShrinkingKeepsItems() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        for i in 2...4 {
            guard case .mustWait(let id, _) = m.put(i, now: 0) else {
                Issue.record()
                return
            }
            _ = m.suspendProducer(id: id, element: i, token: "p\(i)", isCancelled: false, now: 0)
        }
        let grown = m.setCapacity(3, now: 0)
        #expect(grown.producers == ["p2", "p3"] && grown.gauges.depth == 3 && grown.gauges.waitingProducers == 1)
        let shrunk = m.setCapacity(1, now: 0)
        #expect(shrunk.producers.isEmpty && shrunk.handed.isEmpty && m.depth == 3)  // nothing dropped
        guard case .item(1, _, let a1) = m.get(now: 0), a1.isEmpty else {
            Issue.record("depth 2 >= capacity 1: no admission")
            return
        }
        guard case .item(2, _, let a2) = m.get(now: 0), a2.isEmpty else {
            Issue.record()
            return
        }
        guard case .item(3, _, ["p4"]) = m.get(now: 0) else {
            Issue.record("below capacity again: p4 admitted")
            return
        }
        #expect(m.putCount == 4)
    }
}

extension BoundedQueueStateMachine.Wakes where Producer: Equatable {
    /// Only producers to resume, these ones.
    static func == (wakes: Self, producers: [Producer]) -> Bool { wakes.producers == producers && wakes.consumers.isEmpty }
}

func ~= <E, P: Equatable, C, J>(producers: [P], wakes: BoundedQueueStateMachine<E, P, C, J>.Wakes) -> Bool {
    wakes == producers
}

/// The waiter counts the lock-free paths read are the lines' lengths after every input
/// (`WaiterLine` keeps them together), through a long random run of every transition.
@Suite struct WaiterLineTests {
    typealias Machine = BoundedQueueStateMachine<Int, String, String, String>

    func expectAnnounced(_ m: Machine, _ step: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            m.ring.pendingProducers.load(ordering: .sequentiallyConsistent) == m.producers.count, "step \(step)",
            sourceLocation: sourceLocation)
        #expect(
            m.ring.waitingConsumers.load(ordering: .sequentiallyConsistent) == m.consumers.count, "step \(step)",
            sourceLocation: sourceLocation)
        #expect(
            m.ring.admittedProducers.load(ordering: .sequentiallyConsistent) == m.admitted.count, "step \(step)",
            sourceLocation: sourceLocation)
        #expect(
            m.completion.joinersWaiting.load(ordering: .sequentiallyConsistent) == m.joiners.count, "step \(step)",
            sourceLocation: sourceLocation)
    }

    @Test(arguments: [nil, 1, 3] as [Int?])
    func announcedCountsFollowTheLines(lowWaterMark: Int?) {
        var m = Machine(capacity: 4, resumeProducersBelow: lowWaterMark)
        var r = SplitMix64(seed: 0xC0FFEE &+ UInt64(lowWaterMark ?? 0))
        var producerIDs: [UInt64] = []
        var consumerIDs: [UInt64] = []
        var joinerIDs: [UInt64] = []
        var done = 0
        for step in 0..<5_000 {
            switch Int.random(in: 0..<9, using: &r) {
            case 0, 1:
                if case .mustWait(let id, _) = m.put(step, now: 0) {
                    _ = m.suspendProducer(id: id, element: step, token: "p\(id)", isCancelled: false, now: 0)
                    producerIDs.append(id)
                }
            case 2, 3:
                if case .mustWait(let id) = m.get(now: 0) {
                    _ = m.suspendConsumer(id: id, token: "c\(id)", isCancelled: false, now: 0)
                    consumerIDs.append(id)
                }
            case 4:
                if let id = producerIDs.randomElement(using: &r) { _ = m.abandonProducer(id: id) }
            case 5:
                if let id = consumerIDs.randomElement(using: &r) { _ = m.abandonConsumer(id: id) }
            case 6:
                let id = m.makeID()
                if m.suspendJoiner(id: id, token: "j\(id)", isCancelled: false, done: done) { joinerIDs.append(id) }
                if let id = joinerIDs.randomElement(using: &r), Bool.random(using: &r) { _ = m.abandonJoiner(id: id) }
            case 7:
                done = Swift.min(m.gotCount, done + Int.random(in: 0...3, using: &r))
                _ = m.finishedJoiners(done: done)
            default:
                _ = m.setCapacity(Int.random(in: 1...6, using: &r), now: 0)
            }
            expectAnnounced(m, step)
        }
        _ = m.close()
        expectAnnounced(m, -1)
        #expect(m.producers.isEmpty && m.consumers.isEmpty && m.admitted.isEmpty)
    }
}

/// The lost wake-up behind the suite's intermittent hang (`wrapAroundKeepsEveryItemOnceAndInOrder`
/// with several consumers): played step by step on the machine, as `BoundedQueue` drives it.
@Suite struct SettleTests {
    typealias Machine = BoundedQueueStateMachine<Int, String, String, String>

    /// What must hold whenever the lock is free: no item waits beside a waiting consumer, and
    /// no waiting producer beside free room.
    func expectSettled(_ m: Machine, _ step: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            m.consumers.isEmpty || m.depth == 0, "\(step): \(m.depth) items, \(m.consumers.count) consumers waiting",
            sourceLocation: sourceLocation)
        #expect(
            m.producers.isEmpty || m.depth >= m.capacity,
            "\(step): room for \(m.capacity - m.depth), \(m.producers.count) producers waiting",
            sourceLocation: sourceLocation)
    }

    @Test func aProducerAdmittedByAGetWithoutTheLockReachesAConsumerThatWaits() {
        var m = Machine(capacity: 1)
        _ = m.put(1, now: 0)
        guard case .mustWait(let p2, _) = m.put(2, now: 0) else {
            Issue.record("full")
            return
        }
        _ = m.suspendProducer(id: p2, element: 2, token: "P", isCancelled: false, now: 0)
        // Consumer 1 takes item 1 without the lock (`BoundedQueue.get`'s fast path)...
        guard case .item(1, _) = m.ring.tryPop() else {
            Issue.record("item 1 in the ring")
            return
        }
        // ...consumer 2 finds the ring empty and joins the line, before consumer 1 (in
        // `didPop`) lets the waiting producer go on. Item 2 must go in and reach consumer 2:
        // joining the line moves what can move.
        guard case .mustWait(let c2) = m.get(now: 0) else {
            Issue.record("empty")
            return
        }
        guard case .suspended(_, let wakes, let waits) = m.suspendConsumer(id: c2, token: "C2", isCancelled: false, now: 0) else {
            Issue.record("suspended")
            return
        }
        #expect(wakes.producers == ["P"])
        #expect(wakes.consumers.map(\.token) == ["C2"] && wakes.consumers.map(\.element) == [2] && !waits)
        expectSettled(m, "consumer 2 joined")
        // Consumer 1's own look (`didPop`, under the lock) finds nothing left to move.
        let late = m.settle(now: 0)
        #expect(late.producers.isEmpty && late.consumers.isEmpty)
        expectSettled(m, "after the get without the lock")
    }

    @Test func aProducerThatWaitsWhileItemsGoToConsumersTakesTheRoomTheyFree() {
        var m = Machine(capacity: 1)
        // An item in the ring beside a waiting consumer: the state the first lost wake-up
        // left (built here without it: the consumer joins while the ring is empty).
        guard case .mustWait(let c) = m.get(now: 0) else {
            Issue.record("empty")
            return
        }
        _ = m.suspendConsumer(id: c, token: "C", isCancelled: false, now: 0)
        guard case .pushed = m.ring.tryPush(1, now: { 0 }) else {
            Issue.record("room")
            return
        }
        // A producer that finds the queue full joins the line: the item goes to the consumer,
        // which frees the room, and the producer's item must take it.
        guard case .mustWait(let p, _) = m.put(2, now: 0) else {
            expectSettled(m, "put")
            return
        }
        guard case .suspended(_, let wakes, let waits) = m.suspendProducer(id: p, element: 2, token: "P", isCancelled: false, now: 0)
        else {
            Issue.record("suspended")
            return
        }
        #expect(wakes.consumers.map(\.element) == [1])
        #expect(!waits && wakes.producers == ["P"])  // its item went in at once
        expectSettled(m, "after the producer joined")
    }
}

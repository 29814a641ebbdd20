import AsyncPatterns
import NIOCore
import Testing

@testable import SluiceWire

@Suite struct SnapshotLayoutTests {
    /// A snapshot with a distinct value in every field survives the binary layout.
    @Test func everyFieldRoundTrips() throws {
        let snapshot = Self.full()
        let bytes = SnapshotLayout.encode(snapshot: snapshot, knobs: ["b": 2.5, "a": -1], dropped: 3)
        #expect(try SnapshotLayout.decode(bytes) == .snapshot(snapshot: snapshot, knobs: ["b": 2.5, "a": -1], dropped: 3))
    }

    /// The layout writes the fields it knows; a type that gains one fails here until
    /// `SnapshotLayout` (and `full()`) write it too.
    @Test func theLayoutKnowsEveryField() {
        let fields: [(Any, Int)] = [
            (Snapshot(), 16), (QueueSnapshot(name: ""), 16), (SemaphoreSnapshot(name: ""), 11), (ActorSnapshot(name: ""), 11),
            (StreamSnapshot(name: ""), 8), (ResourceSnapshot(name: ""), 13), (HealthSnapshot(), 4), (RetiredTotals(), 11),
            // Percentiles' eighth field, `buckets`, stays in the process (for the metrics
            // reporter): it is neither encoded nor compared, so the layout leaves it out.
            (Percentiles(), 8), (DecadeCounts(), 7), (PoolSnapshot(), 22), (PoolBlocker(location: ""), 6),
            (PoolFrame(module: "", offset: 0), 6), (PoolStall(durationNanos: 0, threads: []), 2),
            (PoolStallThread(thread: 0, place: "", frames: []), 3), (QueueModelSnapshot(name: "", servers: 0), 13),
        ]
        for (value, count) in fields {
            #expect(Mirror(reflecting: value).children.count == count, "\(type(of: value)) changed: update SnapshotLayout")
        }
    }

    /// Events travel in the same binary codec as recordings keep them (layout 4); a JSON
    /// snapshot or events message, which no reader range-checks, is refused (version 1
    /// accepted both).
    @Test func eventsAreBinaryAndJSONSnapshotsOrEventsAreRefused() throws {
        let events = Self.full().recentEvents + Self.full().notableEvents
        let bytes = WireCoding.encode(AgentMessage.events(events: events, missed: 3))
        #expect(bytes.first == SnapshotLayout.eventsMarker)
        #expect(try WireCoding.decodeAgentMessage(from: ByteBuffer(bytes: bytes)) == .events(events: events, missed: 3))
        for message in [AgentMessage.events(events: events, missed: 0), .snapshot(snapshot: Snapshot(), knobs: [:], dropped: 0)] {
            let json = WireCoding.encodeJSON(message)
            let error = try #require(throws: (any Error).self) { try WireCoding.decodeAgentMessage(from: ByteBuffer(bytes: json)) }
            #expect("\(error)" == "bad message: a snapshot or events in JSON: version 2 sends them binary")
        }
        // An event whose count no program reaches, under the same reader as a recording's.
        var w = WireWriter()
        w.byte(SnapshotLayout.eventsMarker)
        w.byte(SnapshotLayout.version)
        w.int(0)
        EventCodec.writeList(
            [.actor(.processed(depth: 1 << 60), source: PatternID(.actor, "a"), at: MonotonicInstant(nanoseconds: 1))], into: &w)
        let error = try #require(throws: (any Error).self) { try SnapshotLayout.decode(w.bytes) }
        #expect("\(error)" == "bad message: 1152921504606846976 is beyond any count a program reaches")
    }

    /// Layout 3 (an older agent, a recording with shapes 1) has no queue `dropped`: read in
    /// that layout, the same bytes without it decode, with `dropped` 0.
    @Test func aQueueInLayout3ReadsWithoutDropped() throws {
        var snapshot = Snapshot()
        var q = QueueSnapshot(name: "jobs")
        (q.capacity, q.depth, q.put, q.got, q.done) = (8, 2, 30, 28, 27)
        snapshot.queues = [q]
        var w = WireWriter()
        w.snapshot(snapshot)
        var prefix = WireWriter()  // the queue's fields before `dropped`
        prefix.count(1)
        prefix.string(q.name)
        for value in [q.capacity, q.depth, q.maxDepth, q.waitingProducers, q.waitingConsumers, q.put, q.got, q.done] {
            prefix.int(value)
        }
        #expect(Array(w.bytes.prefix(prefix.bytes.count)) == prefix.bytes && w.bytes[prefix.bytes.count] == 0)
        var layout3 = w.bytes
        layout3.remove(at: prefix.bytes.count)  // dropped (0: one byte)
        var r3 = WireReader(layout3)
        #expect(try r3.snapshot(layout: 3) == snapshot)
        var r4 = WireReader(w.bytes)
        #expect(try r4.snapshot(layout: 4) == snapshot)
    }

    @Test func everyCutAndFlipIsRefusedOrDecoded() throws {
        let bytes = SnapshotLayout.encode(snapshot: Self.full(), knobs: ["k": 1], dropped: 0)
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self, "cut at \(cut)") { try SnapshotLayout.decode(bytes.prefix(cut)) }
        }
        for i in 0..<bytes.count {
            var flipped = bytes
            flipped[i] ^= 0xFF
            _ = try? SnapshotLayout.decode(flipped)
        }
        do {
            let error = try #require(throws: (any Error).self) { try SnapshotLayout.decode([0, 9]) }
            #expect("\(error)" == "protocol version mismatch: a snapshot in layout 9; this sluice reads layout 4")
        }
        do {
            let error = try #require(throws: (any Error).self) { try SnapshotLayout.decode([0, 3, 0, 0xFF, 0xFF, 0xFF, 0x7F]) }
            #expect("\(error)" == "bad message: a count of 268435455 with 0 bytes left")
        }
    }

    static func full() -> Snapshot {
        var n = 0
        func next() -> Int {
            n += 1
            return n
        }
        func percentiles() -> Percentiles {
            var p = Percentiles()
            p.count = UInt64(next())
            p.p50 = UInt64(next())
            p.p90 = UInt64(next())
            p.p99 = UInt64(next())
            p.max = UInt64(next())
            p.mean = UInt64(next())
            p.decades = DecadeCounts()
            p.decades.under10us = UInt64(next())
            p.decades.under100us = UInt64(next())
            p.decades.under1ms = UInt64(next())
            p.decades.under10ms = UInt64(next())
            p.decades.under100ms = UInt64(next())
            p.decades.under1s = UInt64(next())
            p.decades.atLeast1s = UInt64(next())
            return p
        }
        var s = Snapshot()
        var q = QueueSnapshot(name: "jobs ✓")
        (q.capacity, q.depth, q.maxDepth, q.waitingProducers, q.waitingConsumers) = (next(), next(), next(), next(), -next())
        (q.put, q.got, q.done, q.dropped, q.abandoned, q.isClosed, q.isGone) = (next(), next(), next(), next(), next(), true, true)
        (q.putPerSecond, q.gotPerSecond, q.wait) = (2.5e6, 1.5, percentiles())
        s.queues = [q, QueueSnapshot(name: "")]
        var m = SemaphoreSnapshot(name: "permits")
        (m.limit, m.inUse, m.maxInUse, m.waiting, m.acquired, m.released, m.abandoned) = (
            next(), next(), next(), next(), next(), next(), next()
        )
        (m.isGone, m.acquiredPerSecond, m.wait) = (true, 2.25, percentiles())
        s.semaphores = [m]
        var a = ActorSnapshot(name: "logger")
        (a.mailboxDepth, a.maxMailboxDepth, a.processed, a.failed, a.deadLetters, a.blockedSends) = (
            next(), next(), next(), next(), next(), 1 << 53  // the largest count the reader accepts
        )
        (a.isStopped, a.processedPerSecond, a.processing, a.recentDeadLetters) = (true, 3, percentiles(), ["to ghost", ""])
        s.actors = [a]
        var t = StreamSnapshot(name: "data")
        (t.produced, t.consumed, t.total, t.isFinished, t.isFailed, t.stoppedEarly, t.producedPerSecond) = (
            next(), next(), next(), true, true, true, 4
        )
        s.streams = [t, StreamSnapshot(name: "open-ended")]
        var r = ResourceSnapshot(name: "scopes")
        (r.opening, r.open, r.closing, r.opened, r.closed, r.failed, r.openFailed, r.closeFailed) = (
            next(), next(), next(), next(), next(), next(), next(), -(1 << 53)
        )
        (r.isGone, r.openedPerSecond, r.held, r.timed) = (true, 5, percentiles(), percentiles())
        s.resources = [r]
        s.health = HealthSnapshot()
        (s.health.lastLagNanos, s.health.maxLagNanos, s.health.lag, s.health.beats) = (1 << 62, 7, percentiles(), next())
        s.retired.queues = next()
        s.retired.semaphores = next()
        s.retired.actors = next()
        s.retired.streams = next()
        s.retired.resources = next()
        s.retired.actorProcessed = next()
        s.retired.actorDeadLetters = next()
        s.retired.actorFailed = next()
        s.retired.queueItems = next()
        s.retired.streamElements = next()
        s.retired.resourcesOpened = next()
        (s.operations, s.operationsPerSecond, s.elapsedSeconds) = (next(), 6.5, 7.25)
        let note = PatternEvent.health(.note(text: "hi"), source: PatternID(.health, "program"), at: MonotonicInstant(nanoseconds: 9))
        var frame = PoolFrame(module: "/bin/app", offset: 77, symbol: "spin()")
        (frame.file, frame.line, frame.folded) = ("main.swift", 12, true)
        let stall = PatternEvent.health(
            .poolStall(stall: PoolStall(durationNanos: 5, threads: [PoolStallThread(thread: 3, place: "spin()", frames: [frame])])),
            source: PatternID(.health, "pool"), at: MonotonicInstant(nanoseconds: 12))
        let put = PatternEvent.queue(
            .put(gauges: QueueGauges(depth: 1, waitingProducers: 2, waitingConsumers: 3)), source: PatternID(.queue, "jobs ✓"),
            at: MonotonicInstant(nanoseconds: 1 << 61))
        (s.recentEvents, s.droppedEvents, s.notableEvents, s.droppedNotableEvents) = ([note, put, note], next(), [stall, note], next())
        var pool = PoolSnapshot()
        pool.beats = next()
        pool.stalls = next()
        pool.jobsPerSecond = Double(next())
        var blocker = PoolBlocker(location: "hashFile(_:)")
        blocker.stalls = next()
        blocker.frames = [PoolFrame(module: "/bin/app", offset: UInt64(next()), symbol: "hashFile(_:)")]
        pool.blockers = [blocker]
        (pool.windowSeconds, pool.delayP50Nanos, pool.delayP99Nanos, pool.delayMaxNanos) = (10, 1, 2, 3)
        (pool.delayLastNanos, pool.jobsEnqueued, pool.hook, pool.threads, pool.busyAtLastCapture) = (4, 5, "counting", 2, 1)
        (pool.thresholdNanos, pool.stalledNanos, pool.longestStallNanos, pool.stalledNowNanos) = (6, 7, 8, 9)
        (pool.capture, pool.captureOn, pool.otherStalls, pool.notes, pool.elapsedSeconds) = ("off: why", false, 3, ["n"], 61.5)
        s.pool = pool
        var model = QueueModelSnapshot(name: "jobs", servers: 4)
        (model.model, model.arrivalRate, model.serviceRate, model.utilization) = ("M/M/c", 1, 2, 0.5)
        (model.measuredWaitSeconds, model.measuredDepth, model.littleDepth) = (0.1, 2, 2.5)
        (model.predictedWaitSeconds, model.predictedDepth, model.serversForStability, model.samples) = (0.2, nil, 3, 40)
        s.queueModels = [model]
        return s
    }
}

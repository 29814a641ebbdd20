import AsyncPatterns
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Snapshots and events in binary, on the wire and in recording files alike (one codec,
/// `WireWriter`/`WireReader`): JSON took 22 ms and 350 KiB for 1,000 patterns, which a
/// program watched ten times a second cannot afford; this takes a small fraction of that
/// (numbers in `BENCHMARKS.md`). Every field of every snapshot type, in declaration order
/// (`PROTOCOL.md`). `SnapshotLayoutTests` fails when a type gains a field this file does
/// not write.
public enum SnapshotLayout {
    /// The first byte of a binary snapshot message (a JSON payload starts with `{`).
    public static let marker: UInt8 = 0
    /// The first byte of a binary `events` message.
    public static let eventsMarker: UInt8 = 1
    /// The first byte of a binary `screen` message (protocol version 3): a snapshot that
    /// lists only the actors a viewer shows, with what every actor adds up to.
    public static let screenMarker: UInt8 = 2
    /// The first bytes of the binary messages.
    public static let markers: ClosedRange<UInt8> = marker...screenMarker
    /// The layout this build writes and reads. 3: events in binary (they were JSON), the
    /// pool doctor's figures and queue models in binary, with protocol version 2. 4: a
    /// queue's `dropped` after `done`.
    public static let version: UInt8 = 4
    /// Layouts this build reads (a queue in layout 3 reads `dropped` as 0).
    public static let readable: ClosedRange<UInt8> = 3...4

    /// A `snapshot` message: the marker, the layout's version, `dropped`, the knobs' values
    /// and the snapshot.
    public static func encode(snapshot: Snapshot, knobs: [String: Double], dropped: Int) -> [UInt8] {
        encode(body: body(snapshot: snapshot, knobs: knobs), dropped: dropped)
    }

    /// The part of a snapshot message that is the same for every viewer.
    public static func body(snapshot: Snapshot, knobs: [String: Double]) -> [UInt8] {
        var w = WireWriter()
        w.bytes.reserveCapacity(64 + 160 * (snapshot.queues.count + snapshot.semaphores.count + snapshot.actors.count))
        w.knobs(knobs)
        w.snapshot(snapshot)
        return w.bytes
    }

    /// A `screen` message: the screen marker, the layout's version, `dropped`, the actors'
    /// totals (count, processed, failed, dead letters, the window's offset, the actors
    /// listed before it), the knobs' values and the snapshot.
    public static func encode(screen snapshot: Snapshot, actors: ActorTotals, knobs: [String: Double], dropped: Int) -> [UInt8] {
        encode(body: body(screen: snapshot, actors: actors, knobs: knobs), dropped: dropped, marker: screenMarker)
    }

    /// The part of a `screen` message that is the same for every viewer with one query.
    public static func body(screen snapshot: Snapshot, actors: ActorTotals, knobs: [String: Double]) -> [UInt8] {
        var w = WireWriter()
        w.bytes.reserveCapacity(96 + 160 * (snapshot.queues.count + snapshot.semaphores.count + snapshot.actors.count))
        w.int(actors.count)
        w.int(actors.processed)
        w.int(actors.failed)
        w.int(actors.deadLetters)
        w.int(actors.offset)
        w.int(actors.listedBefore)
        w.knobs(knobs)
        w.snapshot(snapshot)
        return w.bytes
    }

    /// A whole message from a `body` and one viewer's `dropped`: a `snapshot` (`marker`),
    /// or a `screen` (`screenMarker`) from a `body(screen:…)`.
    public static func encode(body: [UInt8], dropped: Int, marker: UInt8 = SnapshotLayout.marker) -> [UInt8] {
        var w = WireWriter()
        w.bytes.reserveCapacity(body.count + 12)
        w.byte(marker)
        w.byte(version)
        w.int(dropped)
        w.raw(body)
        return w.bytes
    }

    /// An `events` message: the marker, the layout's version, `missed`, the events.
    public static func encode(events: [PatternEvent], missed: Int) -> [UInt8] {
        var w = WireWriter()
        w.byte(eventsMarker)
        w.byte(version)
        w.int(missed)
        EventCodec.writeList(events, into: &w)
        return w.bytes
    }

    /// Reads a binary `snapshot` or `events` message. - Throws: `WireError`.
    public static func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> AgentMessage {
        var r = WireReader(Array(bytes))
        let kind = try r.byte()
        guard markers.contains(kind) else { throw .badMessage("not a binary message") }
        let layout = try r.byte()
        guard readable.contains(layout) else {
            let what = [marker: "snapshot", eventsMarker: "list of events", screenMarker: "screen"][kind, default: "message"]
            throw .versionMismatch("a \(what) in layout \(layout); this sluice reads layout \(version)")
        }
        if kind == eventsMarker {
            let missed = try r.int()
            guard missed >= 0 else { throw .badMessage("\(missed) events missed") }
            let events = try EventCodec.readList(&r)
            try r.expectEnd("the events")
            return .events(events: events, missed: missed)
        }
        let dropped = try r.int()
        guard dropped >= 0 else { throw .badMessage("\(dropped) snapshots dropped") }
        var totals: ActorTotals?
        if kind == screenMarker {
            var t = ActorTotals()
            t.count = try r.int()
            t.processed = try r.int()
            t.failed = try r.int()
            t.deadLetters = try r.int()
            t.offset = try r.int()
            t.listedBefore = try r.int()
            guard min(t.count, t.processed, t.failed, t.deadLetters, t.offset, t.listedBefore) >= 0 else {
                throw .badMessage(
                    "negative actor totals (\(t.count), \(t.processed), \(t.failed), \(t.deadLetters), \(t.offset), \(t.listedBefore))")
            }
            totals = t
        }
        let knobs = try r.knobs()
        let snapshot = try r.snapshot(layout: layout)
        try r.expectEnd("the snapshot")
        guard let totals else { return .snapshot(snapshot: snapshot, knobs: knobs, dropped: dropped) }
        // A count below the rows sent would make "N more" negative downstream.
        guard totals.count >= snapshot.actors.count else {
            throw .badMessage("a screen of \(snapshot.actors.count) actors that says there are \(totals.count)")
        }
        // The rows from the offset on are the listed ones after `listedBefore`.
        guard totals.offset <= totals.count, totals.listedBefore <= snapshot.actors.count else {
            throw .badMessage(
                "a screen of \(snapshot.actors.count) of \(totals.count) actors from place \(totals.offset), \(totals.listedBefore) listed before"
            )
        }
        return .screen(snapshot: snapshot, actors: totals, knobs: knobs, dropped: dropped)
    }
}

extension WireWriter {
    mutating func percentiles(_ p: Percentiles) {
        uint(p.count)
        uint(p.p50)
        uint(p.p90)
        uint(p.p99)
        uint(p.max)
        uint(p.mean)
        uint(p.decades.under10us)
        uint(p.decades.under100us)
        uint(p.decades.under1ms)
        uint(p.decades.under10ms)
        uint(p.decades.under100ms)
        uint(p.decades.under1s)
        uint(p.decades.atLeast1s)
    }

    /// Every field of a snapshot, in declaration order.
    public mutating func snapshot(_ s: Snapshot) {
        count(s.queues.count)
        for q in s.queues {
            string(q.name)
            int(q.capacity)
            int(q.depth)
            int(q.maxDepth)
            int(q.waitingProducers)
            int(q.waitingConsumers)
            int(q.put)
            int(q.got)
            int(q.done)
            int(q.dropped)
            int(q.abandoned)
            bool(q.isClosed)
            bool(q.isGone)
            double(q.putPerSecond)
            double(q.gotPerSecond)
            percentiles(q.wait)
        }
        count(s.semaphores.count)
        for m in s.semaphores {
            string(m.name)
            int(m.limit)
            int(m.inUse)
            int(m.maxInUse)
            int(m.waiting)
            int(m.acquired)
            int(m.released)
            int(m.abandoned)
            bool(m.isGone)
            double(m.acquiredPerSecond)
            percentiles(m.wait)
        }
        count(s.actors.count)
        for a in s.actors {
            string(a.name)
            int(a.mailboxDepth)
            int(a.maxMailboxDepth)
            int(a.processed)
            int(a.failed)
            int(a.deadLetters)
            int(a.blockedSends)
            bool(a.isStopped)
            double(a.processedPerSecond)
            percentiles(a.processing)
            count(a.recentDeadLetters.count)
            for letter in a.recentDeadLetters { string(letter) }
        }
        count(s.streams.count)
        for t in s.streams {
            string(t.name)
            int(t.produced)
            int(t.consumed)
            optionalInt(t.total)
            bool(t.isFinished)
            bool(t.isFailed)
            bool(t.stoppedEarly)
            double(t.producedPerSecond)
        }
        count(s.resources.count)
        for r in s.resources {
            string(r.name)
            int(r.opening)
            int(r.open)
            int(r.closing)
            int(r.opened)
            int(r.closed)
            int(r.failed)
            int(r.openFailed)
            int(r.closeFailed)
            bool(r.isGone)
            double(r.openedPerSecond)
            percentiles(r.held)
            percentiles(r.timed)
        }
        uint(s.health.lastLagNanos)
        uint(s.health.maxLagNanos)
        percentiles(s.health.lag)
        int(s.health.beats)
        let t = s.retired
        int(t.queues)
        int(t.semaphores)
        int(t.actors)
        int(t.streams)
        int(t.resources)
        int(t.actorProcessed)
        int(t.actorDeadLetters)
        int(t.actorFailed)
        int(t.queueItems)
        int(t.streamElements)
        int(t.resourcesOpened)
        int(s.operations)
        double(s.operationsPerSecond)
        double(s.elapsedSeconds)
        EventCodec.writeList(s.recentEvents, into: &self)
        int(s.droppedEvents)
        EventCodec.writeList(s.notableEvents, into: &self)
        int(s.droppedNotableEvents)
        pool(s.pool)
        // Only a pipeline file's run models its queues (nil elsewhere: a presence byte).
        bool(s.queueModels != nil)
        if let models = s.queueModels {
            count(models.count)
            for m in models {
                string(m.name)
                string(m.model)
                double(m.arrivalRate)
                double(m.serviceRate)
                int(m.servers)
                double(m.utilization)
                double(m.measuredWaitSeconds)
                double(m.measuredDepth)
                double(m.littleDepth)
                optionalDouble(m.predictedWaitSeconds)
                optionalDouble(m.predictedDepth)
                int(m.serversForStability)
                int(m.samples)
            }
        }
    }

    /// The pool doctor's figures behind a presence byte (0: no doctor runs).
    mutating func pool(_ pool: PoolSnapshot?) {
        guard let p = pool else { return bool(false) }
        bool(true)
        int(p.beats)
        double(p.windowSeconds)
        uint(p.delayP50Nanos)
        uint(p.delayP99Nanos)
        uint(p.delayMaxNanos)
        uint(p.delayLastNanos)
        optionalDouble(p.jobsPerSecond)
        int(p.jobsEnqueued)
        string(p.hook)
        int(p.threads)
        int(p.busyAtLastCapture)
        uint(p.thresholdNanos)
        int(p.stalls)
        uint(p.stalledNanos)
        uint(p.longestStallNanos)
        uint(p.stalledNowNanos)
        string(p.capture)
        bool(p.captureOn)
        count(p.blockers.count)
        for b in p.blockers {
            string(b.location)
            int(b.stalls)
            uint(b.totalNanos)
            uint(b.longestNanos)
            double(b.lastSeenSeconds)
            frames(b.frames)
        }
        int(p.otherStalls)
        count(p.notes.count)
        for note in p.notes { string(note) }
        double(p.elapsedSeconds)
    }

    mutating func frames(_ frames: [PoolFrame]) {
        count(frames.count)
        for f in frames {
            string(f.module)
            uint(f.offset)
            optionalString(f.symbol)
            optionalString(f.file)
            optionalInt(f.line)
            bool(f.folded)
        }
    }

    mutating func optionalDouble(_ value: Double?) {
        bool(value != nil)
        if let value { double(value) }
    }

    mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }

    /// Knob values: a count, then each name and value, by name.
    public mutating func knobs(_ knobs: [String: Double]) {
        count(knobs.count)
        for (name, value) in knobs.sorted(by: { $0.key < $1.key }) {
            string(name)
            double(value)
        }
    }

}

extension WireReader {
    mutating func percentiles() throws(WireError) -> Percentiles {
        var p = Percentiles()
        p.count = try uint()
        p.p50 = try uint()
        p.p90 = try uint()
        p.p99 = try uint()
        p.max = try uint()
        p.mean = try uint()
        p.decades.under10us = try uint()
        p.decades.under100us = try uint()
        p.decades.under1ms = try uint()
        p.decades.under10ms = try uint()
        p.decades.under100ms = try uint()
        p.decades.under1s = try uint()
        p.decades.atLeast1s = try uint()
        return p
    }

    /// A snapshot as `WireWriter.snapshot` wrote it in `layout` (what this build writes
    /// unless told), every number range-checked.
    public mutating func snapshot(layout: UInt8 = SnapshotLayout.version) throws(WireError) -> Snapshot {
        var s = Snapshot()
        for _ in 0..<(try count()) {
            var q = QueueSnapshot(name: try string())
            q.capacity = try int()
            q.depth = try int()
            q.maxDepth = try int()
            q.waitingProducers = try int()
            q.waitingConsumers = try int()
            q.put = try int()
            q.got = try int()
            q.done = try int()
            if layout >= 4 { q.dropped = try int() }
            q.abandoned = try int()
            q.isClosed = try bool()
            q.isGone = try bool()
            q.putPerSecond = try double()
            q.gotPerSecond = try double()
            q.wait = try percentiles()
            s.queues.append(q)
        }
        for _ in 0..<(try count()) {
            var m = SemaphoreSnapshot(name: try string())
            m.limit = try int()
            m.inUse = try int()
            m.maxInUse = try int()
            m.waiting = try int()
            m.acquired = try int()
            m.released = try int()
            m.abandoned = try int()
            m.isGone = try bool()
            m.acquiredPerSecond = try double()
            m.wait = try percentiles()
            s.semaphores.append(m)
        }
        for _ in 0..<(try count()) {
            var a = ActorSnapshot(name: try string())
            a.mailboxDepth = try int()
            a.maxMailboxDepth = try int()
            a.processed = try int()
            a.failed = try int()
            a.deadLetters = try int()
            a.blockedSends = try int()
            a.isStopped = try bool()
            a.processedPerSecond = try double()
            a.processing = try percentiles()
            for _ in 0..<(try count()) { a.recentDeadLetters.append(try string()) }
            s.actors.append(a)
        }
        for _ in 0..<(try count()) {
            var t = StreamSnapshot(name: try string())
            t.produced = try int()
            t.consumed = try int()
            t.total = try optionalInt()
            t.isFinished = try bool()
            t.isFailed = try bool()
            t.stoppedEarly = try bool()
            t.producedPerSecond = try double()
            s.streams.append(t)
        }
        for _ in 0..<(try count()) {
            var r = ResourceSnapshot(name: try string())
            r.opening = try int()
            r.open = try int()
            r.closing = try int()
            r.opened = try int()
            r.closed = try int()
            r.failed = try int()
            r.openFailed = try int()
            r.closeFailed = try int()
            r.isGone = try bool()
            r.openedPerSecond = try double()
            r.held = try percentiles()
            r.timed = try percentiles()
            s.resources.append(r)
        }
        s.health.lastLagNanos = try uint()
        s.health.maxLagNanos = try uint()
        s.health.lag = try percentiles()
        s.health.beats = try int()
        s.retired.queues = try int()
        s.retired.semaphores = try int()
        s.retired.actors = try int()
        s.retired.streams = try int()
        s.retired.resources = try int()
        s.retired.actorProcessed = try int()
        s.retired.actorDeadLetters = try int()
        s.retired.actorFailed = try int()
        s.retired.queueItems = try int()
        s.retired.streamElements = try int()
        s.retired.resourcesOpened = try int()
        s.operations = try int()
        s.operationsPerSecond = try double()
        s.elapsedSeconds = try double()
        guard (0...1e9).contains(s.elapsedSeconds) else { throw .badMessage("an elapsed time of \(s.elapsedSeconds) s") }
        s.recentEvents = try EventCodec.readList(&self)
        s.droppedEvents = try int()
        s.notableEvents = try EventCodec.readList(&self)
        s.droppedNotableEvents = try int()
        s.pool = try pool()
        guard try bool() else { return s }
        var models: [QueueModelSnapshot] = []
        for _ in 0..<(try count()) {
            var m = QueueModelSnapshot(name: try string(), servers: 0)
            m.model = try string()
            m.arrivalRate = try double()
            m.serviceRate = try double()
            m.servers = try int()
            m.utilization = try double()
            m.measuredWaitSeconds = try double()
            m.measuredDepth = try double()
            m.littleDepth = try double()
            m.predictedWaitSeconds = try optionalDouble()
            m.predictedDepth = try optionalDouble()
            m.serversForStability = try int()
            m.samples = try int()
            models.append(m)
        }
        s.queueModels = models
        return s
    }

    mutating func pool() throws(WireError) -> PoolSnapshot? {
        guard try bool() else { return nil }
        var p = PoolSnapshot()
        p.beats = try int()
        p.windowSeconds = try double()
        p.delayP50Nanos = try uint()
        p.delayP99Nanos = try uint()
        p.delayMaxNanos = try uint()
        p.delayLastNanos = try uint()
        p.jobsPerSecond = try optionalDouble()
        p.jobsEnqueued = try int()
        p.hook = try string()
        p.threads = try int()
        p.busyAtLastCapture = try int()
        p.thresholdNanos = try uint()
        p.stalls = try int()
        p.stalledNanos = try uint()
        p.longestStallNanos = try uint()
        p.stalledNowNanos = try uint()
        p.capture = try string()
        p.captureOn = try bool()
        for _ in 0..<(try count()) {
            var b = PoolBlocker(location: try string())
            b.stalls = try int()
            b.totalNanos = try uint()
            b.longestNanos = try uint()
            b.lastSeenSeconds = try double()
            b.frames = try frames()
            p.blockers.append(b)
        }
        p.otherStalls = try int()
        for _ in 0..<(try count()) { p.notes.append(try string()) }
        p.elapsedSeconds = try double()
        return p
    }

    mutating func frames() throws(WireError) -> [PoolFrame] {
        var frames: [PoolFrame] = []
        for _ in 0..<(try count()) {
            var f = PoolFrame(module: try string(), offset: try uint())
            f.symbol = try optionalString()
            f.file = try optionalString()
            f.line = try optionalInt()
            f.folded = try bool()
            frames.append(f)
        }
        return frames
    }

    mutating func optionalDouble() throws(WireError) -> Double? {
        try bool() ? try double() : nil
    }

    mutating func optionalString() throws(WireError) -> String? {
        try bool() ? try string() : nil
    }

    /// Knob values as `WireWriter.knobs` wrote them.
    public mutating func knobs() throws(WireError) -> [String: Double] {
        var knobs: [String: Double] = [:]
        for _ in 0..<(try count()) { knobs[try string()] = try double() }
        return knobs
    }

}

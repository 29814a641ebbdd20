import AsyncPatterns
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Snapshots on the wire in a binary layout: JSON took 22 ms and 350 KiB for 1,000
/// patterns, which a program watched ten times a second cannot afford; this takes a small
/// fraction of that (numbers in `BENCHMARKS.md`). Every field of every snapshot type, in
/// declaration order: integers as LEB128 varints (zigzag, so negatives survive), doubles
/// as 8 bytes little-endian, booleans as a byte, strings and lists as a varint count then
/// the items, optionals as a presence byte. `SnapshotLayoutTests` fails when a type gains
/// a field this file does not write.
public enum SnapshotLayout {
    /// The first byte of a binary snapshot payload (a JSON payload starts with `{`).
    public static let marker: UInt8 = 0
    /// The layout this build writes. 2 added the pool doctor's figures after the snapshot.
    public static let version: UInt8 = 2
    /// Layouts this build reads (1: written by agents before the pool doctor; no pool).
    public static let readable: ClosedRange<UInt8> = 1...2

    /// A `snapshot` message: the marker, the layout's version, `dropped`, the knobs' values
    /// and the snapshot.
    public static func encode(snapshot: Snapshot, knobs: [String: Double], dropped: Int) -> [UInt8] {
        encode(body: body(snapshot: snapshot, knobs: knobs), dropped: dropped)
    }

    /// The part of a snapshot message that is the same for every viewer.
    public static func body(snapshot: Snapshot, knobs: [String: Double]) -> [UInt8] {
        var w = BinaryWriter()
        w.bytes.reserveCapacity(64 + 160 * (snapshot.queues.count + snapshot.semaphores.count + snapshot.actors.count))
        w.count(knobs.count)
        for (name, value) in knobs.sorted(by: { $0.key < $1.key }) {
            w.string(name)
            w.double(value)
        }
        w.snapshot(snapshot)
        w.pool(snapshot.pool)
        return w.bytes
    }

    /// A whole message from a `body` and one viewer's `dropped`.
    public static func encode(body: [UInt8], dropped: Int) -> [UInt8] {
        var w = BinaryWriter()
        w.bytes.reserveCapacity(body.count + 12)
        w.byte(marker)
        w.byte(version)
        w.int(dropped)
        w.bytes.append(contentsOf: body)
        return w.bytes
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> AgentMessage {
        var r = BinaryReader(Array(bytes))
        guard try r.byte() == marker else { throw .badMessage("not a binary snapshot") }
        let layout = try r.byte()
        guard readable.contains(layout) else {
            throw .versionMismatch(
                "a snapshot in layout \(layout); this sluice reads layouts \(readable.lowerBound)...\(readable.upperBound)")
        }
        let dropped = try r.int()
        var knobs: [String: Double] = [:]
        for _ in 0..<(try r.count()) { knobs[try r.string()] = try r.double() }
        var snapshot = try r.snapshot()
        if layout >= 2 { snapshot.pool = try r.pool() }
        guard r.isAtEnd else { throw .badMessage("\(r.remaining) bytes after the snapshot") }
        return .snapshot(snapshot: snapshot, knobs: knobs, dropped: dropped)
    }
}

struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }

    mutating func uint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func count(_ n: Int) { uint(UInt64(n)) }

    mutating func int(_ value: Int) { uint(UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))) }

    mutating func double(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            uint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optionalInt(_ value: Int?) {
        bool(value != nil)
        if let value { int(value) }
    }

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

    mutating func snapshot(_ s: Snapshot) {
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
        // Event lists are rare in a snapshot on the wire (events travel in messages of their
        // own): JSON, and empty lists cost two bytes.
        events(s.recentEvents)
        int(s.droppedEvents)
        events(s.notableEvents)
        int(s.droppedNotableEvents)
        // `queueModels` is not on the wire: only a pipeline file's local run publishes it (an
        // attached program models no queues); recordings keep it in their JSON keyframes.
    }

    /// The pool doctor's figures: rare and small next to the patterns, so JSON behind a
    /// presence byte (0: no doctor runs).
    mutating func pool(_ pool: PoolSnapshot?) {
        guard let pool else { return byte(0) }
        byte(1)
        let json = WireCoding.encodeJSON(pool)
        uint(UInt64(json.count))
        bytes.append(contentsOf: json)
    }

    mutating func events(_ list: [PatternEvent]) {
        guard !list.isEmpty else { return uint(0) }
        let json = WireCoding.encodeJSON(list)
        uint(UInt64(json.count))
        bytes.append(contentsOf: json)
    }
}

/// Reads what `BinaryWriter` wrote; anything else (short, overlong, absurd counts) throws.
struct BinaryReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { at == bytes.count }
    var remaining: Int { bytes.count - at }

    mutating func byte() throws(WireError) -> UInt8 {
        guard at < bytes.count else { throw .badMessage("a snapshot cut short") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func bool() throws(WireError) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        case let b: throw .badMessage("\(b) is not a boolean")
        }
    }

    mutating func uint() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b <= 1 else { throw .badMessage("a number too long") }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                // Nanoseconds and counts far past any a process reaches: a hostile peer's,
                // refused here so that no sum downstream can overflow.
                guard value <= Self.largestUInt else { throw .badMessage("\(value) is beyond any number a program reaches") }
                return value
            }
            shift += 7
        }
    }

    /// 2^62: 146 years of nanoseconds.
    static let largestUInt: UInt64 = 1 << 62
    /// 2^53: every count a program could reach in a lifetime, and exact as a Double.
    static let largestInt = 1 << 53
    /// Seconds, rates and knob values beyond this are no program's: read as this.
    static let largestDouble = 1e15

    mutating func int() throws(WireError) -> Int {
        let z = try uint()
        let value = Int(truncatingIfNeeded: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        guard value.magnitude <= UInt(Self.largestInt) else { throw .badMessage("\(value) is beyond any count a program reaches") }
        return value
    }

    /// A count of items that each take at least a byte: never more than what is left.
    mutating func count() throws(WireError) -> Int {
        let n = try uint()
        guard n <= UInt64(remaining) else { throw .badMessage("a count of \(n) with \(remaining) bytes left") }
        return Int(n)
    }

    mutating func double() throws(WireError) -> Double {
        guard remaining >= 8 else { throw .badMessage("a snapshot cut short") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[at + i]) << UInt64(8 * i) }
        at += 8
        // Clamped, not refused: a rate over an instant may come out infinite.
        let value = Double(bitPattern: bits)
        guard !value.isNaN else { return 0 }
        return min(Self.largestDouble, max(-Self.largestDouble, value))
    }

    mutating func string() throws(WireError) -> String {
        let n = try count()
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }

    mutating func optionalInt() throws(WireError) -> Int? {
        try bool() ? try int() : nil
    }

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

    mutating func snapshot() throws(WireError) -> Snapshot {
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
        s.recentEvents = try events()
        s.droppedEvents = try int()
        s.notableEvents = try events()
        s.droppedNotableEvents = try int()
        return s
    }

    mutating func pool() throws(WireError) -> PoolSnapshot? {
        guard try bool() else { return nil }
        let n = try count()
        defer { at += n }
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes[at..<(at + n)])
        return try WireCoding.decode(PoolSnapshot.self, from: buffer)
    }

    mutating func events() throws(WireError) -> [PatternEvent] {
        let n = try count()
        guard n > 0 else { return [] }
        defer { at += n }
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes[at..<(at + n)])
        return try WireCoding.decode([PatternEvent].self, from: buffer)
    }
}

import AsyncPatterns

/// The recording file's building blocks (written down in `FORMAT.md`): the header, record
/// framing with a CRC, varints, and the compact encoding of one event.
public enum RecordingFormat {
    /// The first 8 bytes of every recording: `SLUICREC`.
    public static let magic: [UInt8] = Array("SLUICREC".utf8)
    /// The version this build writes and the newest it reads.
    public static let version: UInt16 = 1
    /// Magic, version (UInt16 LE), reserved (UInt16, 0).
    public static let headerSize = 12
    /// Type byte, payload length (UInt32 LE) before the payload; CRC-32 (UInt32 LE) after.
    public static let recordOverhead = 9
    /// A record longer than this is corruption, not data (the largest keyframe of 10,000
    /// patterns takes a small part of it).
    public static let maximumPayload = 16 << 20
    /// What a replay reads at once while it indexes a recording.
    public static let readChunk = 1 << 20
    /// The most a recording's index (its blocks, keyframes, names, knob changes and gaps)
    /// may take in memory: a file needing more is refused. A recording sluice writes
    /// needs far less (about 100 bytes for each 48 KB block or keyframe).
    public static let maximumIndexBytes = 16 << 20

    /// What a record holds.
    public enum RecordType: UInt8, Sendable {
        /// JSON: what was recorded (title, mode, panes, knobs, start time, shapes version).
        case info = 1
        /// A pattern's interned id: id, kind, name.
        case name = 2
        /// A block of events (see `FORMAT.md`).
        case events = 3
        /// A snapshot with knob values: where a seek starts.
        case keyframe = 4
        /// A knob changed.
        case knob = 5
        /// Events the source dropped before the recorder could read them.
        case gap = 6
        /// The run ended: its status, elapsed time and final snapshot.
        case end = 7
    }

    static func header() -> [UInt8] {
        magic + [UInt8(version & 0xFF), UInt8(version >> 8), 0, 0]
    }

    /// One framed record.
    static func record(_ type: RecordType, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + recordOverhead)
        out.append(type.rawValue)
        appendUInt32(UInt32(payload.count), to: &out)
        out.append(contentsOf: payload)
        let crc = CRC32.of(out[...])
        appendUInt32(crc, to: &out)
        return out
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v & 0xFF))
        out.append(UInt8((v >> 8) & 0xFF))
        out.append(UInt8((v >> 16) & 0xFF))
        out.append(UInt8(v >> 24))
    }
}

/// CRC-32 (IEEE 802.3, as zlib), table-driven, 8 bytes at a time.
enum CRC32 {
    static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[0][i] = c
        }
        for i in 0..<256 {
            for t in 1..<8 { tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][Int(tables[t - 1][i] & 0xFF)] }
        }
        return tables
    }()

    static func of(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { of(UnsafeRawBufferPointer($0)) }
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let t = tables
        t[0].withUnsafeBufferPointer { t0 in
            t[1].withUnsafeBufferPointer { t1 in
                t[2].withUnsafeBufferPointer { t2 in
                    t[3].withUnsafeBufferPointer { t3 in
                        t[4].withUnsafeBufferPointer { t4 in
                            t[5].withUnsafeBufferPointer { t5 in
                                t[6].withUnsafeBufferPointer { t6 in
                                    t[7].withUnsafeBufferPointer { t7 in
                                        var i = 0
                                        let n = bytes.count
                                        while i + 8 <= n {
                                            let a =
                                                crc
                                                ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                                                    | UInt32(bytes[i + 3]) << 24)
                                            crc =
                                                t7[Int(a & 0xFF)] ^ t6[Int((a >> 8) & 0xFF)] ^ t5[Int((a >> 16) & 0xFF)]
                                                ^ t4[Int(a >> 24)] ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])]
                                                ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
                                            i += 8
                                        }
                                        while i < n {
                                            crc = t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                                            i += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Appends varints, strings and doubles.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A signed number, zigzag-encoded (small magnitudes take one byte).
    mutating func signed(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    mutating func int(_ v: Int) { signed(Int64(v)) }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        varint(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func double(_ d: Double) {
        var bits = d.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(bits & 0xFF))
            bits >>= 8
        }
    }

    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}

/// Reads what `ByteWriter` wrote; every read checks its bounds and throws on bad data.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        offset = start
        self.end = end ?? bytes.count
    }

    var atEnd: Bool { offset >= end }

    mutating func byte() throws(RecordingError) -> UInt8 {
        guard offset < end else { throw .malformed("a record ends too early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(RecordingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw .malformed("a record ends in a number") }
            let b = bytes[offset]
            offset += 1
            if shift == 63, b > 1 { throw .malformed("a number is too large") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                // Decoding is validation: nanoseconds past 146 years, or counts no program
                // reaches, are a crafted file's; refused here so no sum downstream overflows.
                guard result <= 1 << 62 else { throw .malformed("a number is too large") }
                return result
            }
            shift += 7
            if shift > 63 { throw .malformed("a number is too large") }
        }
    }

    mutating func signed() throws(RecordingError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    /// A count or a gauge: at most 2^53 either way (what any program could reach).
    mutating func int() throws(RecordingError) -> Int {
        let v = Int(try signed())
        guard v.magnitude <= 1 << 53 else { throw .malformed("a count is out of range") }
        return v
    }

    /// A count that must be plausible: at most `limit`.
    mutating func count(atMost limit: Int) throws(RecordingError) -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw .malformed("a count is out of range") }
        return Int(v)
    }

    mutating func string() throws(RecordingError) -> String {
        let n = try count(atMost: end - offset)
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), as: UTF8.self)
    }

    mutating func double() throws(RecordingError) -> Double {
        guard end - offset >= 8 else { throw .malformed("a record ends in a number") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: bits)
    }

    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
    }
}

/// What is wrong with a file that should be a recording; `sluice replay` exits with
/// status 65 (EX_DATAERR) on any of these.
public enum RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    /// The recording cannot be created (a missing folder, a file already there, no right).
    case unwritable(String)
    case empty
    case notARecording
    case newerVersion(UInt16)
    /// The file ends inside its header or first record: nothing to replay.
    case truncatedHeader
    /// A record in the middle fails its CRC or cannot be decoded.
    case corrupted(offset: Int, why: String)
    /// A payload does not decode (turned into `corrupted` with its offset by the reader).
    case malformed(String)

    public var description: String {
        switch self {
        case .unreadable(let why): "cannot read the recording: \(why)"
        case .unwritable(let why): "cannot write the recording \(why)"
        case .empty: "the file is empty: not a recording"
        case .notARecording: "not a sluice recording (it does not start with SLUICREC)"
        case .newerVersion(let v):
            "the recording has format version \(v); this sluice reads version \(RecordingFormat.version) and older: use a newer sluice"
        case .truncatedHeader: "the recording is truncated before its first record: nothing to replay"
        case .corrupted(let offset, let why): "the recording is corrupted at byte \(offset): \(why)"
        case .malformed(let why): "the recording is corrupted: \(why)"
        }
    }
}

/// Event codes: the low 7 bits of an event's tag byte; bit 7 marks the onset of a warning.
enum EventCode {
    static let warningBit: UInt8 = 0x80

    static func encode(_ event: PatternEvent, into w: inout ByteWriter, tagBits: UInt8, pattern: UInt64, delta: Int64) {
        func tag(_ code: UInt8) {
            w.byte(code | tagBits)
            w.signed(delta)
            w.varint(pattern)
        }
        func q(_ g: QueueGauges) {
            w.int(g.depth)
            w.int(g.waitingProducers)
            w.int(g.waitingConsumers)
        }
        func s(_ g: SemaphoreGauges) {
            w.int(g.limit)
            w.int(g.inUse)
            w.int(g.waiting)
        }
        func total(_ t: Int?) { w.varint(t.map { UInt64(max(0, $0)) + 1 } ?? 0) }
        switch event {
        case .queue(let e, _, _):
            switch e {
            case .put(let g):
                tag(1)
                q(g)
            case .got(let g):
                tag(2)
                q(g)
            case .producerBlocked(let g):
                tag(3)
                q(g)
            case .consumerBlocked(let g):
                tag(4)
                q(g)
            case .waiterAbandoned(let g, let producer):
                tag(producer ? 6 : 5)
                q(g)
            case .taskDone(let u):
                tag(7)
                w.int(u)
            case .capacityChanged(let c, let g):
                tag(8)
                w.int(c)
                q(g)
            case .closed(let g):
                tag(9)
                q(g)
            }
        case .semaphore(let e, _, _):
            switch e {
            case .acquired(let g):
                tag(16)
                s(g)
            case .released(let g):
                tag(17)
                s(g)
            case .waiting(let g):
                tag(18)
                s(g)
            case .waiterAbandoned(let g):
                tag(19)
                s(g)
            case .limitChanged(let g):
                tag(20)
                s(g)
            }
        case .actor(let e, _, _):
            switch e {
            case .enqueued(let d):
                tag(32)
                w.int(d)
            case .processed(let d):
                tag(33)
                w.int(d)
            case .deadLetter(let to, let reason):
                tag(34)
                w.string(to)
                let reasonCode: UInt8 =
                    switch reason {
                    case .unknownRecipient: 0
                    case .stopped: 1
                    case .mailboxFull: 2
                    case .senderCancelled: 3
                    }
                w.byte(reasonCode)
            case .senderBlocked(let d):
                tag(35)
                w.int(d)
            case .started: tag(36)
            case .stopped(let u):
                tag(37)
                w.int(u)
            case .failed(let d):
                tag(38)
                w.int(d)
            }
        case .stream(let e, _, _):
            switch e {
            case .produced(let n, let t):
                tag(48)
                w.int(n)
                total(t)
            case .consumed(let n, let t):
                tag(49)
                w.int(n)
                total(t)
            case .finished(let n):
                tag(50)
                w.int(n)
            case .failed(let n):
                tag(51)
                w.int(n)
            case .stoppedEarly(let n):
                tag(52)
                w.int(n)
            }
        case .resource(let e, _, _):
            switch e {
            case .opening: tag(64)
            case .opened(let ns):
                tag(65)
                w.varint(ns)
            case .closing: tag(66)
            case .closed(let ns, let failed):
                tag(failed ? 68 : 67)
                w.varint(ns)
            case .openFailed: tag(69)
            case .timed(let ns):
                tag(70)
                w.varint(ns)
            }
        case .health(let e, _, _):
            switch e {
            case .loopLag(let ns):
                tag(80)
                w.varint(ns)
            case .note(let text):
                tag(81)
                w.string(text)
            case .poolStall(let stall):
                // Rare and rich (threads and their frames): its JSON, as a string.
                tag(82)
                w.string(String(decoding: JSONBytes.encode(stall), as: UTF8.self))
            }
        }
    }

    /// The kind of pattern an event code belongs to (nil: not a code).
    static func kind(of code: UInt8) -> PatternKind? {
        switch code {
        case 1...9: .queue
        case 16...20: .semaphore
        case 32...38: .actor
        case 48...52: .stream
        case 64...70: .resource
        case 80...82: .health
        default: nil
        }
    }

    /// Decodes the payload of an event whose tag (without the warning bit) is `code`.
    static func decode(_ code: UInt8, _ r: inout ByteReader, source: PatternID, at: MonotonicInstant) throws(RecordingError)
        -> PatternEvent
    {
        func q() throws(RecordingError) -> QueueGauges {
            QueueGauges(depth: try r.int(), waitingProducers: try r.int(), waitingConsumers: try r.int())
        }
        func s() throws(RecordingError) -> SemaphoreGauges {
            SemaphoreGauges(limit: try r.int(), inUse: try r.int(), waiting: try r.int())
        }
        func total() throws(RecordingError) -> Int? {
            let v = try r.varint()
            return v == 0 ? nil : Int(truncatingIfNeeded: v - 1)
        }
        switch code {
        case 1: return .queue(.put(gauges: try q()), source: source, at: at)
        case 2: return .queue(.got(gauges: try q()), source: source, at: at)
        case 3: return .queue(.producerBlocked(gauges: try q()), source: source, at: at)
        case 4: return .queue(.consumerBlocked(gauges: try q()), source: source, at: at)
        case 5, 6: return .queue(.waiterAbandoned(gauges: try q(), producer: code == 6), source: source, at: at)
        case 7: return .queue(.taskDone(unfinished: try r.int()), source: source, at: at)
        case 8:
            let c = try r.int()
            return .queue(.capacityChanged(capacity: c, gauges: try q()), source: source, at: at)
        case 9: return .queue(.closed(gauges: try q()), source: source, at: at)
        case 16: return .semaphore(.acquired(gauges: try s()), source: source, at: at)
        case 17: return .semaphore(.released(gauges: try s()), source: source, at: at)
        case 18: return .semaphore(.waiting(gauges: try s()), source: source, at: at)
        case 19: return .semaphore(.waiterAbandoned(gauges: try s()), source: source, at: at)
        case 20: return .semaphore(.limitChanged(gauges: try s()), source: source, at: at)
        case 32: return .actor(.enqueued(depth: try r.int()), source: source, at: at)
        case 33: return .actor(.processed(depth: try r.int()), source: source, at: at)
        case 34:
            let to = try r.string()
            let reasons: [DeadLetterReason] = [.unknownRecipient, .stopped, .mailboxFull, .senderCancelled]
            let b = Int(try r.byte())
            guard b < reasons.count else { throw .malformed("unknown dead letter reason \(b)") }
            return .actor(.deadLetter(to: to, reason: reasons[b]), source: source, at: at)
        case 35: return .actor(.senderBlocked(depth: try r.int()), source: source, at: at)
        case 36: return .actor(.started, source: source, at: at)
        case 37: return .actor(.stopped(unprocessed: try r.int()), source: source, at: at)
        case 38: return .actor(.failed(depth: try r.int()), source: source, at: at)
        case 48:
            let n = try r.int()
            return .stream(.produced(count: n, total: try total()), source: source, at: at)
        case 49:
            let n = try r.int()
            return .stream(.consumed(count: n, total: try total()), source: source, at: at)
        case 50: return .stream(.finished(count: try r.int()), source: source, at: at)
        case 51: return .stream(.failed(count: try r.int()), source: source, at: at)
        case 52: return .stream(.stoppedEarly(count: try r.int()), source: source, at: at)
        case 64: return .resource(.opening, source: source, at: at)
        case 65: return .resource(.opened(openNanos: try r.varint()), source: source, at: at)
        case 66: return .resource(.closing, source: source, at: at)
        case 67, 68: return .resource(.closed(heldNanos: try r.varint(), bodyFailed: code == 68), source: source, at: at)
        case 69: return .resource(.openFailed, source: source, at: at)
        case 70: return .resource(.timed(nanos: try r.varint()), source: source, at: at)
        case 80: return .health(.loopLag(lagNanos: try r.varint()), source: source, at: at)
        case 81: return .health(.note(text: try r.string()), source: source, at: at)
        case 82: return .health(.poolStall(stall: try JSONBytes.decode(PoolStall.self, Array(try r.string().utf8))), source: source, at: at)
        default: throw .malformed("unknown event code \(code)")
        }
    }
}

extension PatternEvent {
    /// Something a user hunts for in a recording: a full queue, a waiter giving up, a dead
    /// letter, a blocked sender, a failure. The timeline marks where each starts.
    public var isWarning: Bool {
        switch self {
        case .queue(let e, _, _):
            switch e {
            case .producerBlocked, .waiterAbandoned: true
            default: false
            }
        case .semaphore(.waiterAbandoned, _, _): true
        case .actor(let e, _, _):
            switch e {
            case .deadLetter, .senderBlocked, .failed: true
            default: false
            }
        case .stream(.failed, _, _): true
        case .resource(let e, _, _):
            switch e {
            case .openFailed: true
            case .closed(_, let failed): failed
            default: false
            }
        default: false
        }
    }
}

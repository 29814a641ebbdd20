#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncPatterns

/// A recording read into memory and indexed: its blocks of events, keyframes, knob changes,
/// gaps and end. Opening checks the header and every record's CRC; a file cut short
/// (a killed recorder, a full disk) opens up to its last whole record and says so in
/// `truncation`; anything else wrong throws a `RecordingError`.
public final class Recording: @unchecked Sendable {
    struct Block {
        var payload: Range<Int>
        /// Where the events start inside the payload.
        var entries: Int
        var firstIndex: Int
        var count: Int
        var firstTime: Int64
        var lastTime: Int64
        /// The largest event time up to and including this block (for seeking by time).
        var maxTime: Int64
        var onsets: Int
    }

    struct KeyframeRef {
        var eventIndex: Int
        var time: Int64
        var json: Range<Int>
    }

    public struct KnobChange: Sendable, Equatable {
        public var eventIndex: Int
        public var time: Int64
        public var name: String
        public var value: Double
    }

    public struct Gap: Sendable, Equatable {
        public var eventIndex: Int
        public var missed: Int
    }

    public let info: RecordingInfo
    let bytes: [UInt8]
    var blocks: [Block] = []
    var keyframes: [KeyframeRef] = []
    public private(set) var knobChanges: [KnobChange] = []
    public private(set) var gaps: [Gap] = []
    var names: [PatternID] = []
    var endRef: KeyframeRef?
    /// Events in the file.
    public private(set) var eventCount = 0
    /// Nanoseconds from the start to the last event or the end record.
    public private(set) var durationNanos: Int64 = 0
    /// Why the file is shorter than a whole recording, if it is (a warning, not an error).
    public private(set) var truncation: String?
    /// The knobs as specs (those the file describes soundly).
    public let knobSpecs: [KnobSpec]

    /// Reads and indexes a file. - Throws: `RecordingError`.
    public static func open(path: String) throws(RecordingError) -> Recording {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .unreadable("\(path) is a directory") }
        // A device or a pipe (/dev/zero) never ends: a recording is a file.
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable("\(path) is not a regular file") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(st.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var checkedPrefix = false
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw .unreadable("\(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if !checkedPrefix {
                // The header and the records of the first megabyte are checked before the
                // rest is read: a large file that is no recording fails at once.
                checkedPrefix = true
                try checkPrefix(bytes)
            }
        }
        return try Recording(bytes: bytes)
    }

    /// Throws what reading `prefix` finds wrong, except that it ends early.
    static func checkPrefix(_ prefix: [UInt8]) throws(RecordingError) {
        do {
            _ = try Recording(bytes: prefix)
        } catch {
            switch error {
            case .notARecording, .newerVersion, .corrupted: throw error
            default: return
            }
        }
    }

    public init(bytes: [UInt8]) throws(RecordingError) {
        self.bytes = bytes
        guard !bytes.isEmpty else { throw .empty }
        let magic = RecordingFormat.magic
        guard bytes.prefix(magic.count).elementsEqual(magic.prefix(min(magic.count, bytes.count))) else { throw .notARecording }
        guard bytes.count >= RecordingFormat.headerSize else { throw .truncatedHeader }
        let version = UInt16(bytes[8]) | UInt16(bytes[9]) << 8
        guard version >= 1 else { throw .notARecording }
        guard version <= RecordingFormat.version else { throw .newerVersion(version) }
        var info: RecordingInfo?
        var blocks: [Block] = []
        var keyframes: [KeyframeRef] = []
        var knobChanges: [KnobChange] = []
        var gaps: [Gap] = []
        var names: [PatternID] = []
        var endRef: KeyframeRef?
        var eventCount = 0
        var offset = RecordingFormat.headerSize
        var maxTime = Int64.min
        var truncation: String?
        let result: Result<Void, RecordingError> = bytes.withUnsafeBytes { raw in
            do throws {
                while offset < raw.count {
                    let remaining = raw.count - offset
                    guard remaining >= RecordingFormat.recordOverhead else {
                        truncation = "the recording is truncated: its last \(remaining) bytes are not a whole record"
                        break
                    }
                    let type = raw[offset]
                    let length =
                        Int(raw[offset + 1]) | Int(raw[offset + 2]) << 8 | Int(raw[offset + 3]) << 16 | Int(raw[offset + 4]) << 24
                    guard length <= RecordingFormat.maximumPayload else {
                        throw RecordingError.corrupted(offset: offset, why: "a record claims \(length) bytes")
                    }
                    guard length + RecordingFormat.recordOverhead <= remaining else {
                        truncation = "the recording is truncated: its last \(remaining) bytes are not a whole record"
                        break
                    }
                    let payload = (offset + 5)..<(offset + 5 + length)
                    let crcAt = payload.upperBound
                    let stored =
                        UInt32(raw[crcAt]) | UInt32(raw[crcAt + 1]) << 8 | UInt32(raw[crcAt + 2]) << 16 | UInt32(raw[crcAt + 3]) << 24
                    guard CRC32.of(UnsafeRawBufferPointer(rebasing: raw[offset..<crcAt])) == stored else {
                        throw RecordingError.corrupted(offset: offset, why: "a record fails its checksum")
                    }
                    if info == nil, type != RecordingFormat.RecordType.info.rawValue {
                        throw RecordingError.corrupted(offset: offset, why: "the first record is not the recording's description")
                    }
                    do throws {
                        var r = ByteReader(raw, from: payload.lowerBound, to: payload.upperBound)
                        switch RecordingFormat.RecordType(rawValue: type) {
                        case .info:
                            guard info == nil else { throw RecordingError.malformed("a second description") }
                            info = try JSONBytes.decode(RecordingInfo.self, r.rest())
                        case .name:
                            let id = try r.varint()
                            guard id == UInt64(names.count) else { throw RecordingError.malformed("pattern names out of order") }
                            let k = Int(try r.byte())
                            guard k < PatternKind.allCases.count else { throw RecordingError.malformed("unknown pattern kind") }
                            names.append(PatternID(PatternKind.allCases[k], try r.string()))
                        case .events:
                            let first = try r.count(atMost: Int.max / 2)
                            let count = try r.count(atMost: length)
                            guard first == eventCount, count > 0 else { throw RecordingError.malformed("events out of order") }
                            let firstTime = try r.signed()
                            let lastTime = try r.signed()
                            let onsets = try r.count(atMost: count)
                            maxTime = max(maxTime, firstTime, lastTime)
                            blocks.append(
                                Block(
                                    payload: payload, entries: r.offset, firstIndex: first, count: count, firstTime: firstTime,
                                    lastTime: lastTime, maxTime: maxTime, onsets: onsets))
                            eventCount += count
                        case .keyframe, .end:
                            let index = try r.count(atMost: Int.max / 2)
                            guard index == eventCount else { throw RecordingError.malformed("a keyframe out of order") }
                            let time = try r.signed()
                            let ref = KeyframeRef(eventIndex: index, time: time, json: r.offset..<payload.upperBound)
                            maxTime = max(maxTime, time)
                            if type == RecordingFormat.RecordType.end.rawValue {
                                endRef = ref
                            } else {
                                keyframes.append(ref)
                            }
                        case .knob:
                            let index = try r.count(atMost: Int.max / 2)
                            guard index == eventCount else { throw RecordingError.malformed("a knob change out of order") }
                            let time = try r.signed()
                            let name = try r.string()
                            let value = try r.double()
                            guard value.isFinite else { throw RecordingError.malformed("a knob value is not a number") }
                            knobChanges.append(KnobChange(eventIndex: index, time: time, name: name, value: value))
                        case .gap:
                            let index = try r.count(atMost: Int.max / 2)
                            guard index == eventCount else { throw RecordingError.malformed("a gap out of order") }
                            gaps.append(Gap(eventIndex: index, missed: try r.count(atMost: Int.max / 2)))
                        case nil:
                            break  // a record this version does not know: skipped
                        }
                    } catch {
                        throw RecordingError.corrupted(offset: offset, why: (error as? RecordingError)?.description ?? "\(error)")
                    }
                    offset = crcAt + 4
                }
                return .success(())
            } catch {
                return .failure(error as? RecordingError ?? .malformed("\(error)"))
            }
        }
        try result.get()
        self.blocks = blocks
        self.keyframes = keyframes
        self.knobChanges = knobChanges
        self.gaps = gaps
        self.names = names
        self.endRef = endRef
        self.eventCount = eventCount
        guard let info else { throw .truncatedHeader }
        guard info.shapes <= RecordingInfo.shapesVersion else {
            throw RecordingError.corrupted(
                offset: RecordingFormat.headerSize, why: "its snapshots have shapes version \(info.shapes), newer than this sluice")
        }
        guard let first = keyframes.first, first.eventIndex == 0 else {
            throw RecordingError.corrupted(offset: RecordingFormat.headerSize, why: "it has no first keyframe")
        }
        self.info = info
        knobSpecs = info.knobs.compactMap(\.spec)
        durationNanos = max(0, maxTime == .min ? 0 : maxTime)
        if truncation == nil, endRef == nil {
            truncation = "the recording did not end cleanly (no end record): it replays up to its last whole record"
        } else if let t = truncation {
            truncation = t + ": it replays up to its last whole record"
        }
        self.truncation = truncation
    }

    /// Whether the run's end (status and final snapshot) is in the file.
    public var isComplete: Bool { endRef != nil }

    /// Events `range` (indices into the whole recording), with their warning-onset marks.
    func events(_ range: Range<Int>) throws -> [(event: PatternEvent, onset: Bool)] {
        let range = range.clamped(to: 0..<eventCount)
        guard !range.isEmpty else { return [] }
        var out: [(event: PatternEvent, onset: Bool)] = []
        out.reserveCapacity(range.count)
        var b = blockIndex(containing: range.lowerBound)
        while b < blocks.count, blocks[b].firstIndex < range.upperBound {
            try decode(block: b) { index, event, onset in
                if range.contains(index) { out.append((event, onset)) }
                return index + 1 < range.upperBound
            }
            b += 1
        }
        return out
    }

    /// Calls `body` with each event of `range` in order, without collecting them.
    func forEachEvent(_ range: Range<Int>, _ body: (PatternEvent) -> Void) throws {
        let range = range.clamped(to: 0..<eventCount)
        guard !range.isEmpty else { return }
        var b = blockIndex(containing: range.lowerBound)
        while b < blocks.count, blocks[b].firstIndex < range.upperBound {
            try decode(block: b) { index, event, _ in
                if index >= range.lowerBound { body(event) }
                return index + 1 < range.upperBound
            }
            b += 1
        }
    }

    /// The block holding event `index`.
    func blockIndex(containing index: Int) -> Int {
        var lo = 0
        var hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if blocks[mid].firstIndex + blocks[mid].count <= index { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Decodes block `b`, calling `body(index, event, onset)` until it returns false.
    func decode(block b: Int, _ body: (Int, PatternEvent, Bool) throws -> Bool) throws {
        let block = blocks[b]
        let names = self.names
        let start = info.startNanos
        try bytes.withUnsafeBytes { raw throws in
            var r = ByteReader(raw, from: block.entries, to: block.payload.upperBound)
            var time = block.firstTime
            for i in 0..<block.count {
                let tag = try r.byte()
                let code = tag & ~EventCode.warningBit
                time = time &+ (try r.signed())
                let id = try r.varint()
                guard id < UInt64(names.count) else { throw RecordingError.malformed("an event names an unknown pattern") }
                let source = names[Int(id)]
                guard EventCode.kind(of: code) == source.kind else { throw RecordingError.malformed("an event of the wrong kind") }
                let event = try EventCode.decode(
                    code, &r, source: source, at: MonotonicInstant(nanoseconds: start &+ UInt64(bitPattern: time)))
                if try !body(block.firstIndex + i, event, tag & EventCode.warningBit != 0) { return }
            }
        }
    }

    /// The last keyframe at or before event `index`.
    func keyframeIndex(atOrBefore index: Int) -> Int {
        var lo = 0
        var hi = keyframes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keyframes[mid].eventIndex <= index { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    func keyframe(_ k: Int) throws -> KeyframeBody {
        try JSONBytes.decode(KeyframeBody.self, Array(bytes[keyframes[k].json]))
    }

    /// Decodes every keyframe and every event block, folding the events onto their
    /// keyframes as a replay would: what headless replay checks before it summarises, so a
    /// damaged block with a valid checksum fails there as it would in the dashboard.
    public func checkEverything() throws {
        for k in keyframes.indices {
            var fold = SnapshotFold(try keyframe(k).snapshot)
            let upTo = k + 1 < keyframes.count ? keyframes[k + 1].eventIndex : eventCount
            try forEachEvent(keyframes[k].eventIndex..<upTo) { fold.apply($0) }
        }
        if keyframes.isEmpty { try forEachEvent(0..<eventCount) { _ in } }
        _ = try end()
    }

    /// The snapshot the recording starts from (its first keyframe): what a watched program
    /// had done before the recording began.
    public func firstSnapshot() throws -> Snapshot? {
        keyframes.isEmpty ? nil : try keyframe(0).snapshot
    }

    /// The run's end as recorded, if the file has it.
    func end() throws -> EndBody? {
        guard let endRef else { return nil }
        return try JSONBytes.decode(EndBody.self, Array(bytes[endRef.json]))
    }

    /// How many events happened at or before `time` (nanoseconds since the start).
    func eventCount(atOrBefore time: Int64) throws -> Int {
        var lo = 0
        var hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if blocks[mid].maxTime <= time { lo = mid + 1 } else { hi = mid }
        }
        guard lo < blocks.count else { return eventCount }
        var count = blocks[lo].firstIndex
        try decode(block: lo) { index, event, _ in
            guard Int64(bitPattern: event.at.nanoseconds &- info.startNanos) <= time else { return false }
            count = index + 1
            return true
        }
        return count
    }
}

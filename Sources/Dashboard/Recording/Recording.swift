import AsyncPatterns
import SluiceWire

/// A recording, indexed in one streaming pass and read in bounded pieces: opening reads
/// the file record by record (checking the header first, then every record's CRC) and keeps
/// only an index of its blocks of events, keyframes, knob changes, gaps and end; a step or a
/// seek reads the records it needs again. Nothing holds the file whole: the reader buffers
/// at most `RecordingFormat.readChunk` or one record (at most `maximumPayload`), and the
/// index at most `maximumIndexBytes`. A file cut short (a killed recorder, a full disk)
/// opens up to its last whole record and says so in `truncation`; anything else wrong
/// throws a `RecordingError`.
///
/// `@unchecked Sendable`: every stored property is a `let` or set only in `init`, and the
/// byte source reads with `pread` (no shared file position) or from an immutable array.
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
        /// The keyframe's body in the file.
        var body: Range<Int>
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
    let source: any RecordingBytes
    let blocks: [Block]
    let keyframes: [KeyframeRef]
    public let knobChanges: [KnobChange]
    public let gaps: [Gap]
    let names: [PatternID]
    let endRef: KeyframeRef?
    /// Events in the file.
    public let eventCount: Int
    /// Nanoseconds from the start to the last event or the end record.
    public let durationNanos: Int64
    /// Why the file is shorter than a whole recording, if it is (a warning, not an error).
    public let truncation: String?
    /// The knobs as specs (those the file describes soundly).
    public let knobSpecs: [KnobSpec]
    /// The most bytes the reader held at once while indexing (its buffer), and what the
    /// index takes: the bound that `RecordingFormat.readChunk`, `maximumPayload` and
    /// `maximumIndexBytes` keep.
    public let indexingPeakBytes: Int
    public let indexBytes: Int

    /// Indexes a file, reading it in bounded pieces. - Throws: `RecordingError`.
    public static func open(path: String) throws(RecordingError) -> Recording {
        try Recording(source: try RecordingFile(path: path))
    }

    /// Indexes a recording held in memory (tests, fuzzing).
    public convenience init(bytes: [UInt8]) throws(RecordingError) {
        try self.init(source: RecordingMemory(bytes: bytes))
    }

    /// `indexLimit`: the most the index may take (tests lower it).
    init(source: any RecordingBytes, indexLimit: Int = RecordingFormat.maximumIndexBytes) throws(RecordingError) {
        self.source = source
        var scan = RecordScanner(source)
        try scan.checkHeader()
        var info: RecordingInfo?
        var blocks: [Block] = []
        var keyframes: [KeyframeRef] = []
        var knobChanges: [KnobChange] = []
        var gaps: [Gap] = []
        var names: [PatternID] = []
        var endRef: KeyframeRef?
        var eventCount = 0
        var maxTime = Int64.min
        var indexBytes = 0
        func charge(_ bytes: Int, at offset: Int) throws(RecordingError) {
            indexBytes += bytes
            guard indexBytes <= indexLimit else {
                throw .corrupted(
                    offset: offset, why: "its index would pass \(indexLimit) bytes (more records than any recording sluice writes)")
            }
        }
        while let record = try scan.next() {
            let offset = record.offset
            if info == nil, record.type != RecordingFormat.RecordType.info.rawValue {
                throw RecordingError.corrupted(offset: offset, why: "the first record is not the recording's description")
            }
            do {
                do {
                    var r = WireReader(Array(record.payload))
                    let base = record.payloadStart
                    let length = record.payload.count
                    switch RecordingFormat.RecordType(rawValue: record.type) {
                    case .info:
                        guard info == nil else { throw RecordingError.malformed("a second description") }
                        info = try JSONBytes.decode(RecordingInfo.self, Array(r.rest()))
                    case .name:
                        let id = try r.uint()
                        guard id == UInt64(names.count) else { throw RecordingError.malformed("pattern names out of order") }
                        let name = try EventCodec.patternID(&r)
                        try charge(Self.indexCost(.name, name: name.name), at: offset)
                        names.append(name)
                    case .events:
                        let first = try r.count(atMost: Int.max / 2)
                        let count = try r.count(atMost: length)
                        guard first == eventCount, count > 0 else { throw RecordingError.malformed("events out of order") }
                        let firstTime = try r.signed()
                        let lastTime = try r.signed()
                        let onsets = try r.count(atMost: count)
                        maxTime = max(maxTime, firstTime, lastTime)
                        try charge(Self.indexCost(.events), at: offset)
                        blocks.append(
                            Block(
                                payload: base..<(base + length), entries: base + r.at, firstIndex: first, count: count,
                                firstTime: firstTime, lastTime: lastTime, maxTime: maxTime, onsets: onsets))
                        eventCount += count
                    case .keyframe, .end:
                        let index = try r.count(atMost: Int.max / 2)
                        guard index == eventCount else { throw RecordingError.malformed("a keyframe out of order") }
                        let time = try r.signed()
                        let ref = KeyframeRef(eventIndex: index, time: time, body: (base + r.at)..<(base + length))
                        maxTime = max(maxTime, time)
                        if record.type == RecordingFormat.RecordType.end.rawValue {
                            endRef = ref
                        } else {
                            try charge(Self.indexCost(.keyframe), at: offset)
                            keyframes.append(ref)
                        }
                    case .knob:
                        let index = try r.count(atMost: Int.max / 2)
                        guard index == eventCount else { throw RecordingError.malformed("a knob change out of order") }
                        let time = try r.signed()
                        let name = try r.string()
                        let value = try r.double()
                        try charge(Self.indexCost(.knob, name: name), at: offset)
                        knobChanges.append(KnobChange(eventIndex: index, time: time, name: name, value: value))
                    case .gap:
                        let index = try r.count(atMost: Int.max / 2)
                        guard index == eventCount else { throw RecordingError.malformed("a gap out of order") }
                        try charge(Self.indexCost(.gap), at: offset)
                        gaps.append(Gap(eventIndex: index, missed: try r.count(atMost: Int.max / 2)))
                    case nil:
                        break  // a record this version does not know: skipped
                    }
                } catch let error as WireError {
                    throw RecordingError.malformed(error.reason)
                }
            } catch let error as RecordingError {
                if case .corrupted = error { throw error }
                throw RecordingError.corrupted(offset: offset, why: error.description)
            } catch {
                throw RecordingError.corrupted(offset: offset, why: "\(error)")
            }
        }
        var truncation = scan.truncation
        self.blocks = blocks
        self.keyframes = keyframes
        self.knobChanges = knobChanges
        self.gaps = gaps
        self.names = names
        self.endRef = endRef
        self.eventCount = eventCount
        indexingPeakBytes = scan.peakBuffered
        self.indexBytes = indexBytes
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

    /// What a record of `type` (naming `name`) adds to the index: the reader charges this
    /// against `maximumIndexBytes`, and the writer counts it so that the recorder stops
    /// before it writes a file no replay would open.
    static func indexCost(_ type: RecordingFormat.RecordType, name: String = "") -> Int {
        switch type {
        case .name: MemoryLayout<PatternID>.stride + name.utf8.count
        case .events: MemoryLayout<Block>.stride
        case .keyframe: MemoryLayout<KeyframeRef>.stride
        case .knob: MemoryLayout<KnobChange>.stride + name.utf8.count
        case .gap: MemoryLayout<Gap>.stride
        case .info, .end: 0
        }
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

    /// Decodes block `b` (read again from the file), calling `body(index, event, onset)`
    /// until it returns false.
    func decode(block b: Int, _ body: (Int, PatternEvent, Bool) throws -> Bool) throws {
        let block = blocks[b]
        let names = self.names
        let start = info.startNanos
        var r = WireReader(try source.read(block.entries..<block.payload.upperBound))
        var time = block.firstTime
        do {
            for i in 0..<block.count {
                let (event, onset) = try EventCodec.decodeEntry(&r, names: names, time: &time, start: start)
                if try !body(block.firstIndex + i, event, onset) { return }
            }
        } catch let error as WireError {
            throw RecordingError.malformed(error.reason)
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
        let layout = info.snapshotLayout
        return try Self.decoded { r throws(WireError) in try KeyframeBody(&r, layout: layout) }(try source.read(keyframes[k].body))
    }

    /// A decoder of bytes whose codec errors become `RecordingError.malformed`.
    static func decoded<T>(_ read: @escaping (inout WireReader) throws(WireError) -> T) -> ([UInt8]) throws(RecordingError) -> T {
        { bytes throws(RecordingError) in
            var r = WireReader(bytes)
            do throws(WireError) { return try read(&r) } catch { throw .malformed(error.reason) }
        }
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
        let layout = info.snapshotLayout
        return try Self.decoded { r throws(WireError) in try EndBody(&r, layout: layout) }(try source.read(endRef.body))
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

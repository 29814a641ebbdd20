import AsyncPatterns
import SluiceWire

/// Encodes a recording into bytes (no I/O): header and info, then names, event blocks,
/// keyframes, knob changes, gaps and the end. `take()` hands over what is ready to write;
/// everything handed over is whole records.
struct RecordingWriter {
    /// Events per block at most (a block is the unit of CRC and of a step's decoding).
    static let blockEvents = 4096
    static let blockBytes = 48 * 1024
    /// The most one event may take: a bigger one (an agent's megabytes of note text) is left
    /// out and counted as missed (a gap record), so no block can pass a record's bound and
    /// make the file one that replay refuses.
    static let eventBytesLimit = 1 << 20
    /// A warning of the same pattern and kind within this long of the last one continues
    /// it; a later one is the onset of a new warning (what the timeline marks).
    static let warningGapNanos: Int64 = 1_000_000_000

    let startNanos: UInt64
    private var ready: [UInt8] = []
    private var ids: [PatternID: UInt64] = [:]
    private var block = WireWriter()
    private var blockFirstIndex = 0
    private var blockCount = 0
    private var blockFirstTime: Int64 = 0
    private var blockLastTime: Int64 = 0
    private var blockOnsets = 0
    private var lastWarning: [UInt64: Int64] = [:]
    /// The last pattern seen (runs of events from one pattern skip the dictionary).
    private var lastID: (source: PatternID, id: UInt64)?
    /// What a replay's index of the records written so far takes (`Recording.indexCost`).
    private(set) var indexBytes = 0
    /// Events written (the index of the next one).
    private(set) var eventCount = 0
    /// Events left out for their size (see `eventBytesLimit`).
    private(set) var oversizedEvents = 0
    /// The largest record payload written: `RecordingFormat.maximumPayload`, less in tests.
    let recordLimit: Int
    private(set) var lastTime: Int64 = 0

    init(info: RecordingInfo, recordLimit: Int = RecordingFormat.maximumPayload) {
        self.recordLimit = recordLimit
        startNanos = info.startNanos
        ready = RecordingFormat.header()
        ready += RecordingFormat.record(.info, JSONBytes.encode(info))
    }

    /// Bytes ready to write (whole records), handed over and forgotten.
    mutating func take() -> [UInt8] {
        defer { ready = [] }
        return ready
    }

    var pendingBytes: Int { ready.count + block.bytes.count }

    func time(of event: PatternEvent) -> Int64 {
        Int64(bitPattern: event.at.nanoseconds &- startNanos)
    }

    /// Adds an event; `mayWarn` false records a warning-like event (a waiter cancelled
    /// by the run's own stop) without marking where a warning starts.
    mutating func append(_ event: PatternEvent, mayWarn: Bool = true) {
        let source = event.source
        let id: UInt64
        if let last = lastID, last.source == source {
            id = last.id
        } else if let known = ids[source] {
            id = known
        } else {
            id = UInt64(ids.count)
            ids[source] = id
            var w = WireWriter()
            w.uint(id)
            w.byte(UInt8(PatternKind.allCases.firstIndex(of: source.kind)!))
            w.string(source.name)
            ready += RecordingFormat.record(.name, w.bytes)
            indexBytes += Recording.indexCost(.name, name: source.name)
        }
        lastID = (source, id)
        let t = time(of: event)
        if blockCount == 0 {
            blockFirstIndex = eventCount
            blockFirstTime = t
            blockLastTime = t
        }
        var bits: UInt8 = 0
        let warningKey = mayWarn && event.isWarning ? id << 8 | UInt64(EventCodec.code(of: event)) : nil
        if let key = warningKey, !(lastWarning[key].map { t - $0 < Self.warningGapNanos && t >= $0 } ?? false) {
            bits = EventCodec.warningBit
        }
        let start = block.bytes.count
        EventCodec.encode(event, into: &block, tagBits: bits, pattern: id, delta: t &- blockLastTime)
        guard block.bytes.count - start <= Self.eventBytesLimit else {
            block.bytes.removeSubrange(start...)
            oversizedEvents += 1
            gap(1)
            return
        }
        if let key = warningKey {
            if bits != 0 { blockOnsets += 1 }
            lastWarning[key] = t
        }
        blockLastTime = t
        lastTime = max(lastTime, t)
        blockCount += 1
        eventCount += 1
        if blockCount >= Self.blockEvents || block.bytes.count >= Self.blockBytes { seal() }
    }

    /// Ends the current block (before any other record, so records stay in event order).
    mutating func seal() {
        guard blockCount > 0 else { return }
        var w = WireWriter()
        w.uint(UInt64(blockFirstIndex))
        w.uint(UInt64(blockCount))
        w.signed(blockFirstTime)
        w.signed(blockLastTime)
        w.uint(UInt64(blockOnsets))
        w.raw(block.bytes)
        ready += RecordingFormat.record(.events, w.bytes)
        indexBytes += Recording.indexCost(.events)
        block = WireWriter()
        blockCount = 0
        blockOnsets = 0
    }

    /// A keyframe at the current event count; `time` in nanoseconds since the start.
    /// Returns its size in bytes, or nil when the snapshot is too big for a record (about
    /// 150,000 patterns): then nothing is written.
    @discardableResult
    mutating func keyframe(_ snapshot: Snapshot, knobs: [String: Double], speed: Double, status: SourceStatus, time: Int64) -> Int? {
        seal()
        var kept = snapshot
        kept.recentEvents = []
        kept.notableEvents = Array(snapshot.notableEvents.suffix(64))
        var w = WireWriter()
        w.uint(UInt64(eventCount))
        w.signed(max(time, lastTime))
        KeyframeBody(snapshot: kept, knobs: knobs, speed: speed, status: status.recordedText).encode(into: &w)
        guard w.bytes.count <= recordLimit else { return nil }
        let record = RecordingFormat.record(.keyframe, w.bytes)
        ready += record
        indexBytes += Recording.indexCost(.keyframe)
        return record.count
    }

    mutating func knob(_ name: String, _ value: Double, time: Int64) {
        seal()
        var w = WireWriter()
        w.uint(UInt64(eventCount))
        w.signed(max(time, lastTime))
        w.string(name)
        w.double(value)
        ready += RecordingFormat.record(.knob, w.bytes)
        indexBytes += Recording.indexCost(.knob, name: name)
    }

    mutating func gap(_ missed: Int) {
        seal()
        var w = WireWriter()
        w.uint(UInt64(eventCount))
        w.uint(UInt64(missed))
        ready += RecordingFormat.record(.gap, w.bytes)
        indexBytes += Recording.indexCost(.gap)
    }

    mutating func end(status: SourceStatus, elapsedSeconds: Double, snapshot: Snapshot, reason: String, time: Int64) {
        seal()
        var w = WireWriter()
        w.uint(UInt64(eventCount))
        w.signed(max(time, lastTime))
        // The summary lists the last 50 events; the file keeps the last 256, not a whole log.
        var kept = snapshot
        kept.droppedEvents += max(0, kept.recentEvents.count - 256)
        kept.recentEvents = Array(kept.recentEvents.suffix(256))
        var body = w
        EndBody(status: status.recordedText, elapsedSeconds: elapsedSeconds, snapshot: kept, reason: reason).encode(into: &body)
        if body.bytes.count > recordLimit {
            // Too big a snapshot for a record: the end keeps the run's time, status and
            // reason without the patterns (the keyframes hold those that fitted).
            body = w
            var bare = Snapshot()
            bare.elapsedSeconds = snapshot.elapsedSeconds
            EndBody(status: status.recordedText, elapsedSeconds: elapsedSeconds, snapshot: bare, reason: reason).encode(into: &body)
        }
        ready += RecordingFormat.record(.end, body.bytes)
    }
}

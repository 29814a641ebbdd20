import AsyncPatterns
import Foundation
import Testing
@testable import Dashboard
@testable import SluiceWire

/// Counts what a recording's reader asks of its file: the largest read, and all of them.
final class CountingBytes: RecordingBytes {
    let inner: any RecordingBytes
    private let reads = Locked((largest: 0, total: 0))
    init(_ inner: any RecordingBytes) { self.inner = inner }
    var count: Int { inner.count }
    var largest: Int { reads.withLock { $0.largest } }
    var total: Int { reads.withLock { $0.total } }

    func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8] {
        reads.withLock {
            $0.largest = max($0.largest, range.count)
            $0.total += range.count
        }
        return try inner.read(range)
    }
}

/// A valid recording of `blocks` blocks of 4,096 events (a keyframe every 16 blocks), made
/// by copying one block the writer wrote with its index and times moved on: large files
/// without millions of calls to the writer.
func largeRecording(blocks: Int, to path: String) throws -> Int {
    var w = RecordingWriter(info: sampleInfo)
    w.keyframe(Snapshot(), knobs: ["rate": 10], speed: 1, status: .running, time: 0)
    let events = sampleEvents(count: RecordingWriter.blockEvents)
    for e in events { w.append(e) }
    w.seal()
    let bytes = w.take()
    // Every record up to the block, then the block's payload without its header.
    var offset = RecordingFormat.headerSize
    var prefix: [UInt8] = []
    var entries: [UInt8] = []
    var span: (first: Int64, last: Int64, onsets: UInt64) = (0, 0, 0)
    while offset < bytes.count {
        let length = bytes[(offset + 1)..<(offset + 5)].reversed().reduce(0) { $0 << 8 | Int($1) }
        let end = offset + RecordingFormat.recordOverhead + length
        if bytes[offset] == RecordingFormat.RecordType.events.rawValue {
            var r = WireReader(Array(bytes[(offset + 5)..<(end - 4)]))
            #expect(try r.uint() == 0)
            #expect(try r.uint() == UInt64(RecordingWriter.blockEvents))
            span = (try r.signed(), try r.signed(), try r.uint())
            entries = Array(r.rest())
        } else {
            prefix += bytes[offset..<end]
        }
        offset = end
    }
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    let file = try #require(FileHandle(forWritingAtPath: path))
    defer { try? file.close() }
    try file.write(contentsOf: Data(Array(bytes[0..<RecordingFormat.headerSize]) + prefix))
    let shift = span.last - span.first + 10_000_000
    for b in 0..<blocks {
        let index = b * RecordingWriter.blockEvents
        let moved = Int64(b) * shift
        if b > 0, b % 16 == 0 {
            var k = WireWriter()
            k.uint(UInt64(index))
            k.signed(span.first + moved)
            KeyframeBody(snapshot: Snapshot(), knobs: ["rate": 10], speed: 1, status: "running").encode(into: &k)
            try file.write(contentsOf: Data(RecordingFormat.record(.keyframe, k.bytes)))
        }
        var p = WireWriter()
        p.uint(UInt64(index))
        p.uint(UInt64(RecordingWriter.blockEvents))
        p.signed(span.first + moved)
        p.signed(span.last + moved)
        p.uint(span.onsets)
        p.raw(entries)
        try file.write(contentsOf: Data(RecordingFormat.record(.events, p.bytes)))
    }
    return Int(try file.offset())
}

@Suite struct StreamingReplayTests {
    /// Replay reads a recording in pieces: opening a 30 MB recording, seeking to its end,
    /// stepping and summarising it never reads more than a chunk at once, and its index
    /// takes a few kilobytes (the old reader held the whole file).
    @Test func aLargeRecordingIsReadInBoundedPieces() throws {
        let path = NSTemporaryDirectory() + "sluice-large-\(getpid()).rec"
        defer { unlink(path) }
        let size = try largeRecording(blocks: 700, to: path)
        #expect(size > 24 << 20)
        let file = CountingBytes(try RecordingFile(path: path))
        let recording = try Recording(source: file)
        #expect(recording.eventCount == 700 * RecordingWriter.blockEvents)
        #expect(recording.keyframes.count == 44)
        #expect(recording.indexingPeakBytes <= RecordingFormat.readChunk)
        #expect(recording.indexBytes < 128 << 10)
        let replay = ReplaySource(recording, now: { 0 })
        replay.seek(toSeconds: Double(recording.durationNanos) / 1e9 * 0.9)
        let late = replay.snapshot()
        #expect(late.queue("jobs") != nil)
        replay.step(by: -1)
        _ = replay.snapshot()
        #expect(try replay.finalState().status == .done)
        #expect(replay.status == .done)
        #expect(file.largest <= RecordingFormat.readChunk)
        // Opening read the file once; the seek, the step and the summary read a few blocks.
        #expect(file.total < size + 8 * RecordingFormat.readChunk)
    }

    /// A file of many tiny valid records cannot make the index grow without bound: past
    /// its limit it is refused as corrupted (exit 65), where it stands.
    @Test func anIndexPastItsBoundIsRefused() throws {
        var w = RecordingWriter(info: sampleInfo)
        w.keyframe(Snapshot(), knobs: [:], speed: 1, status: .running, time: 0)
        for _ in 0..<10_000 { w.gap(1) }
        let bytes = w.take()
        #expect(throws: Never.self) { try Recording(source: RecordingMemory(bytes: bytes), indexLimit: 1 << 20) }
        #expect {
            try Recording(source: RecordingMemory(bytes: bytes), indexLimit: 64 << 10)
        } throws: { error in
            guard case .corrupted = error as? RecordingError else { return false }
            return "\(error)".contains("its index would pass")
        }
    }
}

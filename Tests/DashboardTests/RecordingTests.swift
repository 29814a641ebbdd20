import AsyncPatterns
import Foundation
import Scenarios
import Testing
@testable import Dashboard
@testable import SluiceWire

/// A recording of events of every kind, made with the writer alone (no source, no file).
func sampleEvents(count: Int = 200, start: UInt64 = 1_000_000_000) -> [PatternEvent] {
    let q = PatternID(.queue, "jobs")
    let s = PatternID(.semaphore, "permits")
    let a = PatternID(.actor, "driver")
    let t = PatternID(.stream, "data")
    let r = PatternID(.resource, "scopes")
    let h = PatternID(.health, "scenario")
    func at(_ i: Int) -> MonotonicInstant { MonotonicInstant(nanoseconds: start + UInt64(i) * 10_000_000) }
    var events: [PatternEvent] = []
    for i in 0..<count {
        let g = QueueGauges(depth: i % 11, waitingProducers: i % 3, waitingConsumers: 0)
        let sg = SemaphoreGauges(limit: 3, inUse: i % 4, waiting: i % 5)
        let e: PatternEvent =
            switch i % 24 {
            case 0: .queue(.put(gauges: g), source: q, at: at(i))
            case 1: .queue(.got(gauges: g), source: q, at: at(i))
            case 2: .queue(.producerBlocked(gauges: g), source: q, at: at(i))
            case 3: .queue(.waiterAbandoned(gauges: g, producer: i % 2 == 0), source: q, at: at(i))
            case 4: .queue(.taskDone(unfinished: i), source: q, at: at(i))
            case 5: .queue(.capacityChanged(capacity: 10 + i, gauges: g), source: q, at: at(i))
            case 6: .semaphore(.acquired(gauges: sg), source: s, at: at(i))
            case 7: .semaphore(.released(gauges: sg), source: s, at: at(i))
            case 8: .semaphore(.limitChanged(gauges: sg), source: s, at: at(i))
            case 9: .actor(.enqueued(depth: i), source: a, at: at(i))
            case 10: .actor(.processed(depth: i % 7), source: a, at: at(i))
            case 11: .actor(.deadLetter(to: "ghost-\(i)", reason: .mailboxFull), source: a, at: at(i))
            case 12: .actor(.started, source: a, at: at(i))
            case 13: .actor(.failed(depth: 2), source: a, at: at(i))
            case 14: .stream(.produced(count: i, total: 500), source: t, at: at(i))
            case 15: .stream(.consumed(count: i, total: nil), source: t, at: at(i))
            case 16: .stream(.finished(count: i), source: t, at: at(i))
            case 17: .resource(.opening, source: r, at: at(i))
            case 18: .resource(.opened(openNanos: 12345), source: r, at: at(i))
            case 19: .resource(.closed(heldNanos: 999, bodyFailed: i % 2 == 1), source: r, at: at(i))
            case 20: .resource(.timed(nanos: UInt64(i) * 1000), source: r, at: at(i))
            case 21: .health(.loopLag(lagNanos: 1_500_000), source: h, at: at(i))
            case 22: .health(.note(text: "knob rate = \(i) · ünïcode"), source: h, at: at(i))
            default: .semaphore(.waiterAbandoned(gauges: sg), source: s, at: at(i))
            }
        events.append(e)
    }
    return events
}

let sampleInfo = RecordingInfo(
    title: "sample", mode: "live", panes: [.queue, .semaphore, .actor, .health],
    knobs: [RecordedKnob(KnobSpec("rate", range: 0...100, step: 1, default: 10, "r"))], startNanos: 1_000_000_000,
    shapes: RecordingInfo.shapesVersion)

/// The bytes of a whole recording of `events`: keyframes every `keyframeEvery` events, a knob
/// change in the middle, an end.
func sampleRecording(_ events: [PatternEvent] = sampleEvents(), keyframeEvery: Int = 50, end: Bool = true) -> [UInt8] {
    var w = RecordingWriter(info: sampleInfo)
    var fold = SnapshotFold(Snapshot())
    w.keyframe(Snapshot(), knobs: ["rate": 10], speed: 1, status: .running, time: 0)
    for (i, e) in events.enumerated() {
        if i > 0, i % keyframeEvery == 0 {
            w.keyframe(fold.snapshot, knobs: ["rate": i >= events.count / 2 ? 20 : 10], speed: 1, status: .running, time: w.lastTime)
        }
        if i == events.count / 2 { w.knob("rate", 20, time: w.lastTime) }
        w.append(e)
        fold.apply(e)
    }
    if end {
        var final = fold.snapshot
        final.elapsedSeconds = 2
        w.end(status: .done, elapsedSeconds: 2, snapshot: final, reason: "stopped", time: w.lastTime)
    } else {
        w.seal()
    }
    return w.take()
}

/// A clock the test moves by hand.
final class HandClock: Sendable {
    private let nanos = Locked<UInt64>(0)
    func advance(seconds: Double) { nanos.withLock { $0 += UInt64(seconds * 1e9) } }
    var now: @Sendable () -> UInt64 { { [self] in nanos.withLock { $0 } } }
}

@Suite struct RecordingTests {
    /// Files with shapes 1 hold snapshots in layout 3 (no queue `dropped`); newer, layout 4.
    @Test func aRecordingsShapesVersionSaysHowItsSnapshotsAreLaidOut() {
        var info = sampleInfo
        #expect(info.snapshotLayout == SnapshotLayout.version)
        info.shapes = 1
        #expect(info.snapshotLayout == 3)
    }

    @Test func everyKindOfEventComesBackAsItWasWritten() throws {
        let events = sampleEvents()
        let recording = try Recording(bytes: sampleRecording(events))
        #expect(recording.eventCount == events.count)
        #expect(recording.truncation == nil && recording.isComplete)
        let back = try recording.events(0..<events.count).map(\.event)
        #expect(back == events)
        #expect(try recording.events(37..<41).map(\.event) == Array(events[37..<41]))
        #expect(recording.knobChanges.map(\.value) == [20])
        #expect(recording.knobSpecs.map(\.name) == ["rate"])
    }

    @Test func warningsAreMarkedWhereTheyStartNotWhileTheyGoOn() throws {
        let q = PatternID(.queue, "q")
        let g = QueueGauges(depth: 5, waitingProducers: 1, waitingConsumers: 0)
        // Blocked every 100 ms for a second (one warning), then again 3 s later (a second one).
        let times = (0..<10).map { UInt64($0) * 100_000_000 } + (0..<5).map { 4_000_000_000 + UInt64($0) * 100_000_000 }
        let events = times.map {
            PatternEvent.queue(.producerBlocked(gauges: g), source: q, at: MonotonicInstant(nanoseconds: 1_000_000_000 + $0))
        }
        let recording = try Recording(bytes: sampleRecording(events, keyframeEvery: 1000))
        let onsets = try recording.events(0..<events.count).enumerated().filter { $0.element.onset }.map(\.offset)
        #expect(onsets == [0, 10])
    }

    @Test func aSeedRunsReplaySummaryIsTheSummaryItPrinted() async throws {
        let scenario = try #require(Catalog.named("semaphore"))
        let source = LocalSource(scenario, preset: .seed, speed: 50, logCapacity: 1 << 16)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-seed-\(getpid()).rec").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path)
        await source.run.wait()
        recorder.pump()  // by hand: no thread, no timing
        let printed = RunSummary(
            origin: source.origin, elapsedSeconds: source.run.elapsed.seconds, status: source.status, snapshot: source.snapshot())
        recorder.finish(status: source.status, elapsedSeconds: printed.elapsedSeconds, snapshot: printed.snapshot)
        #expect(recorder.eventsMissed == 0 && recorder.eventsRecorded > 20)

        let replay = ReplaySource(try Recording.open(path: path))
        let replayed = try replay.summary()
        #expect(replayed.origin == SourceOrigin(title: "semaphore", kind: .scenario, preset: "seed"))
        #expect(replayed.json.text == printed.json.text)
        #expect(replayed.text == printed.text)
        #expect(replayed.status == .done)
        // The events folded onto the first keyframe reach the run's final counters.
        let folded = try #require(
            replay.recording.events(0..<replay.recording.eventCount).reduce(into: SnapshotFold(Snapshot())) {
                $0.apply($1.event)
            }.snapshot.semaphore("permits"))
        #expect(folded.acquired == printed.snapshot.semaphore("permits")?.acquired)
    }

    @Test func badFilesSayWhatIsWrong() throws {
        let good = sampleRecording()
        #expect(throws: RecordingError.empty) { try Recording(bytes: []) }
        #expect(throws: RecordingError.notARecording) { try Recording(bytes: Array("{\"json\": true}".utf8)) }
        #expect(throws: RecordingError.truncatedHeader) { try Recording(bytes: Array(good.prefix(10))) }
        #expect(throws: RecordingError.truncatedHeader) { try Recording(bytes: Array(good.prefix(30))) }
        var newer = good
        newer[8] = 3
        #expect(throws: RecordingError.newerVersion(3)) { try Recording(bytes: newer) }
        // Version 1 kept JSON keyframes, which no reader range-checked: refused, and said why.
        var older = good
        older[8] = 1
        #expect(throws: RecordingError.olderVersion(1)) { try Recording(bytes: older) }
        #expect("\(RecordingError.olderVersion(1))".contains("written by an older sluice"))
        var corrupted = good
        corrupted[good.count / 2] ^= 0x40
        #expect {
            try Recording(bytes: corrupted)
        } throws: { error in
            guard case .corrupted = error as? RecordingError else { return false }
            return "\(error)".contains("corrupted at byte")
        }
        // Cut in the middle: it opens, up to its last whole record, and says so.
        let cut = try Recording(bytes: Array(good.prefix(good.count * 2 / 3)))
        #expect(cut.truncation?.contains("truncated") == true && !cut.isComplete)
        #expect(cut.eventCount <= 200)
        #expect(try cut.events(0..<cut.eventCount).map(\.event) == Array(sampleEvents()[0..<cut.eventCount]))
        let unended = try Recording(bytes: sampleRecording(end: false))
        #expect(unended.truncation?.contains("did not end cleanly") == true)
        let final = try ReplaySource(unended).finalState()
        #expect(
            final.snapshot.queue("jobs")?.put == sampleEvents().filter { if case .queue(.put, _, _) = $0 { true } else { false } }.count)
    }

    /// Random and mutated files: the reader and the replay either work or throw a
    /// `RecordingError`; they never crash or hang. Fixed seed; 20,000 inputs in `make test`,
    /// 100,000 in `make check` (`SLUICE_FUZZ_COUNT`).
    @Test func fuzzTheReader() throws {
        var rng = SplitMix64(seed: 14)
        let good = sampleRecording(sampleEvents(count: 60), keyframeEvery: 20)
        let inputs = ProcessInfo.processInfo.environment["SLUICE_FUZZ_COUNT"].flatMap(Int.init) ?? 20_000
        var opened = 0
        for n in 0..<inputs {
            var bytes = good
            switch n % 5 {
            case 0:  // random bytes after a valid header
                bytes = Array(good.prefix(12)) + (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // cut anywhere
                bytes = Array(good.prefix(Int(rng.next() % UInt64(good.count))))
            default:  // flip, set or insert bytes; some with CRCs made right again, to reach the decoders
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 3 {
                    case 0: bytes[at] ^= UInt8(1 << (rng.next() % 8))
                    case 1: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                    default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                    }
                }
                if n % 5 == 4 { bytes = fixCRCs(bytes) }
            }
            guard let recording = try? Recording(bytes: bytes) else { continue }  // typed: RecordingError
            opened += 1
            decodedOrRefused(n) { _ = try recording.events(0..<recording.eventCount) }
            let replay = ReplaySource(recording, now: { 0 })
            _ = replay.snapshot()
            replay.step(by: -1)
            _ = replay.seekWarning(forward: true)
            replay.seek(toSeconds: 0.3)
            _ = replay.snapshot()
            _ = replay.knobValues
            decodedOrRefused(n) { _ = try replay.finalState() }
        }
        #expect(opened > inputs / 10)
    }
}

/// Runs `body`, which reads a hostile recording: it must succeed or throw a
/// `RecordingError`, never another error.
func decodedOrRefused(_ input: Int, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
    } catch is RecordingError {
    } catch {
        Issue.record("input \(input): threw \(type(of: error)), not a RecordingError: \(error)", sourceLocation: sourceLocation)
    }
}

/// Recomputes every record's CRC it can find (so mutations reach the payload decoders).
func fixCRCs(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    var offset = RecordingFormat.headerSize
    while offset + RecordingFormat.recordOverhead <= bytes.count {
        let length = Int(bytes[offset + 1]) | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]) << 16 | Int(bytes[offset + 4]) << 24
        guard length <= bytes.count - offset - RecordingFormat.recordOverhead else { break }
        let crcAt = offset + 5 + length
        let crc = CRC32.of(bytes[offset..<crcAt])
        for i in 0..<4 { bytes[crcAt + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        offset = crcAt + 4
    }
    return bytes
}

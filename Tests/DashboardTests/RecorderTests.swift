import AsyncPatterns
import Foundation
import Testing
@testable import Dashboard
@testable import SluiceWire

/// A test double whose events the test hands out in batches: no scenario, no timing. It
/// has the core of a source and no capability.
final class ScriptedSource: Source {
    private let state = Locked<
        (events: [PatternEvent], knobs: [String: Double], interest: EventInterest, stopped: Bool, snapshot: Snapshot)
    >(([], ["rate": 10], .notable, false, Snapshot()))
    private let logCapacity: Int
    let origin: SourceOrigin

    init(logCapacity: Int = 1 << 20, origin: SourceOrigin = SourceOrigin(title: "scripted", kind: .scenario, preset: "live")) {
        self.logCapacity = logCapacity
        self.origin = origin
    }

    func add(_ events: [PatternEvent]) { state.withLock { $0.events += events } }
    func turn(_ name: String, to value: Double) { state.withLock { $0.knobs[name] = value } }
    var interest: EventInterest { state.withLock { $0.interest } }
    var stopped: Bool { state.withLock { $0.stopped } }

    var status: SourceStatus { .running }
    var abilities: SourceAbilities { SourceAbilities() }
    var panes: [PatternKind] { [.queue] }
    var knobs: [KnobSpec] { [KnobSpec("rate", range: 0...100, step: 1, default: 10, "r")] }
    var knobValues: [String: Double] { state.withLock { $0.knobs } }
    func snapshot() -> Snapshot { state.withLock { $0.snapshot } }
    func show(_ snapshot: Snapshot) { state.withLock { $0.snapshot = snapshot } }
    /// Numbered from 0; only the last `logCapacity` are kept (the rest are missed).
    func events(after cursor: Int) -> SourceEvents {
        state.withLock { s in
            let first = max(0, s.events.count - logCapacity)
            let from = max(cursor, first)
            return SourceEvents(events: Array(s.events[min(from, s.events.count)...]), next: s.events.count, missed: from - cursor)
        }
    }
    func setEventInterest(_ interest: EventInterest) { state.withLock { $0.interest = interest } }
    func stop(waitingAtMost limit: Duration) { state.withLock { $0.stopped = true } }
}

@Suite struct RecorderTests {
    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(name)-\(getpid()).rec").path
    }

    /// A run of many records (here: many patterns, each a name record) stops recording
    /// before a replay's index of it would pass its bound, with an end and a reason: every
    /// file the recorder writes, a replay opens. The writer counts the index as the reader
    /// charges it.
    @Test func recordingStopsBeforeAReplaysIndexWouldPassItsBound() throws {
        let source = ScriptedSource()
        let path = temporary("index")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path, indexBudget: 4096)
        let start = MonotonicInstant.now().nanoseconds + 1000
        source.add(
            (0..<1000).map {
                .actor(.started, source: PatternID(.actor, "actor-\($0)"), at: MonotonicInstant(nanoseconds: start + UInt64($0)))
            })
        recorder.pump()
        #expect(recorder.isFinished)
        #expect(recorder.message?.contains("a replay indexes at most") == true)
        let recording = try Recording.open(path: path)
        #expect(recording.isComplete && recording.eventCount < 1000)
        #expect(recording.indexBytes <= 4096 + (256 << 10))

        var w = RecordingWriter(info: sampleInfo)
        w.keyframe(Snapshot(), knobs: [:], speed: 1, status: .running, time: 0)
        for e in sampleEvents(count: 5000) { w.append(e) }
        w.knob("rate", 3, time: w.lastTime)
        w.gap(7)
        w.end(status: .done, elapsedSeconds: 1, snapshot: Snapshot(), reason: "stopped", time: w.lastTime)
        let counted = w.indexBytes
        #expect(try Recording(bytes: w.take()).indexBytes == counted)
    }

    @Test func itAsksForEveryEventAndRecordsKnobChangesAndGaps() throws {
        let source = ScriptedSource(logCapacity: 100)
        let path = temporary("knobs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recording = RecordingSource(source, recorder: try Recorder(recording: source, to: path))
        #expect(source.interest == .all)
        recording.setEventInterest(.notable)  // the log pane's choice does not reach the source
        #expect(source.interest == .all)
        let events = sampleEvents(count: 300, start: MonotonicInstant.now().nanoseconds + 1000)
        source.add(Array(events[0..<50]))
        recording.recorder.pump()
        source.turn("rate", to: 42)
        source.add(Array(events[50..<300]))  // 150 of these fall out of the source's log first
        recording.recorder.pump()
        #expect(recording.recorder.eventsMissed == 150)
        recording.stop(waitingAtMost: .zero)
        #expect(source.stopped && recording.recorder.isFinished)

        let replay = ReplaySource(try Recording.open(path: path), now: { 0 })
        replay.pause()
        #expect(replay.recording.eventCount == 150 && replay.recording.gaps == [Recording.Gap(eventIndex: 50, missed: 150)])
        #expect(try replay.recording.events(0..<150).map(\.event) == Array(events[0..<50] + events[200..<300]))
        replay.step(by: 10)
        #expect(replay.knobValues == ["rate": 10])
        replay.step(by: 100)
        #expect(replay.knobValues == ["rate": 42])
    }

    /// An agent may send an event of megabytes (a note's text): it is left out, counted as
    /// missed, and every block stays small enough for replay to read.
    @Test func anEventTooBigForARecordIsMissedNotWritten() throws {
        let source = ScriptedSource()
        let path = temporary("big-event")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path)
        var events = sampleEvents(count: 20, start: MonotonicInstant.now().nanoseconds + 1000)
        let huge = PatternEvent.health(
            .note(text: String(repeating: "x", count: 2 << 20)), source: PatternID(.health, "agent"), at: events[9].at)
        events.insert(huge, at: 10)
        source.add(events)
        recorder.pump()
        recorder.finish()
        let recording = try Recording.open(path: path)
        try recording.checkEverything()
        #expect(recording.eventCount == 20 && recording.gaps == [Recording.Gap(eventIndex: 10, missed: 1)])
        #expect(try recording.events(0..<20).map(\.event) == events.filter { $0 != huge })
    }

    /// A snapshot too big for one record (about 150,000 patterns; here a record of 2 KB) is
    /// refused at the start, and later ends the recording cleanly with the reason.
    @Test func aSnapshotTooBigForARecordIsRefusedOrEndsTheRecording() throws {
        var big = Snapshot()
        big.queues = (0..<200).map { QueueSnapshot(name: "queue \($0)") }
        let source = ScriptedSource()
        source.show(big)
        let refused = temporary("big-first")
        #expect {
            try Recorder(recording: source, to: refused, recordLimit: 2048)
        } throws: { error in
            "\(error)".contains("a snapshot of 200 patterns is more than a recording's record holds (2 KB)")
        }
        #expect(!FileManager.default.fileExists(atPath: refused))

        source.show(Snapshot())
        let path = temporary("big-later")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path, keyframeSeconds: 0, recordLimit: 2048)
        source.add(sampleEvents(count: 10, start: MonotonicInstant.now().nanoseconds + 1000))
        recorder.pump()
        #expect(!recorder.isFinished)
        source.show(big)
        source.add(sampleEvents(count: 10, start: MonotonicInstant.now().nanoseconds + 1000))
        recorder.pump()
        #expect(recorder.isFinished)
        #expect(recorder.message?.contains("a snapshot of 200 patterns is more than a record holds (2 KB)") == true)
        let recording = try Recording.open(path: path)
        try recording.checkEverything()
        #expect(try recording.end()?.reason == "limit" && recording.eventCount == 20)
    }

    @Test func theSizeLimitEndsTheFileCleanlyAndSaysSo() throws {
        let source = ScriptedSource()
        let path = temporary("limit")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let limit = 1 << 20
        let recorder = try Recorder(recording: source, to: path, limit: limit)
        var rounds = 0
        while !recorder.isFinished, rounds < 1000 {
            source.add(sampleEvents(count: 5000, start: 1_000_000_000 + UInt64(rounds) * 50_000_000_000))
            recorder.pump()
            rounds += 1
        }
        #expect(recorder.isFinished)
        #expect(recorder.message?.contains("size limit (1 MB)") == true)
        source.add(sampleEvents(count: 10))
        recorder.pump()  // nothing more is written
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size <= limit && size == recorder.bytesWritten)
        let recording = try Recording.open(path: path)
        #expect(recording.isComplete && recording.truncation == nil && recording.eventCount == recorder.eventsRecorded)
        #expect(try recording.end()?.reason == "limit")
    }

    /// The recorder's own thread, as `sluice run --record` uses it; `finish` reads what the
    /// thread has not (it runs on the main thread here, not on the cooperative pool).
    @MainActor @Test func theThreadRecordsEveryEventUntilFinish() throws {
        let source = ScriptedSource()
        let path = temporary("thread")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path)
        recorder.start()
        let events = sampleEvents(count: 3000, start: MonotonicInstant.now().nanoseconds)
        for chunk in stride(from: 0, to: events.count, by: 100) { source.add(Array(events[chunk..<chunk + 100])) }
        recorder.finish()
        #expect(recorder.eventsRecorded == 3000 && recorder.eventsMissed == 0 && recorder.isFinished)
        #expect(try Recording.open(path: path).events(0..<3000).map(\.event) == events)
    }

    /// A recorder killed between keyframes (#25): its file was 2 KB until the end, since
    /// nothing was written before 256 KB gathered. Each keyframe is written at once now.
    @Test func aRecorderThatDiesLeavesEveryKeyframeInTheFile() throws {
        let source = ScriptedSource()
        let path = temporary("killed")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try Recorder(recording: source, to: path, keyframeSeconds: 0)
        source.add(sampleEvents(count: 120, start: MonotonicInstant.now().nanoseconds))
        recorder.pump()
        // No finish: the process is gone as far as the file knows.
        let recording = try Recording.open(path: path)
        #expect(recording.eventCount == 120)
        #expect(recording.truncation?.contains("did not end cleanly") == true)
    }

    /// Quitting cancels the run's waiters; that is not a warning of the run (#25: `w`
    /// jumped to "a waiting get gave up" at the very end of every recorded live run).
    @Test func waitersCancelledByTheStopAreNotWarnings() throws {
        let source = ScriptedSource()
        let path = temporary("stop")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recording = RecordingSource(source, recorder: try Recorder(recording: source, to: path))
        let q = PatternID(.queue, "jobs")
        let g = QueueGauges(depth: 0, waitingProducers: 0, waitingConsumers: 1)
        let start = MonotonicInstant.now().nanoseconds
        source.add([.queue(.waiterAbandoned(gauges: g, producer: false), source: q, at: MonotonicInstant(nanoseconds: start))])
        recording.recorder.pump()
        recording.recorder.sourceWillStop()
        source.add([
            .queue(
                .waiterAbandoned(gauges: g, producer: false), source: PatternID(.queue, "other"),
                at: MonotonicInstant(nanoseconds: start + 2_000_000_000))
        ])
        recording.stop(waitingAtMost: .zero)
        let replay = try Recording.open(path: path)
        #expect(replay.eventCount == 2)
        #expect(try replay.events(0..<2).map(\.onset) == [true, false])
    }

    /// A recording passes on what the source it wraps can do (a replay's seek and step
    /// too), and tells its recorder of a restart; the file's header keeps the kind of source
    /// and a program's pid as fields, not in a title.
    @Test func aRecordingPassesOnTheCapabilitiesAndTheOriginOfItsSource() throws {
        let replay = ReplaySource(try Recording(bytes: sampleRecording()), now: { 0 })
        let replayPath = temporary("of-replay")
        defer { try? FileManager.default.removeItem(atPath: replayPath) }
        let ofReplay = RecordingSource(replay, recorder: try Recorder(recording: replay, to: replayPath))
        #expect(ofReplay.capabilities == [.pause, .speed, .restart, .step, .seek])
        ofReplay.abilities.pace?.pause()
        let before = replay.timeline.eventIndex
        ofReplay.abilities.seek?.step(by: 7)
        #expect(ofReplay.timeline?.eventIndex == before + 7 && replay.timeline.eventIndex == before + 7)
        ofReplay.abilities.restart?.restart()
        #expect(replay.status == .running && replay.timeline.eventIndex == before)
        ofReplay.stop(waitingAtMost: .zero)

        let program = ScriptedSource(origin: SourceOrigin(title: "indexer", kind: .attached, pid: 4242))
        let path = temporary("origin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recording = RecordingSource(program, recorder: try Recorder(recording: program, to: path))
        #expect(recording.capabilities.isEmpty && recording.abilities.steer == nil)
        #expect(recording.mode == "attached, pid 4242, rec")
        recording.stop(waitingAtMost: .zero)
        let info = try Recording.open(path: path).info
        #expect(info.kind == .attached && info.pid == 4242)
        #expect(info.origin == SourceOrigin(title: "indexer", kind: .attached, pid: 4242))
        // A file from before the kind was kept: its mode is all it has.
        var legacy = info
        legacy.kind = nil
        legacy.pid = nil
        #expect(legacy.origin == SourceOrigin(title: "indexer", kind: .attached, pid: 4242))
        legacy.mode = "seed"
        #expect(legacy.origin == SourceOrigin(title: "indexer", kind: .scenario, preset: "seed"))
    }

    @Test func aFileThatCannotBeCreatedIsAnError() {
        #expect(throws: RecordingError.self) {
            try Recorder(recording: ScriptedSource(), to: "/nonexistent-dir/x.rec")
        }
    }
}

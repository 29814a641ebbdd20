import AsyncPatterns
import Testing
import TUI

@testable import Dashboard
@testable import SluiceWire

/// Values from outside (a crafted recording, a hostile agent) reach the screen without
/// trapping and without reaching the terminal as commands.
@Suite struct HostileValueTests {
    /// A keyframe with counts at Int.max used to trap on the next event ("arithmetic overflow").
    @Test func foldingOntoAKeyframeAtTheLimitSaturates() {
        var keyframe = Snapshot()
        var q = QueueSnapshot(name: "jobs")
        q.put = .max
        q.got = .max
        var r = ResourceSnapshot(name: "conns")
        r.opening = .min
        keyframe.queues = [q]
        keyframe.resources = [r]
        keyframe.operations = .max
        keyframe.droppedNotableEvents = .max
        var fold = SnapshotFold(keyframe)
        let g = QueueGauges(depth: 1, waitingProducers: 0, waitingConsumers: 0)
        let at = MonotonicInstant(nanoseconds: 1)
        fold.apply(.queue(.put(gauges: g), source: PatternID(.queue, "jobs"), at: at))
        fold.apply(.queue(.got(gauges: g), source: PatternID(.queue, "jobs"), at: at))
        fold.apply(.resource(.openFailed, source: PatternID(.resource, "conns"), at: at))
        #expect(fold.snapshot.queues[0].put == .max && fold.snapshot.queues[0].got == .max)
        #expect(fold.snapshot.operations == .max)
        #expect(fold.snapshot.resources[0].opening == 0)
        _ = fold.finished(totalEvents: 3)
    }

    /// Counts no program reaches are refused where a recording's events are decoded.
    @Test func anEventWithACountPastAnyProgramsIsRefusedWhereItIsDecoded() throws {
        let g = QueueGauges(depth: .max, waitingProducers: 0, waitingConsumers: 0)
        let event = PatternEvent.queue(.put(gauges: g), source: PatternID(.queue, "jobs"), at: MonotonicInstant(nanoseconds: 1))
        let recording = try Recording(bytes: sampleRecording([event], keyframeEvery: 10))
        #expect(throws: RecordingError.self) { try recording.checkEverything() }
        let fine = PatternEvent.queue(
            .put(gauges: QueueGauges(depth: 1 << 53, waitingProducers: 0, waitingConsumers: 0)), source: PatternID(.queue, "jobs"),
            at: MonotonicInstant(nanoseconds: 1))
        try Recording(bytes: sampleRecording([fine], keyframeEvery: 10)).checkEverything()
    }

    /// A keyframe is decoded by the socket's reader: a count past 2^53 in it is refused where
    /// it is read, with the record's offset, in the dashboard and in headless replay alike
    /// (keyframes were JSON, decoded without a check).
    @Test func aKeyframeWithACountPastAnyProgramsIsRefusedWhereItIsDecoded() throws {
        func recording(put: Int, elapsed: Double = 1) throws -> Recording {
            var w = RecordingWriter(info: sampleInfo)
            var s = Snapshot()
            var q = QueueSnapshot(name: "jobs")
            q.put = put
            s.queues = [q]
            s.elapsedSeconds = elapsed
            w.keyframe(s, knobs: [:], speed: 1, status: .running, time: 0)
            w.append(
                .queue(
                    .got(gauges: QueueGauges(depth: 0, waitingProducers: 0, waitingConsumers: 0)), source: PatternID(.queue, "jobs"),
                    at: MonotonicInstant(nanoseconds: sampleInfo.startNanos + 5)))
            w.end(status: .done, elapsedSeconds: 1, snapshot: s, reason: "stopped", time: 5)
            return try Recording(bytes: w.take())
        }
        for bad in [try recording(put: .max), try recording(put: 1, elapsed: 1e308)] {
            #expect {
                try bad.checkEverything()
            } throws: { error in
                "\(error)".contains("beyond any") || "\(error)".contains("elapsed time")
            }
            let replay = ReplaySource(bad, now: { 0 })
            _ = replay.snapshot()
            guard case .failed = replay.status else {
                Issue.record("a replay of a hostile keyframe is \(replay.status)")
                continue
            }
        }
        let fine = try recording(put: 1 << 53)
        try fine.checkEverything()
        #expect(try fine.firstSnapshot()?.queue("jobs")?.put == 1 << 53)
    }

    @Test func anImpossibleElapsedTimeReadsAsZeroOrTheMost() {
        var s = Snapshot()
        for value in [-1e308, .nan, -.infinity] {
            s.elapsedSeconds = value
            #expect(s.elapsed == .zero)
        }
        s.elapsedSeconds = 1e308
        #expect(s.elapsed > .seconds(9e9))
    }

    /// An agent named `ESC]0;PWNED BEL ESC[31mEVIL` retitled and recoloured the terminal.
    @Test func controlCharactersAreShownEscapedNeverSent() {
        let hostile = "\u{1B}]0;PWNED\u{07}\u{1B}[31mEVIL\u{9B}2J"
        #expect(hostile.terminalSafe() == #"\x1B]0;PWNED\x07\x1B[31mEVIL\x9B2J"#)
        #expect("line\nnext\u{1B}".terminalSafe(keepingNewlines: true) == "line\nnext\\x1B")
        #expect("plain ascii, ünïcödé 漢字".terminalSafe() == "plain ascii, ünïcödé 漢字")
        var buffer = Buffer(width: 40, height: 1)
        buffer.put(hostile, x: 0, y: 0)
        let row = (0..<40).map { buffer[$0, 0].text }.joined()
        #expect(row.hasPrefix(#"\x1B]0;PWNED\x07\x1B[31mEVIL\x9B2J"#))
        #expect(!row.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }
}

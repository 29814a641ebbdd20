import AsyncPatterns
import Testing

@testable import Dashboard

/// The pool doctor's `poolStall` event: how long, which threads, and each one's frames, in a
/// recording and in words.
@Suite struct PoolStallEventTests {
    static let stall = PoolStall(
        durationNanos: 562_000_000,
        threads: [
            PoolStallThread(
                thread: 4242, place: "FileIndexer.stretchedHashOnPool(_:)",
                frames: [
                    PoolFrame(module: "/usr/lib/libc.so.6", offset: 0x1234, symbol: "usleep", folded: true),
                    PoolFrame(module: "/x/sluice-indexer", offset: 0x99, symbol: "FileIndexer.stretchedHashOnPool(_:)"),
                ]),
            PoolStallThread(thread: 4243, place: "FileIndexer.stretchedHashOnPool(_:)", frames: []),
        ])

    @Test func aPoolStallComesBackFromARecordingAsItWasWritten() throws {
        let event = PatternEvent.health(
            .poolStall(stall: Self.stall), source: PatternID(.health, "pool"), at: MonotonicInstant(nanoseconds: 2_000_000_000))
        #expect(event.isNotable)
        let recording = try Recording(bytes: sampleRecording([event], keyframeEvery: 10))
        #expect(try recording.events(0..<1).map(\.event) == [event])
    }

    @Test func itSaysHowLongAndWhichThreadsHeldThePool() {
        let event = PatternEvent.health(
            .poolStall(stall: Self.stall), source: PatternID(.health, "pool"), at: MonotonicInstant(nanoseconds: 0))
        #expect(
            describe(event)
                == "pool stalled 562 ms: FileIndexer.stretchedHashOnPool(_:) (thread 4242), FileIndexer.stretchedHashOnPool(_:) (thread 4243)"
        )
    }
}

/// The presentation the dashboard and the command line share: JSON text, short times.
@Suite struct PresentationTests {
    @Test func jsonTextAndShortSeconds() {
        #expect(JSON.object([("a", .string("x\"y")), ("b", .array([.int(1), .null]))]).text == #"{"a":"x\"y","b":[1,null]}"#)
        #expect(formatShortSeconds(1.5) == "1.5s" && formatShortSeconds(0.0205) == "20.5ms" && formatShortSeconds(0.0003) == "300µs")
    }

    @Test func theKindsASnapshotHolds() {
        var snapshot = Snapshot()
        snapshot.queues = [QueueSnapshot(name: "a"), QueueSnapshot(name: "b")]
        snapshot.resources = [ResourceSnapshot(name: "files")]
        #expect(snapshot.kindsPresent == [.queue, .resource] && snapshot.patternCount == 3)
        #expect(snapshot.count(of: .queue) == 2 && snapshot.count(of: .health) == 0)
    }

    /// One summary type for every kind of source: a program watched is named with its pid,
    /// with the operations while watched and its knobs; a scenario with its preset.
    @Test func oneSummaryForScenariosAndPrograms() throws {
        var snapshot = Snapshot()
        snapshot.queues = [QueueSnapshot(name: "jobs")]
        snapshot.queues[0].put = 150
        snapshot.elapsedSeconds = 99
        snapshot.operations = 250
        let program = RunSummary(
            origin: SourceOrigin(title: "indexer", kind: .attached, pid: 42), elapsedSeconds: 2, status: .detached("it exited"),
            snapshot: snapshot, knobs: ["workers": 4], operationsBefore: 100)
        let keys = try #require(program.json.objectKeys)
        #expect(keys.prefix(4) == ["program", "pid", "status", "elapsed_seconds"] && keys.suffix(2) == ["watched_operations", "knobs"])
        #expect(program.json.text.contains(#""status":"failed: detached: it exited""#))
        #expect(program.watchedOperations == 150 && lines(program).first?.hasSuffix("150 operations while watched (75/s)") == true)
        let lines = program.text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("indexer (pid 42): watched for 2 s, then detached: it exited: "))
        #expect(lines.last == "  knobs: workers 4")

        let run = RunSummary(
            origin: SourceOrigin(title: "semaphore", kind: .scenario, preset: "seed"), elapsedSeconds: 3, status: .done, snapshot: snapshot)
        #expect(try #require(run.json.objectKeys).prefix(4) == ["scenario", "preset", "status", "elapsed_seconds"])
        #expect(!(run.json.objectKeys ?? []).contains("knobs"))
        #expect(run.text.hasPrefix("semaphore (seed): finished after 3 s"))
    }
}

private func lines(_ summary: RunSummary) -> [String] { summary.text.split(separator: "\n").map(String.init) }

extension JSON {
    var objectKeys: [String]? {
        guard case .object(let fields) = self else { return nil }
        return fields.map(\.0)
    }
}

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
}

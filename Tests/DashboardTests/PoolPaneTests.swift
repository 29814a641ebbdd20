import AsyncPatterns
import Scenarios
import TUI
import Testing

@testable import Dashboard

/// The Pool pane, a blocker's stack, the doctor's watch and Enter on a blocker: over
/// hand-made pool figures, no program and no pool stalled.
@Suite struct PoolPaneTests {
    let a = Glyphs.ascii

    static func pool() -> PoolSnapshot {
        var p = PoolSnapshot()
        p.beats = 200
        p.delayP50Nanos = 2_000_000
        p.delayP99Nanos = 150_000_000
        p.delayMaxNanos = 400_000_000
        p.delayLastNanos = 120_000_000
        p.jobsPerSecond = 45
        p.threads = 2
        p.stalls = 12
        p.stalledNanos = 2_700_000_000
        var b = PoolBlocker(
            location:
                "(1) suspend resume partial function for closure #1 @Sendable () async -> () in Scenarios.BlockingScenario.run(Scenarios.ScenarioContext) async throws -> ()"
        )
        b.stalls = 12
        b.totalNanos = 2_700_000_000
        b.longestNanos = 190_000_000
        b.lastSeenSeconds = 7.5
        b.frames = [
            PoolFrame(module: "/lib/libc.so.6", offset: 0x11b2c9, symbol: "usleep", folded: true),
            PoolFrame(module: "/app/sluice", offset: 0x41_2000, symbol: b.location),
            PoolFrame(module: "/lib/libswift_Concurrency.so", offset: 0x72b14, symbol: "swift_job_run", folded: true),
        ]
        b.frames[1].file = "/src/Sources/Scenarios/Catalog/Blocking.swift"
        b.frames[1].line = 39
        p.blockers = [b]
        return p
    }

    @Test func poolPaneNamesTheBlockerByFileLineAndFunction() {
        let lines = PoolPane(pool: Self.pool(), delayHistory: [1, 120], warnings: [], selected: 0, focused: true, glyphs: a)
            .rendered(width: 72, height: 9).lines
        #expect(
            lines == [
                "+ Pool ----------------------------------------------------------------+",
                "|delay #####################............... p50 2ms p99 150ms max 400ms|",
                "|                                                                    _+|",
                "|jobs 45/s   threads 2   stalls 12 (2.7s)                              |",
                "|top blockers (threshold 100ms)  Enter: stack                          |",
                "|12   2.7s     Blocking.swift:39 closure #1 in BlockingScenario.run    |",
                "|                                                                      |",
                "|                                                                      |",
                "+----------------------------------------------------------------------+",
            ])
    }

    @Test func captureOffAndAStallGoingOnAreSaid() {
        var p = PoolSnapshot()
        p.captureOn = false
        p.capture = "SIGPROF is handled by the program"
        p.stalledNowNanos = 300_000_000
        let lines = PoolPane(pool: p, delayHistory: [], warnings: [], glyphs: a).rendered(width: 60, height: 7).lines
        #expect(lines[4] == "|STALLED for 300ms                                         |")
        #expect(lines[5] == "|culprit unknown: capture SIGPROF is handled by the program|")
    }

    @Test func aBlockersStackFoldedFramesMarked() {
        let lines = PoolBlockerPane(blocker: Self.pool().blockers[0], glyphs: a).rendered(width: 72, height: 9).lines
        #expect(lines[0].hasPrefix("+ Blocker Blocking.swift:39 closure #1 in BlockingScenario.run  Esc: b"))
        #expect(lines[1] == "|12 stalls, 2.7s stalled, the longest 190ms; last seen at 7.5 s        |")
        #expect(lines[4] == "|0   usleep  [libc.so.6]                                               |")
        #expect(lines[5].hasPrefix("|1   Blocking.swift:39  (1) suspend resume partial function for clos"))
        #expect(lines[6] == "|2   swift_job_run  [libswift_Concurrency.so]                          |")
    }

    @Test func shortNames() {
        #expect(
            PoolPane.shortFunction("FileIndexer.stretchedHashOnPool(Swift.String) -> Swift.Optional<Swift.Int>")
                == "FileIndexer.stretchedHashOnPool")
        #expect(
            PoolPane.shortFunction("(4) suspend resume partial function for FileIndexer.work(number: Swift.Int) async -> Swift.Bool")
                == "FileIndexer.work")
    }

    @Test func enterOnABlockerOpensItsStackAndEscComesBack() {
        var state = AppState(choices: 1)
        state.screen = .source
        state.focus = .pane(.health)
        var facts = SourceFacts()
        facts.panes = [.health]
        facts.blockers = ["a", "b"]
        _ = state.handle(.down, source: facts)
        _ = state.handle(.enter, source: facts)
        #expect(state.screen == .blockerDetail("b"))
        _ = state.handle(.escape, source: facts)
        #expect(state.screen == .source)
        facts.blockers = []
        _ = state.handle(.enter, source: facts)
        #expect(state.screen == .source, "no blocker: Enter does nothing")
    }

    @Test func theDoctorsWatchCountsOnlyWhatHappenedWhileItWatched() {
        var before = Self.pool()
        before.stalls = 5
        before.stalledNanos = 1_000_000_000
        before.blockers[0].stalls = 5
        before.blockers[0].totalNanos = 1_000_000_000
        var after = Self.pool()
        after.stalls = 8
        after.stalledNanos = 1_600_000_000
        after.blockers[0].stalls = 8
        after.blockers[0].totalNanos = 1_600_000_000
        var other = PoolBlocker(location: "hashFile")
        other.stalls = 1
        other.totalNanos = 200_000_000
        after.blockers.append(other)
        var watch = PoolWatch()
        watch.add(before)
        #expect(watch.stalls == 0 && watch.blockers.isEmpty)
        watch.add(after)
        #expect(watch.stalls == 3)
        #expect(watch.stalledNanos == 600_000_000)
        #expect(watch.blockers.map(\.stalls) == [3, 1])
        #expect(watch.blockers.map(\.totalNanos) == [600_000_000, 200_000_000])
        after.stalledNowNanos = 250_000_000
        watch.add(after)
        #expect(watch.stalls == 4, "a stall going on at the end counts")
        let json = watch.json(program: "p", pid: 1, seconds: 2).text
        #expect(json.contains("\"stalls\":4,"))
        #expect(json.contains("\"file\":\"/src/Sources/Scenarios/Catalog/Blocking.swift\",\"line\":39"))
    }

    @Test func llvmSymbolizerOutputIsRead() {
        let output = "usleep\n/build/misc/usleep.c:32:10\n\n??\n??:0:0\n\nmain\nmain.swift:0:0\n\n"
        let answers = Symbolicator.parse(output)
        #expect(answers.count == 3)
        #expect(answers[0]?.function == "usleep" && answers[0]?.file == "/build/misc/usleep.c" && answers[0]?.line == 32)
        #expect(answers[1] == nil)
        #expect(answers[2]?.function == "main" && answers[2]?.file == nil)
    }
}

import AsyncPatterns
import Testing
import TUI
@testable import Dashboard

/// A replay on a clock moved by hand: play, pause, step, seek, warnings, knobs, the end.
@Suite struct ReplayTests {
    let events = sampleEvents()  // one every 10 ms: 2 s
    func puts(_ n: Int) -> Int { events.prefix(n).filter { if case .queue(.put, _, _) = $0 { true } else { false } }.count }

    func replay() throws -> (ReplaySource, HandClock) {
        let clock = HandClock()
        return (ReplaySource(try Recording(bytes: sampleRecording(events)), now: clock.now), clock)
    }

    @Test func itPlaysWithTheClockAndHoldsStillWhenPaused() throws {
        let (replay, clock) = try replay()
        #expect(replay.status == .running && replay.timeline?.eventIndex == 1)
        clock.advance(seconds: 0.5)
        #expect(replay.timeline?.eventIndex == 51)
        #expect(replay.snapshot().queue("jobs")?.put == puts(51))
        replay.pause()
        clock.advance(seconds: 0.5)
        #expect(replay.status == .paused && replay.timeline?.eventIndex == 51)
        replay.setSpeed(2)
        replay.resume()
        clock.advance(seconds: 0.25)
        #expect(replay.timeline?.eventIndex == 101)
    }

    @Test func stepsOneEventAndSeeksToATime() throws {
        let (replay, _) = try replay()
        replay.seek(toSeconds: 1.0)
        #expect(replay.timeline?.eventIndex == 101)
        replay.step(by: -1)
        #expect(replay.status == .paused && replay.timeline?.eventIndex == 100)
        // The state at the cursor: the keyframe at event 100 and nothing after it.
        #expect(replay.snapshot().queue("jobs")?.put == puts(100))
        replay.step(by: -30)
        #expect(replay.snapshot().queue("jobs")?.put == puts(70))
        #expect(replay.snapshot().recentEvents == Array(events[0..<70]))
        replay.step(by: 1)
        #expect(replay.snapshot().recentEvents.last == events[70] && replay.timeline?.positionSeconds == 0.7)
        replay.step(by: 10_000)
        #expect(replay.timeline?.eventIndex == events.count)
        replay.restart()
        #expect(replay.timeline?.eventIndex == 1 && replay.status == .running)
    }

    @Test func jumpsToWhereWarningsStart() throws {
        let (replay, _) = try replay()
        replay.pause()
        var seen: [Int] = []
        while replay.seekWarning(forward: true) {
            let index = try #require(replay.timeline?.eventIndex)
            #expect(events[index - 1].isWarning)
            seen.append(index)
        }
        #expect(!seen.isEmpty && seen == seen.sorted() && Set(seen).count == seen.count)
        #expect(replay.seekWarning(forward: false))
        #expect(replay.timeline?.eventIndex == seen.dropLast().last)
        #expect(replay.timeline?.warnings.isEmpty == false)
    }

    @Test func knobsShowTheValuesRecordedAndCannotBeTurned() throws {
        let (replay, _) = try replay()
        replay.seek(toSeconds: 0.5)
        #expect(replay.knobValues == ["rate": 10])
        replay.seek(toSeconds: 1.5)
        #expect(replay.knobValues == ["rate": 20])
        guard case .refused(let why) = replay.setKnob("rate", to: 5) else {
            Issue.record("a replay turned a knob")
            return
        }
        #expect(why.contains("cannot be turned"))
        #expect(replay.knobs.map(\.name) == ["rate"])
    }

    @Test func atTheEndItShowsTheRunsFinalSnapshot() throws {
        let (replay, clock) = try replay()
        clock.advance(seconds: 60)
        #expect(replay.status == .done)
        #expect(replay.snapshot().elapsedSeconds == 2)
        replay.resume()  // nothing left to play
        #expect(replay.status == .done)
    }

    @MainActor @Test func theDashboardDrawsTheTimelineAndTheKeysDriveTheReplay() throws {
        let (replay, _) = try replay()
        let choice = SourceChoice(name: "replay", summary: "", explanation: "", knobs: replay.knobs) { _ in replay }
        let app = DashboardApp(backend: TestBackend(width: 120, height: 40), choices: [choice])
        app.open(0, values: [:])
        app.press(.char(" "))
        app.press(.char("g"))
        for c in "1.5" { app.press(.char(c)) }
        app.press(.enter)
        #expect(replay.timeline?.eventIndex == 151)
        app.press(.char(","))
        #expect(replay.timeline?.eventIndex == 150)
        let text = app.frame().lines.joined(separator: "\n")
        #expect(text.contains("(replay)") && text.contains("at 1.49s of 1.99s  event 150 of 200"))
        #expect(text.contains("!"))
        app.press(.char("+"))
        #expect(app.frame().lines.joined().contains("cannot be turned"))
    }
}

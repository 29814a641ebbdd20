import AsyncPatterns
import Foundation
import Scenarios
import Testing
@testable import Dashboard
import TUI

/// The app state's key handling, without a terminal or a running source.
@Suite struct AppStateTests {
    let knobs = [KnobSpec("workers", range: 0...8, step: 1, default: 2, "w"), KnobSpec("rate", range: 0...10, step: 0.5, default: 1, "r")]

    func facts(_ capabilities: Set<SourceCapability> = [.pause, .speed, .restart], status: SourceStatus = .running) -> SourceFacts {
        var f = SourceFacts()
        f.knobs = knobs
        f.values = ["workers": 2, "rate": 1]
        f.capabilities = capabilities
        f.panes = [.queue, .actor, .health]
        f.status = status
        f.speed = 2
        f.actors = ["a", "b"]
        f.actorCount = 2
        f.queueCount = 3
        return f
    }

    @Test func theEventLogAsksTheSourceForEveryEventOnlyWhileItShowsThem() {
        var state = onSource()
        #expect(state.handle(.char("e"), source: facts()) == .setEventInterest(.all) && state.allEvents)
        #expect(state.handle(.char("e"), source: facts()) == .setEventInterest(.notable) && !state.allEvents)
    }

    @Test func theFocusedQueuePaneSelectsAmongTheQueues() {
        var state = onSource()
        _ = state.handle(.tab, source: facts())  // knobs -> queue pane
        #expect(state.focus == .pane(.queue))
        for _ in 0..<5 { _ = state.handle(.down, source: facts()) }
        #expect(state.queueSelection == 2)  // three queues
        _ = state.handle(.up, source: facts())
        #expect(state.queueSelection == 1)
    }

    func onSource() -> AppState {
        var state = AppState(choices: 3)
        state.handle(.opened(0))
        return state
    }

    @Test func pickerMovesWithinTheListAndOpensTheSelection() {
        var state = AppState(choices: 3)
        #expect(state.handle(.char("k"), source: SourceFacts()) == .none && state.pickerSelection == 0)
        for _ in 0..<5 { _ = state.handle(.down, source: SourceFacts()) }
        #expect(state.pickerSelection == 2)
        #expect(state.handle(.enter, source: SourceFacts()) == .open(2))
        #expect(state.handle(.char("q"), source: SourceFacts()) == .quit)
    }

    @Test func knobKeysAskTheSourceForTheSteppedValue() {
        var state = onSource()
        #expect(state.handle(.char("+"), source: facts()) == .setKnob("workers", 3))
        _ = state.handle(.down, source: facts())
        #expect(state.handle(.left, source: facts()) == .setKnob("rate", 0.5))
        state.handle(.knob(knobs[1], from: 1, answer: .applied(0.5), pane: .queue, up: false))
        #expect(state.lastChange == "rate 1 -> 0.5")
        #expect(state.knobNote?.pane == .queue && state.knobNote?.text == "rate 0.5")
        state.handle(.knob(knobs[1], from: 1, answer: .refused("read-only recording"), pane: .queue, up: false))
        #expect(state.lastChange == "rate: read-only recording")
    }

    /// Every change of the state is the state's: a key gives the new state and a command
    /// (the old one is left as it was), and what the command came to is handed back.
    @Test func theStateOwnsEveryChangeOfItself() {
        let state = onSource()
        let (next, command) = state.handling(.escape, source: facts())
        #expect(command == .close && next.screen == .picker && state.screen == .source)

        var replay = onSource()
        var snapshot = Snapshot()
        snapshot.queues = [QueueSnapshot(name: "jobs")]
        replay.sample(snapshot)
        #expect(replay.history.queueDepth["jobs"] != nil)
        replay.handle(.warning(forward: true, found: true))
        #expect(replay.lastChange == "next warning" && replay.focus == .log && replay.history.queueDepth.isEmpty)
        replay.handle(.warning(forward: false, found: false))
        #expect(replay.lastChange == "no earlier warning")
        replay.handle(.speed(4))
        #expect(replay.lastChange == "speed 4x")
        replay.handle(.screenNotSaved(why: "read-only"))
        #expect(replay.lastChange == "cannot save the screen: read-only")

        var picker = AppState(choices: 3)
        picker.handle(.notOpened(2, why: "gone: it exited"))
        #expect(picker.screen == .picker && picker.pickerSelection == 2 && picker.pickerNote == "gone: it exited")
        picker.handle(.opened(1))
        #expect(picker.screen == .source && picker.pickerSelection == 1 && picker.pickerNote == nil)
        picker.choicesChanged(to: ["b", "c"], from: ["a", "b", "c"])
        #expect(picker.choices == 2 && picker.pickerSelection == 0)
    }

    @Test func pauseSpeedAndRestartNeedTheirCapability() {
        var state = onSource()
        #expect(state.handle(.char(" "), source: facts()) == .pause)
        #expect(state.lastChange == "paused")
        #expect(state.handle(.char(" "), source: facts(status: .paused)) == .resume)
        #expect(state.handle(.char("]"), source: facts()) == .setSpeed(4))
        #expect(state.handle(.char("r"), source: facts()) == .restart)
        for (key, name) in [(Key.char(" "), "pause"), (.char("["), "speed"), (.char("r"), "restart")] {
            #expect(state.handle(key, source: facts([])) == .none)
            #expect(state.lastChange == "\(name): not available for this source")
        }
    }

    @Test func tabVisitsTheDeclaredPanesAndEnterOpensTheSelectedActor() {
        var state = onSource()
        var seen: [AppState.Focus] = []
        for _ in 0..<5 {
            _ = state.handle(.tab, source: facts())
            seen.append(state.focus)
        }
        #expect(seen == [.pane(.queue), .pane(.actor), .pane(.health), .log, .knobs])
        _ = state.handle(.tab, source: facts())
        _ = state.handle(.tab, source: facts())
        _ = state.handle(.down, source: facts())
        _ = state.handle(.enter, source: facts())
        #expect(state.screen == .actorDetail("b"))
        #expect(state.handle(.escape, source: facts()) == .none && state.screen == .source)
        #expect(state.handle(.escape, source: facts()) == .close)
    }

    /// Home and End reach the ends of the focused list (they worked only in the picker).
    @Test func homeAndEndReachTheEndsOfTheFocusedList() {
        var state = onSource()
        _ = state.handle(.tab, source: facts())
        _ = state.handle(.tab, source: facts())
        #expect(state.focus == .pane(.actor))
        var many = facts()
        many.actorCount = 500
        _ = state.handle(.end, source: many)
        #expect(state.actorSelection == 499)
        _ = state.handle(.home, source: many)
        #expect(state.actorSelection == 0)
    }

    /// The overlay says "press any key to close"; q used to quit the program (#25).
    @Test func helpClosesOnAnyKeyQToo() {
        var state = onSource()
        _ = state.handle(.char("?"), source: facts())
        #expect(state.showHelp)
        _ = state.handle(.resize, source: facts())
        #expect(state.showHelp)
        #expect(state.handle(.char("x"), source: facts()) == .none && !state.showHelp)
        _ = state.handle(.char("?"), source: facts())
        #expect(state.handle(.char("q"), source: facts()) == .none && !state.showHelp)
        #expect(state.handle(.char("q"), source: facts()) == .quit)
    }

    /// The one table: no key means two things on one screen; help and footer come from it.
    @Test func theKeyMapIsConsistent() {
        for screen in [KeyBinding.Screen.picker, .source] {
            let keys = KeyMap.bindings.filter { $0.screens.contains(screen) }.flatMap(\.keys)
            #expect(keys.count == Set(keys).count, "a key bound twice on \(screen)")
        }
        let help = KeyMap.helpLines(on: .source, capabilities: [.pause, .speed, .restart])
        #expect(help.contains { $0.hasPrefix("space") && $0.hasSuffix("pause / resume the scenario (its clock stops)") })
        let limited = KeyMap.helpLines(on: .source, capabilities: [])
        #expect(limited.contains { $0.hasPrefix("space") && $0.hasSuffix("not available for this source") })
        let footer = KeyMap.hints(on: .source, capabilities: [], glyphs: .unicode).map(\.action)
        #expect(footer.prefix(2) == ["quit", "help"] && !footer.contains("pause") && !footer.contains("restart"))
    }

    /// The dashboard names no scenario: screens come from what sources declare.
    @Test func dashboardNamesNoScenario() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Dashboard")
            .standardized
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }
            // The summary's JSON keys name the lists of patterns ("actors", "streams"), which
            // three scenarios are also named after.
            .filter { $0.hasSuffix(".swift") && !$0.hasSuffix("LocalSource.swift") && !$0.hasSuffix("RunSummary.swift") }
        #expect(files.count > 10)
        // Knob names are ordinary words ("rate", "mailbox") that columns also use: the
        // scenario names are what the old name tables keyed on.
        let names = Catalog.all.map(\.name)
        for file in files {
            let text = try String(contentsOfFile: root.appendingPathComponent(file).path, encoding: .utf8)
            for name in names {
                #expect(!text.contains("\"\(name)\""), "\(file) names \"\(name)\"")
            }
        }
    }
}

/// A test double that can do nothing but show numbers (it has no capability at all): the
/// app shows what is not available instead of ignoring the keys.
final class StillSource: Source {
    let origin = SourceOrigin(title: "still", kind: .replay)
    let status = SourceStatus.paused
    let panes: [PatternKind] = [.semaphore, .health]
    let knobs = [KnobSpec("limit", range: 0...4, step: 1, default: 2, actsOn: .semaphore, "l")]
    let knobValues: [String: Double] = ["limit": 2]
    let abilities = SourceAbilities()
    func snapshot() -> Snapshot { Snapshot() }
    func events(after cursor: Int) -> SourceEvents { SourceEvents(events: [], next: cursor, missed: 0) }
    func setEventInterest(_ interest: EventInterest) {}
    func stop(waitingAtMost limit: Duration) {}
}

@MainActor
@Suite struct AnySourceTests {
    @Test func theScreenFollowsWhatTheSourceDeclaresAndCanDo() {
        let backend = TestBackend(width: 120, height: 30)
        let choice = SourceChoice(name: "still", summary: "s", explanation: "e", knobs: []) { _ in StillSource() }
        let app = DashboardApp(backend: backend, choices: [choice])
        app.open(0, values: [:])
        app.press(.char(" "))
        app.draw()
        var text = backend.lastFrame!.lines.joined(separator: "\n")
        #expect(text.contains("still (replay)") && text.contains("Semaphore") && text.contains("Health"))
        #expect(app.state.lastChange == "pause: not available for this source")
        #expect(text.contains("pause: not available") && text.contains("this source"))
        // The footer offers no pause key; it names what this source cannot do, once, last.
        #expect(!backend.lastFrame!.lines.last!.contains("space"))
        #expect(backend.lastFrame!.lines.last!.contains(" n/a  pause restart speed"))
        app.press(.char("+"))
        app.draw()
        text = backend.lastFrame!.lines.joined(separator: "\n")
        #expect(app.state.lastChange == "limit: a replay shows the values recorded; knobs cannot be turned")
    }

    @Test func aLocalSourceNumbersItsEventsForACursor() async throws {
        let source = LocalSource(SemaphoreScenario(), preset: .seed, values: ["jobs": 3, "hold": 100], speed: 50)
        await source.run.wait()
        let all = source.events(after: 0)
        #expect(all.missed == 0 && all.events.count == all.next && all.next > 3)
        let rest = source.events(after: all.next - 2)
        #expect(rest.events.count == 2 && rest.next == all.next)
        #expect(source.events(after: all.next).events.isEmpty)
        #expect(source.setKnob("nosuch", to: 1) == .refused("semaphore has no knob 'nosuch'"))
        #expect(source.setKnob("permits", to: 999) == .applied(256))
    }
}

import AsyncPatterns
import Patience
import Scenarios
import TestSupport
import Testing
@testable import Dashboard
import TUI

/// The app driven by keys through a `TestBackend`: what a user sees after each key.
@MainActor
@Suite(.serialized) struct AppTests {
    func text(_ backend: TestBackend) -> String { backend.lastFrame?.lines.joined(separator: "\n") ?? "" }

    @Test func pickerMovesAndStartsAScenario() async throws {
        try await withTestExecutor { executor in
            let backend = TestBackend(width: 100, height: 30)
            let app = DashboardApp(backend: backend, choices: SourceChoice.scenarios(speed: 5, executor: executor))
            app.draw()
            #expect(text(backend).contains("▶ producer-consumer"))
            app.press(.char("j"))
            app.draw()
            #expect(text(backend).contains("▶ actors"))
            app.press(.up)
            app.press(.enter)
            app.draw()
            #expect(text(backend).contains("producer-consumer (live)"))
            #expect(text(backend).contains("Queue queue"))
            app.press(.char("j"))
            app.press(.char("+"))
            app.draw()
            #expect(text(backend).contains("consumers 2 -> 3"))
            #expect(text(backend).contains("Queue queue · consumers 3"))
            app.press(.char("?"))
            app.draw()
            #expect(text(backend).contains("pause / resume the scenario"))
            app.press(.char("x"))
            app.press(.escape)
            app.draw()
            #expect(text(backend).contains("pick a scenario"))
            #expect(app.press(.char("q")))
            app.quit()
        }
    }

    /// A program that cannot be reached says why, instead of an empty "Queue queue" (#25);
    /// the picker follows what can be opened now.
    @Test func anUnreachableProgramSaysWhyAndThePickerFollowsThePrograms() async throws {
        let backend = TestBackend(width: 100, height: 30)
        let gone = SourceChoice(name: "gone (pid 1)", summary: "a program", explanation: "", knobs: []) {
            _ throws(SourceUnavailable) -> any Source in
            throw SourceUnavailable("gone: no program listens at /x.sock: the socket is gone")
        }
        let available = Locked([gone])
        let app = DashboardApp(
            backend: backend, choices: [gone], words: .programs, refreshChoices: { available.withLock { $0 } })
        app.press(.enter)
        app.draw()
        #expect(text(backend).contains("no program listens at /x.sock"))
        #expect(!text(backend).contains("Queue queue"))
        #expect(app.source == nil && app.state.screen == .picker)
        app.press(.escape)
        available.withLock { $0 = [] }
        // The picker reads the programs at most twice a second.
        try await eventually("the picker drops the program that has gone") {
            app.draw()
            return !text(backend).contains("gone (pid 1)")
        }
        #expect(text(backend).contains("no program with a Sluice agent is running now"))
    }

    @Test func aPausedScreenSendsNoCells() async throws {
        try await withTestExecutor { executor in
            let backend = TestBackend(width: 120, height: 40)
            let app = DashboardApp(backend: backend, choices: SourceChoice.scenarios(executor: executor))
            app.press(.char("j"))
            app.press(.char("j"))
            app.press(.enter)  // semaphore
            try await eventually("the run's first operations") { (app.source?.snapshot().operations ?? 0) > 0 }
            app.press(.char(" "))
            app.draw()
            #expect(text(backend).contains("PAUSED"))
            // Work already under way when the clock stopped may still change a figure; once
            // it has settled, frames send no cells.
            try await eventually("two frames in a row that send no cells") {
                app.draw()
                return backend.cellsSent.suffix(2) == [0, 0]
            }
            #expect(text(backend).contains("PAUSED"))
            #expect(app.press(.char("q")))
            app.quit()
        }
    }

    @Test func tooSmallShowsAMessageAndRecovers() {
        let backend = TestBackend(width: 60, height: 20)
        let app = DashboardApp(backend: backend, choices: SourceChoice.scenarios())
        app.draw()
        #expect(text(backend).contains("terminal too small: need 80x24, have 60x20"))
        backend.size = (1, 1)
        app.draw()  // no crash at 1x1
        backend.size = (80, 24)
        app.draw()
        #expect(text(backend).contains("pick a scenario"))
    }

    /// Each at its defaults (`blocking` too): the runs have threads of their own.
    @Test func everyScenarioScreenFitsAt80x24() async throws {
        try await withTestExecutor { executor in
            for (i, scenario) in Catalog.all.enumerated() {
                let backend = TestBackend(width: 80, height: 24)
                let app = DashboardApp(backend: backend, choices: SourceChoice.scenarios(speed: 5, executor: executor))
                for _ in 0..<i { app.press(.down) }
                app.press(.enter)
                try await eventually("\(scenario.name)'s first snapshot") { !(app.source?.snapshot().kindsPresent.isEmpty ?? true) }
                app.draw()
                let lines = backend.lastFrame!.lines
                #expect(lines.count == 24)
                #expect(lines[0].contains(scenario.name))
                #expect(lines[23].contains("quit"))
                #expect(app.press(.char("q")))
                app.quit()
            }
        }
    }
}

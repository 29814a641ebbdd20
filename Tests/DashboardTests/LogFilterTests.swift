import AsyncPatterns
import Scenarios
import Testing
import TUI
@testable import Dashboard

/// The event log's filter and search, and the replay keys, in the pure app state.
@Suite struct LogFilterTests {
    let events = sampleEvents(count: 48)

    func onSource() -> AppState {
        var state = AppState(choices: 1)
        state.handle(.opened(0))
        return state
    }

    func facts(_ state: AppState, replay: Bool = false) -> SourceFacts {
        var f = SourceFacts()
        f.capabilities = replay ? [.pause, .speed, .restart, .step, .seek] : [.pause, .speed, .restart]
        var snapshot = Snapshot()
        snapshot.recentEvents = events
        let shown = state.shownEvents(snapshot)
        f.logCount = shown.count
        f.logLines = shown.map(describe)
        return f
    }

    func shown(_ state: AppState) -> [PatternEvent] {
        var snapshot = Snapshot()
        snapshot.recentEvents = events
        return state.shownEvents(snapshot)
    }

    @Test func fFiltersByKindAndCyclesBackToEveryKind() {
        var state = onSource()
        _ = state.handle(.char("e"), source: facts(state))  // every event
        #expect(shown(state).count == 48)
        _ = state.handle(.char("f"), source: facts(state))
        #expect(state.logKind == .queue && shown(state).allSatisfy { $0.source.kind == .queue } && !shown(state).isEmpty)
        #expect(state.filterText == "kind queue")
        for _ in 0..<PatternKind.allCases.count { _ = state.handle(.char("f"), source: facts(state)) }
        #expect(state.logKind == nil && state.filterText == nil && shown(state).count == 48)
    }

    /// `f` offers only the kinds the source shows (#25: it cycled through all six).
    @Test func fCyclesOnlyTheKindsPresent() {
        var state = onSource()
        var f = facts(state)
        f.panes = [.semaphore, .health]
        var seen: [PatternKind?] = []
        for _ in 0..<3 {
            _ = state.handle(.char("f"), source: f)
            seen.append(state.logKind)
        }
        #expect(seen == [.semaphore, .health, nil])
    }

    /// A search highlights; the log's title calls it a search, not a filter (#25).
    @Test func aSearchIsNotCalledAFilter() {
        var state = onSource()
        state.search = "got"
        #expect(state.logFilterText == nil)
        state.logKind = .queue
        #expect(state.logFilterText == "kind queue")
    }

    @Test func capitalFFiltersByNameTypedInTheFooter() {
        var state = onSource()
        _ = state.handle(.char("e"), source: facts(state))
        _ = state.handle(.char("F"), source: facts(state))
        #expect(state.prompt?.kind == .name)
        for c in "PERM" { _ = state.handle(.char(c), source: facts(state)) }
        #expect(state.handle(.char("q"), source: facts(state)) == .none)  // typed, not quit
        _ = state.handle(.backspace, source: facts(state))
        _ = state.handle(.enter, source: facts(state))
        #expect(state.prompt == nil && state.logName == "PERM")
        #expect(!shown(state).isEmpty && shown(state).allSatisfy { $0.source.name == "permits" })
        _ = state.handle(.char("c"), source: facts(state))
        #expect(state.logName == nil && shown(state).count == 48)
    }

    @Test func slashSearchesAndNGoesToOlderAndNewerMatches() {
        var state = onSource()
        _ = state.handle(.char("e"), source: facts(state))
        _ = state.handle(.char("/"), source: facts(state))
        for c in "dead letter" { _ = state.handle(.char(c), source: facts(state)) }
        _ = state.handle(.enter, source: facts(state))
        let lines = facts(state).logLines
        let matches = lines.indices.filter { lines[$0].lowercased().contains("dead letter") }
        #expect(matches.count == 2 && state.focus == .log)
        #expect(lines.count - 1 - state.logScroll == matches[1])  // the newest first
        #expect(state.lastChange == "'dead letter': match 2 of 2")
        _ = state.handle(.char("n"), source: facts(state))
        #expect(lines.count - 1 - state.logScroll == matches[0])
        _ = state.handle(.char("n"), source: facts(state))
        #expect(state.lastChange?.contains("no older match") == true && lines.count - 1 - state.logScroll == matches[0])
        _ = state.handle(.char("N"), source: facts(state))
        #expect(lines.count - 1 - state.logScroll == matches[1])
        #expect(state.filterText == "/dead letter")
        _ = state.handle(.char("/"), source: facts(state))
        _ = state.handle(.escape, source: facts(state))  // Esc drops the prompt, not the screen
        #expect(state.prompt == nil && state.screen == .source && state.search == "dead letter")
    }

    @Test func replayKeysAskTheSourceAndALiveSourceSaysTheyAreUnavailable() {
        var state = onSource()
        #expect(state.handle(.char("."), source: facts(state)) == .none)
        #expect(state.lastChange == "step: not available for this source")
        #expect(state.handle(.char("w"), source: facts(state)) == .none)
        #expect(state.lastChange == "seek: not available for this source")
        #expect(state.handle(.char("."), source: facts(state, replay: true)) == .step(1))
        #expect(state.handle(.char(","), source: facts(state, replay: true)) == .step(-1))
        #expect(state.handle(.char("w"), source: facts(state, replay: true)) == .seekWarning(forward: true))
        #expect(state.handle(.char("W"), source: facts(state, replay: true)) == .seekWarning(forward: false))
        _ = state.handle(.char("g"), source: facts(state, replay: true))
        for c in "1:05" { _ = state.handle(.char(c), source: facts(state, replay: true)) }
        #expect(state.handle(.enter, source: facts(state, replay: true)) == .seek(65))
        _ = state.handle(.char("g"), source: facts(state, replay: true))
        for c in "soon" { _ = state.handle(.char(c), source: facts(state, replay: true)) }
        #expect(state.handle(.enter, source: facts(state, replay: true)) == .none && state.lastChange?.hasPrefix("not a time") == true)
        let help = KeyMap.helpLines(on: .source, capabilities: [.pause])
        #expect(help.contains { $0.hasPrefix(". / ,") && $0.hasSuffix("not available for this source") })
    }
}

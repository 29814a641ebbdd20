import AsyncPatterns
import Testing
@testable import Dashboard
import TUI

/// Shows a registry's patterns, reading either every actor (what a source does by default)
/// or only those the screen asks for.
final class RegistrySource: Source {
    let registry: PatternRegistry
    let partial: Bool
    let origin = SourceOrigin(title: "actors", kind: .replay)
    let status = SourceStatus.paused
    let panes: [PatternKind] = [.actor]
    let knobs: [KnobSpec] = []
    let knobValues: [String: Double] = [:]
    let abilities = SourceAbilities()

    init(_ registry: PatternRegistry, partial: Bool) {
        self.registry = registry
        self.partial = partial
    }

    func snapshot() -> Snapshot { registry.snapshot() }
    func snapshot(actors query: ActorQuery) -> (snapshot: Snapshot, actors: ActorTotals) {
        if partial { return registry.snapshot(actors: query) }
        let all = registry.snapshot()
        return (all, ActorTotals(of: all.actors))
    }
    func events(after cursor: Int) -> SourceEvents { SourceEvents(events: [], next: cursor, missed: 0) }
    func setEventInterest(_ interest: EventInterest) {}
    func stop(waitingAtMost limit: Duration) {}
}

/// The actors screen drawn from a snapshot of only the actors it shows is the screen drawn
/// from every actor: in every order, scrolled, and with an actor's detail open.
@MainActor
@Suite struct ActorScreenTests {
    @Test func theScreenIsTheSameFromOnlyTheRowsItShows() async throws {
        // More actors than the dashboard keeps histories of, so snapshots list only some.
        let registry = PatternRegistry(timeSource: { .seconds(5) })
        var actors: [MailboxActor<Int>] = []
        for i in 0..<1_500 { actors.append(MailboxActor<Int>(name: i % 7 == 0 ? "w\(i)" : "actor-\(i)", registry: registry)) }
        for (i, a) in actors.enumerated() where i % 37 == 0 {
            for m in 0..<(i % 5 + 1) { try await a.tell(m) }
        }
        for (i, a) in actors.enumerated() where i % 101 == 0 {
            a.stop()
            try? await a.tell(0)  // a dead letter
        }
        let apps = [false, true].map { partial in
            let choice = SourceChoice(name: "actors", summary: "s", explanation: "e", knobs: []) { _ in
                RegistrySource(registry, partial: partial)
            }
            let app = DashboardApp(backend: TestBackend(width: 200, height: 60), choices: [choice])
            app.open(0, values: [:])
            app.press(.tab)  // the actors pane
            return app
        }
        func sameScreens(_ what: String) {
            let frames = apps.map { app in
                app.refresh()
                return app.frame().lines
            }
            #expect(frames[0] == frames[1], "\(what)")
            #expect(apps[1].lastSnapshot.actors.count < 400, "\(what): the partial snapshot lists \(apps[1].lastSnapshot.actors.count)")
        }
        for _ in ActorOrder.allCases {
            let order = apps[0].state.actorSort
            sameScreens("\(order), top")
            for _ in 0..<75 { apps.forEach { $0.press(.down) } }
            sameScreens("\(order), scrolled")
            apps.forEach { $0.press(.enter) }
            sameScreens("\(order), detail")
            apps.forEach { $0.press(.escape) }
            for _ in 0..<75 { apps.forEach { $0.press(.up) } }
            apps.forEach { $0.press(.char("s")) }
            #expect(apps.allSatisfy { $0.state.actorSort == order.next })
        }
        #expect(apps[1].frame().lines.joined().contains("Actors (1500)"))
        withExtendedLifetime(actors) {}
    }
}

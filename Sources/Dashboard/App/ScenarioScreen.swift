import AsyncPatterns
import Scenarios
import TUI

/// The panes a scenario screen can show.
public enum PaneKind: Sendable, Hashable, CaseIterable {
    case queue, semaphore, actors, streams, resources, health

    /// The pane a knob acts on, whose title shows the knob's last change.
    public static func affected(by knob: String, in scenario: String) -> PaneKind {
        switch (scenario, knob) {
        case ("producer-consumer", _): return .queue
        case ("actors", _): return .actors
        case ("semaphore", _): return .semaphore
        case ("streams", _): return .streams
        case ("resources", _): return .resources
        case ("pipeline", "rate"), ("pipeline", "items"): return .streams
        case ("pipeline", "capacity"), ("pipeline", "workers"): return .queue
        case ("pipeline", "permits"), ("pipeline", "service"): return .semaphore
        case ("pipeline", "failure"): return .resources
        default: return .health
        }
    }

    /// The panes for a scenario, in order: fixed per known scenario so the layout does not
    /// jump while the first events arrive; otherwise what the snapshot has.
    public static func panes(for scenario: String, snapshot: Snapshot) -> [PaneKind] {
        switch scenario {
        case "producer-consumer": return [.queue, .health]
        case "actors": return [.actors, .health]
        case "semaphore": return [.semaphore, .health]
        case "streams": return [.streams, .health]
        case "resources": return [.resources, .health]
        case "pipeline": return [.queue, .semaphore, .actors, .streams, .resources, .health]
        case "blocking": return [.health, .resources]
        default:
            var kinds: [PaneKind] = []
            if !snapshot.queues.isEmpty { kinds.append(.queue) }
            if !snapshot.semaphores.isEmpty { kinds.append(.semaphore) }
            if !snapshot.actors.isEmpty { kinds.append(.actors) }
            if !snapshot.streams.isEmpty { kinds.append(.streams) }
            if !snapshot.resources.isEmpty { kinds.append(.resources) }
            return kinds + [.health]
        }
    }
}

/// The scenario screen: header, knobs, the scenario's panes, the event log and key hints.
/// Render-only: everything it shows comes from the app's state and the snapshot.
struct ScenarioScreen: Widget {
    /// What the screen shows of the app's state, copied out so rendering needs no actor.
    struct ViewState {
        var selectedKnob: Int
        var lastChange: String?
        var focus: DashboardApp.Focus
        var detailActor: String?
        var history: DashboardHistory
        var actorSort: ActorsPane.SortKey
        var actorSelection: Int
        var logScroll: Int
        /// The last knob change and the pane it affects.
        var knobNote: (pane: PaneKind, text: String)?
        var allEvents: Bool
    }

    let app: ViewState
    let run: ScenarioRun
    let snapshot: Snapshot
    let glyphs: Glyphs

    func render(in area: Rect, into buffer: inout Buffer) {
        let logHeight = max(6, area.height / 4)
        let rows = Layout.rows(area, [.fixed(1), .fill(min: 8), .fixed(logHeight), .fixed(1)])
        HeaderBar(scenario: run.scenario.name, preset: run.preset, elapsedSeconds: snapshot.elapsed.seconds, speed: run.speed,
                  status: run.currentStatus, eventsPerSecond: snapshot.eventsPerSecond)
            .render(in: rows[0], into: &buffer)
        let knobWidth = min(34, max(26, area.width / 4))
        let body = Layout.columns(rows[1], [.fixed(knobWidth), .fill()])
        KnobsPane(specs: run.scenario.knobs, values: run.knobs.values, selected: app.selectedKnob, speed: run.speed,
                  lastChange: app.lastChange, focused: app.focus == .knobs, glyphs: glyphs)
            .render(in: body[0], into: &buffer)
        if let name = app.detailActor {
            let actor = snapshot.actor(name) ?? ActorSnapshot(name: name)
            ActorDetailPane(actor: actor, depthHistory: app.history.actorDepth[name]?.values ?? [], events: snapshot.recentEvents, glyphs: glyphs)
                .render(in: body[1], into: &buffer)
        } else {
            renderPanes(in: body[1], into: &buffer)
        }
        let shown = app.allEvents ? snapshot.recentEvents : snapshot.notableEvents
        EventLogPane(events: shown, dropped: app.allEvents ? snapshot.droppedEvents : snapshot.droppedNotableEvents,
                     scrolledBack: app.logScroll, focused: app.focus == .log, allEvents: app.allEvents, glyphs: glyphs)
            .render(in: rows[2], into: &buffer)
        KeyHints([("q", "quit"), ("?", "help"), ("space", run.currentStatus == .paused ? "resume" : "pause"), ("+/-", "knob"),
                  ("[ ]", "speed"), ("r", "restart"), ("Tab", "focus"), ("e", app.allEvents ? "notable events" : "all events"), ("Esc", "back")])
            .render(in: rows[3], into: &buffer)
    }

    private func renderPanes(in area: Rect, into buffer: inout Buffer) {
        let kinds = PaneKind.panes(for: run.scenario.name, snapshot: snapshot)
        let columns = kinds.count > 3 ? 2 : 1
        let perColumn = (kinds.count + columns - 1) / columns
        let columnRects = Layout.columns(area, Array(repeating: .fill(), count: columns))
        for (c, columnRect) in columnRects.enumerated() {
            let mine = Array(kinds.dropFirst(c * perColumn).prefix(perColumn))
            let constraints: [Constraint] = mine.map { $0 == .health && mine.count > 1 ? .fixed(min(8, max(4, columnRect.height / 3))) : .fill() }
            for (kind, rect) in zip(mine, Layout.rows(columnRect, constraints)) {
                pane(kind, focused: app.focus == .pane(kind)).render(in: rect, into: &buffer)
            }
        }
    }

    private func pane(_ kind: PaneKind, focused: Bool) -> any Widget {
        let note = app.knobNote.flatMap { $0.pane == kind ? $0.text : nil }
        switch kind {
        case .queue:
            let q = snapshot.queues.first ?? QueueSnapshot(name: "queue")
            return QueuePane(queue: q, depthHistory: app.history.queueDepth[q.name]?.values ?? [], focused: focused, note: note, glyphs: glyphs)
        case .semaphore:
            let s = snapshot.semaphores.first ?? SemaphoreSnapshot(name: "permits")
            return SemaphorePane(semaphore: s, inUseHistory: app.history.semaphoreInUse[s.name]?.values ?? [], focused: focused, note: note, glyphs: glyphs)
        case .actors:
            return ActorsPane(actors: snapshot.actors, depthHistory: app.history.actorDepth, sort: app.actorSort,
                                  selected: focused ? app.actorSelection : nil, focused: focused, note: note, glyphs: glyphs)
        case .streams:
            return StreamsPane(streams: snapshot.streams, focused: focused, note: note, glyphs: glyphs)
        case .resources:
            return ResourcesPane(resources: snapshot.resources, focused: focused, note: note, glyphs: glyphs)
        case .health:
            return HealthPane(health: snapshot.health, lagHistory: app.history.lag.values,
                                  warnings: warnings(for: snapshot, history: app.history), focused: focused, note: note, glyphs: glyphs)
        }
    }
}

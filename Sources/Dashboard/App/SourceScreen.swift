import AsyncPatterns
import TUI

/// A source's screen: header, knobs, the panes the source declares, the event log and
/// key hints. Render-only: everything it shows comes from the app state, the source and
/// the snapshot.
struct SourceScreen: Widget {
    let state: AppState
    let source: any Source
    let snapshot: Snapshot
    /// What all the actors add up to (the snapshot may list only those the screen shows).
    let actors: ActorTotals
    let glyphs: Glyphs

    func render(in area: Rect, into buffer: inout Buffer) {
        let logHeight = max(6, area.height / 4)
        let timeline = source.timeline
        let rows = Layout.rows(area, [.fixed(timeline == nil ? 1 : 2), .fill(min: 8), .fixed(logHeight), .fixed(1)])
        HeaderBar(
            title: source.title, mode: source.mode, elapsedSeconds: snapshot.elapsed.seconds,
            speed: source.capabilities.contains(.speed) ? source.speed : nil,
            status: source.status, operationsPerSecond: snapshot.operationsPerSecond, timeline: timeline, glyphs: glyphs
        )
        .render(in: rows[0], into: &buffer)
        let knobWidth = min(34, max(26, area.width / 4))
        let body = Layout.columns(rows[1], [.fixed(knobWidth), .fill()])
        KnobsPane(
            specs: source.knobs, values: source.knobValues, selected: state.selectedKnob,
            speed: source.capabilities.contains(.speed) ? source.speed : nil,
            lastChange: state.lastChange ?? source.notice, focused: state.focus == .knobs, glyphs: glyphs
        )
        .render(in: body[0], into: &buffer)
        if case .actorDetail(let name) = state.screen {
            let actor = snapshot.actor(name) ?? ActorSnapshot(name: name)
            ActorDetailPane(
                actor: actor, depthHistory: state.history.actorDepth[name]?.values ?? [], events: snapshot.recentEvents, glyphs: glyphs
            )
            .render(in: body[1], into: &buffer)
        } else if case .blockerDetail(let location) = state.screen {
            let blocker = snapshot.pool?.blockers.first { $0.location == location }
            // A place not seen for a while leaves the program's table: say so, keep the name.
            PoolBlockerPane(blocker: blocker ?? PoolBlocker(location: location + " (aged out: no stall here lately)"), glyphs: glyphs)
                .render(in: body[1], into: &buffer)
        } else {
            renderPanes(in: body[1], into: &buffer)
        }
        let shown = state.shownEvents(snapshot)
        EventLogPane(
            events: shown, dropped: state.allEvents ? snapshot.droppedEvents : snapshot.droppedNotableEvents,
            scrolledBack: state.logScroll, focused: state.focus == .log, allEvents: state.allEvents, glyphs: glyphs,
            filter: state.logFilterText, highlight: state.search
        )
        .render(in: rows[2], into: &buffer)
        if let prompt = state.prompt {
            buffer.fill(rows[3].row(0))
            let x = buffer.put(" " + prompt.label, x: rows[3].x, y: rows[3].y, style: Theme.key, clip: rows[3])
            buffer.put(
                " " + prompt.text + "_   Enter: ok, Esc: cancel", x: rows[3].x + x, y: rows[3].y, style: .plain, clip: rows[3])
            return
        }
        let paused = source.status == .paused
        let hints = KeyMap.hints(on: .source, capabilities: source.capabilities, glyphs: glyphs) { action in
            switch action {
            case .pause: paused ? "resume" : nil
            case .toggleEvents: state.allEvents ? "notable events" : nil
            default: nil
            }
        }
        KeyHints((state.filterText.map { [("FILTER", $0 + " (c clears)")] } ?? []) + hints)
            .render(in: rows[3], into: &buffer)
    }

    private func renderPanes(in area: Rect, into buffer: inout Buffer) {
        var area = area
        // A run that models its queues gets the theory beneath its panes, while they keep
        // at least 8 rows.
        if let models = snapshot.queueModels, !models.isEmpty, area.height >= 8 + TheoryPane.height(for: models) {
            let split = Layout.rows(area, [.fill(min: 8), .fixed(TheoryPane.height(for: models))])
            TheoryPane(models: models, glyphs: glyphs).render(in: split[1], into: &buffer)
            area = split[0]
        }
        let kinds = source.panes
        if kinds.isEmpty {
            // Nothing to show yet (no snapshot from a program), or ever (it could not be reached).
            Panel(source.title, glyphs: glyphs).render(in: area, into: &buffer)
            let inner = Panel.inner(area)
            let text: String
            switch source.status {
            case .detached(let why), .failed(let why): text = why
            default: text = "waiting for the first numbers from \(source.title)"
            }
            for (i, line) in wrap(text, width: max(1, inner.width - 2)).prefix(inner.height).enumerated() {
                buffer.put(line, x: inner.x + 1, y: inner.y + i, style: Theme.warn, clip: inner)
            }
            return
        }
        let columns = kinds.count > 3 ? 2 : 1
        let perColumn = (kinds.count + columns - 1) / columns
        let columnRects = Layout.columns(area, Array(repeating: .fill(), count: columns))
        for (c, columnRect) in columnRects.enumerated() {
            let mine = Array(kinds.dropFirst(c * perColumn).prefix(perColumn))
            let constraints: [Constraint] = mine.map {
                guard $0 == .health, mine.count > 1 else { return .fill() }
                // The Pool pane lists blockers: it gets more room than the Health pane's gauge.
                return snapshot.pool == nil
                    ? .fixed(min(8, max(4, columnRect.height / 3))) : .fixed(min(16, max(6, columnRect.height / 2)))
            }
            for (kind, rect) in zip(mine, Layout.rows(columnRect, constraints)) {
                pane(kind, focused: state.focus == .pane(kind)).render(in: rect, into: &buffer)
            }
        }
    }

    private func pane(_ kind: PatternKind, focused: Bool) -> any Widget {
        let note = state.knobNote.flatMap { $0.pane == kind ? $0.text : nil }
        switch kind {
        case .queue:
            return QueuePane(
                queues: snapshot.queues, selected: state.queueSelection, depthHistory: state.history.queueDepth, focused: focused,
                note: note, glyphs: glyphs)
        case .semaphore:
            return SemaphorePane(
                semaphores: snapshot.semaphores, selected: state.semaphoreSelection, inUseHistory: state.history.semaphoreInUse,
                focused: focused, note: note, glyphs: glyphs)
        case .actor:
            return ActorsPane(
                actors: snapshot.actors, count: actors.count, from: (actors.offset, actors.listedBefore),
                depthHistory: state.history.actorDepth, sort: state.actorSort,
                selected: focused ? state.actorSelection : nil, focused: focused, note: note, glyphs: glyphs)
        case .stream:
            return StreamsPane(streams: snapshot.streams, focused: focused, note: note, glyphs: glyphs)
        case .resource:
            return ResourcesPane(resources: snapshot.resources, focused: focused, note: note, glyphs: glyphs)
        case .health:
            if let pool = snapshot.pool {
                return PoolPane(
                    pool: pool, delayHistory: state.history.poolDelay.values,
                    warnings: warnings(for: snapshot, history: state.history, actors: actors),
                    selected: state.poolSelection, focused: focused, note: note, glyphs: glyphs)
            }
            return HealthPane(
                health: snapshot.health, lagHistory: state.history.lag.values,
                warnings: warnings(for: snapshot, history: state.history, actors: actors), focused: focused, note: note, glyphs: glyphs)
        }
    }
}

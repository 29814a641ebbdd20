// The dashboard's own cost: composing and diffing full frames.
import AsyncPatterns
import Dashboard
import Scenarios
import TUI

/// Microseconds to compose and diff one 200x60 frame of `scenario`'s screen, running.
///
/// Frames are drawn back to back, unless `cadence` is given: then one frame every
/// `cadence` (the dashboard's 50 ms), so snapshots are taken as often as the dashboard takes
/// them, and only the time inside the frames counts. `snapshotMicros` is what one snapshot of
/// the source costs on its own, every actor listed; `screenMicros`, listing only the actors
/// the screen shows (what the frames take). `everyRow`: the frames read every actor, as they
/// did before snapshots listed only the screen's rows (issue #23), for a before and after in
/// one run.
@MainActor
func composeAndDiff(
    scenario: any Scenario, values: [String: Double], settle: Duration, cadence: Duration? = nil, everyRow: Bool = false
) async
    -> (frame: Double, snapshotMicros: Double, screenMicros: Double, warmFrame: Double)
{
    let backend = TestBackend(width: 200, height: 60)
    var choices = SourceChoice.scenarios([scenario])
    if everyRow { choices = choices.map(EveryRow.choice) }
    let app = DashboardApp(backend: backend, choices: choices)
    app.open(0, values: values)
    try? await Task.sleep(for: settle)
    let frame = await frameMicros(app, frames: options.quick ? 50 : 200, cadence: cadence)
    // The same again: the first frames above include the registry's first screen snapshot,
    // which indexes every actor (issue #23); these show a dashboard that has been open a while.
    let warmFrame = await frameMicros(app, frames: options.quick ? 50 : 200, cadence: cadence)
    let snapshotStart = ContinuousClock.now
    _ = app.source?.snapshot()
    let snapshot = (ContinuousClock.now - snapshotStart).seconds * 1e6
    let query = app.actorQuery
    var screen = Double.infinity
    for _ in 0..<5 {
        let start = ContinuousClock.now
        _ = app.source?.snapshot(actors: query)
        screen = min(screen, (ContinuousClock.now - start).seconds * 1e6)
    }
    app.quit()  // stops the run: a run left behind (the blocking scenario) would hold the pool for the rest
    return (frame, snapshot, screen, warmFrame)
}

/// A source that reads every actor for the screen too (the default of `Source`): the
/// dashboard as it was before `snapshot(actors:)`.
final class EveryRow: Source {
    let inner: any Source

    init(_ inner: any Source) { self.inner = inner }

    static func choice(_ c: SourceChoice) -> SourceChoice {
        SourceChoice(name: c.name, summary: c.summary, explanation: c.explanation, knobs: c.knobs) { values throws(SourceUnavailable) in
            EveryRow(try c.open(values))
        }
    }

    var origin: SourceOrigin { inner.origin }
    var status: SourceStatus { inner.status }
    var panes: [PatternKind] { inner.panes }
    var knobs: [KnobSpec] { inner.knobs }
    var knobValues: [String: Double] { inner.knobValues }
    var abilities: SourceAbilities { inner.abilities }
    func snapshot() -> Snapshot { inner.snapshot() }
    func events(after cursor: Int) -> SourceEvents { inner.events(after: cursor) }
    func setEventInterest(_ interest: EventInterest) { inner.setEventInterest(interest) }
    func stop(waitingAtMost limit: Duration) { inner.stop(waitingAtMost: limit) }
}

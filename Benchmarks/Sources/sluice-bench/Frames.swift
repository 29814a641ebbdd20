// The dashboard's own cost: composing and diffing full frames.
import AsyncPatterns
import Dashboard
import Scenarios
import TUI

/// Microseconds to compose and diff one 200x60 frame of `scenario`'s screen, running.
@MainActor
func composeAndDiff(scenario: any Scenario, values: [String: Double], settle: Duration) async -> Double {
    let backend = TestBackend(width: 200, height: 60)
    let app = DashboardApp(backend: backend, choices: SourceChoice.scenarios([scenario]))
    app.open(0, values: values)
    try? await Task.sleep(for: settle)
    var previous = app.frame()
    let frames = options.quick ? 50 : 200
    let start = ContinuousClock.now
    for _ in 0..<frames {
        let frame = app.frame()
        _ = frame.diff(from: previous)
        previous = frame
    }
    let micros = (ContinuousClock.now - start).seconds / Double(frames) * 1e6
    _ = app.press(.char("q"))
    return micros
}

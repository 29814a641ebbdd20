import Testing

/// Waits until `condition` holds, looking once a millisecond: between looks the task sleeps,
/// so the pool's threads are free for the tasks it waits for (a `Task.yield()` loop keeps
/// one busy, and the suite runs its tests side by side on one shared pool). Every caller
/// waits for something the test itself set in motion; the deadline only turns a bug into a
/// failure.
func eventually(_ what: String, within limit: Duration = .seconds(240), _ condition: () -> Bool) async {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("never within \(limit): \(what)")
            return
        }
        try? await Task.sleep(for: .milliseconds(1))
    }
}

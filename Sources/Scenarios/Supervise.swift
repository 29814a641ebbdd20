import AsyncPatterns

/// The live loop every scenario shares: size each pool from its knob, apply other knob
/// changes with `apply`, and repeat at every change until cancelled; then shut the pools
/// down (each worker finishes the item it holds).
func supervise(_ context: ScenarioContext, pools: [(knob: String, pool: WorkerPool)], apply: () -> Void = {}) async {
    var version = context.knobs.version
    while true {
        for (knob, pool) in pools { pool.resize(to: context.count(knob)) }
        apply()
        do {
            version = try await context.knobs.waitForChange(after: version)
        } catch {
            break
        }
    }
    for (_, pool) in pools { await pool.shutdown() }
}

import AsyncPatterns

/// A small running system built from the engine's patterns, with knobs that change it
/// while it runs. Each tutorial example is one.
public protocol Scenario: Sendable {
    /// The name used on the command line (`sluice run NAME`).
    var name: String { get }
    /// One line for lists.
    var summary: String { get }
    /// A few lines on what to watch for.
    var explanation: String { get }
    /// The knobs, in display order. `speed` is global and not listed here.
    var knobs: [KnobSpec] { get }
    /// Knob values for the `seed` preset (the tutorial's numbers); `live` uses the defaults.
    var seedValues: [String: Double] { get }
    /// The panes its screen shows, in order (fixed, so the layout does not jump while the
    /// first events arrive). A knob without `actsOn` acts on the first.
    var panes: [PatternKind] { get }
    /// Why these starting values cannot work with this preset (e.g. a seed run that could
    /// never finish), naming the knob; nil when they can. The command line refuses them.
    func refusal(of values: [String: Double], preset: Preset) -> String?
    /// Runs until finished (`seed`) or cancelled (`live`). Every delay goes through
    /// `context.clock`; every pattern reports to `context.observer`.
    func run(_ context: ScenarioContext) async throws
}

extension Scenario {
    public func knob(named name: String) -> KnobSpec? { knobs.first { $0.name == name } }

    public func refusal(of values: [String: Double], preset: Preset) -> String? { nil }

    /// The starting knob values for a preset.
    public func values(for preset: Preset) -> [String: Double] {
        var values = Dictionary(uniqueKeysWithValues: knobs.map { ($0.name, $0.defaultValue) })
        if preset == .seed {
            for (k, v) in seedValues { values[k] = v }
        }
        return values
    }
}

/// Which way to run a scenario.
public enum Preset: String, Sendable, CaseIterable, Codable {
    /// Reproduces the tutorial's example: finite, same numbers, same outcome.
    case seed
    /// Keeps running with continuous load until stopped (the default).
    case live
}

/// The refusal for a seed run that could never finish with any of `knobs` at 0 (nothing
/// would consume, grant or emit what the run waits for); nil for other presets.
func seedRefusal(_ values: [String: Double], _ preset: Preset, needsAboveZero knobs: [String]) -> String? {
    guard preset == .seed else { return nil }
    for knob in knobs where (values[knob] ?? 1) <= 0 {
        return "--\(knob) 0 would never let the seed run finish: use more than 0, or --preset live."
    }
    return nil
}

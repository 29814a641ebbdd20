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
    /// Runs until finished (`seed`) or cancelled (`live`). Every delay goes through
    /// `context.clock`; every pattern reports to `context.observer`.
    func run(_ context: ScenarioContext) async throws
}

extension Scenario {
    public func knob(named name: String) -> KnobSpec? { knobs.first { $0.name == name } }

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

/// A knob: a number the user turns while the scenario runs.
public struct KnobSpec: Sendable, Hashable {
    public let name: String
    public let unit: String
    public let range: ClosedRange<Double>
    public let step: Double
    public let defaultValue: Double
    public let summary: String
    /// Whole numbers only (counts).
    public var isInteger: Bool { step == step.rounded() && range.lowerBound == range.lowerBound.rounded() }

    public init(_ name: String, unit: String = "", range: ClosedRange<Double>, step: Double, default defaultValue: Double, _ summary: String) {
        precondition(range.contains(defaultValue), "knob \(name): default outside its range")
        self.name = name
        self.unit = unit
        self.range = range
        self.step = step
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// `value` moved by `steps` steps, kept in range.
    public func stepped(_ value: Double, by steps: Int) -> Double {
        min(range.upperBound, max(range.lowerBound, value + Double(steps) * step))
    }

    /// Shows a value with its unit, e.g. `250 ms`, `4`.
    public func format(_ value: Double) -> String {
        let number = isInteger ? String(Int(value.rounded())) : formatDecimal(value)
        return unit.isEmpty ? number : "\(number) \(unit)"
    }

    /// The range, e.g. `1...32`.
    public var rangeText: String {
        isInteger ? "\(Int(range.lowerBound))...\(Int(range.upperBound))"
            : "\(formatDecimal(range.lowerBound))...\(formatDecimal(range.upperBound))"
    }
}

/// A short decimal: at most two places, no trailing zeros.
public func formatDecimal(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    let hundredths = (value * 100).rounded() / 100
    var text = String(hundredths)
    if text.contains("e") { return String(value) }
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}

/// Exactly `places` decimals, like printf's `%.3f`: `formatFixed(0.5, places: 3)` is "0.500".
public func formatFixed(_ value: Double, places: Int) -> String {
    let scale = (0..<places).reduce(1) { acc, _ in acc * 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    let fraction = String(scaled % scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard places > 0 else { return sign + String(scaled) }
    return "\(sign)\(scaled / scale).\(String(repeating: "0", count: places - fraction.count))\(fraction)"
}

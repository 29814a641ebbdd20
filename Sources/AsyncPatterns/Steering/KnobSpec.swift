/// A knob: a number a user turns while patterns run. Scenarios declare theirs with it, and
/// so will a program that lets a viewer steer it (it needs nothing but this module).
public struct KnobSpec: Sendable, Hashable {
    /// The knob's name (what a viewer sets it by).
    public let name: String
    /// The unit shown after its value (empty: none).
    public let unit: String
    /// The values it accepts.
    public let range: ClosedRange<Double>
    /// How much one turn changes it.
    public let step: Double
    /// Its value before anyone turns it.
    public let defaultValue: Double
    /// One line on what it changes.
    public let summary: String
    /// The kind of pattern the knob changes, whose pane shows the change; nil: the first
    /// pane its screen shows.
    public let actsOn: PatternKind?
    /// When a change takes effect: at once (most knobs), from the next round of a run that
    /// works in rounds, or only in a preset that reads it once (a viewer marks the last two).
    public let timing: KnobTiming
    /// Whole numbers only (counts).
    public var isInteger: Bool { step == step.rounded() && range.lowerBound == range.lowerBound.rounded() }

    /// A knob; `default` must lie within `range`.
    public init(
        _ name: String, unit: String = "", range: ClosedRange<Double>, step: Double, default defaultValue: Double,
        actsOn: PatternKind? = nil, timing: KnobTiming = .now, _ summary: String
    ) {
        precondition(range.contains(defaultValue), "knob \(name): default outside its range")
        self.name = name
        self.unit = unit
        self.range = range
        self.step = step
        self.defaultValue = defaultValue
        self.actsOn = actsOn
        self.timing = timing
        self.summary = summary
    }

    /// `value` kept in range.
    public func clamped(_ value: Double) -> Double {
        min(range.upperBound, max(range.lowerBound, value))
    }

    /// `value` moved by `steps` steps, kept in range.
    public func stepped(_ value: Double, by steps: Int) -> Double {
        clamped(value + Double(steps) * step)
    }

    /// Shows a value with its unit, e.g. `250 ms`, `4`.
    public func format(_ value: Double) -> String {
        let number = formatDecimal(isInteger ? value.rounded() : value)
        return unit.isEmpty ? number : "\(number) \(unit)"
    }

    /// The range, e.g. `1...32`.
    public var rangeText: String {
        "\(formatDecimal(range.lowerBound))...\(formatDecimal(range.upperBound))"
    }
}

/// When turning a knob takes effect.
public enum KnobTiming: String, Sendable, Hashable, CaseIterable {
    /// At once: the patterns change while they run.
    case now
    /// From the next round (a run that works in rounds reads it when one starts).
    case nextRound
    /// Only in the seed preset (read once, when it starts); a live run ignores it.
    case seedOnly

    /// A few words for a viewer, e.g. `next round`; nil for `now`.
    public var hint: String? {
        switch self {
        case .now: nil
        case .nextRound: "next round"
        case .seedOnly: "seed only"
        }
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

/// A time in seconds with the unit that reads best: `1.5s`, `20.5ms`, `300µs` (at most two
/// decimals).
public func formatShortSeconds(_ seconds: Double) -> String {
    if seconds >= 1 { return formatDecimal(seconds) + "s" }
    if seconds >= 0.001 { return formatDecimal(seconds * 1000) + "ms" }
    return formatDecimal(seconds * 1_000_000) + "µs"
}

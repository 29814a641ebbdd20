import AsyncPatterns

/// A number of the program's that a viewer may turn: what it is (a `KnobSpec`: name,
/// unit, range, step) and how to read and set it.
///
/// Both closures run on the agent's own thread, never the program's tasks: they must
/// return at once (set a limit, store a target, start a task), never wait.
public struct AgentKnob: Sendable {
    public let spec: KnobSpec
    let get: @Sendable () -> Double
    let set: @Sendable (Double) throws -> Void

    /// - Parameters:
    ///   - get: the value in force now.
    ///   - set: applies a value already kept within `range` (and whole for a whole-number
    ///     knob); throw (for example a `KnobRefusal`) to refuse it, with the reason.
    public init(
        _ name: String, unit: String = "", range: ClosedRange<Double>, step: Double = 1, summary: String,
        actsOn: PatternKind? = nil, get: @escaping @Sendable () -> Double,
        set: @escaping @Sendable (Double) throws -> Void
    ) {
        let current = get()
        spec = KnobSpec(
            name, unit: unit, range: range, step: step, default: min(range.upperBound, max(range.lowerBound, current)),
            actsOn: actsOn, summary)
        self.get = get
        self.set = set
    }

    /// A knob bound to a semaphore's limit.
    public static func limit(
        of semaphore: AsyncSemaphore, _ name: String = "permits", range: ClosedRange<Double> = 1...64,
        summary: String = "permits of the semaphore"
    ) -> AgentKnob {
        AgentKnob(
            name, range: range, summary: summary, actsOn: .semaphore,
            get: { Double(semaphore.stats.limit) }, set: { semaphore.setLimit(Int($0)) })
    }

    /// A knob bound to a queue's capacity.
    public static func capacity<Element: Sendable>(
        of queue: BoundedQueue<Element>, _ name: String = "capacity", range: ClosedRange<Double> = 1...10_000,
        summary: String = "capacity of the queue"
    ) -> AgentKnob {
        AgentKnob(
            name, range: range, summary: summary, actsOn: .queue,
            get: { Double(queue.stats.capacity) }, set: { queue.setCapacity(Int($0)) })
    }

    /// Applies `value` as a viewer asked: the answer is the value in force after it, or
    /// why it was refused.
    func apply(_ value: Double) -> Result<Double, KnobRefusal> {
        guard value.isFinite else { return .failure(KnobRefusal("\(value) is not a number")) }
        var kept = spec.clamped(value)
        if spec.isInteger { kept.round() }
        do {
            try set(kept)
        } catch let refusal as KnobRefusal {
            return .failure(refusal)
        } catch {
            return .failure(KnobRefusal("\(error)"))
        }
        return .success(get())
    }
}

/// Thrown by a knob's setter to refuse a value; the viewer shows `reason`.
public struct KnobRefusal: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

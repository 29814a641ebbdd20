/// Decides, tick by tick on the watchdog's thread, when the pool is stalled: the heartbeat
/// has been due for at least the threshold without running. Pure: times are nanoseconds of
/// a monotonic clock handed in (tested with no clock and no tasks).
public struct StallDetector: Sendable {
    /// What the watchdog does after a tick.
    public enum Action: Equatable, Sendable {
        /// Nothing.
        case none
        /// Capture the pool's threads now (a stall began, or goes on for `recaptureEvery`).
        case capture
        /// The stall that began with the beat due at `due` ended: it lasted `nanos`.
        case ended(nanos: UInt64)
        /// The stall ended shorter than the threshold, which was raised while it went on
        /// (`sluice doctor --threshold`): by the rule now in force it was no stall.
        case dismissed(nanos: UInt64)
    }

    enum State: Equatable {
        case calm
        /// `seenAt`: the threshold that found the stall.
        case stalled(due: UInt64, lastCapture: UInt64, seenAt: UInt64)
    }

    /// How long the heartbeat may be due before it is a stall.
    public private(set) var threshold: UInt64
    /// While a stall lasts, capture again this often.
    public let recaptureEvery: UInt64
    private(set) var state = State.calm

    /// A detector with `threshold` and `recaptureEvery` in nanoseconds.
    public init(threshold: UInt64, recaptureEvery: UInt64 = 1_000_000_000) {
        self.threshold = threshold
        self.recaptureEvery = recaptureEvery
    }

    /// Changes the threshold, also while a stall goes on: it then decides at the stall's end
    /// whether it counts (see `Action.dismissed`).
    public mutating func setThreshold(_ value: UInt64) { threshold = value }

    /// Whether a stall is going on, and since which due time.
    public var stalledSince: UInt64? {
        if case .stalled(let due, _, _) = state { return due }
        return nil
    }

    /// Whether a stack taken at `takenAt` shows the stall going on, not what ran after it (a
    /// watchdog that looked late on a loaded machine): naming that code would blame the wrong
    /// place. `due` is the beat waiting now, read after the capture; `lastDue` and `lastLag`
    /// are the last beat that ran. The stall ended when its beat ran, at its due time plus
    /// its lag; if a later beat has run too, when is not known, and the stack is not kept.
    public func shows(stackTakenAt takenAt: UInt64, due: UInt64?, lastDue: UInt64, lastLag: UInt64) -> Bool {
        guard case .stalled(let stalledDue, _, _) = state else { return false }
        if due == stalledDue { return true }
        guard lastDue == stalledDue else { return false }
        return takenAt < stalledDue &+ lastLag
    }

    /// One tick: `due` is the deadline of the beat now waiting to run (nil: none waits);
    /// `lastLag` how late the last beat that ran was, and `lastDue` the deadline it had.
    public mutating func tick(now: UInt64, due: UInt64?, lastDue: UInt64, lastLag: UInt64) -> Action {
        switch state {
        case .calm:
            guard let due, now > due, now - due >= threshold else { return .none }
            state = .stalled(due: due, lastCapture: now, seenAt: threshold)
            return .capture
        case .stalled(let stalledDue, let lastCapture, let seenAt):
            if due != stalledDue {
                state = .calm
                // The beat that was late has run: its lag is the stall's length.
                let nanos = lastDue == stalledDue ? lastLag : now &- stalledDue
                if threshold > seenAt, nanos < threshold { return .dismissed(nanos: nanos) }
                return .ended(nanos: max(nanos, threshold))
            }
            guard now - lastCapture >= recaptureEvery else { return .none }
            state = .stalled(due: stalledDue, lastCapture: now, seenAt: seenAt)
            return .capture
        }
    }
}

import Synchronization

/// A clock that moves only when told to: for tests of anything that waits on time.
///
/// `advance(by:)` wakes every sleeper whose deadline has come, in deadline order.
/// `waitForSleepers(_:)` is the gate that replaces sleep-and-hope: it returns once that
/// many tasks are asleep on the clock, so a test knows they reached their wait.
public final class ManualClock: Clock, Sendable {
    /// A point on a manual clock: an offset from its start.
    public struct Instant: InstantProtocol, Sendable, Hashable {
        /// Time since the clock started.
        public var offset: Duration
        /// The instant `offset` after the start.
        public init(offset: Duration) { self.offset = offset }
        /// The instant `duration` later.
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        /// The time from this instant to `other`.
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        /// Whether `a` comes before `b`.
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: UnsafeContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var gates: [(count: Int, continuation: UnsafeContinuation<Void, Never>)] = []
        var nextID: UInt64 = 0

        mutating func openGates() -> [UnsafeContinuation<Void, Never>] {
            let ready = gates.filter { $0.count <= sleepers.count }.map(\.continuation)
            gates.removeAll { $0.count <= sleepers.count }
            return ready
        }
    }

    private let state = Locked(State())

    /// A clock at its start, with no sleepers.
    public init() {}

    /// The clock's current instant (moved only by `advance(by:)`).
    public var now: Instant { state.withLock { $0.now } }
    /// One nanosecond.
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// How many tasks are asleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Suspends until `advance` moves the clock to `deadline` or past it.
    /// - Throws: `CancellationError` if cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let (resumeNow, gates) = state.withLock { state -> (Bool, [UnsafeContinuation<Void, Never>]) in
                    if deadline <= state.now { return (true, []) }
                    if Task.isCancelled { return (true, []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (false, state.openGates())
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
                for gate in gates { gate.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let i = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes the sleepers whose deadlines have come, in
    /// deadline order. Time never goes backwards: `duration` must not be negative.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "ManualClock cannot move backwards (advance by \(duration))")
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Suspends until at least `count` tasks are asleep on the clock.
    public func waitForSleepers(_ count: Int) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sleepers.count >= count { return true }
                state.gates.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

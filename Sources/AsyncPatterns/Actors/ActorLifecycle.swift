import Synchronization

/// Where a `MailboxActor` is in its life, as a pure state machine: each input is a
/// `mutating func` that returns what the caller must do. It never touches the mailbox, a
/// task or a continuation itself, so it is unit-tested without any.
///
/// | state     | `start()`          | `cancel()`  | `stop()`               | `loopEnded()` |
/// |-----------|--------------------|-------------|------------------------|---------------|
/// | idle      | running: run       | —           | ended: drain mailbox   | impossible    |
/// | running   | —: return at once  | cancelled   | stopping               | ended         |
/// | cancelled | —: return at once  | —           | stopping               | ended         |
/// | stopping  | —: return at once  | —           | —                      | ended         |
/// | ended     | —: return at once  | —           | —                      | impossible    |
///
/// (The loop also ends from `running` when `finish()` closed the mailbox and it is empty.)
///
/// Exactly one caller drains the mailbox (reports what is left as dead letters): `stop()`
/// when the run loop never started, else the run loop when it ends. The state lives in one
/// atomic word (`ActorLifecycle.Storage`), so the send path and the run loop read it without
/// a lock.
@usableFromInline
struct ActorLifecycle: Hashable, Sendable {
    @usableFromInline
    enum State: Int, Sendable {
        /// `run` not called yet: sends are queued for when it runs.
        case idle
        /// `run` is the mailbox's consumer.
        case running
        /// The task running the loop was cancelled: the loop stops after the message in hand;
        /// sends are still taken (the loop's drain reports them).
        case cancelled
        /// `stop()` while running: the loop stops after the message in hand; sends are refused.
        case stopping
        /// The loop ended, or `stop()` came before `run`: sends are refused, the mailbox drained.
        case ended
    }

    @usableFromInline var state: State

    @inlinable init(_ state: State = .idle) { self.state = state }

    /// Whether a send may still go into the mailbox.
    @inlinable var acceptsMessages: Bool {
        switch state {
        case .idle, .running, .cancelled: true
        case .stopping, .ended: false
        }
    }

    /// Whether the run loop takes another message.
    @inlinable var keepsProcessing: Bool { state == .running }

    /// What `ActorStats.isStopped` says: `stop()` was called or the loop ended.
    @inlinable var isStopped: Bool { !acceptsMessages }

    @usableFromInline enum StartAction: Equatable {
        /// Run the loop: this call is the mailbox's single consumer.
        case run
        /// Return at once: running already, or stopped before it ran.
        case returnAtOnce
    }

    /// `run(_:)` was called.
    @inlinable mutating func start() -> StartAction {
        guard state == .idle else { return .returnAtOnce }
        state = .running
        return .run
    }

    /// The task running the loop was cancelled (the loop's cancellation handler).
    @inlinable mutating func cancel() {
        if state == .running { state = .cancelled }
    }

    @usableFromInline enum StopAction: Equatable {
        /// The loop never ran and never will: report the mailbox's messages here.
        case drainMailbox
        /// The run loop drains when it ends, or it has ended already.
        case none
    }

    /// `stop()` was called.
    @inlinable mutating func stop() -> StopAction {
        switch state {
        case .idle:
            state = .ended
            return .drainMailbox
        case .running, .cancelled:
            state = .stopping
            return .none
        case .stopping, .ended:
            return .none
        }
    }

    /// The run loop left its loop (stopped, cancelled, or the mailbox closed and empty): it
    /// drains what is left, always.
    @inlinable mutating func loopEnded() {
        switch state {
        case .running, .cancelled, .stopping:
            state = .ended
        case .idle, .ended:
            preconditionFailure("the run loop ended in state \(state), where no loop runs")
        }
    }
}

extension ActorLifecycle {
    /// The machine's state in one atomic word: read without a lock by senders and the run
    /// loop; changed by a compare-and-swap of the machine's transition.
    @usableFromInline
    struct Storage: ~Copyable, Sendable {
        @usableFromInline let word = Atomic<Int>(State.idle.rawValue)

        @inlinable init() {}

        /// The state now. Acquiring: whoever sees `stopping` or `ended` also sees what the
        /// stopper wrote before it (the mailbox closed, the directory left).
        @inlinable var current: ActorLifecycle {
            ActorLifecycle(State(rawValue: word.load(ordering: .acquiring))!)
        }

        /// Applies one transition atomically and returns its action.
        @inlinable func transition<Action>(_ body: (inout ActorLifecycle) -> Action) -> Action {
            var seen = word.load(ordering: .acquiring)
            while true {
                var machine = ActorLifecycle(State(rawValue: seen)!)
                let action = body(&machine)
                if machine.state.rawValue == seen { return action }
                let (exchanged, original) = word.compareExchange(
                    expected: seen, desired: machine.state.rawValue, ordering: .acquiringAndReleasing)
                if exchanged { return action }
                seen = original
            }
        }
    }
}

/// What every error thrown by this library conforms to: `catch let error as
/// AsyncPatternsError` tells the library's own outcomes (closed, timed out, stopped, full,
/// no reply, misuse) from the errors of your own code that it passes through.
///
/// The errors: `QueueClosed`, `TimedOut`, `TaskDoneWithoutItem`, `ReleaseWithoutAcquire`,
/// `NoReply`, `ActorStopped`, `MailboxFull`. Cancellation is reported with the standard
/// `CancellationError`.
public protocol AsyncPatternsError: Error, Sendable {}

/// Thrown by `BoundedQueue.put` after `close()`, and by `get` once the queue is closed
/// and empty (the tutorial's `QueueShutDown`).
public struct QueueClosed: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// A sentence for logs.
    public var description: String { "the queue is closed" }
}

/// Thrown when a call with a timeout gave up; the call had no effect (for `ask`: no reply
/// arrived in time; the message may still be processed).
public struct TimedOut: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// A sentence for logs.
    public var description: String { "timed out" }
}

/// Thrown by `BoundedQueue.taskDone()` when it is called more often than items were got.
public struct TaskDoneWithoutItem: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// A sentence for logs.
    public var description: String { "taskDone() called more times than items were got" }
}

/// Thrown by `AsyncSemaphore.release()` when no permit is held.
public struct ReleaseWithoutAcquire: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// A sentence for logs.
    public var description: String { "release() without a held permit" }
}

/// Thrown by `BoundedQueue.put` after `close()`, and by `get` once the queue is closed
/// and empty (the tutorial's `QueueShutDown`).
public struct QueueClosed: Error, Hashable, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the queue is closed" }
}

/// Thrown when a call with a timeout gave up; the call had no effect.
public struct TimedOut: Error, Hashable, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "timed out" }
}

/// Thrown by `BoundedQueue.taskDone()` when it is called more often than items were got.
public struct TaskDoneWithoutItem: Error, Hashable, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "taskDone() called more times than items were got" }
}

/// Thrown by `AsyncSemaphore.release()` when no permit is held.
public struct ReleaseWithoutAcquire: Error, Hashable, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "release() without a held permit" }
}

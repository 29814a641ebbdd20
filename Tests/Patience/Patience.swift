#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a test waits, in real time, for something it set in motion. The condition is
/// the gate; the limit only turns a hang into a failure, well before the stage's own limit
/// (`make`'s UNIT_LIMIT). It is generous on purpose: under ThreadSanitizer, beside 400 other
/// tests on 2 cores, a 0.1 s sleep has taken 70 s and a run 10 s to stop. Every real-time
/// wait in the suite uses it, so no test measures the machine instead of the code.
public let patience: Duration = .seconds(240)

/// What a wait that ran out of patience throws: the test stops there, named.
public struct NotInTime: Error, CustomStringConvertible {
    public let description: String

    init(_ what: String, file: StaticString, line: UInt) {
        description = "\(file):\(line): not within \(patience): \(what)"
    }
}

/// Waits until `condition` holds, looking after 1 ms, then less often (at most 20 ms
/// apart: some conditions draw a whole frame). Between looks the task
/// sleeps, so the pool's threads are free for what it waits for (the suite runs its tests
/// side by side on one shared pool). The condition runs in the caller's isolation.
public func eventually(
    _ what: String = "the condition", file: StaticString = #fileID, line: UInt = #line,
    isolation: isolated (any Actor)? = #isolation, _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + patience
    var pause = Duration.milliseconds(1)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw NotInTime(what, file: file, line: line) }
        try await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(20))  // some conditions draw a frame
    }
}

/// The same on the calling thread, for code that must not suspend. It blocks that thread:
/// call it only from a thread of the test's own, never from a task on the shared pool.
public func eventuallyBlocking(
    _ what: String = "the condition", file: StaticString = #fileID, line: UInt = #line,
    _ condition: () -> Bool
) throws {
    let deadline = ContinuousClock.now + patience
    var pause: UInt32 = 1_000
    while !condition() {
        guard ContinuousClock.now < deadline else { throw NotInTime(what, file: file, line: line) }
        usleep(pause)
        pause = min(pause * 2, 20_000)
    }
}

/// Runs `operation` with a deadline on `clock`.
///
/// `operation` must be cancellation-atomic: it either completes with its effect, or
/// throws `CancellationError` having had none (every waiting call in this library is).
/// That is what makes timeouts lossless: when the deadline and the result race, a result
/// that arrived wins and is returned; only an operation that gave up throws `TimedOut`.
/// A cancelled caller gets `CancellationError`.
func withDeadline<T: Sendable, C: Clock>(
    _ timeout: C.Duration, clock: C,
    operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await clock.sleep(for: timeout)
            return nil
        }
        var deadlinePassed = false
        while let result = await group.nextResult() {
            switch result {
            case .success(let value?):
                group.cancelAll()
                return value
            case .success(nil):
                deadlinePassed = true
                group.cancelAll()
            case .failure(let error):
                group.cancelAll()
                if deadlinePassed, error is CancellationError, !Task.isCancelled {
                    throw TimedOut()
                }
                throw error
            }
        }
        preconditionFailure("the operation task always yields a result")
    }
}

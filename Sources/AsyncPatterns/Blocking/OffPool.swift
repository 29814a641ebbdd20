#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking work on a thread of its own and suspends until it is done (the
/// tutorial's `run_in_executor`): the cooperative pool stays free for tasks that await.
///
/// Each call starts a thread, which costs tens of microseconds: meant for calls that block
/// for milliseconds or more (file I/O, a C library, `sleep`), not for tiny work.
/// - Throws: what `work` throws. Cancellation does not interrupt the thread.
public func runOffPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
        let job: @Sendable () -> Void = { continuation.resume(with: Result { try work() }) }
        // No thread: run it here rather than fail (it blocks the pool, as asked not to).
        if !startDetachedThread(job) { job() }
    }
}

/// Runs `body` on a new thread that nobody joins; false when no thread could be made.
///
/// Created detached: nothing touches the thread's handle after `pthread_create`. Detaching
/// it afterwards crashed once inside `pthread_detach` (a soak making about 16,000 threads a
/// second, after 4 minutes): by then the thread may be gone.
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let context = Unmanaged.passRetained(OffPoolJob(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, &attributes,
        { raw in
            guard let raw else { return nil }
            Unmanaged<OffPoolJob>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context)
    if rc != 0 { Unmanaged<OffPoolJob>.fromOpaque(context).release() }
    return rc == 0
}

/// The closure handed to the new thread.
private final class OffPoolJob: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

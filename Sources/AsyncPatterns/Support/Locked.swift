#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`: what every pattern's state machine lives in, and
/// what Sluice's other modules use for their own small shared state.
///
/// Why not `Synchronization.Mutex`: on Linux it is a priority-inheritance futex, which
/// hands the lock to a sleeping waiter on unlock, so a hot lock traded between a producer
/// and a consumer thread waits for a thread to wake up at every hand-off (perf showed
/// `_MutexHandle._lockSlow` at 60% of the queue's time, on a loaded machine). glibc's adaptive mutex spins
/// briefly, and lets the running thread take the lock again while the waiter wakes. And
/// ThreadSanitizer understands pthread mutexes, while it reported accesses inside
/// `Mutex.withLock` as races (it does not see the futex as synchronization).
///
/// Not API: `package`, for Sluice's own modules (a user's program has `Mutex`).
///
/// `@unchecked Sendable` is safe because `value` is only touched inside
/// `withLock`, while `mutex` is held; `Value: Sendable`, so nothing non-Sendable enters
/// or leaves through it.
@usableFromInline package final class Locked<Value: Sendable>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        // Spin briefly before sleeping: our critical sections are tens of nanoseconds, a
        // futex sleep and wake-up costs a millisecond on a virtual machine.
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        let rc = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Keep it short: compute, do not call out.
    @inlinable
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` like `withLock` if the lock is free now; nil, without waiting, if not.
    package func withLockIfAvailable<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

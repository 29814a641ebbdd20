#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX counting semaphore for threads of our own (never the cooperative pool): one
/// `signal` lets one `wait` through. The executor's threads wait for jobs on one; a
/// scenario run's gate (`SyncGate`) is built on one.
// `@unchecked Sendable`: the only state is the semaphore, which is made to be posted and
// waited on from different threads; the pointer never changes after init, and the
// semaphore lives as long as this object (its waiters hold it).
package final class CountingSemaphore: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    package init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    package func signal() { sem_post(semaphore) }

    /// Waits for a signal, however long it takes.
    package func wait() {
        while sem_wait(semaphore) != 0, errno == EINTR {}
    }

    /// Waits for a signal at most `timeoutMilliseconds`. Returns true when signalled.
    package func wait(timeoutMilliseconds: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int(deadline.tv_nsec) + (timeoutMilliseconds % 1000) * 1_000_000
        deadline.tv_sec += timeoutMilliseconds / 1000 + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        while sem_timedwait(semaphore, &deadline) != 0 {
            if errno != EINTR { return false }
        }
        return true
    }
}

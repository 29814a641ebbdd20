#if canImport(Glibc)
import Glibc
#endif

/// A one-shot gate a synchronous thread can wait on (the main thread waiting, with a
/// deadline, for a run to stop). Once opened it stays open for every later waiter.
// `@unchecked Sendable`: the only state is a POSIX semaphore, which is made to be posted and
// waited on from different threads; the pointer itself never changes after init.
final class SyncGate: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func open() { sem_post(semaphore) }

    /// Waits until opened or the timeout passes. Returns true when opened.
    @discardableResult
    func wait(timeoutMilliseconds: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int(deadline.tv_nsec) + (timeoutMilliseconds % 1000) * 1_000_000
        deadline.tv_sec += timeoutMilliseconds / 1000 + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        while sem_timedwait(semaphore, &deadline) != 0 {
            if errno != EINTR { return false }
        }
        sem_post(semaphore)  // stays open for the next waiter
        return true
    }
}

import AsyncPatterns

/// A one-shot gate a synchronous thread can wait on (the main thread waiting, with a
/// deadline, for a run to stop). Once opened it stays open for every later waiter.
final class SyncGate: Sendable {
    private let semaphore = CountingSemaphore()

    func open() { semaphore.signal() }

    /// Waits until opened or the timeout passes. Returns true when opened.
    @discardableResult
    func wait(timeoutMilliseconds: Int) -> Bool {
        guard semaphore.wait(timeoutMilliseconds: timeoutMilliseconds) else { return false }
        semaphore.signal()  // stays open for the next waiter
        return true
    }
}

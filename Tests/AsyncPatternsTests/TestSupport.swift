import AsyncPatterns
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A shared counter for tests (an `Atomic` cannot be captured by escaping closures).
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    init() {}
    @discardableResult func add(_ n: Int = 1) -> Int {
        let now = value.wrappingAdd(n, ordering: .relaxed).newValue
        peak.max(now, ordering: .relaxed)
        return now
    }
    func subtract(_ n: Int = 1) { value.wrappingSubtract(n, ordering: .relaxed) }
    var load: Int { value.load(ordering: .relaxed) }
    var max: Int { peak.load(ordering: .relaxed) }
}

/// A shared list for tests.
final class Recorder<T: Sendable>: Sendable {
    private let items = Locked<[T]>([])
    init() {}
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
}

/// A one-way gate: `wait()` suspends until `open()` (no polling, no sleeping).
final class Gate: Sendable {
    private let state = Locked<(open: Bool, waiters: [UnsafeContinuation<Void, Never>])>((false, []))
    init() {}
    func open() {
        let waiters = state.withLock { s -> [UnsafeContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
    func wait() async {
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }
}

/// Whether this test binary runs under ThreadSanitizer (its runtime is linked in): the
/// heaviest stress tests run fewer rounds there, where each task costs ten times more.
let underThreadSanitizer = dlsym(dlopen(nil, RTLD_NOW), "__tsan_init") != nil

import Synchronization

/// A plain Swift actor queue with continuations: the "naive" peer most people write first.
actor NaiveActorQueue {
    private var items: [Int] = []
    private var head = 0
    private let capacity: Int
    private var putters: [CheckedContinuation<Void, Never>] = []
    private var getters: [CheckedContinuation<Int, Never>] = []

    init(capacity: Int) { self.capacity = capacity }

    func put(_ x: Int) async {
        while getters.isEmpty, items.count - head >= capacity {
            await withCheckedContinuation { putters.append($0) }
        }
        if !getters.isEmpty {
            getters.removeFirst().resume(returning: x)
        } else {
            items.append(x)
        }
    }

    func get() async -> Int {
        if head < items.count {
            let x = items[head]
            head += 1
            if head > 4096 {
                items.removeFirst(head)
                head = 0
            }
            if !putters.isEmpty { putters.removeFirst().resume() }
            return x
        }
        return await withCheckedContinuation { getters.append($0) }
    }
}

/// A naive semaphore: a Mutex and a list of continuations, no cancellation support.
final class NaiveSemaphore: Sendable {
    private let state: Mutex<(free: Int, waiters: [CheckedContinuation<Void, Never>])>
    init(limit: Int) { state = Mutex((limit, [])) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { s -> Bool in
                if s.free > 0 {
                    s.free -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if granted { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// The receiving side of a "Swift actor method call chain" peer.
actor CountingActor {
    var count = 0
    func receive(_ x: Int) { count &+= x &* 0 &+ 1 }
}

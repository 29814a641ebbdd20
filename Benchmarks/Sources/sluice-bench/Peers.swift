// The peers: what a Swift developer would use instead, written the way most people write
// them. Each does the same work as its Sluice workload.
import AsyncAlgorithms
import Synchronization

// MARK: queues

/// An unbounded `AsyncStream` (no back-pressure). It allows one consumer only, so 4/4 runs
/// as 4 producers and 1 consumer.
func asyncStreamQueue(producers: Int) async {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let per = items / producers
    await withTaskGroup(of: Void.self) { group in
        group.addTask { for await _ in stream {} }
        await withTaskGroup(of: Void.self) { ps in
            for _ in 0..<producers { ps.addTask { for i in 0..<per { continuation.yield(i) } } }
        }
        continuation.finish()
    }
}

/// swift-async-algorithms' `AsyncChannel`: a rendezvous (every send waits for a consumer).
func asyncChannelQueue(producers: Int, consumers: Int) async {
    let channel = AsyncChannel<Int>()
    let per = items / producers
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<consumers { group.addTask { for await _ in channel {} } }
        await withTaskGroup(of: Void.self) { ps in
            for _ in 0..<producers { ps.addTask { for i in 0..<per { await channel.send(i) } } }
        }
        channel.finish()
    }
}

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

func naiveActorQueue(producers: Int, consumers: Int) async {
    let q = NaiveActorQueue(capacity: 1024)
    let per = items / producers
    let total = per * producers
    await withTaskGroup(of: Void.self) { group in
        for c in 0..<consumers {
            let share = total / consumers + (c < total % consumers ? 1 : 0)
            group.addTask { for _ in 0..<share { _ = await q.get() } }
        }
        for _ in 0..<producers { group.addTask { for i in 0..<per { await q.put(i) } } }
    }
}

// MARK: actors

/// The receiving side of the "Swift actor method call chain" peer.
actor CountingActor {
    var count = 0
    func receive(_ x: Int) { count &+= x &* 0 &+ 1 }
}

func actorMethodChain() async {
    let receiver = CountingActor()
    for i in 0..<items { await receiver.receive(i) }
}

func asyncStreamMailbox() async {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            var n = 0
            for await _ in stream { n += 1 }
        }
        for i in 0..<items { continuation.yield(i) }
        continuation.finish()
    }
}

// MARK: semaphores

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

func naiveSemaphore() async {
    let sem = NaiveSemaphore(limit: 3)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                for _ in 0..<(items / 4) {
                    await sem.acquire()
                    await Task.yield()
                    sem.release()
                }
            }
        }
    }
}

func naiveSemaphoreManyTasks() async {
    let sem = NaiveSemaphore(limit: 3)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<(items / 10) {
            group.addTask {
                await sem.acquire()
                await Task.yield()
                sem.release()
            }
        }
    }
}

// MARK: streams

func asyncStreamItems() async {
    let stream = AsyncStream<Int> { c in
        for i in 0..<items { c.yield(i) }
        c.finish()
    }
    var n = 0
    for await _ in stream { n += 1 }
}

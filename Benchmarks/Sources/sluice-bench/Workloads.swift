// Sluice's side of each workload. Each takes the observer it reports to (nil: none).
import AsyncPatterns

func sluiceQueue(producers: Int, consumers: Int, observer: (any PatternObserver)?) async {
    let q = BoundedQueue<Int>(capacity: 1024, observer: observer)
    let per = items / producers
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<consumers {
            group.addTask {
                while true {
                    do {
                        _ = try await q.get()
                        try q.taskDone()
                    } catch { return }
                }
            }
        }
        await withTaskGroup(of: Void.self) { ps in
            for _ in 0..<producers { ps.addTask { for i in 0..<per { try! await q.put(i) } } }
        }
        try! await q.join()
        q.close()
    }
}

func sluiceMailbox(observer: (any PatternObserver)?) async {
    let receiver = MailboxActor<Int>(name: "receiver", observer: observer)
    struct Count: ActorBehavior {
        var n = 0
        let total: Int
        let actor: MailboxActor<Int>
        mutating func receive(_ envelope: Envelope<Int>, context: ActorContext<Int>) async throws {
            n += 1
            if n == total { actor.stop() }
        }
    }
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await receiver.run(Count(total: items, actor: receiver)) }
        group.addTask { for i in 0..<items { try! await receiver.tell(i) } }
    }
}

func sluiceSemaphore(observer: (any PatternObserver)?) async {
    let sem = AsyncSemaphore(limit: 3, observer: observer)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                for _ in 0..<(items / 4) {
                    try! await sem.acquire()
                    await Task.yield()
                    try! sem.release()
                }
            }
        }
    }
}

func sluiceSemaphoreManyTasks(observer: (any PatternObserver)?) async {
    let sem = AsyncSemaphore(limit: 3, observer: observer)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<(items / 10) { group.addTask { try! await sem.withPermit { await Task.yield() } } }
    }
}

func sluiceStream(observer: (any PatternObserver)?) async {
    var n = 0
    do { for try await _ in ProgressStream(0..<items, observer: observer) { n += 1 } } catch {}
}

func sluiceGenerator(observer: (any PatternObserver)?) async {
    let gen = AsyncGenerator<Int>(buffer: 256, observer: observer) { yield in for i in 0..<items { try await yield(i) } }
    var n = 0
    do { for try await _ in gen { n += 1 } } catch {}
}

/// What one event costs the aggregating observer, alone on one thread: the floor under the
/// observer's overhead on every workload. Returns nanoseconds per event.
func foldCost() async -> (event: Double, clockRead: Double) {
    let observer = AggregatingObserver()
    let source = PatternID(.queue, "queue")
    let gauges = QueueGauges(depth: 3, waitingProducers: 0, waitingConsumers: 0)
    let eventRate = await measure(items) {
        for i in 0..<items {
            observer.observe(.queue(i & 1 == 0 ? .put(gauges) : .taskDone(unfinished: 1), source: source, at: .now()))
        }
    }
    var sink: UInt64 = 0
    let clockRate = await measure(items) {
        for _ in 0..<items { sink &+= MonotonicInstant.now().nanoseconds }
    }
    if sink == 42 { print("") }  // keeps the loop
    return (1e9 / eventRate, 1e9 / clockRate)
}

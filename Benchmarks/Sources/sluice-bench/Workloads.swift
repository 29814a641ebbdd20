// Sluice's side of each workload. Each takes the registry its patterns join (nil: none).
#if canImport(Glibc)
import Glibc
#endif
@_spi(Benchmarks) import AsyncPatterns

func sluiceQueue(producers: Int, consumers: Int, registry: PatternRegistry?) async {
    let q = BoundedQueue<Int>(capacity: 1024, registry: registry)
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

func sluiceMailbox(registry: PatternRegistry?) async {
    let receiver = MailboxActor<Int>(name: "receiver", registry: registry)
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

func sluiceSemaphore(registry: PatternRegistry?) async {
    let sem = AsyncSemaphore(limit: 3, registry: registry)
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

func sluiceSemaphoreManyTasks(registry: PatternRegistry?) async {
    let sem = AsyncSemaphore(limit: 3, registry: registry)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<(items / 10) { group.addTask { try! await sem.withPermit { await Task.yield() } } }
    }
}

func sluiceStream(registry: PatternRegistry?) async {
    var n = 0
    do { for try await _ in ProgressStream(0..<items, registry: registry) { n += 1 } } catch {}
}

func sluiceGenerator(registry: PatternRegistry?) async {
    let gen = AsyncGenerator<Int>(buffer: 256, registry: registry) { yield in for i in 0..<items { try await yield(i) } }
    var n = 0
    do { for try await _ in gen { n += 1 } } catch {}
}

/// What recording one latency costs, alone on one thread (patterns record under the lock
/// they already hold). The median of five runs, in nanoseconds per record.
func latencyRecordCost() -> Double {
    (0..<5).map { _ in ObservationCosts.recordLatencies(items) }.sorted()[2]
}

/// Bytes of memory per idle, running actor, and how many of them observation adds: `n`
/// actors without a registry, then `n` with one (listed, snapshotted, one message each so
/// their distributions exist), measured as growth of resident memory. Every actor and its
/// run loop stays alive until both are measured, so neither set reuses the other's memory.
func observationBytesPerActor(_ n: Int = 20_000) async -> (total: Double, observation: Double) {
    struct Nop: ActorBehavior {
        mutating func receive(_ envelope: Envelope<Int>, context: ActorContext<Int>) async throws {}
    }
    var all: [(MailboxActor<Int>, Task<Void, Never>)] = []
    func grow(_ registry: PatternRegistry?) async -> Int {
        let before = residentBytes()
        let actors = (0..<n).map { MailboxActor<Int>(name: "actor-\($0)", registry: registry) }
        all += actors.map { a in (a, Task { await a.run(Nop()) }) }
        for a in actors { try? await a.tell(1) }
        while actors.contains(where: { $0.stats.processed < 1 }) { try? await Task.sleep(for: .milliseconds(10)) }
        _ = registry?.snapshot()
        return residentBytes() - before
    }
    let plain = await grow(nil)
    let observed = await grow(PatternRegistry())
    for (a, _) in all { a.stop() }
    for (_, t) in all { await t.value }
    return (Double(observed) / Double(n), Double(observed - plain) / Double(n))
}

func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, 128, f) != nil else { return 0 }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

// Sluice's side of each workload. Each takes the registry its patterns join (nil: none).
#if canImport(Glibc)
import Glibc
#endif
@_spi(Benchmarks) import AsyncPatterns

func sluiceQueue(producers: Int, consumers: Int, registry: PatternRegistry?) async {
    // The low-water mark batches producers' wake-ups (one per half queue, not one per item),
    // as the queue did by itself before it became an explicit option (issue #15).
    let q = BoundedQueue<Int>(capacity: 1024, resumeProducersBelow: 512, registry: registry)
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

/// Bytes of memory per idle, running actor, and how many of them observation adds: each
/// measured in a fresh process of its own (`--actor-memory plain|observed`), since memory
/// freed by earlier workloads would hide what a set of actors takes.
func observationBytesPerActor() -> (total: Double, observation: Double) {
    func run(_ mode: String) -> Double {
        guard let pipe = popen("\(CommandLine.arguments[0]) --actor-memory \(mode)", "r") else { return .nan }
        var line = [CChar](repeating: 0, count: 128)
        defer { pclose(pipe) }
        guard fgets(&line, 128, pipe) != nil else { return .nan }
        return Double(String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) ?? .nan
    }
    let plain = run("plain")
    let observed = run("observed")
    return (observed, observed - plain)
}

/// `--actor-memory`: 20,000 idle actors with running loops, each having processed one
/// message, in a registry (`observed`, then snapshotted) or none (`plain`); prints the
/// growth of resident memory per actor.
func actorMemory(observed: Bool) async -> Double {
    struct Nop: ActorBehavior {
        mutating func receive(_ envelope: Envelope<Int>, context: ActorContext<Int>) async throws {}
    }
    let n = 20_000
    let registry = observed ? PatternRegistry() : nil
    let before = residentBytes()
    let actors = (0..<n).map { MailboxActor<Int>(name: "actor-\($0)", registry: registry) }
    let runs = actors.map { a in Task { await a.run(Nop()) } }
    for a in actors { try? await a.tell(1) }
    while actors.contains(where: { $0.stats.processed < 1 }) { try? await Task.sleep(for: .milliseconds(10)) }
    _ = registry?.snapshot()
    let grown = Double(residentBytes() - before) / Double(n)
    for a in actors { a.stop() }
    for r in runs { await r.value }
    return grown
}

func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, 128, f) != nil else { return 0 }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

// `make bench`: Sluice's engine and dashboard against their peers, measured side by side
// in one run on this machine. Prints one table (medians of several runs) and writes JSON.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
import Scenarios

let quick = CommandLine.arguments.contains("--quick")
let items = quick ? 200_000 : 1_000_000
let runs = quick ? 1 : 3

func seconds(_ d: Duration) -> Double { d.seconds }

/// Median of `runs` timings of `body`, as operations per second.
func measure(_ operations: Int, _ body: () async -> Void) async -> Double {
    var rates: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        await body()
        rates.append(Double(operations) / seconds(ContinuousClock.now - start))
    }
    return rates.sorted()[rates.count / 2]
}

// MARK: workloads

func sluiceQueue(producers: Int, consumers: Int, observer: (any PatternObserver)?, sampling: Bool = false) async {
    let q = BoundedQueue<Int>(capacity: 1024, observer: observer)
    let per = items / producers
    let sampler = Task {
        guard sampling, let o = observer as? AggregatingObserver else { return }
        while !Task.isCancelled {
            _ = o.snapshot()
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
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
    sampler.cancel()
}

func asyncStreamQueue(producers: Int, consumers: Int) async {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let per = items / producers
    await withTaskGroup(of: Void.self) { group in
        // AsyncStream allows one consumer; the others would be a misuse, so it gets one.
        group.addTask { for await _ in stream {} }
        await withTaskGroup(of: Void.self) { ps in
            for _ in 0..<producers { ps.addTask { for i in 0..<per { continuation.yield(i) } } }
        }
        continuation.finish()
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

func actorMethodChain() async {
    let receiver = CountingActor()
    for i in 0..<items { await receiver.receive(i) }
}

func asyncStreamMailbox() async {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    await withTaskGroup(of: Void.self) { group in
        group.addTask { var n = 0; for await _ in stream { n += 1 } }
        for i in 0..<items { continuation.yield(i) }
        continuation.finish()
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

func sluiceSemaphoreManyTasks() async {
    let sem = AsyncSemaphore(limit: 3)
    let tasks = items / 10
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks { group.addTask { try! await sem.withPermit { await Task.yield() } } }
    }
}

func sluiceStream(observer: (any PatternObserver)?) async {
    var n = 0
    do { for try await _ in ProgressStream(0..<items, observer: observer) { n += 1 } } catch {}
}

func sluiceGenerator() async {
    let gen = AsyncGenerator<Int>(buffer: 256) { yield in for i in 0..<items { try await yield(i) } }
    var n = 0
    do { for try await _ in gen { n += 1 } } catch {}
}

func asyncStreamItems() async {
    let stream = AsyncStream<Int> { c in
        for i in 0..<items { c.yield(i) }
        c.finish()
    }
    var n = 0
    for await _ in stream { n += 1 }
}

// MARK: frames

@MainActor
func composeAndDiff(scenario: any Scenario, values: [String: Double], settle: Duration) async -> Double {
    let backend = TestBackend(width: 200, height: 60)
    let app = DashboardApp(backend: backend, values: values)
    app.open(scenario, values: values, speed: 1)
    try? await Task.sleep(for: settle)
    var previous = app.frame()
    let frames = quick ? 50 : 200
    let start = ContinuousClock.now
    for _ in 0..<frames {
        let frame = app.frame()
        _ = frame.diff(from: previous)
        previous = frame
    }
    let micros = seconds(ContinuousClock.now - start) / Double(frames) * 1e6
    _ = app.press(.char("q"))
    return micros
}

/// CPU seconds used by `sluice` itself over `window` with a paused scenario in tmux.
func pausedCPUPercent() -> Double? {
    guard system("command -v tmux >/dev/null 2>&1") == 0 else { return nil }
    let script = """
        S=sluice-bench-$$; tmux -L $S new-session -d -x 200 -y 60 ".build/release/sluice run semaphore" && sleep 2 && \
        tmux -L $S send-keys Space && sleep 1 && P=$(pgrep -n -x sluice) && \
        A=$(awk '{print $14+$15}' /proc/$P/stat) && sleep 10 && B=$(awk '{print $14+$15}' /proc/$P/stat) && \
        tmux -L $S kill-server; echo $((B - A)) > /tmp/sluice-bench-cpu
        """
    guard system(script) == 0, let f = fopen("/tmp/sluice-bench-cpu", "r") else { return nil }
    defer { fclose(f) }
    var ticks: Int32 = 0
    guard fscanf_int(f, &ticks) else { return nil }
    return Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / 10 * 100
}

func fscanf_int(_ f: UnsafeMutablePointer<FILE>, _ out: inout Int32) -> Bool {
    var line = [CChar](repeating: 0, count: 64)
    guard fgets(&line, 64, f) != nil else { return false }
    out = Int32(atoi(line))
    return true
}

func pythonPeers() -> [String: Double] {
    guard let pipe = popen("python3 bench/peers.py \(items) \(runs) 2>/dev/null", "r") else { return [:] }
    var out = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, 4096, pipe) != nil {
        out += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    pclose(pipe)
    var result: [String: Double] = [:]
    for line in out.split(separator: "\n") {
        let fields = line.split(separator: "\t")
        if fields.count == 2, let rate = Double(fields[1]) { result[String(fields[0])] = rate }
    }
    return result
}

// MARK: run

struct Row {
    var workload: String
    var sluice: Double
    var peers: [(String, Double)]
    var unit = "ops/s"
}

func fmt(_ v: Double) -> String {
    if v >= 1e6 { return formatOne(v / 1e6) + "M" }
    if v >= 1e3 { return formatOne(v / 1e3) + "k" }
    return formatOne(v)
}

print("Sluice benchmarks: \(items) items, median of \(runs) run\(runs == 1 ? "" : "s"), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores")
print("measuring Python asyncio peers...")
let py = pythonPeers()
var rows: [Row] = []
print("measuring queues...")
rows.append(Row(workload: "queue 1/1 (cap 1024, put/get/taskDone)",
                sluice: await measure(items) { await sluiceQueue(producers: 1, consumers: 1, observer: nil) },
                peers: [("AsyncStream", await measure(items) { await asyncStreamQueue(producers: 1, consumers: 1) }),
                        ("actor queue", await measure(items) { await naiveActorQueue(producers: 1, consumers: 1) }),
                        ("asyncio.Queue", py["queue 1/1"] ?? .nan)]))
rows.append(Row(workload: "queue 4/4",
                sluice: await measure(items) { await sluiceQueue(producers: 4, consumers: 4, observer: nil) },
                peers: [("AsyncStream 4/1", await measure(items) { await asyncStreamQueue(producers: 4, consumers: 1) }),
                        ("actor queue", await measure(items) { await naiveActorQueue(producers: 4, consumers: 4) }),
                        ("asyncio.Queue", py["queue 4/4"] ?? .nan)]))
print("measuring actors...")
rows.append(Row(workload: "mailbox: 1M messages to one actor",
                sluice: await measure(items) { await sluiceMailbox(observer: nil) },
                peers: [("actor method calls", await measure(items) { await actorMethodChain() }),
                        ("AsyncStream inbox", await measure(items) { await asyncStreamMailbox() }),
                        ("asyncio actor", py["actor messages"] ?? .nan)]))
print("measuring semaphores...")
rows.append(Row(workload: "semaphore limit 3, 4 tasks, waiting acquires",
                sluice: await measure(items) { await sluiceSemaphore(observer: nil) },
                peers: [("Mutex+continuations", await measure(items) { await naiveSemaphore() }),
                        ("asyncio.Semaphore", py["semaphore waiting"] ?? .nan)]))
rows.append(Row(workload: "semaphore, \(items / 10) tasks x 1 permit",
                sluice: await measure(items / 10) { await sluiceSemaphoreManyTasks() }, peers: []))
print("measuring streams...")
rows.append(Row(workload: "progress stream",
                sluice: await measure(items) { await sluiceStream(observer: nil) },
                peers: [("AsyncStream", await measure(items) { await asyncStreamItems() }),
                        ("async generator (py)", py["stream items"] ?? .nan)]))
rows.append(Row(workload: "generator (producer task, buffer 256)",
                sluice: await measure(items) { await sluiceGenerator() },
                peers: [("AsyncStream", await measure(items) { await asyncStreamItems() })]))
print("measuring observer overhead...")
let observed = AggregatingObserver()
let observedQueue = await measure(items) { await sluiceQueue(producers: 1, consumers: 1, observer: observed) }
let sampledQueue = await measure(items) { await sluiceQueue(producers: 1, consumers: 1, observer: AggregatingObserver(), sampling: true) }
rows.append(Row(workload: "queue 1/1 + aggregating observer", sluice: observedQueue, peers: [("no observer", rows[0].sluice)]))
rows.append(Row(workload: "  ... + snapshots at 20/s", sluice: sampledQueue, peers: [("no observer", rows[0].sluice)]))
let observedMailbox = await measure(items) { await sluiceMailbox(observer: AggregatingObserver()) }
rows.append(Row(workload: "mailbox + aggregating observer", sluice: observedMailbox, peers: [("no observer", rows[2].sluice)]))
let observedSem = await measure(items) { await sluiceSemaphore(observer: AggregatingObserver()) }
rows.append(Row(workload: "semaphore + aggregating observer", sluice: observedSem, peers: [("no observer", rows[3].sluice)]))

print("measuring dashboard frames...")
var frameRows: [(String, Double)] = []
for scenario in Catalog.all {
    let us = await composeAndDiff(scenario: scenario, values: [:], settle: .milliseconds(300))
    frameRows.append(("\(scenario.name) screen 200x60", us))
}
let actors1000 = await composeAndDiff(scenario: ActorsScenario(), values: ["actors": 1000, "rate": 2000], settle: .seconds(2))
frameRows.append(("actors screen, 1,000 actors", actors1000))
let cpu = quick ? nil : pausedCPUPercent()

print("")
print(pad("workload", 46) + pad("Sluice", 10) + "peers (rate, Sluice/peer)")
var json: [String] = []
for row in rows {
    let peers = row.peers.map { "\($0.0) \(fmt($0.1)) (\($0.1.isNaN ? "n/a" : formatOne(row.sluice / $0.1) + "x"))" }.joined(separator: ", ")
    print(pad(row.workload, 46) + pad(fmt(row.sluice) + "/s", 10) + peers)
    let peerJSON = row.peers.map { "\"\($0.0)\":\($0.1.isNaN ? "null" : String(Int($0.1)))" }.joined(separator: ",")
    json.append("{\"workload\":\"\(row.workload)\",\"sluice\":\(Int(row.sluice)),\"peers\":{\(peerJSON)}}")
}
print("")
print(pad("dashboard frame: compose + diff", 46) + "microseconds")
for (name, us) in frameRows {
    print(pad(name, 46) + formatOne(us) + " µs")
    json.append("{\"workload\":\"frame \(name)\",\"microseconds\":\(formatOne(us))}")
}
if let cpu {
    print(pad("paused dashboard, CPU over 10 s", 46) + formatOne(cpu) + "% of one core")
    json.append("{\"workload\":\"paused dashboard cpu\",\"percent\":\(formatOne(cpu))}")
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

mkdir("bench-results", 0o755)
if let f = fopen("bench-results/latest.json", "w") {
    fputs("[\n" + json.joined(separator: ",\n") + "\n]\n", f)
    fclose(f)
    print("\nwrote bench-results/latest.json")
}

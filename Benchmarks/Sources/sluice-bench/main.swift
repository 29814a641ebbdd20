// `make bench`: Sluice's engine and dashboard against their peers, measured side by side
// in one run on this machine. Prints tables (medians of several runs), checks the targets
// of issue #6 and writes everything as JSON to bench-results/latest.json.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
import Scenarios

typealias Workload = ((any PatternObserver)?) async -> Void

struct Row {
    var workload: String
    var sluice: Double
    var peers: [(name: String, rate: Double)]
    func peer(_ name: String) -> Double { peers.first { $0.name == name }?.rate ?? .nan }
}

print("Sluice benchmarks: \(items) items, median of \(options.runs) run\(options.runs == 1 ? "" : "s"), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores")
var py: [String: Double] = [:]
if options.only == nil {
    print("measuring Python asyncio peers...")
    py = pythonPeers()
}

// MARK: engine against peers

/// The engine workloads, each also measured under observation below.
let engine: [(name: String, operations: Int, run: Workload)] = [
    ("queue 1/1", items, { await sluiceQueue(producers: 1, consumers: 1, observer: $0) }),
    ("queue 4/4", items, { await sluiceQueue(producers: 4, consumers: 4, observer: $0) }),
    ("mailbox", items, { await sluiceMailbox(observer: $0) }),
    ("semaphore waiting", items, { await sluiceSemaphore(observer: $0) }),
    ("semaphore tasks", items / 10, { await sluiceSemaphoreManyTasks(observer: $0) }),
    ("progress stream", items, { await sluiceStream(observer: $0) }),
    ("generator", items, { await sluiceGenerator(observer: $0) }),
]
let titles = [
    "queue 1/1": "queue 1/1 (cap 1024, put/get/taskDone)",
    "queue 4/4": "queue 4/4",
    "mailbox": "mailbox: messages to one actor",
    "semaphore waiting": "semaphore limit 3, 4 tasks, waiting acquires",
    "semaphore tasks": "semaphore limit 3, \(items / 10) tasks x 1 permit",
    "progress stream": "progress stream",
    "generator": "generator (producer task, buffer 256)",
]
let peers: [String: [(String, () async -> Double)]] = [
    "queue 1/1": [
        ("AsyncStream", { await measure(items) { await asyncStreamQueue(producers: 1) } }),
        ("AsyncChannel", { await measure(items) { await asyncChannelQueue(producers: 1, consumers: 1) } }),
        ("actor queue", { await measure(items) { await naiveActorQueue(producers: 1, consumers: 1) } }),
        ("asyncio.Queue", { py["queue 1/1"] ?? .nan }),
    ],
    "queue 4/4": [
        ("AsyncStream 4/1", { await measure(items) { await asyncStreamQueue(producers: 4) } }),
        ("AsyncChannel", { await measure(items) { await asyncChannelQueue(producers: 4, consumers: 4) } }),
        ("actor queue", { await measure(items) { await naiveActorQueue(producers: 4, consumers: 4) } }),
        ("asyncio.Queue", { py["queue 4/4"] ?? .nan }),
    ],
    "mailbox": [
        ("actor method calls", { await measure(items) { await actorMethodChain() } }),
        ("AsyncStream inbox", { await measure(items) { await asyncStreamMailbox() } }),
        ("asyncio actor", { py["actor messages"] ?? .nan }),
    ],
    "semaphore waiting": [
        ("Mutex+continuations", { await measure(items) { await naiveSemaphore() } }),
        ("asyncio.Semaphore", { py["semaphore waiting"] ?? .nan }),
    ],
    "semaphore tasks": [
        ("Mutex+continuations", { await measure(items / 10) { await naiveSemaphoreManyTasks() } }),
        ("asyncio.Semaphore", { py["semaphore tasks"] ?? .nan }),
    ],
    "progress stream": [
        ("AsyncStream", { await measure(items) { await asyncStreamItems() } }),
        ("async generator (py)", { py["stream items"] ?? .nan }),
    ],
    "generator": [
        ("AsyncStream", { await measure(items) { await asyncStreamItems() } }),
        ("async generator (py)", { py["stream items"] ?? .nan }),
    ],
]

if let observation = options.profile {
    guard let w = engine.first(where: { options.wants($0.name) }) else {
        print("sluice-bench: --only names none of: \(engine.map(\.name).joined(separator: ", "))")
        exit(64)
    }
    for _ in 0..<5 { print(w.name, observation.title, rate(await measure(w.operations) { await observation.run(w.run) })) }
    exit(0)
}
var rows: [String: Row] = [:]
var observed: [String: [Observation: Double]] = [:]
var spread: [String: Rate] = [:]
for workload in engine where options.wants(workload.name) {
    print("measuring \(workload.name)...")
    var row = Row(workload: titles[workload.name] ?? workload.name, sluice: 0, peers: [])
    for observation in Observation.allCases {
        let r = await measureSpread(workload.operations) { await observation.run(workload.run) }
        observed[workload.name, default: [:]][observation] = r.median
        if observation == .none { spread[workload.name] = r }
    }
    row.sluice = observed[workload.name]?[Observation.none] ?? .nan
    for (name, measurePeer) in peers[workload.name] ?? [] { row.peers.append((name, await measurePeer())) }
    rows[workload.name] = row
}

// MARK: dashboard

var frameRows: [(String, Double)] = []
if options.wants("frame") {
    print("measuring dashboard frames...")
    for scenario in Catalog.all {
        let us = await composeAndDiff(scenario: scenario, values: [:], settle: .milliseconds(300))
        frameRows.append(("\(scenario.name) screen 200x60", us))
    }
    let actors1000 = await composeAndDiff(scenario: ActorsScenario(), values: ["actors": 1000, "rate": 2000], settle: .seconds(2))
    frameRows.append(("actors screen, 1,000 actors", actors1000))
}
let cpu = options.quick || !options.wants("paused") ? nil : pausedCPUPercent()

// MARK: report

var json: [String] = []
print("")
print(pad("workload", 46) + pad("Sluice", 10) + "peers: rate (Sluice/peer)")
for workload in engine {
    guard let row = rows[workload.name] else { continue }
    let list = row.peers.map { "\($0.name) \(rate($0.rate)) (\(ratio(row.sluice, $0.rate)))" }.joined(separator: ", ")
    print(pad(row.workload, 46) + pad(rate(row.sluice) + "/s", 10) + list)
    let peerJSON = row.peers.map { "\"\($0.name)\":\(json($0.rate))" }.joined(separator: ",")
    json.append("{\"workload\":\"\(row.workload)\",\"sluice\":\(json(row.sluice)),\"peers\":{\(peerJSON)}}")
}

let fold = options.wants("observer") || options.only == nil ? await foldCost() : nil
if !spread.isEmpty, options.runs > 1 {
    print("")
    print(pad("Sluice, run to run (\(options.runs) runs)", 46) + pad("slowest", 10) + pad("median", 10) + "fastest")
    for workload in engine {
        guard let r = spread[workload.name] else { continue }
        print(pad(workload.name, 46) + pad(rate(r.min) + "/s", 10) + pad(rate(r.median) + "/s", 10) + rate(r.max) + "/s")
        json.append("{\"workload\":\"spread: \(workload.name)\",\"min\":\(json(r.min)),\"median\":\(json(r.median)),\"max\":\(json(r.max))}")
    }
}

var worstObserverCost = 0.0
if let fold {
    print("")
    print(pad("one event into the aggregating observer", 46) + formatOne(fold.event) + " ns (of which a clock read: " + formatOne(fold.clockRead) + " ns)")
    json.append("{\"workload\":\"observer: one event\",\"nanoseconds\":\(formatOne(fold.event)),\"clockReadNanoseconds\":\(formatOne(fold.clockRead))}")
}
if !observed.isEmpty {
    print("")
    print(pad("observer overhead", 46) + pad("none", 10) + pad("aggregating", 20) + "+ snapshots 20/s")
    for workload in engine {
        guard let r = observed[workload.name], let none = r[Observation.none] else { continue }
        var line = pad(workload.name, 46) + pad(rate(none) + "/s", 10)
        var fields: [String] = []
        for observation in [Observation.aggregating, .snapshots] {
            let v = r[observation] ?? .nan
            let cost = (1 - v / none) * 100
            worstObserverCost = max(worstObserverCost, cost)
            line += pad("\(rate(v))/s (\(cost >= 0 ? "-" : "+")\(formatOne(abs(cost)))%)", 20)
            fields.append("\"\(observation == .aggregating ? "aggregating" : "snapshots")\":\(json(v))")
        }
        print(line)
        json.append("{\"workload\":\"observer: \(workload.name)\",\"none\":\(json(none)),\(fields.joined(separator: ","))}")
    }
}

if !frameRows.isEmpty || cpu != nil {
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
}

// MARK: targets (issue #6)

struct Target {
    var text: String
    var measured: Double
    var needed: Double
    var atMost = false
    var met: Bool { atMost ? measured <= needed : measured >= needed }
}
var targets: [Target] = []
for name in ["queue 1/1", "queue 4/4"] {
    guard let row = rows[name] else { continue }
    let swiftPeers = row.peers.filter { !$0.name.hasPrefix("asyncio") }.map(\.rate).filter { !$0.isNaN }
    targets.append(Target(text: "\(name) >= 10x asyncio.Queue", measured: row.sluice / row.peer("asyncio.Queue"), needed: 10))
    if let fastest = swiftPeers.max() {
        targets.append(Target(text: "\(name) >= 2x the fastest Swift peer", measured: row.sluice / fastest, needed: 2))
    }
}
if let row = rows["mailbox"] {
    targets.append(Target(text: "mailbox >= 5x the asyncio actor", measured: row.sluice / row.peer("asyncio actor"), needed: 5))
    targets.append(Target(text: "mailbox >= 5x an AsyncStream inbox", measured: row.sluice / row.peer("AsyncStream inbox"), needed: 5))
}
if let row = rows["semaphore waiting"] {
    targets.append(Target(text: "semaphore waiting >= 10x asyncio.Semaphore", measured: row.sluice / row.peer("asyncio.Semaphore"), needed: 10))
    targets.append(Target(text: "semaphore waiting >= 2x the naive semaphore", measured: row.sluice / row.peer("Mutex+continuations"), needed: 2))
}
if !observed.isEmpty {
    targets.append(Target(text: "observer costs <= 10% (worst workload, %)", measured: worstObserverCost, needed: 10, atMost: true))
}
let screens = frameRows.filter { !$0.0.contains("1,000") }.map(\.1)
if let slowest = screens.max() {
    targets.append(Target(text: "full 200x60 frame < 1000 µs (slowest screen)", measured: slowest, needed: 1000, atMost: true))
}
if let cpu { targets.append(Target(text: "paused dashboard < 2% of a core", measured: cpu, needed: 2, atMost: true)) }

if !targets.isEmpty {
    print("")
    print(pad("target", 52) + pad("measured", 10) + "result")
    for t in targets {
        let result = t.measured.isNaN ? "not measured" : t.met ? "met" : "missed"
        print(pad(t.text, 52) + pad(t.measured.isNaN ? "n/a" : formatOne(t.measured), 10) + result)
        json.append("{\"target\":\"\(t.text)\",\"measured\":\(t.measured.isNaN ? "null" : formatOne(t.measured)),\"met\":\(t.met)}")
    }
}

mkdir("bench-results", 0o755)
if options.only == nil, let f = fopen("bench-results/latest.json", "w") {
    fputs("[\n" + json.joined(separator: ",\n") + "\n]\n", f)
    fclose(f)
    print("\nwrote bench-results/latest.json")
}

// `make bench`: Sluice's engine and dashboard against their peers, measured side by side
// in one run on this machine. Prints tables (medians of several runs), checks the targets
// of issues #6 and #11 and writes everything as JSON to bench-results/latest.json.
#if canImport(Glibc)
import Glibc
#endif
@_spi(Benchmarks) import AsyncPatterns
import Dashboard
import Scenarios
import TUI

typealias Workload = (PatternRegistry?) async -> Void

/// One engine workload: Sluice's side (also measured under observation) and its peers.
struct Engine {
    var name: String
    var title: String
    var operations: Int
    var run: Workload
    var peers: [(name: String, rate: () async -> Double)]
    /// The Python peers: their names in the table, and their keys in peers.py's output.
    var python: [(name: String, key: String)] = []
}

struct Row {
    var workload: String
    var sluice: Double
    var peers: [(name: String, rate: Double)]
    func peer(_ name: String) -> Double { peers.first { $0.name == name }?.rate ?? .nan }
}

if let mode = options.actorMemory {
    print(Int(await actorMemory(observed: mode == "observed")))
    exit(0)
}
var py: [String: Double] = [:]

// MARK: engine against peers

/// A peer measured once per session, however many rows compare with it.
var peerRates: [String: Double] = [:]
@MainActor
func peer(_ key: String, _ operations: Int = items, _ body: () async -> Void) async -> Double {
    if let known = peerRates[key] { return known }
    let r = await measure(operations, body)
    peerRates[key] = r
    return r
}

/// The engine workloads, each also measured under observation below.
let engine: [Engine] = [
    Engine(
        name: "queue 1/1", title: "queue 1/1 (cap 1024, put/get/taskDone)", operations: items,
        run: { await sluiceQueue(producers: 1, consumers: 1, registry: $0) },
        peers: [
            ("AsyncStream", { await peer("AsyncStream 1/1") { await asyncStreamQueue(producers: 1) } }),
            ("AsyncChannel", { await peer("AsyncChannel 1/1") { await asyncChannelQueue(producers: 1, consumers: 1) } }),
            ("actor queue", { await peer("actor queue 1/1") { await naiveActorQueue(producers: 1, consumers: 1) } }),
        ],
        python: [("asyncio.Queue", "queue 1/1")]),
    Engine(
        name: "queue 4/4", title: "queue 4/4", operations: items,
        run: { await sluiceQueue(producers: 4, consumers: 4, registry: $0) },
        peers: [
            ("AsyncStream 4/1", { await peer("AsyncStream 4/1") { await asyncStreamQueue(producers: 4) } }),
            ("AsyncChannel", { await peer("AsyncChannel 4/4") { await asyncChannelQueue(producers: 4, consumers: 4) } }),
            ("actor queue", { await peer("actor queue 4/4") { await naiveActorQueue(producers: 4, consumers: 4) } }),
        ],
        python: [("asyncio.Queue", "queue 4/4")]),
    Engine(
        name: "mailbox", title: "mailbox: messages to one actor", operations: items,
        run: { await sluiceMailbox(registry: $0) },
        peers: [
            ("actor method calls", { await peer("actor method calls") { await actorMethodChain() } }),
            ("AsyncStream inbox", { await peer("AsyncStream inbox") { await asyncStreamMailbox() } }),
        ],
        python: [("asyncio actor", "actor messages")]),
    Engine(
        name: "semaphore waiting", title: "semaphore limit 3, 4 tasks, waiting acquires", operations: items,
        run: { await sluiceSemaphore(registry: $0) },
        peers: [
            ("Mutex+continuations", { await peer("naive semaphore") { await naiveSemaphore() } })
        ],
        python: [("asyncio.Semaphore", "semaphore waiting")]),
    Engine(
        name: "semaphore tasks", title: "semaphore limit 3, \(items / 10) tasks x 1 permit", operations: items / 10,
        run: { await sluiceSemaphoreManyTasks(registry: $0) },
        peers: [
            ("Mutex+continuations", { await peer("naive semaphore, tasks", items / 10) { await naiveSemaphoreManyTasks() } })
        ],
        python: [("asyncio.Semaphore", "semaphore tasks")]),
    Engine(
        name: "progress stream", title: "progress stream", operations: items,
        run: { await sluiceStream(registry: $0) },
        peers: [
            ("AsyncStream", { await peer("AsyncStream items") { await asyncStreamItems() } })
        ],
        python: [("async generator (py)", "stream items")]),
    Engine(
        name: "generator", title: "generator (producer task, buffer 256)", operations: items,
        run: { await sluiceGenerator(registry: $0) },
        peers: [
            ("AsyncStream", { await peer("AsyncStream items") { await asyncStreamItems() } })
        ],
        python: [("async generator (py)", "stream items")]),
]

// MARK: modes that measure one thing and exit

if let name = options.callgrindWorkload {
    // NAME+doctor: the same workload with the pool doctor on and watched (issue #21);
    // NAME+dashboard: observed as the dashboard observes (issue #23); NAME+every: with every
    // event subscribed; NAME+watched: as `sluice attach` watches it at 10 Hz (issue #23).
    let suffix = [doctoredSuffix, dashboardSuffix, everyEventSuffix, watchedSuffix].first { name.hasSuffix($0) }
    let base = String(name.dropLast(suffix?.count ?? 0))
    guard let w = engine.first(where: { $0.name == base }) else {
        let names = engine.map(\.name).joined(separator: ", ")
        print(
            "sluice-bench: --callgrind-workload takes one of: \(names) "
                + "(each also with \(doctoredSuffix), \(dashboardSuffix), \(everyEventSuffix) or \(watchedSuffix))")
        exit(64)
    }
    let interest: EventInterest? = suffix == dashboardSuffix ? .notable : suffix == everyEventSuffix ? .all : nil
    await runCallgrindWorkload(w, doctor: suffix == doctoredSuffix, interest: interest, watched: suffix == watchedSuffix)
}
if let socket = options.watchAgent { runWatchingViewer(socket: socket) }
let engineNames = engine.map(\.name).filter { options.wants($0) }
if options.only != nil, engineNames.isEmpty, options.callgrindOnly || options.engineRates || options.profile != nil {
    print("sluice-bench: --only names none of: \(engine.map(\.name).joined(separator: ", "))")
    exit(64)
}
if options.callgrindOnly {
    let pass = callgrindPass(
        callgrindNames(engineNames), items: options.callgrindItems, runs: options.callgrindRuns, outDirectory: options.callgrindOut)
    if let pass {
        let report = callgrindReport(pass, baseline: CallgrindBaseline.load())
        let observation = observationCallgrindReport(pass)
        if !(report.targets + observation.targets).isEmpty { printTargets(report.targets + observation.targets) }
        if options.writeCallgrindBaseline { writeCallgrindBaseline(pass) }
        if let dir = options.callgrindOut {
            print("\ncallgrind.out files in \(dir)/; a profile: callgrind_annotate FILE | swift demangle --simplified | head -40")
        }
    }
    // Asked for the counts alone, and none could be taken: a failure, unlike in make bench.
    exit(pass == nil ? 1 : 0)
}
if options.engineRates {
    await printEngineRates(engine.filter { options.wants($0.name) })
    exit(0)
}
if let observation = options.profile {
    guard let w = engine.first(where: { options.wants($0.name) }) else {
        print("sluice-bench: --only names none of: \(engine.map(\.name).joined(separator: ", "))")
        exit(64)
    }
    for _ in 0..<5 { print(w.name, observation.title, rate(await measure(w.operations) { await observation.run(w.run) })) }
    if observation == .everyEvent, w.name == "queue 1/1" {
        // Both medians in this run, side by side: the machine's load moves both alike.
        let none = await measure(w.operations) { await Observation.none.run(w.run) }
        let all = await measure(w.operations) { await observation.run(w.run) }
        print("queue 1/1 unobserved \(rate(none)), every event \(rate(all)): added per event \(formatOne((1e9 / all - 1e9 / none) / 3)) ns")
        print("events\t\(none)\t\(all)")  // for `pinnedEventCost`
    }
    exit(0)
}
print(
    "Sluice benchmarks: \(items) items, median of \(options.runs) run\(options.runs == 1 ? "" : "s"), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores"
)
if options.only == nil {
    print("measuring Python asyncio peers...")
    py = pythonPeers()
}
var rows: [String: Row] = [:]
var observed: [String: [Observation: Double]] = [:]
/// What each observation costs a workload: the median over runs of observed / unobserved
/// in the same round (`medianRatio`), by workload.
var observedRatio: [String: [Observation: Double]] = [:]
var spread: [String: Rate] = [:]
for workload in engine where options.wants(workload.name) {
    print("measuring \(workload.name)...")
    var row = Row(workload: workload.title, sluice: 0, peers: [])
    let observations = Observation.allCases
    let runs = await timeInterleaved(
        workload.operations, observations.map { o in { await o.run(workload.run) } }, runs: options.runs)
    for (observation, r) in zip(observations, runs) {
        observed[workload.name, default: [:]][observation] = Rate(runs: r).median
        observedRatio[workload.name, default: [:]][observation] = medianRatio(runs[0], r)
        if observation == .none { spread[workload.name] = Rate(runs: r) }
    }
    row.sluice = observed[workload.name]?[Observation.none] ?? .nan
    for (name, measurePeer) in workload.peers where options.wantsPeer(name) { row.peers.append((name, await measurePeer())) }
    for (name, key) in workload.python { row.peers.append((name, py[key] ?? .nan)) }
    rows[workload.name] = row
}

// MARK: the same, pinned to one core, and instructions per item (issue #16)

let pinned = options.pinned && !rows.isEmpty ? pinnedRows(engine.filter { rows[$0.name] != nil }) : nil
let callgrind =
    options.callgrind && !engineNames.isEmpty
    ? callgrindPass(
        callgrindNames(engineNames), items: options.callgrindItems, runs: options.callgrindRuns, outDirectory: options.callgrindOut)
    : nil

// MARK: dashboard

var frameRows: [(String, Double)] = []
if options.wants("frame") {
    print("measuring dashboard frames...")
    for scenario in Catalog.all {
        let us = await composeAndDiff(scenario: scenario, values: [:], settle: .milliseconds(300)).frame
        frameRows.append(("\(scenario.name) screen 200x60", us))
    }
    let actors1000 = await composeAndDiff(scenario: ActorsScenario(), values: ["actors": 1000, "rate": 2000], settle: .seconds(2))
    frameRows.append(("actors screen, 1,000 actors", actors1000.frame))
    let actors100k = await composeAndDiff(
        scenario: ActorsScenario(), values: ["actors": 100_000, "rate": 0], settle: .seconds(8), cadence: .milliseconds(50))
    frameRows.append(("actors screen, 100,000 idle actors, 20 frames/s", actors100k.frame))
    frameRows.append(("  of which one screen snapshot of 100,000 actors", actors100k.screenMicros))
    frameRows.append(("  the next frames (the actor index built)", actors100k.warmFrame))
    let everyRow = await composeAndDiff(
        scenario: ActorsScenario(), values: ["actors": 100_000, "rate": 0], settle: .seconds(8), cadence: .milliseconds(50),
        everyRow: true)
    frameRows.append(("  the same frames reading every actor (before #23)", everyRow.frame))
    frameRows.append(("  one full snapshot of 100,000 actors (every row)", actors100k.snapshotMicros))
}
// `sluice attach` of 100,000 idle actors: what the agent sends one viewer (issue #23).
if options.wants("frame attached"), let attached = await attachedCosts(actors: 100_000, quick: options.quick) {
    print("measured attached frames: one viewer's message \(attached.screenBytes) bytes, every actor's \(attached.wholeBytes)")
    frameRows.append(("attached, 100,000 idle actors: one viewer's screen, read + encoded", attached.screenMicros))
    frameRows.append(("  of which the registry's read", attached.screenReadMicros))
    frameRows.append(("  the registry's first read (indexes every actor)", attached.firstScreenReadMicros))
    frameRows.append(("  its second (reads each again once)", attached.secondScreenReadMicros))
    frameRows.append(("  the same, every actor (before #23)", attached.wholeMicros))
    frameRows.append(("  of which the registry's read", attached.wholeReadMicros))
    frameRows.append(("  agent thread CPU a screen sent, 1 viewer at 10/s", attached.screenAgentMicros))
    frameRows.append(("  agent thread CPU a whole snapshot sent (before #23)", attached.wholeAgentMicros))
    frameRows.append(("attached actors screen, 100,000 idle actors, 20 frames/s", attached.frameMicros))
    frameRows.append(("  the same, the agent sending every actor (before #23)", attached.wholeFrameMicros))
}

// MARK: what observation costs in memory (issue #11)

var memory: [(String, Double, String)] = []
if options.wants("memory") {
    print("measuring observation memory...")
    let perActor = observationBytesPerActor()
    memory.append(("an idle actor, running, observed", perActor.total, "bytes"))
    memory.append(("of which observation", perActor.observation, "bytes"))
    memory.append(("a latency distribution", Double(ObservationCosts.distributionBytes), "bytes"))
    if let f = sluiceFootprint("run actors --headless --actors 100000 --rate 0 --duration 8s") {
        memory.append(("actors scenario, 100,000 idle actors: max RSS", Double(f.maxRSSKiB) / 1024, "MiB"))
    }
    if let f = sluiceFootprint("run streams --headless --items 1 --delay 0 --step 0 --speed 1000 --duration 20s --json") {
        memory.append(("streams, new names 20 s: max RSS", Double(f.maxRSSKiB) / 1024, "MiB"))
        memory.append(("streams, new names 20 s: JSON summary", Double(f.stdoutBytes) / 1024, "KiB"))
    }
}
let cpu = options.quick || !options.wants("paused") ? nil : pausedCPUPercent()
let recordingResults: RecordingResults? = options.wants("recording") ? recordingBenchmarks(quick: options.quick) : nil

// MARK: what attaching costs (issue #13)

var agent: AgentCosts?
if options.wants("agent") {
    print("measuring the agent...")
    agent = agentCosts(seconds: options.quick ? 1 : 5)
}

// MARK: what the pool doctor costs (issue #21)

var doctor: DoctorCosts?
var doctorCallgrind: CallgrindPass?
if options.wants("doctor") {
    print("measuring the pool doctor...")
    doctor = await doctorCosts(quick: options.quick)
    if options.callgrind {
        let names = doctorWorkloads.flatMap { [$0, $0 + doctoredSuffix] }
        // Five runs at least: now and then a run takes another interleaving (a few % apart),
        // far more than the doctor's cost, and the median must be the common one.
        doctorCallgrind = callgrindPass(
            names, items: options.callgrindItems, runs: max(5, options.callgrindRuns), outDirectory: nil)
    }
}

// MARK: a program watched by `sluice attach` at 10 Hz (issue #23)

var watched: WatchedCosts?
var watchedCallgrind: CallgrindPass?
if options.wants("watched") {
    print("measuring a program watched at 10 Hz...")
    watched = await watchedCosts(quick: options.quick)
    if options.callgrind {
        // As for the doctor: five runs (unless --callgrind-runs says), so the median is the
        // common schedule.
        watchedCallgrind = callgrindPass(
            watchedWorkloads.flatMap { [$0, $0 + watchedSuffix] }, items: options.callgrindItems,
            runs: options.callgrindRunsOverride ?? 5, outDirectory: options.callgrindOut)
    }
}

// MARK: a pipeline file in virtual time (issue #24)

var pipelineCost: (cpuMillis: Double, completed: Int, jobs: Int)?
if options.wants("pipeline") {
    print("measuring a simulated second of a 10-stage pipeline...")
    pipelineCost = await pipelineSimulationCost(runs: options.quick ? 1 : 5)
}

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
if let pinned {
    print("")
    print(pad("pinned to one core (taskset -c 0)", 46) + pad("Sluice", 10) + "peers: rate (Sluice/peer)")
    for workload in engine {
        guard let row = pinned.rows[workload.name] else { continue }
        let list = row.peers.map { "\($0.name) \(rate($0.rate)) (\(ratio(row.sluice, $0.rate)))" }.joined(separator: ", ")
        print(pad(row.workload, 46) + pad(rate(row.sluice) + "/s", 10) + list)
        let peerJSON = row.peers.map { "\"\($0.name)\":\(json($0.rate))" }.joined(separator: ",")
        json.append("{\"workload\":\"pinned: \(row.workload)\",\"sluice\":\(json(row.sluice)),\"peers\":{\(peerJSON)}}")
    }
    print(pinned.note)
}
var callgrindTargets: [Target] = []
if let callgrind {
    let report = callgrindReport(callgrind, baseline: CallgrindBaseline.load())
    let observation = observationCallgrindReport(callgrind)
    json += report.json + observation.json
    callgrindTargets = report.targets + observation.targets
    if options.writeCallgrindBaseline { writeCallgrindBaseline(callgrind) }
}

let recordCost = options.wants("observer") ? latencyRecordCost() : nil
if !spread.isEmpty, options.runs > 1 {
    print("")
    print(pad("Sluice, run to run (\(options.runs) runs)", 46) + pad("slowest", 10) + pad("median", 10) + "fastest")
    for workload in engine {
        guard let r = spread[workload.name] else { continue }
        print(pad(workload.name, 46) + pad(rate(r.min) + "/s", 10) + pad(rate(r.median) + "/s", 10) + rate(r.max) + "/s")
        json.append(
            "{\"workload\":\"spread: \(workload.name)\",\"min\":\(json(r.min)),\"median\":\(json(r.median)),\"max\":\(json(r.max))}")
    }
}

var worstDashboardCost = 0.0
if let recordCost {
    print("")
    print(pad("recording one latency", 46) + formatOne(recordCost) + " ns")
    json.append("{\"workload\":\"observer: record one latency\",\"nanoseconds\":\(formatOne(recordCost))}")
}
if !observed.isEmpty {
    print("")
    print(pad("observation overhead (medians; cost: median of ratios)", 58) + pad("unobserved", 12) + pad("dashboard", 20) + "every event")
    for workload in engine {
        guard let r = observed[workload.name], let none = r[Observation.none] else { continue }
        var line = pad(workload.name, 58) + pad(rate(none) + "/s", 12)
        var fields: [String] = []
        for observation in [Observation.dashboard, .everyEvent] {
            let v = r[observation] ?? .nan
            // Each run against the unobserved run beside it (`medianRatio`), not the medians.
            let cost = (1 - (observedRatio[workload.name]?[observation] ?? .nan)) * 100
            // Judged on the issue's workloads, as the callgrind row is; the others are shown.
            if observation == .dashboard, observedWorkloads.contains(workload.name) {
                worstDashboardCost = max(worstDashboardCost, cost)
            }
            line += pad("\(rate(v))/s (\(cost >= 0 ? "-" : "+")\(formatOne(abs(cost)))%)", 20)
            fields.append("\"\(observation)\":\(json(v))")
        }
        print(line)
        json.append("{\"workload\":\"observer: \(workload.name)\",\"none\":\(json(none)),\(fields.joined(separator: ","))}")
    }
}
/// Nanoseconds each event adds on the queue 1/1 workload when every event is subscribed:
/// three events an item (put, got, taskDone).
var perEventNanos = Double.nan
if let r = observed["queue 1/1"], let none = r[Observation.none], let all = r[Observation.everyEvent] {
    perEventNanos = (1e9 / all - 1e9 / none) / 3
    print(pad("every event, queue 1/1: added per event", 46) + formatOne(perEventNanos) + " ns")
    json.append("{\"workload\":\"observer: per event\",\"nanoseconds\":\(formatOne(perEventNanos))}")
}
/// The same pinned to one core, where issue #23 sets its targets (30 ns an event, 50% of
/// queue 1/1): on two cores an event also pays for the event buffer's cache lines crossing
/// between the producer's core and the consumer's.
let pinnedEvents = options.pinned && perEventNanos.isFinite ? pinnedEventCost() : nil
if let pinnedEvents {
    print(pad("every event, pinned: added per event", 46) + formatOne(pinnedEvents.nanoseconds) + " ns")
    print(pad("every event, pinned: cost to queue 1/1", 46) + formatOne(pinnedEvents.costPercent) + "%")
    json.append(
        "{\"workload\":\"observer: per event, pinned\",\"nanoseconds\":\(formatOne(pinnedEvents.nanoseconds)),\"cost_percent\":\(formatOne(pinnedEvents.costPercent))}"
    )
}
if !memory.isEmpty {
    print("")
    print(pad("observation memory", 52) + "measured")
    for (name, value, unit) in memory {
        print(pad(name, 52) + formatOne(value) + " " + unit)
        json.append("{\"workload\":\"memory: \(name)\",\"\(unit)\":\(formatOne(value))}")
    }
}
@MainActor func memoryValue(_ name: String) -> Double { memory.first { $0.0 == name }?.1 ?? .nan }

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

if let agent {
    print("")
    print(pad("sluice attach, \(agent.patterns) patterns", 46) + "measured")
    let lines: [(String, Double, String)] =
        [
            ("registry snapshot", agent.snapshotMicros, "µs"),
            ("snapshot message: encode", agent.encodeMicros, "µs"),
            ("snapshot message: decode", agent.decodeMicros, "µs"),
            ("snapshot message: size", Double(agent.bytes) / 1024, "KiB"),
        ] + agent.cpuPercent.sorted { $0.key < $1.key }.map { ("agent thread, \($0.key) viewers at 10/s", $0.value, "% of one core") }
    for (name, value, unit) in lines {
        print(pad(name, 46) + formatOne(value) + " " + unit)
        json.append("{\"workload\":\"agent: \(name)\",\"value\":\(formatOne(value)),\"unit\":\"\(unit)\"}")
    }
}

if let watched {
    print("")
    print(
        pad("watched by sluice attach at 10 Hz (\(watched.runs) rounds)", 46) + pad("bare", 12)
            + pad("watched", 12) + "watched/bare (median of ratios)")
    for row in watched.rows {
        print(
            pad(row.name + ", wall clock (medians)", 46) + pad(rate(row.bare) + "/s", 12) + pad(rate(row.watched) + "/s", 12)
                + formatOne(row.ratio * 100) + "%")
        json.append(
            "{\"workload\":\"watched: \(row.name)\",\"bare\":\(json(row.bare)),\"watched\":\(json(row.watched)),"
                + "\"ratio\":\(formatOne(row.ratio * 100))}")
    }
    for row in watchedCallgrindRows(watchedCallgrind) {
        func line(_ title: String, _ value: Double, _ note: String) {
            print(
                pad(title, 46) + pad(formatOne(row.bare), 12) + pad(formatOne(value), 12)
                    + String(format: "%+.2f%%", (value / row.bare - 1) * 100) + note)
        }
        line(row.name + ", instructions/item (callgrind)", row.watched, " (medians, as counted)")
        let rate = watched.rows.first { $0.name == row.name }?.watched ?? .nan
        let judged = judgedWatchedCount(row, watchedRate: rate)
        if row.apart.isFinite {
            line("  the agent's thread apart", row.apart, "")
            line("  + its snapshots at the program's own speed", judged, " (judged)")
            print(pad("  (the agent's thread, a snapshot)", 46) + formatOne(row.perSnapshot) + " instructions")
        }
        json.append(
            "{\"workload\":\"watched: \(row.name), callgrind\",\"bare\":\(formatOne(row.bare)),\"watched\":\(formatOne(row.watched)),"
                + "\"judged\":\(formatOne(judged))}")
    }
    print(
        "(one viewer process taking snapshots and notable events: the agent sent it \(watched.snapshotsSent) snapshots in the timed runs;")
    if watchedCallgrind != nil {
        print(
            " under valgrind 10 a second fall on 50-100x fewer items, so the count as counted overstates the snapshots' share;"
                + " judged: the agent's thread apart, plus its instructions a snapshot 10 times a second at the watched"
                + " wall-clock rate; the wall clock itself is shown, not judged)")
    } else {
        print(" no instruction counts: --no-callgrind or valgrind missing)")
    }
}

if let doctor {
    print("")
    print(pad("pool doctor (medians, runs alternated)", 46) + pad("off", 10) + pad("on", 10) + pad("+hook", 10) + "on/off, +hook/off")
    for row in doctor.rows {
        print(
            pad(row.name, 46) + pad(rate(row.off) + "/s", 10) + pad(rate(row.on) + "/s", 10) + pad(rate(row.hooked) + "/s", 10)
                + formatOne(row.on / row.off * 100) + "%, " + formatOne(row.hooked / row.off * 100) + "%")
        json.append(
            "{\"workload\":\"doctor: \(row.name)\",\"off\":\(json(row.off)),\"on\":\(json(row.on)),\"hooked\":\(json(row.hooked))}")
    }
    print(pad("one capture, process CPU (\(doctor.frames) frames)", 46) + formatOne(doctor.captureMicros) + " µs")
    json.append("{\"workload\":\"doctor: capture\",\"microseconds\":\(formatOne(doctor.captureMicros))}")
    for row in doctorCallgrindRows(doctorCallgrind) {
        print(
            pad("\(row.name), instructions/item (callgrind)", 46) + pad(formatOne(row.off), 10) + pad(formatOne(row.on), 10)
                + String(format: "%+.2f%%", (row.on / row.off - 1) * 100) + " with the doctor on and watched (medians)")
        json.append(
            "{\"workload\":\"doctor: \(row.name), callgrind\",\"off\":\(formatOne(row.off)),\"on\":\(formatOne(row.on))}")
    }
}

if let recordingResults {
    print("")
    print(pad("recording and replay", 58) + "measured")
    for row in recordingResults.rows {
        print(pad(row.name, 58) + formatOne(row.value) + " " + row.unit)
        json.append("{\"workload\":\"recording: \(row.name)\",\"\(row.unit)\":\(formatOne(row.value))}")
    }
}

if let p = pipelineCost {
    print("")
    print(pad("pipeline file in virtual time", 58) + "measured")
    print(pad("1 simulated s, 10 stages, 100 workers, 10,000 items/s", 58) + formatOne(p.cpuMillis) + " ms CPU")
    print(pad("  items through all ten stages; executor jobs", 58) + "\(p.completed); \(p.jobs)")
    json.append("{\"workload\":\"pipeline: 1 simulated s, 10 stages\",\"cpu_ms\":\(formatOne(p.cpuMillis)),\"completed\":\(p.completed)}")
}

// MARK: targets (issues #6, #11, #13, #14 and #24)

var targets = engineTargets(rows, label: "")
if let pinned { targets += engineTargets(pinned.rows, label: "pinned: ") }
targets += callgrindTargets
if !observed.isEmpty {
    targets.append(
        Target(
            text: "dashboard observation <= 5% (wall clock, worst of #23's five, %)", measured: worstDashboardCost, needed: 5,
            atMost: true))
}
if let pinnedEvents {
    targets.append(
        Target(
            text: "every event <= 30 ns added per event (queue 1/1, pinned)", measured: pinnedEvents.nanoseconds, needed: 30,
            atMost: true))
    targets.append(
        Target(text: "every event costs queue 1/1 <= 50% (pinned, %)", measured: pinnedEvents.costPercent, needed: 50, atMost: true))
}
if let recordCost {
    targets.append(Target(text: "record one latency <= 5 ns", measured: recordCost, needed: 5, atMost: true))
    targets.append(
        Target(text: "latency distribution <= 1024 bytes", measured: Double(ObservationCosts.distributionBytes), needed: 1024, atMost: true)
    )
}
if !memory.isEmpty {
    targets.append(
        Target(text: "observation state <= 2048 bytes an actor", measured: memoryValue("of which observation"), needed: 2048, atMost: true))
    targets.append(
        Target(
            text: "100,000 idle actors <= 512 MiB resident", measured: memoryValue("actors scenario, 100,000 idle actors: max RSS"),
            needed: 512, atMost: true))
    targets.append(
        Target(
            text: "streams with new names: <= 64 MiB after 20 s", measured: memoryValue("streams, new names 20 s: max RSS"), needed: 64,
            atMost: true))
    targets.append(
        Target(
            text: "streams with new names: JSON < 1024 KiB", measured: memoryValue("streams, new names 20 s: JSON summary"), needed: 1024,
            atMost: true))
}
let screens = frameRows.filter { $0.0.hasSuffix("screen 200x60") }.map(\.1)
if let slowest = screens.max() {
    targets.append(Target(text: "full 200x60 frame < 1000 µs (slowest screen)", measured: slowest, needed: 1000, atMost: true))
}
if let cpu { targets.append(Target(text: "paused dashboard < 2% of a core", measured: cpu, needed: 2, atMost: true)) }
if let one = agent?.cpuPercent[1] {
    targets.append(Target(text: "agent, 1 viewer at 10/s, 1,000 patterns <= 2% core", measured: one, needed: 2, atMost: true))
}
if let big = frameRows.first(where: { $0.0.hasPrefix("actors screen, 100,000") }) {
    targets.append(Target(text: "200x60 actors frame, 100,000 actors <= 5000 µs", measured: big.1, needed: 5000, atMost: true))
}
if let screen = frameRows.first(where: { $0.0.hasPrefix("attached, 100,000 idle actors: one viewer's screen") }) {
    targets.append(
        Target(text: "agent's snapshot for one viewer, 100,000 actors <= 2000 µs", measured: screen.1, needed: 2000, atMost: true))
}

if let watched {
    // Judged by instructions (BENCHMARKS.md: on two shared cores one watched/bare ratio lands
    // anywhere between 88% and 113%, a median of 21 rounds still moves by 15 points); the
    // wall clock judges only when valgrind is missing, and is printed above either way.
    let counted = watchedCallgrindRows(watchedCallgrind)
    for row in counted {
        let rate = watched.rows.first { $0.name == row.name }?.watched ?? .nan
        targets.append(
            Target(
                text: "watched at 10 Hz: \(row.name) instructions/item <= +5% (callgrind, %)",
                measured: (judgedWatchedCount(row, watchedRate: rate) / row.bare - 1) * 100, needed: 5, atMost: true))
    }
    for row in watched.rows where counted.isEmpty {
        targets.append(
            Target(text: "watched at 10 Hz: \(row.name) loses <= 5% (wall clock, watched/bare, %)", measured: row.ratio * 100, needed: 95))
    }
}

if let doctor {
    for row in doctor.rows {
        targets.append(
            Target(text: "doctor on: \(row.name) loses <= 1% (on/off, %)", measured: row.on / row.off * 100, needed: 99))
        targets.append(
            Target(text: "... watched (hook): \(row.name) (on/off, %)", measured: row.hooked / row.off * 100, needed: 99))
    }
    for row in doctorCallgrindRows(doctorCallgrind) {
        targets.append(
            Target(
                text: "doctor on, watched: \(row.name) instructions/item <= +1% (callgrind, %)",
                measured: (row.on / row.off - 1) * 100, needed: 1, atMost: true))
    }
    targets.append(Target(text: "a capture <= 5 ms of CPU (µs)", measured: doctor.captureMicros, needed: 5000, atMost: true))
}

if let r = recordingResults {
    targets.append(Target(text: "recording costs <= 10% of the event rate (%)", measured: r.recordingCostPercent, needed: 10, atMost: true))
    targets.append(Target(text: "... at an event rate of at least 1,000,000/s", measured: r.recordedEventRate, needed: 1_000_000))
    targets.append(Target(text: "<= 24 bytes an event, keyframes included", measured: r.bytesPerEvent, needed: 24, atMost: true))
    targets.append(Target(text: "seek in a 10M-event recording <= 200 ms", measured: r.seekMaxMillis, needed: 200, atMost: true))
    targets.append(Target(text: "a step <= 5 ms", measured: r.stepMaxMillis, needed: 5, atMost: true))
}

if let p = pipelineCost {
    targets.append(Target(text: "1 simulated s, 10 stages at 10,000/s <= 100 ms CPU", measured: p.cpuMillis, needed: 100, atMost: true))
}

if !targets.isEmpty { json += printTargets(targets) }

mkdir("bench-results", 0o755)
if options.only == nil, let f = fopen("bench-results/latest.json", "w") {
    fputs("[\n" + json.joined(separator: ",\n") + "\n]\n", f)
    fclose(f)
    print("\nwrote bench-results/latest.json")
}

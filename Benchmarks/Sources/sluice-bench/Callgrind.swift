// Instructions per item, counted by callgrind: the figure of `make bench` that does not move
// with the machine's load or the scheduler's mood (issue #16). Each workload runs in a child
// `sluice-bench --callgrind-workload NAME --items N` under valgrind, with instrumentation
// switched on only around the workload's run, so start-up, the warm-up and the peers never
// count.
//
// Valgrind 3.19 cannot run sluice-bench as built, for two reasons, both worked around here:
// - its DWARF reader gives up on the binary ("Possibly corrupted debuginfo file. I can't
//   recover"): the C targets (swift-nio's shims, CCallgrind) are compiled with DWARF 5 and
//   the Swift ones with DWARF 4, and 3.19 misreads the mix. The child runs from a copy with
//   the debug information stripped (`objcopy --strip-debug`); function names remain, from
//   the symbol table, which is what callgrind_annotate's profiles need.
// - it dies of SIGSEGV as soon as the async main parks the main thread: see CCallgrind.c.
import AsyncPatterns
import CCallgrind
import PoolDoctor
import Foundation
import TUI

#if canImport(Glibc)
import Glibc
#endif

/// Valgrind's options for every counted run, and why each is there.
let valgrindOptions = [
    "--tool=callgrind",
    // Nothing counts until the child calls sluice_callgrind_start around the workload.
    "--instr-atstart=no",
]

/// Valgrind runs one thread at a time, but on two cores a woken thread asks for valgrind's
/// lock from the other core at a moment that depends on real time, so how often a task finds
/// its queue empty, and suspends, varied: the generator counted 1,920 to 2,916 instructions
/// an item, queue 1/1 989 to 1,057, with --fair-sched=yes or without. On one core the
/// interleaving follows from the program nearly always and the counts repeat to 0.1 an item
/// (BENCHMARKS.md): the count is that of the pinned schedule, which the pinned rates measure.
let valgrindPrefix = system("command -v taskset >/dev/null 2>&1") == 0 ? "taskset -c 0 " : ""

/// `--callgrind-workload NAME`: run in the child under valgrind. One uncounted run first, so
/// the pool's threads, lazily bound symbols and generic metadata are in place, then the
/// counted run. Prints the operations it counted for the parent to divide by.
/// With `doctor`, a pool doctor runs throughout with its enqueue hook in, as in a program a
/// viewer watches (its threshold out of reach: valgrind's slowdown is no stall).
/// With `interest`, the workload runs observed: `.notable` as the dashboard observes it (see
/// `dashboardSuffix`), `.all` with every event subscribed (see `everyEventSuffix`).
/// With `watched`, as `sluice attach` watches it (see `watchedSuffix`): registered, the agent
/// and its pool doctor started (threshold out of reach, as above), a viewer process at 10 Hz.
@MainActor
func runCallgrindWorkload(_ workload: Engine, doctor: Bool, interest: EventInterest?, watched: Bool = false) async -> Never {
    let poolDoctor = doctor ? startWatchedDoctor(threshold: .seconds(3600)) : nil
    let registry = interest == nil && !watched ? nil : PatternRegistry()
    // Valgrind's slowdown: the viewer's hello and first snapshot take seconds here.
    let watch = registry.flatMap { r in
        watched ? WatchedProgram(registry: r, doctor: PoolDoctor.Options(threshold: .seconds(3600)), waitingAtMost: .seconds(120)) : nil
    }
    if watched, watch == nil {
        print("the agent could not start, or its viewer did not attach")
        exit(1)
    }
    let log = EventLog()
    let subscription = interest.flatMap { registry?.subscribe(log, interest: $0) }
    await workload.run(registry)
    if let registry {
        var snapshot = registry.snapshot()
        log.fill(&snapshot)
    }
    let workersBefore = poolWorkers()
    if workersBefore > allowedCPUs() {
        // Another schedule already (see `grownPoolAttempts`): the parent takes the run again,
        // so counting it would only cost time.
        print("pool workers \(workersBefore) \(workersBefore) width \(allowedCPUs())")
        print("not counted: the pool grew before the counted run")
        watch?.stop()
        exit(0)
    }
    let sentBefore = watch?.agent.stats.snapshotsSent ?? 0
    sluice_callgrind_start()
    await workload.run(registry)
    sluice_callgrind_stop()
    if let watch {
        let snapshots = watch.agent.stats.snapshotsSent - sentBefore
        print("snapshots \(snapshots)")
        print("note \(snapshots) snapshots sent in the counted run")
        watch.stop()
    }
    let workersAfter = poolWorkers()
    subscription?.cancel()
    poolDoctor?.stop()
    print("operations \(workload.operations)")
    print("pool workers \(workersBefore) \(workersAfter) width \(allowedCPUs())")
    exit(0)
}

/// The cooperative pool's worker threads in this process: libdispatch names each after its
/// root queue (`com.apple.root.default-qos`, cut to 15 bytes by the kernel), the overcommit
/// queues' threads end in `.overcommit` and are not the pool.
func poolWorkers() -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { tid in readLines("/proc/self/task/\(tid)/comm").first?.hasSuffix("-qos") ?? false }.count
}

/// The CPUs this process may run on: the pool's width, since libdispatch sizes it by the
/// affinity mask (one worker under `taskset -c 0`, measured: 8 busy tasks never ran two at once).
func allowedCPUs() -> Int {
    // `Cpus_allowed:` is the mask in hex words separated by commas (sched_getaffinity needs
    // _GNU_SOURCE, which Glibc's module map does not set).
    guard let mask = readLines("/proc/self/status").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return 0 }
    return mask.dropFirst("Cpus_allowed:".count).compactMap { $0.hexDigitValue?.nonzeroBitCount }.reduce(0, +)
}

/// A callgrind workload name with this suffix is counted observed as the dashboard observes
/// (issue #23): its patterns in a registry (so timed), an event log subscribed to notable
/// events. Without the dashboard's 20 snapshots a second: they cost per second, not per
/// item, and how many fall in a counted run would follow valgrind's slowdown, not the code.
let dashboardSuffix = "+dashboard"

/// A callgrind workload name with this suffix is counted with every event subscribed to an
/// event log (issue #23's "every event at 30 ns"): queue 1/1 makes three events an item
/// (put, got, taskDone), so what it adds over the unobserved count, divided by three, is the
/// instructions an event costs.
let everyEventSuffix = "+every"

/// The workloads whose cost observed as the dashboard observes is issue #23's target (5%).
let observedWorkloads = ["queue 1/1", "queue 4/4", "mailbox", "semaphore waiting", "generator"]

/// The callgrind names of `names`: each, after each target workload its observed twin, and
/// after queue 1/1 its every-event twin.
func callgrindNames(_ names: [String]) -> [String] {
    names.flatMap { name -> [String] in
        guard observedWorkloads.contains(name) else { return [name] }
        return [name, name + dashboardSuffix] + (name == "queue 1/1" ? [name + everyEventSuffix] : [])
    }
}

/// Whether a callgrind row is an observed twin (not a workload of its own).
func isObservedTwin(_ workload: String) -> Bool {
    workload.hasSuffix(dashboardSuffix) || workload.hasSuffix(everyEventSuffix) || workload.contains(watchedSuffix)
}

/// One workload's count: instructions per operation, or nil (with the reason printed).
struct CallgrindCount {
    var perItem: Double
    var instructions: Double
    var operations: Int
    /// The pool's worker threads when the counted run ended (or before it, when the child
    /// left it out: then `perItem` is NaN), and the pool's width.
    var poolWorkers: Int
    var poolWidth: Int

    /// What the child said of the run beside its count (`note ...` lines), e.g. how many
    /// snapshots a watched run's viewer was sent.
    var note = ""
    /// A watched run (`watchedSuffix`): the snapshots the agent sent in the counted run, and
    /// the instructions of the agent's own thread in it (0: not known).
    var snapshots = 0
    var agentInstructions = 0.0

    /// Whether the pool had more workers than its width: see `grownPoolAttempts`.
    var poolGrew: Bool { poolWidth > 0 && poolWorkers > poolWidth }
}

/// How often a run whose pool grew is taken at most; a run whose pool grew in every try is
/// left out of the median (see `callgrindPass`). About half the runs grew at load 3-10, most
/// of the generator's at load 13 (7 of 9).
///
/// Why a run whose pool grew is not counted: under `taskset -c 0` libdispatch gives the
/// cooperative pool one worker, the width of a program pinned to one core (the pinned rates'
/// schedule). Under valgrind a second `default-qos` worker appears in about half the runs,
/// started 20-40 ms after the first, just after libdispatch's manager thread. The likely
/// cause, from libdispatch's source: valgrind runs one thread at a time, so the worker sleeps
/// on valgrind's lock whenever another thread runs, and libdispatch's monitor, on the manager
/// thread at once and then once a second (swift-corelibs-libdispatch, src/event/workqueue.c,
/// `_dispatch_workq_monitor_pools`), finding work queued and no worker runnable, takes the
/// program for stalled and starts another worker. Two workers interleave by valgrind's time slices, not the program: the generator counted
/// 445.8, 531 and 546.5 instructions an item in such runs, 357.8 in every run with one worker.
/// Whether the monitor's tick falls on such a moment follows real time, so the twins of one
/// pass took different schedules (the generator +43.4% in a whole `make bench`). Repeating
/// the run keeps the code counted the same (the same binary, executor and workload, the same
/// rule for both twins) and its schedule that of the pinned program.
let grownPoolAttempts = 8

/// The valgrind on the PATH, e.g. "valgrind-3.19.0", or nil.
func valgrindVersion() -> String? {
    guard let line = commandOutput("valgrind --version 2>/dev/null").first, line.hasPrefix("valgrind") else { return nil }
    return line
}

/// Runs `workload` under callgrind in a child and reads its count. `outFile`: where the
/// callgrind.out file goes (kept for callgrind_annotate); a temporary file when nil.
func callgrindCount(_ workload: String, items: Int, binary: String, outFile: String?) -> CallgrindCount? {
    let base = "/tmp/sluice-bench-callgrind-\(getpid())"
    let out = outFile ?? base + ".out"
    let log = base + ".log"
    defer {
        if outFile == nil { unlink(out) }
        unlink(log)
    }
    unlink(out)
    let command =
        "\(valgrindPrefix)valgrind \(valgrindOptions.joined(separator: " ")) --callgrind-out-file=\(shellQuoted(out)) "
        + "\(shellQuoted(binary)) --callgrind-workload \(shellQuoted(workload)) --items \(items) > \(log) 2>&1"
    let status = system(command)
    let output = readLines(log)
    let pool =
        output.lazy.compactMap { line -> [Int]? in
            guard line.hasPrefix("pool workers ") else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }
        }.first ?? []
    let workers = pool.count == 3 ? max(pool[0], pool[1]) : 0
    let width = pool.count == 3 ? pool[2] : 0
    if status == 0, output.contains("not counted: the pool grew before the counted run") {
        return CallgrindCount(perItem: .nan, instructions: 0, operations: 0, poolWorkers: workers, poolWidth: width)
    }
    guard status == 0, let operations = output.lazy.compactMap({ $0.hasPrefix("operations ") ? Int($0.dropFirst(11)) : nil }).first,
        operations > 0
    else {
        print("  callgrind: \(workload) failed (exit status \(status)); the last lines of valgrind's output:")
        for line in output.suffix(8) { print("    " + line) }
        return nil
    }
    // `totals:` is the sum of the counted events, Ir first. (`summary:`, at the head of the
    // file, reads 0 when the instrumentation starts late, as here.)
    guard
        let total = readLines(out).lazy.compactMap({ line -> Double? in
            guard line.hasPrefix("totals:") else { return nil }
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }).first
    else {
        print("  callgrind: no totals line in \(out)")
        return nil
    }
    var count = CallgrindCount(
        perItem: total / Double(operations), instructions: total, operations: operations, poolWorkers: workers, poolWidth: width,
        note: output.filter { $0.hasPrefix("note ") }.map { String($0.dropFirst(5)) }.joined(separator: "; "))
    if workload.hasSuffix(watchedSuffix) {
        count.snapshots = output.lazy.compactMap { $0.hasPrefix("snapshots ") ? Int($0.dropFirst(10)) : nil }.first ?? 0
        count.agentInstructions = agentThreadInstructions(out)
    }
    return count
}

/// The instructions of the agent's thread in a callgrind.out file: everything under its
/// event loop's `SelectableEventLoop.run()` (the watched child runs one event loop, the
/// agent's; the viewer is another process), by `callgrind_annotate --inclusive=yes`. 0 when
/// it cannot be read.
func agentThreadInstructions(_ file: String) -> Double {
    let lines = commandOutput("callgrind_annotate --inclusive=yes --threshold=100 \(shellQuoted(file)) 2>/dev/null")
    guard let line = lines.first(where: { $0.contains("SelectableEventLoopC3runyyKF") }),
        let first = line.split(separator: " ").first
    else { return 0 }
    return Double(first.filter(\.isNumber)) ?? 0
}

/// Instructions per item of the code before issue #16 (2bce857), measured once and kept in
/// Benchmarks/callgrind-baseline.json, against which `make bench` prints today's.
struct CallgrindBaseline: Codable {
    var commit: String
    var date: String
    var valgrind: String
    var swift: String
    var items: Int
    var runs: Int
    /// The median of `runs` counts, by workload.
    var instructionsPerItem: [String: Double]
    /// The lowest and highest count over the runs, by workload.
    var spread: [String: [Double]]
    var note: String

    static let path = "Benchmarks/callgrind-baseline.json"

    static func load() -> CallgrindBaseline? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(CallgrindBaseline.self, from: data)
    }

    func write(to path: String) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return false }
        return FileManager.default.createFile(atPath: path, contents: data + Data("\n".utf8))
    }
}

/// The counts of one callgrind pass: for each workload the median of `runs` counts and the
/// spread between the lowest and the highest.
struct CallgrindPass {
    var items: Int
    var runs: Int
    var valgrind: String
    var rows: [(workload: String, median: Double, low: Double, high: Double)] = []
}

/// Counts every workload in `names` `runs` times; prints each as it is known, since a
/// pass takes a while. Nil when valgrind is missing (said once, clearly).
func callgrindPass(_ names: [String], items: Int, runs: Int, outDirectory: String?) -> CallgrindPass? {
    guard let version = valgrindVersion() else {
        print("callgrind: valgrind is not installed (apt-get install valgrind); instructions per item not measured")
        return nil
    }
    if valgrindPrefix.isEmpty { print("callgrind: taskset is missing, so valgrind runs on two cores: counts vary by a few %") }
    if let outDirectory { mkdir(outDirectory, 0o755) }
    let binary = "/tmp/sluice-bench-callgrind-\(getpid()).bin"
    defer { unlink(binary) }
    guard system("objcopy --strip-debug \(shellQuoted(CommandLine.arguments[0])) \(binary)") == 0 else {
        print("callgrind: objcopy (binutils) could not copy sluice-bench without its debug information; not measured")
        return nil
    }
    var pass = CallgrindPass(items: items, runs: runs, valgrind: version)
    for name in names {
        var counts: [Double] = []
        var grown: [Double] = []
        // Watched runs: per item without the agent's thread, and the agent's instructions a
        // snapshot (see `watchedCallgrindRows`).
        var apart: [Double] = []
        var perSnapshot: [Double] = []
        for run in 0..<runs {
            let file = outDirectory.map {
                "\($0)/callgrind.out.\(name.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: " ", with: "-"))"
                    + (runs > 1 ? ".\(run + 1)" : "")
            }
            var attempt = 1
            var start = ContinuousClock.now
            guard var count = callgrindCount(name, items: items, binary: binary, outFile: file) else { break }
            while count.poolGrew, attempt < grownPoolAttempts {
                print(
                    "  callgrind \(pad(name, 18)) \(pad(count.perItem.isNaN ? "-" : formatOne(count.perItem), 8)) not kept: the pool grew to "
                        + "\(count.poolWorkers) workers (width \(count.poolWidth))\(count.perItem.isNaN ? " before the counted run" : ""), taken again"
                )
                attempt += 1
                start = ContinuousClock.now
                guard let again = callgrindCount(name, items: items, binary: binary, outFile: file) else { break }
                count = again
            }
            if count.perItem.isNaN {
                print("  callgrind \(pad(name, 18)) not counted: the pool grew before the counted run in all \(attempt) tries")
                continue
            }
            if count.poolGrew { grown.append(count.perItem) } else { counts.append(count.perItem) }
            if !count.poolGrew, count.snapshots > 0, count.agentInstructions > 0 {
                apart.append((count.instructions - count.agentInstructions) / Double(count.operations))
                perSnapshot.append(count.agentInstructions / Double(count.snapshots))
            }
            let grew =
                (count.poolGrew ? ", the pool grew to \(count.poolWorkers) workers in all \(attempt) tries" : "")
                + (count.note.isEmpty ? "" : ", " + count.note)
            print(
                "  callgrind \(pad(name, 18)) \(pad(formatOne(count.perItem), 8)) instructions/item  (\(formatOne((ContinuousClock.now - start).seconds)) s\(grew))"
            )
        }
        // A run whose pool grew in every try counts only when no run kept one worker: a
        // median over both schedules would compare different workloads.
        if counts.isEmpty {
            counts = grown
            if !grown.isEmpty { print("  callgrind \(pad(name, 18)) every run's pool grew: its count is another schedule's") }
        } else if !grown.isEmpty {
            print("  callgrind \(pad(name, 18)) \(grown.count) run(s) left out: the pool grew in every try")
        }
        guard !counts.isEmpty else { continue }
        for (suffix, list) in [("", counts), (agentApartSuffix, apart), (perSnapshotSuffix, perSnapshot)] where !list.isEmpty {
            let spread = Rate(runs: list)
            pass.rows.append((name + suffix, spread.median, spread.min, spread.max))
        }
    }
    return pass
}

/// Prints the pass beside the baseline (the code before issue #16), and returns its JSON
/// lines and the issue's target: the queue's and the mailbox's counts at least halved.
func callgrindReport(_ pass: CallgrindPass, baseline: CallgrindBaseline?) -> (json: [String], targets: [Target]) {
    print("")
    let before = baseline.map { "before (\($0.commit))" } ?? "before"
    let now = pass.runs > 1 ? "now (lowest-highest of \(pass.runs))" : "now"
    print(pad("instructions per item (callgrind, \(pass.items) items)", 52) + pad(before, 18) + pad(now, 28) + "now/before")
    var json: [String] = []
    var targets: [Target] = []
    for row in pass.rows where !isObservedTwin(row.workload) {
        let old = baseline?.instructionsPerItem[row.workload] ?? .nan
        let spread = pass.runs > 1 ? " (\(formatOne(row.low))-\(formatOne(row.high)))" : ""
        print(
            pad(row.workload, 52) + pad(old.isNaN ? "n/a" : formatOne(old), 18) + pad(formatOne(row.median) + spread, 28)
                + (old.isNaN ? "n/a" : String(format: "%.2fx", row.median / old)))
        json.append(
            "{\"workload\":\"callgrind: \(row.workload)\",\"instructionsPerItem\":\(formatOne(row.median)),\"lowest\":\(formatOne(row.low)),"
                + "\"highest\":\(formatOne(row.high)),\"baseline\":\(old.isNaN ? "null" : formatOne(old)),\"items\":\(pass.items),"
                + "\"valgrind\":\"\(pass.valgrind)\"}")
        if ["queue 1/1", "queue 4/4", "mailbox"].contains(row.workload) {
            targets.append(
                Target(
                    text: "\(row.workload): instructions/item halved (before/now)", measured: old / row.median, needed: 2))
        }
    }
    if let baseline {
        if baseline.items != pass.items {
            print("(the baseline counted \(baseline.items) items a run, this pass \(pass.items): per-run costs weigh differently)")
        }
        if baseline.valgrind != pass.valgrind { print("(the baseline was counted by \(baseline.valgrind), this pass by \(pass.valgrind))") }
    } else {
        print("(no baseline: \(CallgrindBaseline.path) is missing or unreadable)")
    }
    return (json, targets)
}

/// Prints what observation as the dashboard observes adds to each target workload, in
/// instructions per item, and returns its JSON lines and issue #23's target (at most 5%).
func observationCallgrindReport(_ pass: CallgrindPass) -> (json: [String], targets: [Target]) {
    var json: [String] = []
    var worst = -Double.infinity
    var lines: [String] = []
    for row in pass.rows where !isObservedTwin(row.workload) {
        guard let observed = pass.rows.first(where: { $0.workload == row.workload + dashboardSuffix }) else {
            // Its twin was named but not counted (every run's pool grew before counting):
            // the target cannot be met by leaving a workload out.
            if observedWorkloads.contains(row.workload) {
                worst = .infinity
                lines.append(pad(row.workload, 52) + pad(formatOne(row.median), 14) + "not counted")
            }
            continue
        }
        let cost = (observed.median / row.median - 1) * 100
        worst = max(worst, cost)
        lines.append(
            pad(row.workload, 52) + pad(formatOne(row.median), 14) + pad(formatOne(observed.median), 14) + String(format: "%+.1f%%", cost))
        json.append(
            "{\"workload\":\"callgrind observed: \(row.workload)\",\"unobserved\":\(formatOne(row.median)),"
                + "\"dashboard\":\(formatOne(observed.median)),\"items\":\(pass.items)}")
    }
    guard !lines.isEmpty else { return ([], []) }
    print("")
    print(pad("observation cost, instructions per item (callgrind)", 52) + pad("unobserved", 14) + pad("dashboard", 14) + "cost")
    for line in lines { print(line) }
    print("(dashboard: registered and timed, an event log subscribed to notable events; its snapshots, 20 a second, not counted)")
    for row in pass.rows where row.workload.hasSuffix(everyEventSuffix) {
        let base = String(row.workload.dropLast(everyEventSuffix.count))
        guard let unobserved = pass.rows.first(where: { $0.workload == base }) else { continue }
        let perEvent = (row.median - unobserved.median) / 3
        print(
            pad("\(base), every event: instructions per item", 52) + pad(formatOne(row.median), 14)
                + "\(formatOne(perEvent)) an event (3 an item)")
        json.append(
            "{\"workload\":\"callgrind every event: \(base)\",\"instructionsPerItem\":\(formatOne(row.median)),"
                + "\"instructionsPerEvent\":\(formatOne(perEvent)),\"items\":\(pass.items)}")
    }
    return (json, [Target(text: "dashboard observation <= 5% (callgrind, worst, %)", measured: worst, needed: 5, atMost: true)])
}

/// `--write-callgrind-baseline`: keeps the pass as the baseline the next runs compare with.
func writeCallgrindBaseline(_ pass: CallgrindPass) {
    // The code measured is everything but the benchmark's own files: name the last commit
    // that changed it, not a later one that changed only the benchmark.
    let commit =
        commandOutput("git log -1 --format=%h -- . ':!Benchmarks' ':!Makefile' ':!BENCHMARKS.md' ':!scripts' 2>/dev/null").first
        ?? "unknown"
    let head = commandOutput("git rev-parse --short HEAD 2>/dev/null").first ?? "unknown"
    let baselineRows = pass.rows.filter { !isObservedTwin($0.workload) }
    let dirty = system("git diff --quiet HEAD -- Sources Package.swift 2>/dev/null") != 0
    let baseline = CallgrindBaseline(
        commit: commit + (dirty ? "+changes" : ""),
        date: commandOutput("date -u +%Y-%m-%dT%H:%MZ").first ?? "",
        valgrind: pass.valgrind,
        swift: commandOutput("swift --version 2>/dev/null").first { $0.contains("Swift version") } ?? "unknown",
        items: pass.items,
        runs: pass.runs,
        instructionsPerItem: Dictionary(uniqueKeysWithValues: baselineRows.map { ($0.workload, $0.median) }),
        spread: Dictionary(uniqueKeysWithValues: baselineRows.map { ($0.workload, [$0.low, $0.high]) }),
        note: "the code of \(commit), measured at \(head): \(valgrindPrefix)valgrind \(valgrindOptions.joined(separator: " "))")
    if baseline.write(to: CallgrindBaseline.path) {
        print("wrote \(CallgrindBaseline.path)")
    } else {
        print("sluice-bench: could not write \(CallgrindBaseline.path)")
    }
}

func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

func readLines(_ path: String) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The lines a shell command prints on standard output.
func commandOutput(_ command: String) -> [String] {
    guard let pipe = popen(command, "r") else { return [] }
    defer { pclose(pipe) }
    var out = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, 4096, pipe) != nil {
        out += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return out.split(separator: "\n").map(String.init)
}

// The engine workloads pinned to one core, beside the two-core figures (issue #16): on two
// vCPUs shared with other work, two-task rows are bimodal from run to run, depending on
// whether the tasks land on one core or two. Pinned, they take the one-core mode always.
//
// The pinning is done by re-running sluice-bench under `taskset -c 0`: an affinity set
// before exec is inherited by every thread the process ever starts, the cooperative pool's
// included, whereas sched_setaffinity from inside would have to run before the runtime's
// first thread and covers only threads started after it. The child checks that every one
// of its threads is confined and says so.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TUI

/// `--engine-rates`, in the pinned child: each workload's Sluice rate (unobserved) and its
/// Swift peers' rates as `rate<TAB>workload<TAB>name<TAB>ops/s` lines, then
/// `threads<TAB>all<TAB>confined-to-the-first-allowed-cpu`.
@MainActor
func printEngineRates(_ workloads: [Engine]) async {
    for workload in workloads {
        let sluice = await measure(workload.operations) { await workload.run(nil) }
        print("rate\t\(workload.name)\tSluice\t\(sluice)")
        for (name, measurePeer) in workload.peers where options.wantsPeer(name) {
            print("rate\t\(workload.name)\t\(name)\t\(await measurePeer())")
        }
    }
    let affinity = threadAffinities()
    print("threads\t\(affinity.count)\t\(affinity.filter { $0 == affinity.first }.count)\t\(affinity.first ?? "?")")
}

/// Cpus_allowed_list of each of this process's threads, main thread first.
func threadAffinities() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.compactMap { tid in
        readLines("/proc/self/task/\(tid)/status").first { $0.hasPrefix("Cpus_allowed_list:") }?
            .dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
    }
}

/// Runs the engine workloads and the Python peers again, each under `taskset -c 0`, and
/// returns the rows as in the two-core table, with a note on how the pinning went.
@MainActor
func pinnedRows(_ workloads: [Engine]) -> (rows: [String: Row], note: String)? {
    guard system("command -v taskset >/dev/null 2>&1") == 0 else {
        print("pinned: taskset is not installed (util-linux); the pinned figures are left out")
        return nil
    }
    print("measuring the engine pinned to one core (taskset -c 0)...")
    var arguments = ["--engine-rates", "--items", "\(items)"]
    if options.quick { arguments.append("--quick") }
    if let only = options.only { arguments += ["--only", only] }
    if let peers = options.peers { arguments += ["--peers", peers] }
    if let runs = options.runsOverride { arguments += ["--runs", "\(runs)"] }
    let lines = commandOutput("taskset -c 0 " + ([CommandLine.arguments[0]] + arguments).map(shellQuoted).joined(separator: " "))
    var rates: [String: [(String, Double)]] = [:]
    var note = "pinned: the child did not report its threads"
    for line in lines {
        let fields = line.split(separator: "\t").map(String.init)
        if fields.count == 4, fields[0] == "rate", let r = Double(fields[3]) { rates[fields[1], default: []].append((fields[2], r)) }
        if fields.count == 4, fields[0] == "threads", let all = Int(fields[1]), let confined = Int(fields[2]) {
            note =
                confined == all
                ? "pinned: all \(all) threads of the child confined to cpu \(fields[3])"
                : "pinned: only \(confined) of \(all) threads confined to cpu \(fields[3]): the pinned figures are not pinned"
        }
    }
    let python = options.only == nil ? pythonPeers(prefix: "taskset -c 0 ") : [:]
    var rows: [String: Row] = [:]
    for workload in workloads {
        guard let measured = rates[workload.name], let sluice = measured.first(where: { $0.0 == "Sluice" })?.1 else { continue }
        var row = Row(workload: workload.title, sluice: sluice, peers: measured.filter { $0.0 != "Sluice" }.map { ($0.0, $0.1) })
        for (name, key) in workload.python { row.peers.append((name, python[key] ?? .nan)) }
        rows[workload.name] = row
    }
    return (rows, note)
}

/// What every event adds to queue 1/1 pinned to one core: nanoseconds an event (three an
/// item), and the share of the unobserved rate lost. A child runs `--profile everyEvent`,
/// which measures both side by side and prints them on an `events` line.
func pinnedEventCost() -> (nanoseconds: Double, costPercent: Double)? {
    guard system("command -v taskset >/dev/null 2>&1") == 0 else { return nil }
    print("measuring every event pinned to one core (taskset -c 0)...")
    let command = ["taskset", "-c", "0", CommandLine.arguments[0], "--only", "queue 1/1", "--profile", "everyEvent"]
    for line in commandOutput(command.map(shellQuoted).joined(separator: " ")) {
        let fields = line.split(separator: "\t")
        guard fields.count == 3, fields[0] == "events", let none = Double(fields[1]), let all = Double(fields[2]) else { continue }
        return ((1e9 / all - 1e9 / none) / 3, (1 - all / none) * 100)
    }
    return nil
}

// MARK: targets

struct Target {
    var text: String
    var measured: Double
    var needed: Double
    var atMost = false
    var met: Bool { atMost ? measured <= needed : measured >= needed }
}

/// Issue #6's and #16's targets for the engine rows of one table (two cores, or pinned).
func engineTargets(_ rows: [String: Row], label: String) -> [Target] {
    var targets: [Target] = []
    for name in ["queue 1/1", "queue 4/4"] {
        guard let row = rows[name] else { continue }
        let swiftPeers = row.peers.filter { !$0.name.hasPrefix("asyncio") }.map(\.rate).filter { !$0.isNaN }
        targets.append(Target(text: "\(label)\(name) >= 10x asyncio.Queue", measured: row.sluice / row.peer("asyncio.Queue"), needed: 10))
        if let fastest = swiftPeers.max() {
            targets.append(Target(text: "\(label)\(name) >= 2x the fastest Swift peer", measured: row.sluice / fastest, needed: 2))
        }
    }
    if let row = rows["mailbox"] {
        targets.append(Target(text: "\(label)mailbox >= 5x the asyncio actor", measured: row.sluice / row.peer("asyncio actor"), needed: 5))
        targets.append(
            Target(text: "\(label)mailbox >= 5x an AsyncStream inbox", measured: row.sluice / row.peer("AsyncStream inbox"), needed: 5))
    }
    if let row = rows["semaphore waiting"] {
        targets.append(
            Target(
                text: "\(label)semaphore waiting >= 10x asyncio.Semaphore", measured: row.sluice / row.peer("asyncio.Semaphore"),
                needed: 10))
        targets.append(
            Target(
                text: "\(label)semaphore waiting >= 2x the naive semaphore", measured: row.sluice / row.peer("Mutex+continuations"),
                needed: 2))
    }
    if let row = rows["generator"] {
        targets.append(
            Target(
                text: "\(label)generator >= Python's async generator", measured: row.sluice / row.peer("async generator (py)"),
                needed: 1))
    }
    return targets
}

/// Prints the targets as a table and returns their JSON lines.
@discardableResult
func printTargets(_ targets: [Target]) -> [String] {
    print("")
    print(pad("target", 58) + pad("measured", 10) + "result")
    return targets.map { t in
        let result = t.measured.isNaN ? "not measured" : t.met ? "met" : "missed"
        print(pad(t.text, 58) + pad(t.measured.isNaN ? "n/a" : formatOne(t.measured), 10) + result)
        return "{\"target\":\"\(t.text)\",\"measured\":\(t.measured.isNaN ? "null" : formatOne(t.measured)),\"met\":\(t.met)}"
    }
}

// The measuring side of `make bench`: arguments, medians, the Python peers, the paused
// dashboard's CPU time, and formatting.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
import Scenarios
import TUI

/// Command line: see `usage`.
struct Options: Sendable {
    /// 200,000 items and one run instead of 1,000,000 items and five (a smoke test).
    var quick = false
    /// Measure only the workloads whose names contain this (for profiling).
    var only: String?
    /// The release `sluice` whose paused dashboard is measured.
    var sluicePath = "Benchmarks/.build/release/sluice"
    /// Run only the first workload `only` selects, five times, observed this way, and print
    /// each rate: something steady to attach `perf` to.
    var profile: Observation?
    /// Measure the memory of 20,000 actors (`plain` or `observed`) and print bytes per actor.
    var actorMemory: String?
    /// Items per workload instead of the default (the callgrind child is told its count).
    var itemsOverride: Int?
    /// Only the callgrind pass: instructions per item against the baseline, then exit.
    var callgrindOnly = false
    /// Skip the callgrind pass (`make bench` runs it when valgrind is installed).
    var callgrind = true
    /// Items of each counted run: enough that per-run costs vanish, few enough that
    /// valgrind's 50-100x slowdown stays in seconds.
    var callgrindItems = 100_000
    /// Counted runs per workload: the median is reported, since now and then a run takes
    /// another interleaving (see valgrindPrefix), and the spread. One with --quick.
    var callgrindRunsOverride: Int?
    /// Keep each callgrind.out file in this folder, for callgrind_annotate.
    var callgrindOut: String?
    /// Write the pass's counts as the new baseline (Benchmarks/callgrind-baseline.json).
    var writeCallgrindBaseline = false
    /// The child under valgrind: run this workload, counted, and exit.
    var callgrindWorkload: String?
    /// Skip the second measurement of the engine pinned to one core.
    var pinned = true
    /// The child under taskset: measure the engine workloads (Sluice and Swift peers),
    /// print them as tab-separated lines, and exit.
    var engineRates = false
    /// Timings per median instead of the default (five; one with --quick).
    var runsOverride: Int?
    /// Print each round of interleaved runs as it is taken (the runs behind a median).
    var printRuns = false
    /// The viewer of the watched row, in a process of its own: watch the agent at this
    /// socket at 10 Hz until it goes (`runWatchingViewer`).
    var watchAgent: String?
    /// Measure only the peers whose names contain this (nil: all of them).
    var peers: String?

    var items: Int { itemsOverride ?? (quick ? 200_000 : 1_000_000) }
    var runs: Int { runsOverride ?? (quick ? 1 : 5) }
    var callgrindRuns: Int { callgrindRunsOverride ?? (quick ? 1 : 3) }

    static let usage = """
        usage: sluice-bench [--quick] [--only WORD] [--peers WORD] [--items N] [--runs N] [--sluice PATH]
                            [--profile none|dashboard|everyEvent]
                            [--no-pinned] [--no-callgrind] [--callgrind] [--callgrind-items N] [--callgrind-runs K]
                            [--callgrind-out DIR] [--write-callgrind-baseline] [--engine-rates] [--print-runs]
          --only           only the workloads whose names contain WORD ("queue 4/4")
          --peers          only the peers whose names contain WORD ("actor queue")
          --runs           timings per median (5; 1 with --quick)
          --engine-rates   print each engine workload's median rate and its peers' as tab-separated
                           lines, and exit (what the pinned child reports; with --only, --peers and
                           --runs: one workload against one peer, for a loop of many runs)
          --callgrind      only count instructions per item under valgrind (the workloads --only selects),
                           print them beside Benchmarks/callgrind-baseline.json, and exit
          --callgrind-out  keep each callgrind.out file in DIR, for callgrind_annotate
          --callgrind-runs the median of K counted runs (3; 1 with --quick)
          --no-pinned      leave out the engine measured again under taskset -c 0
          --print-runs     print each round of interleaved runs (observed against not, watched against bare)
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var rest = arguments.dropFirst()[...]
        func fail(_ message: String) -> Never {
            print("sluice-bench: \(message) (try --help)")
            exit(64)
        }
        func value(_ flag: String) -> String {
            guard let v = rest.popFirst() else { fail("\(flag) needs a value") }
            return v
        }
        func count(_ flag: String) -> Int {
            let v = value(flag)
            guard let n = Int(v), n > 0 else { fail("\(flag) takes a positive whole number, not '\(v)'") }
            return n
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick": options.quick = true
            case "--only": options.only = value(argument)
            case "--sluice": options.sluicePath = value(argument)
            case "--actor-memory": options.actorMemory = value(argument)
            case "--items": options.itemsOverride = count(argument)
            case "--runs": options.runsOverride = count(argument)
            case "--peers": options.peers = value(argument)
            case "--callgrind": options.callgrindOnly = true
            case "--no-callgrind": options.callgrind = false
            case "--callgrind-items": options.callgrindItems = count(argument)
            case "--callgrind-runs": options.callgrindRunsOverride = count(argument)
            case "--callgrind-out": options.callgrindOut = value(argument)
            case "--write-callgrind-baseline": options.writeCallgrindBaseline = true
            case "--callgrind-workload": options.callgrindWorkload = value(argument)
            case "--no-pinned": options.pinned = false
            case "--print-runs": options.printRuns = true
            case "--watch-agent": options.watchAgent = value(argument)
            case "--engine-rates": options.engineRates = true
            case "--profile":
                let mode = value(argument)
                guard let observation = Observation.allCases.first(where: { "\($0)" == mode }) else {
                    fail("--profile takes none, dashboard or everyEvent, not '\(mode)'")
                }
                options.profile = observation
            case "-h", "--help":
                print(usage)
                exit(0)
            default:
                fail("unknown argument '\(argument)'")
            }
        }
        return options
    }

    func wants(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }
    func wantsPeer(_ name: String) -> Bool { peers.map { name.contains($0) } ?? true }
}

let options = Options.parse(CommandLine.arguments)
let items = options.items

/// Operations per second over `options.runs` timings: the median, and the slowest and
/// fastest run (two-task workloads are often bimodal: see BENCHMARKS.md).
struct Rate {
    var median: Double
    var min: Double
    var max: Double
}

@MainActor
func measureSpread(_ operations: Int, _ body: () async -> Void) async -> Rate {
    await withoutActuallyEscaping(body) { body in await measureInterleaved(operations, [body])[0] }
}

/// `measureSpread` of several ways to run one workload, their timings interleaved run by
/// run: a machine whose state drifts during the measurement (queue 4/4 on two cores has a
/// fast and a slow mode that follow it, BENCHMARKS.md) moves them alike, where one block of
/// runs after another could compare two modes.
@MainActor
func measureInterleaved(_ operations: Int, _ bodies: [() async -> Void]) async -> [Rate] {
    await timeInterleaved(operations, bodies, runs: options.runs).map(Rate.init(runs:))
}

/// Each of `bodies` timed `runs` times, interleaved run by run: every run's rate, by body,
/// in the order taken (so that run `k` of one body sits beside run `k` of another).
/// `--print-runs` prints each round as it is taken.
@MainActor
func timeInterleaved(_ operations: Int, _ bodies: [() async -> Void], runs: Int) async -> [[Double]] {
    var rates = Array(repeating: [Double](), count: bodies.count)
    for run in 0..<runs {
        for (i, body) in bodies.enumerated() {
            let start = ContinuousClock.now
            await body()
            rates[i].append(Double(operations) / (ContinuousClock.now - start).seconds)
        }
        if options.printRuns { print("  run \(run + 1): " + rates.map { rate($0[run]) + "/s" }.joined(separator: "  ")) }
    }
    return rates
}

/// The median over runs of `b`'s rate divided by `a`'s in the same run (runs taken by
/// `timeInterleaved`).
///
/// Why not the ratio of the two medians: on two shared cores a two-task workload lands in
/// a fast or a slow mode run by run (queue 1/1 9-79M/s within 15 runs), so each median is
/// whichever mode most of its runs took, and the two columns' medians can be of different
/// modes: a ratio of medians then swings by tens of percent either way with no change in
/// the code. Runs taken side by side more often share a mode, and when they do not, the
/// ratios of mixed pairs fall on both sides alike (either column may be the fast one), so
/// the median ratio sits on the pairs that share a mode: what the second way adds to the
/// same schedule.
func medianRatio(_ a: [Double], _ b: [Double]) -> Double {
    let ratios = zip(a, b).map { $1 / $0 }.sorted()
    guard !ratios.isEmpty else { return .nan }
    let mid = ratios.count / 2
    return ratios.count % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2
}

extension Rate {
    /// The median, slowest and fastest of `runs` rates.
    init(runs: [Double]) {
        let sorted = runs.sorted()
        self.init(median: sorted[sorted.count / 2], min: sorted[0], max: sorted[sorted.count - 1])
    }
}

/// The median of `measureSpread`.
@MainActor
func measure(_ operations: Int, _ body: () async -> Void) async -> Double {
    await measureSpread(operations, body).median
}

/// How a Sluice workload is observed while it is measured.
enum Observation: CaseIterable, Sendable {
    /// No registry: the patterns keep their counters, nobody reads them.
    case none
    /// As the dashboard observes: registered, a snapshot 20 times a second, an event log
    /// subscribed to notable events.
    case dashboard
    /// The same with every event subscribed (the dashboard's "all events" log).
    case everyEvent

    var title: String {
        switch self {
        case .none: "unobserved"
        case .dashboard: "dashboard"
        case .everyEvent: "every event"
        }
    }

    /// Runs `workload` observed this way.
    @MainActor
    func run(_ workload: (PatternRegistry?) async -> Void) async {
        guard self != .none else { return await workload(nil) }
        let registry = PatternRegistry()
        let log = EventLog()
        let subscription = registry.subscribe(log, interest: self == .everyEvent ? .all : .notable)
        let sampler = Task {
            while !Task.isCancelled {
                var snapshot = registry.snapshot()
                log.fill(&snapshot)
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        await workload(registry)
        sampler.cancel()
        await sampler.value
        subscription.cancel()
    }
}

/// Runs the release `sluice` with `arguments` and `--progress`: the most resident memory it
/// reported (KiB) and how many bytes it printed on standard output.
func sluiceFootprint(_ arguments: String) -> (maxRSSKiB: Int, stdoutBytes: Int)? {
    let out = "/tmp/sluice-bench-run-\(getpid())"
    guard system("\(options.sluicePath) \(arguments) --progress > \(out).out 2> \(out).err") == 0 else { return nil }
    defer {
        unlink(out + ".out")
        unlink(out + ".err")
    }
    var peak = 0
    if let f = fopen(out + ".err", "r") {
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, 512, f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let r = text.firstRange(of: "rss_kb=") { peak = max(peak, Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0) }
        }
        fclose(f)
    }
    var st = stat()
    stat(out + ".out", &st)
    return (peak, Int(st.st_size))
}

/// The Python asyncio peers (`Benchmarks/peers.py`), by workload name; empty without python3.
/// `prefix`: a command to run it under (taskset).
func pythonPeers(prefix: String = "") -> [String: Double] {
    guard let pipe = popen("\(prefix)python3 Benchmarks/peers.py \(items) \(options.runs) 2>/dev/null", "r") else { return [:] }
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

/// Percent of one core used by `sluice` over 10 s with a paused scenario, in tmux.
func pausedCPUPercent() -> Double? {
    guard system("command -v tmux >/dev/null 2>&1") == 0 else { return nil }
    let out = "/tmp/sluice-bench-cpu-\(getpid())"
    let script = """
        S=sluice-bench-$$; tmux -L $S new-session -d -x 200 -y 60 "\(options.sluicePath) run semaphore" && sleep 2 && \
        tmux -L $S send-keys Space && sleep 1 && P=$(pgrep -n -x sluice) && \
        A=$(awk '{print $14+$15}' /proc/$P/stat) && sleep 10 && B=$(awk '{print $14+$15}' /proc/$P/stat); \
        tmux -L $S kill-server; echo $((B - A)) > \(out)
        """
    guard system(script) == 0, let f = fopen(out, "r") else { return nil }
    defer {
        fclose(f)
        unlink(out)
    }
    var line = [CChar](repeating: 0, count: 64)
    guard fgets(&line, 64, f) != nil else { return nil }
    let ticks = Double(atoi(line))
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK))) / 10 * 100
}

func rate(_ v: Double) -> String {
    if v.isNaN { return "n/a" }
    if v >= 1e6 { return formatOne(v / 1e6) + "M" }
    if v >= 1e3 { return formatOne(v / 1e3) + "k" }
    return formatOne(v)
}

func ratio(_ a: Double, _ b: Double) -> String {
    a.isNaN || b.isNaN || b == 0 ? "n/a" : formatOne(a / b) + "x"
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

func json(_ v: Double) -> String { v.isNaN ? "null" : String(Int(v)) }

extension Duration {
    /// The duration in seconds, as a Double (AsyncPatterns keeps its own to the package).
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

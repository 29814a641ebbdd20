#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AsyncPatterns
import Dashboard
import SluiceWire
import Terminal

/// `sluice doctor`: watches a program's cooperative pool for a while and says what stalled it.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a running program's cooperative pool and name the code that stalls it (for CI).",
        discussion: """
            TARGET is a pid, a program name or a socket path (as for attach); without it, the only \
            program running. Prints the pool's health figures and the places that held its threads \
            during stalls, with their stacks (file and line when llvm-symbolizer and debug info are \
            at hand). Exit status: 0 no stall, 1 stalls, 69 nothing to attach to (or the program runs \
            no pool doctor), 64 bad values.
            """)

    @Argument(help: ArgumentHelp("A pid, a program name (as `sluice ps` shows) or a socket path.", valueName: "target"))
    var target: String?

    @Option(help: "How long to watch (e.g. 10s, 500ms, 2m; default 10s).")
    var duration: String = "10s"

    @Option(help: "How long the pool may stall before it counts (e.g. 100ms; default: the program's, 100 ms).")
    var threshold: String?

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    func validate() throws {
        guard parseDuration(duration) != nil else {
            throw ValidationError("--duration '\(duration)' is not a duration: use e.g. 10s, 500ms, 2m (at least 1ms, at most 24h).")
        }
        if let threshold {
            guard let value = parseDuration(threshold), value >= .milliseconds(10), value <= .seconds(10) else {
                throw ValidationError("--threshold '\(threshold)' is not a duration from 10ms to 10s (e.g. 100ms, 1s).")
            }
        }
    }

    func run() throws {
        let entries = resolveAttachTargets(target, command: "sluice doctor")
        guard entries.count == 1 else {
            let names = entries.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", ")
            throw ValidationError("several programs can be attached: \(names). Name one: sluice doctor PID.")
        }
        let connection: AgentConnection
        do {
            connection = try AgentConnection.open(path: entries[0].path, client: "sluice doctor \(Sluice.configuration.version)")
        } catch {
            printError("sluice doctor: \(error)")
            endProcess(unavailableStatus)
        }
        defer { connection.close() }
        var restore: Double?
        if let threshold, let value = parseDuration(threshold) {
            let before = connection.latest?.knobs["pool-threshold"] ?? 100
            switch connection.setKnob("pool-threshold", to: value / .milliseconds(1)) {
            case .applied: restore = before
            case .refused(let why):
                printError("sluice doctor: the program refused --threshold: \(why)")
                endProcess(unavailableStatus)
            }
        }
        let source = AttachedSource(connection, rate: 5, events: .none)
        var watch = PoolWatch()
        var sawSnapshot = false
        var lastSeen: Double = -1
        let (signal, watched) = Headless.watch(source, limit: parseDuration(duration) ?? .seconds(10)) { _ in
            guard let latest = connection.latest else { return }
            sawSnapshot = true
            if let pool = latest.snapshot.pool, pool.elapsedSeconds != lastSeen {
                lastSeen = pool.elapsedSeconds
                watch.add(Symbolicator.shared.symbolicate(pool))
            }
        }
        if let pool = connection.latest?.snapshot.pool, pool.elapsedSeconds != lastSeen { watch.add(Symbolicator.shared.symbolicate(pool)) }
        if let restore { _ = connection.setKnob("pool-threshold", to: restore) }
        // File and line of every place seen, waiting for the symbolizer a little if need be.
        watch.fillFrames { Symbolicator.shared.symbolicate($0, waitingAtMost: .seconds(5)) }
        let elapsed = watched.seconds
        if let why = connection.closedReason, watch.last == nil {
            printError("sluice doctor: the program went away: \(why)")
            endProcess(unavailableStatus)
        }
        guard watch.last != nil else {
            printError(
                sawSnapshot
                    ? "sluice doctor: \(connection.program.name) runs no pool doctor (its agent was started with pool: nil, or is older)"
                    : "sluice doctor: no snapshot from \(connection.program.name) in \(formatDecimal(elapsed)) s")
            endProcess(unavailableStatus)
        }
        let output = Output()
        let program = connection.program
        output.line(
            json
                ? watch.json(program: program.name, pid: program.pid, seconds: elapsed).text
                : watch.text(program: program.name, pid: program.pid, seconds: elapsed))
        if let signal { endProcess(SignalFlag.exitStatus(for: signal)) }
        endProcess(watch.stalls > 0 ? 1 : 0)
    }
}

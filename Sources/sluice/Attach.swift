#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AsyncPatterns
import Dashboard
import SluiceWire
import TUI
import Terminal

/// Exit status of a command line that cannot be carried out as written (BSD sysexits' EX_USAGE).
let usageStatus: Int32 = 64

/// Exit status when there is nothing to attach to (BSD sysexits' EX_UNAVAILABLE).
let unavailableStatus: Int32 = 69

/// `sluice ps`: the programs with an agent that this user can attach to.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the running programs you can attach to (those that started a SluiceAgent).",
        discussion: "Sockets are looked for in $XDG_RUNTIME_DIR/sluice, else /tmp/sluice-UID (SLUICE_DIR overrides).")

    @Flag(help: "Print one JSON object per program.")
    var json = false

    @Flag(help: "Remove stale sockets (their program is gone and nothing listens) first.")
    var clean = false

    func run() throws {
        let directory = SocketDirectory.forThisUser()
        do {
            try directory.checkTrusted()
        } catch {
            printError("sluice ps: \(error)")
            endProcess(unavailableStatus)
        }
        if clean {
            for entry in directory.entries() where !entry.processExists {
                if let why = entry.removeIfStale() {
                    printError("sluice ps: kept \(entry.path): \(why)")
                } else {
                    printError("sluice ps: removed the stale socket \(entry.path) (pid \(entry.pid) is gone)")
                }
            }
        }
        let entries = directory.entries()
        if entries.isEmpty {
            print(json ? "" : "no attachable programs (no sockets in \(directory.path))", terminator: json ? "" : "\n")
            return
        }
        var rows: [[String]] = []
        for entry in entries {
            let probe = Probe(entry)
            if json {
                print(probe.json.text.terminalSafe())
            } else {
                // What a program says of itself is shown escaped, never obeyed.
                rows.append(probe.row.map { $0.terminalSafe() })
            }
        }
        if !json {
            print(table(header: ["PID", "NAME", "UPTIME", "PATTERNS", "VIEWERS", "SOCKET"], rows: rows))
        }
    }

    /// One socket, asked who it is.
    struct Probe {
        let entry: SocketEntry
        let info: ProgramInfo?
        let problem: String?

        init(_ entry: SocketEntry) {
            self.entry = entry
            do {
                let connection = try AgentConnection.open(path: entry.path, client: "sluice ps", waitingAtMost: .seconds(1))
                info = connection.program
                problem = nil
                connection.close()
            } catch {
                info = nil
                problem = entry.processExists ? "not answering: \(error)" : "stale (pid \(entry.pid) is gone)"
            }
        }

        var row: [String] {
            guard let info else { return [String(entry.pid), entry.name, "-", "-", "-", "\(entry.path)  [\(problem ?? "")]"] }
            return [
                String(info.pid), info.name, formatUptime(info.startedAt), String(info.patterns),
                "\(info.viewers)/\(info.maxViewers)", entry.path,
            ]
        }

        var json: JSON {
            var fields: [(String, JSON)] = [("pid", .int(Int(entry.pid))), ("name", .string(info?.name ?? entry.name))]
            if let info {
                fields += [
                    ("uptime_seconds", .number(max(0, min(1e9, (wallClockSeconds() - info.startedAt).rounded())))),
                    ("patterns", .int(info.patterns)),
                    ("viewers", .int(info.viewers)), ("max_viewers", .int(info.maxViewers)),
                ]
            } else {
                fields.append(("problem", .string(problem ?? "")))
            }
            fields.append(("socket", .string(entry.path)))
            return .object(fields)
        }
    }
}

/// `sluice attach`: the dashboard (or a headless summary) on a running program.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch and steer a running program that started a SluiceAgent.",
        discussion: """
            TARGET is a pid, a program name or a socket path; without it, the only program running \
            (or a picker when there are several). Exit status 69 when there is nothing to attach to, \
            the socket is stale or the program refuses. With --set, sets knobs and prints what the \
            program answered (the value now in force, or why it refused): exit status 0 when every \
            change applied, 1 when one was refused, 64 for a malformed --set. A headless watch whose \
            program exits before --duration ends prints its summary and a note, with status 0.
            """)

    @Argument(help: ArgumentHelp("A pid, a program name (as `sluice ps` shows) or a socket path.", valueName: "target"))
    var target: String?

    @Option(parsing: .unconditional, help: "Snapshots a second to ask of the program (0.1...50).")
    var rate: Double = 10

    @Flag(help: "Do not open the dashboard: watch for --duration, then print a summary.")
    var headless = false

    @Option(parsing: .unconditional, help: "With --headless: how long to watch (e.g. 5s, 500ms, 2m; default 5s).")
    var duration: String?

    @Flag(help: "With --headless: print the summary as one JSON object.")
    var json = false

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Set a knob of the program and print its answer (repeatable); with --headless, before the watch.",
            valueName: "name=value"))
    var settings: [String] = []

    @OptionGroup var record: RecordArguments

    func validate() throws {
        _ = try record.resolve()
        _ = try knobSettings()
        guard rate.isFinite, (0.1...50).contains(rate) else {
            throw ValidationError("--rate \(rate) is out of range: use 0.1...50.")
        }
        if let duration, parseDuration(duration) == nil {
            throw ValidationError("--duration '\(duration)' is not a duration: use e.g. 5s, 500ms, 2m (at least 1ms, at most 24h).")
        }
        if !headless, duration != nil || json {
            throw ValidationError("--duration and --json go with --headless.")
        }
    }

    /// The --set options as (name, value), in order, or a usage error naming the bad one.
    func knobSettings() throws -> [(name: String, value: Double)] {
        try settings.map { setting in
            let parts = setting.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--set '\(setting)' is not NAME=VALUE (e.g. --set workers=6).")
            }
            guard let value = Double(parts[1]), value.isFinite else {
                throw ValidationError("--set '\(setting)': '\(parts[1])' is not a number.")
            }
            return (String(parts[0]), value)
        }
    }

    func run() async throws {
        let entries = try resolveTargets()
        let recording = try record.resolve()
        let client = "sluice \(Sluice.configuration.version)"
        if !settings.isEmpty, !headless {
            guard entries.count == 1 else { severalPrograms(entries) }
            let connection = open(entries[0], client: client)
            let allApplied = applySettings(try knobSettings(), on: connection)
            connection.close()
            endProcess(allApplied ? 0 : 1)
        }
        if headless || entries.count == 1 || recording != nil {
            guard entries.count == 1 else { severalPrograms(entries) }
            let connection = open(entries[0], client: client)
            let allApplied = applySettings(try knobSettings(), on: connection)
            let attached = AttachedSource(connection, rate: rate)
            attached.waitForFirstSnapshot(atMost: .seconds(2))
            let recorded = recording.map { recordedSource(attached, $0) }
            if headless {
                // What the program had done before we looked: the summary counts what happened
                // while watching, and gives the totals since it started separately.
                let before = recorded?.1.startOperations ?? attached.snapshot().operations
                await Headless.run(
                    attached, recorder: recorded?.1, limit: duration.flatMap(parseDuration) ?? .seconds(5), json: json,
                    operationsBefore: before, failed: !allApplied)
            }
            // Opened again from the picker (after Esc), the program gets a new connection.
            let choice = SourceChoice.program(entries[0], rate: rate, client: client).openingFirst(recorded?.0 ?? attached)
            await runDashboard(choices: [choice], start: (0, [:]), words: .programs, noColor: noColor) {
                if let recorder = recorded?.1 {
                    recorder.finish()
                    reportRecording(recorder)
                }
            }
        }
        // The programs running now: one that exits leaves the list.
        let rate = rate
        let target = target
        let refresh: () -> [SourceChoice] = {
            SocketDirectory.forThisUser().entries().filter { $0.processExists && (target == nil || $0.matches(target!)) }
                .map { SourceChoice.program($0, rate: rate, client: client) }
        }
        await runDashboard(
            choices: entries.map { SourceChoice.program($0, rate: rate, client: client) }, start: nil, words: .programs,
            refreshChoices: refresh, noColor: noColor)
    }

    /// Not a usage mistake (the line was right a moment ago): exit 64 with no usage line after it.
    private func severalPrograms(_ entries: [SocketEntry]) -> Never {
        let names = entries.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", ")
        let what = target.map { "several programs are named '\($0)'" } ?? "several programs can be attached"
        printError("Error: \(what): \(names). Name one by its pid: sluice attach PID.")
        endProcess(usageStatus)
    }

    /// A connection to the program, or exit 69 with why not.
    private func open(_ entry: SocketEntry, client: String) -> AgentConnection {
        do {
            return try AgentConnection.open(path: entry.path, client: client)
        } catch {
            printError("sluice attach: \(error)")
            endProcess(unavailableStatus)
        }
    }

    /// Sets each knob in turn and prints the program's answer, one line each: `name = value`
    /// read back when applied (a value out of the knob's range is clamped by the program),
    /// `name: refused: why` otherwise. Returns whether every one applied.
    private func applySettings(_ settings: [(name: String, value: Double)], on connection: AgentConnection) -> Bool {
        var allApplied = true
        let output = Output()
        for (name, value) in settings {
            // Unknown names go to the program too: it answers with the knobs it has.
            switch connection.setKnob(name, to: value) {
            case .applied(let now):
                output.line("\(name) = \(formatDecimal(now))")
            case .refused(let why):
                allApplied = false
                output.line("\(name): refused: \(why)")
            }
        }
        return allApplied
    }

    private func resolveTargets() throws -> [SocketEntry] { resolveAttachTargets(target, command: "sluice attach") }
}

/// The sockets a target (pid, name or socket path; nil: every live one) names, or exit 69
/// with what was looked for, as `command` says it.
func resolveAttachTargets(_ target: String?, command: String) -> [SocketEntry] {
    func unavailable(_ why: String) -> Never {
        printError("\(command): \(why)")
        endProcess(unavailableStatus)
    }
    let directory = SocketDirectory.forThisUser()
    if let target, target.contains("/") {
        var info = stat()
        guard stat(target, &info) == 0 else { unavailable("no socket at \(target)") }
        guard info.st_mode & S_IFMT == S_IFSOCK else { unavailable("\(target) is not a socket") }
        let file = String(target.split(separator: "/").last ?? "")
        let name = file.hasSuffix(".sock") ? String(file.dropLast(5)) : file
        return [SocketEntry(name: name, pid: 0, path: target)]
    }
    do { try directory.checkTrusted() } catch { unavailable("\(error)") }
    let all = directory.entries()
    let live = all.filter(\.processExists)
    guard let target else {
        guard !live.isEmpty else {
            unavailable(
                "nothing to attach to: no program with a Sluice agent is running (looked in \(directory.path)"
                    + (all.isEmpty
                        ? ")" : "; \(all.count) stale socket\(all.count == 1 ? "" : "s") there: sluice ps --clean removes them)"))
        }
        return live
    }
    let matches = all.filter { $0.matches(target) }
    guard !matches.isEmpty else {
        let known = live.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", ")
        unavailable("no program '\(target)' to attach to" + (known.isEmpty ? " (none is running)" : "; running: \(known)"))
    }
    let alive = matches.filter(\.processExists)
    guard !alive.isEmpty else {
        unavailable("stale socket \(matches[0].path): pid \(matches[0].pid) is gone (it exited without removing it)")
    }
    return alive
}

extension SocketEntry {
    /// Removes this socket when it is stale: a socket file of ours whose process is gone
    /// and that refuses a connection. Returns why it was kept, or nil once removed.
    func removeIfStale() -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "it is gone already" }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return "not a socket" }
        guard info.st_uid == getuid() else { return "it belongs to uid \(info.st_uid)" }
        guard !processExists else { return "pid \(pid) runs" }
        if let connection = try? AgentConnection.open(path: path, client: "sluice ps --clean", waitingAtMost: .milliseconds(500)) {
            connection.close()
            return "a program answers there"
        }
        guard unlink(path) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }

    /// True when `target` names it: its pid or its name.
    func matches(_ target: String) -> Bool { Int32(target) == pid || name == target }
}

/// Prints why to stderr and ends with status 69.
func unavailable(_ why: String) -> Never {
    printError("sluice attach: \(why)")
    endProcess(unavailableStatus)
}

/// `4s`, `3m12s`, `2h05m`.
func formatUptime(_ startedAt: Double) -> String {
    let since = wallClockSeconds() - startedAt
    guard since.isFinite, since < 1e9 else { return "?" }  // an agent's impossible start time
    let seconds = max(0, Int(since))
    if seconds < 60 { return "\(seconds)s" }
    if seconds < 3600 { return "\(seconds / 60)m\(String(format2: seconds % 60))s" }
    return "\(seconds / 3600)h\(String(format2: seconds / 60 % 60))m"
}

extension String {
    /// Two digits, zero-padded.
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : String(n) }
}

/// Columns padded to their widest cell.
func table(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padded(toAtLeast: widths[i]) }.joined(separator: "  ")
    }.joined(separator: "\n")
}

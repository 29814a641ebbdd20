#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AsyncPatterns
import Dashboard
import Scenarios
import SluiceWire
import Terminal

/// Exit status when there is nothing to attach to (BSD sysexits' EX_UNAVAILABLE).
let unavailableStatus: Int32 = 69

/// `sluice ps`: the programs with an agent that this user can attach to.
struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the running programs you can attach to (those that started a SluiceAgent).",
        discussion: "Sockets are looked for in $XDG_RUNTIME_DIR/sluice, else /tmp/sluice-UID (SLUICE_DIR overrides).")

    @Flag(help: "Print one JSON object per program.")
    var json = false

    func run() throws {
        let directory = SocketDirectory.forThisUser()
        let entries = directory.entries()
        if entries.isEmpty {
            print(json ? "" : "no attachable programs (no sockets in \(directory.path))", terminator: json ? "" : "\n")
            return
        }
        var rows: [[String]] = []
        for entry in entries {
            let probe = Probe(entry)
            if json {
                print(probe.json.text)
            } else {
                rows.append(probe.row)
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
                    ("uptime_seconds", .number((wallClockSeconds() - info.startedAt).rounded())), ("patterns", .int(info.patterns)),
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
            the socket is stale or the program refuses.
            """)

    @Argument(help: ArgumentHelp("A pid, a program name (as `sluice ps` shows) or a socket path.", valueName: "target"))
    var target: String?

    @Option(help: "Snapshots a second to ask of the program (0.1...50).")
    var rate: Double = 10

    @Flag(help: "Do not open the dashboard: watch for --duration, then print a summary.")
    var headless = false

    @Option(help: "With --headless: how long to watch (e.g. 5s, 500ms, 2m; default 5s).")
    var duration: String?

    @Flag(help: "With --headless: print the summary as one JSON object.")
    var json = false

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    @OptionGroup var record: RecordArguments

    func validate() throws {
        _ = try record.resolve()
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

    func run() async throws {
        let entries = try resolveTargets()
        let recording = try record.resolve()
        let client = "sluice \(Sluice.configuration.version)"
        if headless || entries.count == 1 || recording != nil {
            guard entries.count == 1 else {
                let names = entries.map { "\($0.name) (pid \($0.pid))" }.joined(separator: ", ")
                throw ValidationError("several programs can be attached: \(names). Name one: sluice attach PID.")
            }
            let connection: AgentConnection
            do {
                connection = try AgentConnection.open(path: entries[0].path, client: client)
            } catch {
                printError("sluice attach: \(error)")
                endProcess(unavailableStatus)
            }
            let attached = AttachedSource(connection, rate: rate)
            let recorded = recording.map { recordedSource(attached, $0) }
            if headless { await watchHeadless(attached, as: recorded?.0 ?? attached, recorder: recorded?.1) }
            // Opened again from the picker (after Esc), the program gets a new connection.
            let choice = SourceChoice.program(entries[0], rate: rate, client: client).openingFirst(recorded?.0 ?? attached)
            await runDashboard(choices: [choice], start: (0, [:]), words: .programs, noColor: noColor) {
                if let recorder = recorded?.1 {
                    recorder.finish()
                    reportRecording(recorder)
                }
            }
        }
        await runDashboard(
            choices: entries.map { SourceChoice.program($0, rate: rate, client: client) }, start: nil, words: .programs, noColor: noColor)
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
    let all = directory.entries()
    let live = all.filter(\.processExists)
    guard let target else {
        guard !live.isEmpty else {
            unavailable(
                "nothing to attach to: no program with a Sluice agent is running (looked in \(directory.path)"
                    + (all.isEmpty ? ")" : "; \(all.count) stale sockets there)"))
        }
        return live
    }
    let matches = all.filter { Int32(target) == $0.pid || $0.name == target }
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

extension Attach {
    /// Watches until --duration passes, a signal comes or the program goes, then prints a
    /// summary and ends the process.
    @MainActor
    private func watchHeadless(_ attached: AttachedSource, as source: any Source, recorder: Recorder?) -> Never {
        SignalFlag.install()
        let connection = attached.connection
        let limit = duration.flatMap(parseDuration) ?? .seconds(5)
        let start = ContinuousClock.now
        var caught: Int32?
        while ContinuousClock.now - start < limit {
            if let signal = SignalFlag.pending {
                caught = signal
                break
            }
            if case .detached = source.status { break }
            usleep(20_000)
        }
        let snapshot = attached.snapshot()
        let status = attached.status
        let elapsed = (ContinuousClock.now - start).seconds
        // The recording ends first, with what the summary shows: its replay prints the same.
        if let recorder {
            recorder.finish(status: status, elapsedSeconds: elapsed, snapshot: snapshot)
            reportRecording(recorder)
        }
        let knobs = connection.latest?.knobs ?? [:]
        source.stop(waitingAtMost: .milliseconds(300))
        var runStatus = ScenarioRun.Status.done
        if case .detached(let why) = status { runStatus = .failed("detached: \(why)") }
        let summary = AttachedSummary(
            program: connection.program.name, pid: connection.program.pid,
            summary: RunSummary(
                scenario: connection.program.name, preset: .live, elapsedSeconds: elapsed, status: runStatus, snapshot: snapshot),
            knobs: knobs)
        let output = Output()
        output.line(json ? summary.json.text : summary.text)
        if let caught { endProcess(SignalFlag.exitStatus(for: caught)) }
        if case .detached = status { endProcess(unavailableStatus) }
        endProcess(output.failed ? 1 : 0)
    }
}

/// What `attach --headless` prints (and a replay of its recording): the run summary with
/// the program and its pid in place of a scenario and preset, and the knobs' last values.
struct AttachedSummary {
    let program: String
    let pid: Int
    let summary: RunSummary
    let knobs: [String: Double]

    var json: JSON {
        guard case .object(let fields) = summary.json else { return summary.json }
        let rest = fields.filter { $0.0 != "scenario" && $0.0 != "preset" }
        let knobFields = knobs.sorted { $0.key < $1.key }.map { ($0.key, JSON.number($0.value)) }
        return .object([("program", .string(program)), ("pid", .int(pid))] + rest + [("knobs", .object(knobFields))])
    }

    var text: String {
        let lines = summary.text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        var status = "watched for \(formatDecimal((summary.elapsedSeconds * 10).rounded() / 10)) s"
        if case .failed(let why) = summary.status { status += ", then \(why)" }
        let knobText = knobs.sorted { $0.key < $1.key }.map { "\($0.key) \(formatDecimal($0.value))" }
        return
            (["\(program) (pid \(pid)): \(status), \(summary.snapshot.operations) operations"] + lines.map(String.init)
            + (knobText.isEmpty ? [] : ["  knobs: " + knobText.joined(separator: ", ")]))
            .joined(separator: "\n")
    }
}

/// Prints why to stderr and ends with status 69.
func unavailable(_ why: String) -> Never {
    printError("sluice attach: \(why)")
    endProcess(unavailableStatus)
}

/// `4s`, `3m12s`, `2h05m`.
func formatUptime(_ startedAt: Double) -> String {
    let seconds = max(0, Int(wallClockSeconds() - startedAt))
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
        row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(to: widths[i]) }.joined(separator: "  ")
    }.joined(separator: "\n")
}

extension String {
    func padding(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

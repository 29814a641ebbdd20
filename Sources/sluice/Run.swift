#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import AsyncPatterns
import Dashboard
import Pipelines
import Scenarios
import Terminal

extension Preset: ExpressibleByArgument {}

/// `sluice run NAME`: opens one scenario in the dashboard, or runs it headless.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one scenario: in the dashboard, or headless with --headless.",
        discussion: "Knobs are set with --KNOB VALUE; a pipeline file's are --STAGE.FIELD VALUE (`sluice check FILE` lists them). "
            + "Every scenario's knobs:\n\n"
            + Catalog.all.map { scenario in
                "\(scenario.name): \(scenario.summary)\n" + scenario.knobs.map { "  " + knobHelpLine($0) }.joined(separator: "\n")
            }.joined(separator: "\n\n")
    )

    @Argument(help: ArgumentHelp("The scenario to run, or a pipeline file (FILE.toml; see `sluice check`).", valueName: "name"))
    var name: String

    @Option(help: "seed reproduces the tutorial's example and ends; live runs until stopped.")
    var preset: Preset = .live

    @Option(parsing: .unconditional, help: "Scenario seconds per real second (0.01...1000).")
    var speed: Double = 1

    @Option(parsing: .unconditional, help: "Seed for the scenario's randomness: the same seed, the same run.")
    var seed: UInt64 = 1

    @Flag(help: "Run without a terminal and print a summary.")
    var headless = false

    @Option(
        parsing: .unconditional,
        help: "With --headless: how long to run (e.g. 5s, 500ms, 2m). A live run defaults to 5s; a seed run to until it ends.")
    var duration: String?

    @Flag(help: "With --headless: print the summary as one JSON object.")
    var json = false

    @Flag(help: "With --headless: print a line to stderr every second: time, operations, operations/s, resident memory.")
    var progress = false

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    @OptionGroup var record: RecordArguments

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Knob values: --KNOB VALUE ...", valueName: "knobs"))
    var knobArguments: [String] = []

    func validate() throws {
        _ = try resolve()
        _ = try record.resolve()
    }

    /// The scenario, its knob values and the duration, or a clear error (exit status 64).
    func resolve() throws -> (scenario: any Scenario, values: [String: Double], duration: Duration?) {
        let scenario: any Scenario
        if isPipelineFile(name) {
            scenario = PipelineFileScenario(try loadPipeline(name))
        } else if let named = Catalog.named(name) {
            scenario = named
        } else {
            // `sluice run --permits 3`: the parser took the knob's value for the name.
            let argv = CommandLine.arguments
            if let at = argv.firstIndex(of: name), at > 0, case let option = argv[at - 1], option.hasPrefix("--"),
                Catalog.all.contains(where: { $0.knob(named: String(option.dropFirst(2))) != nil })
            {
                throw ValidationError(
                    "the scenario's name comes first: sluice run NAME \(option) \(name). Valid scenarios: \(Catalog.names.joined(separator: ", "))."
                )
            }
            throw ValidationError(
                "unknown scenario '\(name)'. Valid scenarios: \(Catalog.names.joined(separator: ", ")), or a pipeline file (FILE.toml).")
        }
        guard ScenarioClock.speedRange.contains(speed), speed.isFinite else {
            throw ValidationError("--speed \(speed) is out of range: use 0.01...1000.")
        }
        let values = try parseKnobs(knobArguments, for: scenario)
        var start = scenario.values(for: preset)
        start.merge(values) { _, given in given }
        if let refusal = scenario.refusal(of: start, preset: preset) {
            throw ValidationError(refusal)
        }
        var limit: Duration?
        if let duration {
            guard let parsed = parseDuration(duration) else {
                throw ValidationError("--duration '\(duration)' is not a duration: use e.g. 5s, 500ms, 2m (at least 1ms, at most 24h).")
            }
            limit = parsed
        }
        if !headless, duration != nil || json || progress {
            throw ValidationError("--duration, --json and --progress go with --headless.")
        }
        return (scenario, values, limit)
    }

    func run() async throws {
        let (scenario, values, limit) = try resolve()
        // Both ways end the process on the main thread, never back on the cooperative pool:
        // a scenario may hold every pool thread in blocking calls.
        let recording = try record.resolve()
        if headless { await runHeadless(scenario, values: values, limit: limit, record: recording) }
        // A file's pipeline is the first entry of the picker (a file may share a built-in's name).
        let catalog = scenario is PipelineFileScenario ? [scenario] + Catalog.all : Catalog.all
        await openDashboard(
            scenario: scenario, preset: preset, values: values, speed: speed, seed: seed, noColor: noColor, record: recording,
            catalog: catalog)
    }

    /// Runs until the scenario ends, `limit` passes or a signal arrives (polled on the main
    /// thread), then prints the summary of what ran and exits within `DashboardApp.stopLimit`.
    @MainActor
    private func runHeadless(_ scenario: any Scenario, values: [String: Double], limit: Duration?, record: RecordOptions?) -> Never {
        let printsTranscript = !json && preset == .seed
        let output = Output()
        let clockBox = ClockBox()
        let source = LocalSource(
            scenario, preset: preset, values: values, speed: speed, seed: seed, logCapacity: record == nil ? 256 : recordingLogCapacity,
            doctor: localDoctor
        ) { line in
            guard printsTranscript else { return }
            output.line("[\(formatSeconds(clockBox.elapsed))] \(line)")
        }
        clockBox.set(source.run.clock)
        let recorder = record.map { recordedSource(source, $0).1 }
        var lastReport = Duration.zero
        var lastEvents = 0
        Headless.run(source, recorder: recorder, limit: limit ?? (preset == .live ? .seconds(5) : nil), json: json) { now in
            guard progress, now - lastReport >= .seconds(1) else { return }
            let events = source.snapshot().operations
            printError(
                "progress t=\(formatSeconds(now)) ops=\(events) rate=\(Int(Double(events - lastEvents) / (now - lastReport).seconds))/s rss_kb=\(residentKilobytes())"
            )
            lastReport = now
            lastEvents = events
        }
    }
}

/// Parses `--knob value` and `--knob=value` pairs against a scenario's knobs.
func parseKnobs(_ arguments: [String], for scenario: any Scenario) throws -> [String: Double] {
    let valid = scenario.knobs.map { "--\($0.name)" }.joined(separator: ", ")
    var values: [String: Double] = [:]
    var i = 0
    while i < arguments.count {
        let argument = arguments[i]
        guard argument.hasPrefix("--"), argument.count > 2 else {
            throw ValidationError("unexpected argument '\(argument)'. Knobs of \(scenario.name): \(valid).")
        }
        var name = String(argument.dropFirst(2))
        var text: String?
        if let eq = name.firstIndex(of: "=") {
            text = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        guard let knob = scenario.knob(named: name) else {
            throw ValidationError("unknown option or knob '--\(name)' for \(scenario.name). Its knobs: \(valid).")
        }
        if text == nil {
            i += 1
            guard i < arguments.count else {
                throw ValidationError("--\(name) needs a value in \(knob.rangeText)\(knob.unit.isEmpty ? "" : " " + knob.unit).")
            }
            text = arguments[i]
        }
        guard let raw = text, let value = Double(raw), value.isFinite else {
            throw ValidationError("--\(name) '\(text ?? "")' is not a number: use a value in \(knob.rangeText).")
        }
        guard knob.range.contains(value) else {
            throw ValidationError("--\(name) \(raw) is out of range: use \(knob.rangeText)\(knob.unit.isEmpty ? "" : " " + knob.unit).")
        }
        if knob.isInteger, value != value.rounded() {
            throw ValidationError("--\(name) takes a whole number in \(knob.rangeText), not \(raw).")
        }
        values[name] = value
        i += 1
    }
    return values
}

/// `5s`, `500ms`, `2m`, `1h` or a plain number of seconds; at least a millisecond (the
/// resolution of a run's limit), at most a day.
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    var number = text
    var scale = 1.0
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        number = String(text.dropLast(suffix.count))
        scale = factor
        break
    }
    guard let value = Double(number), value.isFinite, value * scale <= 86_400 else { return nil }
    let milliseconds = (value * scale * 1000).rounded()
    guard milliseconds >= 1 else { return nil }
    return .milliseconds(Int64(milliseconds))
}

func formatSeconds(_ d: Duration) -> String {
    formatFixed(d.seconds, places: 2) + "s"
}

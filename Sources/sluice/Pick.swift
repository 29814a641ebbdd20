#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Dashboard
import Scenarios
import Terminal

/// `sluice` (no subcommand): the scenario picker.
struct Pick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pick", abstract: "Open the scenario picker (the default).")

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    /// Words the other commands did not take: `sluice bogus` lands here, as the default command.
    @Argument(parsing: .allUnrecognized, help: .hidden)
    var stray: [String] = []

    func validate() throws {
        guard let word = stray.first else { return }
        // Said without "Usage: sluice pick", which is not what the user meant to run.
        let commands = "list, run, replay, ps, attach (sluice --help tells more)"
        if Catalog.named(word) != nil {
            printError("Error: '\(word)' is a scenario, not a command: sluice run \(word)")
        } else if word.hasPrefix("-") {
            printError("Error: unknown option '\(word)'. sluice takes --no-color, --help, --version, or a command: \(commands).")
        } else {
            printError("Error: unknown command '\(word)'. Commands: \(commands).")
        }
        endProcess(usageStatus)
    }

    func run() async throws {
        await openDashboard(scenario: nil, preset: .live, values: [:], speed: 1, seed: 1, noColor: noColor)
    }
}

/// Opens the TUI on the main thread and runs it until `q` or a signal, then restores the
/// terminal and ends the process from this thread: the way out never waits for the
/// cooperative pool, which a scenario may hold in blocking calls.
@MainActor
func openDashboard(
    scenario: (any Scenario)?, preset: Preset, values: [String: Double], speed: Double, seed: UInt64,
    noColor: Bool, record: RecordOptions? = nil, catalog: [any Scenario] = Catalog.all
) -> Never {
    var choices = SourceChoice.scenarios(catalog, preset: preset, speed: speed, seed: seed, doctor: localDoctor)
    let start = scenario.flatMap { s in catalog.firstIndex { $0.name == s.name } }.map { (index: $0, values: values) }
    var recorder: Recorder?
    if let record, let start, let scenario {
        // The scenario asked for is recorded from its first frame; one opened later from the
        // picker is not (it would overwrite the file).
        let (source, made) = recordedSource(
            LocalSource(
                scenario, preset: preset, values: values, speed: speed, seed: seed, logCapacity: recordingLogCapacity,
                doctor: localDoctor), record)
        recorder = made
        choices[start.index] = choices[start.index].openingFirst(source)
    }
    runDashboard(choices: choices, start: start, noColor: noColor) {
        guard let recorder else { return }
        recorder.finish()
        reportRecording(recorder)
    }
}

/// Opens the TUI on `choices`, starting at `start`, until `q` or a signal; `after` runs once
/// the terminal is restored. Ends the process.
@MainActor
func runDashboard(
    choices: [SourceChoice], start: (index: Int, values: [String: Double])?, words: PickerWords = .scenarios,
    refreshChoices: (() -> [SourceChoice])? = nil, noColor: Bool, after: () -> Void = {}
) -> Never {
    SignalFlag.install()
    let backend: NCursesBackend
    do {
        backend = try NCursesBackend(noColor: noColor)
    } catch {
        printError("\(error)")
        endProcess(TerminalError.exitStatus)
    }
    let app = DashboardApp(
        backend: backend, choices: choices, words: words, refreshChoices: refreshChoices, interrupted: { SignalFlag.pending })
    let status = app.run(start: start)
    backend.close()
    after()
    endProcess(status)
}

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
    noColor: Bool
) -> Never {
    let choices = SourceChoice.scenarios(preset: preset, speed: speed, seed: seed)
    let start = scenario.flatMap { s in Catalog.all.firstIndex { $0.name == s.name } }.map { (index: $0, values: values) }
    runDashboard(choices: choices, start: start, noColor: noColor)
}

/// The TUI over these picker entries, one perhaps opened at once; ends the process.
@MainActor
func runDashboard(
    choices: [SourceChoice], start: (index: Int, values: [String: Double])?, words: PickerWords = .scenarios, noColor: Bool
) -> Never {
    SignalFlag.install()
    let backend: NCursesBackend
    do {
        backend = try NCursesBackend(noColor: noColor)
    } catch {
        printError("\(error)")
        endProcess(TerminalError.exitStatus)
    }
    let app = DashboardApp(backend: backend, choices: choices, words: words, interrupted: { SignalFlag.pending })
    let status = app.run(start: start)
    backend.close()
    endProcess(status)
}

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
func openDashboard(scenario: (any Scenario)?, preset: Preset, values: [String: Double], speed: Double, seed: UInt64,
                   noColor: Bool) -> Never {
    SignalFlag.install()
    let backend: NCursesBackend
    do {
        backend = try NCursesBackend(noColor: noColor)
    } catch {
        printError("\(error)")
        endProcess(TerminalError.exitStatus)
    }
    let app = DashboardApp(backend: backend, preset: preset, seed: seed, values: values, speed: speed,
                           interrupted: { SignalFlag.pending })
    let status = app.run(start: scenario)
    backend.close()
    endProcess(status)
}

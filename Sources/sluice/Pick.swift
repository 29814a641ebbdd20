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
        let noColor = noColor
        let status = await MainActor.run {
            openDashboard(scenario: nil, preset: .live, values: [:], speed: 1, seed: 1, noColor: noColor)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Opens the TUI on the main thread and runs it until `q` or a signal; the terminal is
/// restored on every way out. Returns the process exit status.
@MainActor
func openDashboard(scenario: (any Scenario)?, preset: Preset, values: [String: Double], speed: Double, seed: UInt64, noColor: Bool) -> Int32 {
    SignalFlag.install()
    let backend: NCursesBackend
    do {
        backend = try NCursesBackend(noColor: noColor)
    } catch {
        printError("\(error)")
        return TerminalError.exitStatus
    }
    defer { backend.close() }
    let app = DashboardApp(backend: backend, preset: preset, seed: seed, values: values, speed: speed,
                           interrupted: { SignalFlag.pending })
    return app.run(start: scenario)
}

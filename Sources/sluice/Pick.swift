import ArgumentParser
import Scenarios

/// `sluice` (no subcommand): the scenario picker.
struct Pick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pick", abstract: "Open the scenario picker (the default).")

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    func run() async throws {
        let status = openDashboard(scenario: nil, preset: .live, values: [:], speed: 1, seed: 1, noColor: noColor)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Opens the TUI; returns the process exit status.
func openDashboard(scenario: (any Scenario)?, preset: Preset, values: [String: Double], speed: Double, seed: UInt64, noColor: Bool) -> Int32 {
    print("the dashboard is not built yet")
    return 1
}

import ArgumentParser
import AsyncPatterns
import Dashboard

/// `sluice replay FILE`: a recording in the dashboard, or its summary with --headless.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a recording back in the dashboard, or print its summary with --headless.",
        discussion: """
            Keys: space pause/play, [ ] speed, . and , one event forward/back, g go to a time, w/W next/previous warning, \
            r restart; f and F filter the event log by kind and name, / searches it, n/N next/previous match.
            A file that is not a recording, or is corrupted, exits with status 65; one cut short (its recorder was killed) \
            replays up to its last whole record with a warning (--headless prints its summary, the warning on stderr, and exits 0).
            """)

    @Argument(help: ArgumentHelp("The recording (written by `sluice run NAME --record FILE`).", valueName: "file"))
    var file: String

    @Flag(help: "Print the recorded run's summary instead of opening the dashboard.")
    var headless = false

    @Flag(help: "With --headless: print the summary as one JSON object.")
    var json = false

    @Flag(name: .customLong("no-color"), help: "Draw without colours (also when NO_COLOR is set).")
    var noColor = false

    func validate() throws {
        if json, !headless { throw ValidationError("--json goes with --headless.") }
    }

    func run() async throws {
        let recording: Recording
        do {
            recording = try Recording.open(path: file)
        } catch {
            printError("sluice: \(file): \(error)")
            endProcess(65)
        }
        if headless { await printSummary(recording) }
        await runDashboard(
            choices: [
                SourceChoice(
                    name: "replay \(file)", summary: "\(recording.info.title) (\(recording.info.mode)), \(recording.eventCount) events",
                    explanation: "A recording played back.", knobs: recording.knobSpecs
                ) { _ in ReplaySource(recording) }
            ], start: (0, [:]), noColor: noColor)
    }

    /// The summary the recorded run printed (for a file cut short: the state after its last
    /// whole record, with a warning on stderr; what it has is good, so the status is 0).
    @MainActor
    private func printSummary(_ recording: Recording) -> Never {
        let summary: RunSummary
        do {
            try recording.checkEverything()
            summary = try ReplaySource(recording).summary()
        } catch {
            printError("sluice: \(file): \(error)")
            endProcess(65)
        }
        Headless.end(
            summary, json: json, signal: nil, warning: recording.truncation.map { "sluice: warning: \(file): \($0)" })
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Scenarios

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Watch and steer async concurrency patterns, live in the terminal.",
        discussion: """
            With no subcommand, opens the scenario picker. Scenarios: \(Catalog.names.joined(separator: ", ")).
            Try `sluice run producer-consumer`, or `sluice run semaphore --preset seed --headless`.
            """,
        version: "0.1.0",
        subcommands: [Pick.self, List.self, Run.self, Check.self, Plan.self, Replay.self, Ps.self, Attach.self, Doctor.self],
        defaultSubcommand: Pick.self
    )

    /// SIGPIPE is ignored before any command runs: a reader that has gone (`sluice … | head
    /// -n 1`) is then a write error for every command, not a death by signal before the
    /// command got to install its handlers.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}

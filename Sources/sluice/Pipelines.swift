import ArgumentParser
import Pipelines
import Scenarios

/// Whether a `run` argument names a pipeline file rather than a built-in scenario.
func isPipelineFile(_ name: String) -> Bool {
    name.hasSuffix(".toml") || name.contains("/")
}

/// The checked pipeline in `path`; on a problem, prints each as `file:line:column: message`
/// and ends the command with status 65 (EX_DATAERR).
func loadPipeline(_ path: String) throws -> PipelineSpec {
    do {
        return try PipelineSpec.load(path: path)
    } catch {
        printError(error.description)
        throw ExitCode(65)
    }
}

/// `sluice check FILE`: validates a pipeline file without running it.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a pipeline file without running it (exit 0: good, 65: each problem printed as file:line:column).",
        discussion: """
            A pipeline file (TOML) declares [[source]], [[queue]], [[pool]], [[semaphore]] and [[actor]] tables, the links \
            between them (to, from, semaphore, feedback) and, under [knobs], which numbers can be turned and their ranges. \
            Examples/Pipelines/ has three, with a README.
            """)

    @Argument(help: ArgumentHelp("The pipeline file.", valueName: "file"))
    var file: String

    func run() throws {
        let spec = try loadPipeline(file)
        func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        print(
            "\(file): ok: \(spec.name): \(count(spec.sources.count, "source")), \(count(spec.queues.count, "queue")), \(count(spec.pools.count, "pool")), \(count(spec.semaphores.count, "semaphore")), \(count(spec.actors.count, "actor"))"
        )
        for knob in spec.knobs {
            print(
                "  --\(knob.name) \(knob.spec.rangeText)\(knob.spec.unit.isEmpty ? "" : " " + knob.spec.unit) (now \(knob.spec.format(knob.value)))"
            )
        }
    }
}

/// `sluice plan FILE --target-p99 200ms`: the fewest workers meeting a latency target.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the fewest workers that meet an end-to-end p99 target at the file's load, by simulation in virtual time.",
        discussion: """
            Searches the pipeline's worker knobs ("pool.workers" under [knobs]). Each try simulates --duration of virtual \
            time (as fast as the machine goes; the same seed gives the same result) and prints what it measured. \
            First every worker knob at its maximum (if that misses, nothing in range meets the target), then each pool at the \
            fewest workers that keep up with the load measured there, then one more worker at a time where items wait longest: \
            greedy, so the answer is the fewest it found, not a proof that no smaller total exists. \
            Exit status: 0 a setting was found, 1 none within the knobs' ranges meets the target, 64 usage, 65 a bad file.
            """)

    @Argument(help: ArgumentHelp("The pipeline file.", valueName: "file"))
    var file: String

    @Option(name: .customLong("target-p99"), help: "The end-to-end p99 to meet, e.g. 200ms, 1.5s.")
    var targetP99: String

    @Option(help: "Virtual time simulated per try (e.g. 60s, 5m); the first tenth is a warm-up.")
    var duration: String = "60s"

    @Option(help: "Seed for the simulation's randomness.")
    var seed: UInt64 = 1

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Other knob values for every try: --KNOB VALUE ...", valueName: "knobs"))
    var knobArguments: [String] = []

    func run() async throws {
        guard let target = parseDurationSeconds(targetP99), target > 0 else {
            throw ValidationError("--target-p99 '\(targetP99)' is not a duration: use e.g. 200ms, 1.5s.")
        }
        guard let seconds = parseDurationSeconds(duration), seconds >= 0.01, seconds <= 86_400 else {
            throw ValidationError("--duration '\(duration)' is not a duration from 10ms to 24h: use e.g. 60s, 5m.")
        }
        let spec = try loadPipeline(file)
        let values = try parseKnobs(knobArguments, for: PipelineFileScenario(spec))
        print("plan for \(file): the fewest workers with end-to-end p99 <= \(targetP99) at the file's load")
        print("(each try: \(duration) simulated in virtual time, the first tenth a warm-up, seed \(seed))")
        var n = 0
        let outcome: (best: Planner.Try?, tries: [Planner.Try])
        do {
            outcome = try await Planner.plan(spec, knobs: values, targetP99: target, seconds: seconds, seed: seed) { t in
                n += 1
                let workers = t.workers.keys.sorted().map { "\($0)=\(t.workers[$0]!)" }.joined(separator: " ")
                print("try \(n): \(workers) (\(t.total) workers): \(t.verdict)")
            }
        } catch {
            printError("sluice: \(file): \(error.description)")
            throw ExitCode(65)
        }
        guard let best = outcome.best else {
            print("no setting within the knobs' ranges meets p99 <= \(targetP99): even the most workers give the ceiling above")
            throw ExitCode(1)
        }
        let workers = best.workers.keys.sorted().map { "--\($0) \(best.workers[$0]!)" }.joined(separator: " ")
        print("fewest found: \(workers) (\(best.total) workers, \(best.verdict))")
    }
}

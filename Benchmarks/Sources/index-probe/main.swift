// The registry's actor index alone (issue #23): its first build at 100,000 idle actors,
// the read after it and warm reads, each timed, for callgrind and perf. Run under
// `valgrind --tool=callgrind --instr-atstart=no` to count only the snapshots (not
// the actors' creation); `--order name` asks for the name order, as a screen sorted by
// name does; `--reads 0` takes no snapshot (the max RSS without the index).
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CCallgrind

var count = 100_000
var order = ActorOrder.mailbox
var reads = 3
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--actors": count = Int(arguments.popFirst() ?? "") ?? count
    case "--reads": reads = Int(arguments.popFirst() ?? "") ?? reads
    case "--order":
        let name = arguments.popFirst() ?? ""
        order = ActorOrder.allCases.first { "\($0)" == name } ?? order
    default:
        print("usage: index-probe [--actors N] [--reads N] [--order name|mailbox|processed|rate|p99|deadLetters]")
        exit(64)
    }
}
let registry = PatternRegistry()
let actors = (0..<count).map { MailboxActor<Int>(name: "actor-\($0)", registry: registry) }
let query = ActorQuery(order: order, first: 60)
var micros: [Double] = []
sluice_callgrind_start()
for _ in 0..<reads {
    let start = ContinuousClock.now
    _ = registry.snapshot(actors: query)
    let elapsed = ContinuousClock.now - start
    micros.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
}
sluice_callgrind_stop()
withExtendedLifetime(actors) {}
// The first read builds the index; the second reads each actor again once; then warm.
print("\(count) actors, order \(order), reads in µs: \(micros.map { String(Int($0)) }.joined(separator: ", "))")

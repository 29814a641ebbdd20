// A program for the doctor's safety tests (Tests/e2e/doctor.sh): it stalls its own
// cooperative pool on purpose (a child process, never the test process) and prints what
// its pool doctor saw as JSON.
//   pool-doctor-probe plain      stall; the doctor names stallThePoolOnPurpose
//   pool-doctor-probe taken      the program handles SIGPROF itself first: the doctor
//                                leaves it alone, says so, and keeps the figures
//   pool-doctor-probe off        capture switched off by the option: figures only
//   pool-doctor-probe nio        SwiftNIO takes over the global executor first; the
//                                doctor's hook chains to NIO's; NIO's threads are captured
//   pool-doctor-probe nio-late   the doctor's hook goes in first: NIO then refuses to take
//                                over (what the README warns of); printed as nioTookOver
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import NIOCore
import NIOPosix
import PoolDoctor
import Synchronization

let profiled = Atomic<Int>(0)

@inline(never)
func stallThePoolOnPurpose() {
    usleep(400_000)
}

let mode = CommandLine.arguments.dropFirst().first ?? "plain"
guard ["plain", "taken", "off", "nio", "nio-late"].contains(mode) else {
    print("usage: pool-doctor-probe plain|taken|off|nio|nio-late")
    exit(64)
}
if mode == "taken" {
    signal(SIGPROF) { _ in profiled.add(1, ordering: .relaxed) }
}
var nioTookOver: Bool?
if mode == "nio" { nioTookOver = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() }
let doctor = PoolDoctor(options: .init(threshold: .milliseconds(100), capture: mode != "off"), registry: nil)
doctor.installHook()
if mode == "nio-late" { nioTookOver = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() }
// A few calm beats, then every pool thread held for 400 ms at once.
while doctor.snapshot().beats < 3 { usleep(10_000) }
let threads = max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
let stalledAt = ContinuousClock.now
for _ in 0..<threads { Task.detached { stallThePoolOnPurpose() } }
let deadline = ContinuousClock.now + .seconds(30)
// How long from the stall's start until the doctor names the place (or counts the stall).
var named: Duration?
while named == nil || doctor.snapshot().stalls == 0, ContinuousClock.now < deadline {
    if named == nil, !doctor.snapshot().blockers.isEmpty || doctor.snapshot().otherStalls > 0 {
        named = ContinuousClock.now - stalledAt
    }
    usleep(1_000)
}
let p = doctor.snapshot()
let cost = doctor.captureCost
doctor.stop()
let notes = p.notes.map { "\"\($0)\"" }.joined(separator: ",")
let blockers = p.blockers.map { "\"\($0.location)\"" }.joined(separator: ",")
print(
    "{\"stalls\":\(p.stalls),\"capture\":\"\(p.capture)\",\"captureOn\":\(p.captureOn),\"blockers\":[\(blockers)],"
        + "\"otherStalls\":\(p.otherStalls),\"hook\":\"\(p.hook)\",\"jobs\":\(p.jobsEnqueued),\"notes\":[\(notes)],"
        + "\"theirHandlerCalls\":\(profiled.load(ordering: .relaxed)),\"nioTookOver\":\(nioTookOver.map { "\($0)" } ?? "null"),"
        + "\"threads\":\(p.threads),\"namedAfterMs\":\(named.map { Int($0 / .milliseconds(1)) } ?? -1),"
        + "\"captures\":\(cost.captures),\"captureCPUMicros\":\(cost.nanos / 1000),"
        + "\"symbolizeCPUMicros\":\(cost.symbolizeNanos / 1000),\"symbolTableCPUMicros\":\(cost.warmNanos / 1000)}")
exit(p.stalls > 0 ? 0 : 1)

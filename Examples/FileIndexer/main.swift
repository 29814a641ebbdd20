// sluice-indexer: a concurrent file indexer to watch and steer with `sluice attach`.
//
// A walker puts every file under a folder into a bounded queue; workers take paths from
// it, open each file under a semaphore that caps how many are open at once, hash it, and
// tell an aggregating actor. It indexes the tree again and again (or `--passes N` times)
// and prints a line a second. Five knobs are exposed to viewers: workers, open files,
// queue capacity, a pause per file, and hash-on-pool, which makes each worker hash with a
// slow key-stretching hash synchronously on the cooperative pool (the mistake `sluice
// doctor` and the Pool pane are there to name).
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import SluiceAgent
import Synchronization

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))

// The patterns, registered with the shared registry the agent serves.
let paths = BoundedQueue<String>(capacity: options.capacity, name: "paths")
let openFiles = AsyncSemaphore(limit: options.openFiles, name: "open-files")
let totals = Totals()
let aggregator = MailboxActor<Indexed>(name: "aggregator", mailboxCapacity: 256)
let workers = Workers(target: options.workers)
let pausePerFile = Atomic<Int>(options.pauseMilliseconds)
let hashOnPool = Atomic<Int>(options.hashOnPool)

// The agent: a few lines make the program attachable, its knobs turned from the viewer.
let agent: SluiceAgent
do {
    agent = try SluiceAgent.start(
        name: "sluice-indexer",
        knobs: [
            AgentKnob(
                "workers", range: 1...32, summary: "tasks hashing files", actsOn: .queue,
                get: { Double(workers.target) }, set: { workers.resize(to: Int($0)) }),
            .limit(of: openFiles, "open-files", range: 1...64, summary: "files open at once"),
            .capacity(of: paths, "capacity", range: 1...4096, summary: "paths waiting to be hashed"),
            AgentKnob(
                "pause", unit: "ms", range: 0...100, summary: "a pause per file, to slow the indexer down",
                get: { Double(pausePerFile.load(ordering: .relaxed)) },
                set: { pausePerFile.store(Int($0), ordering: .relaxed) }),
            AgentKnob(
                "hash-on-pool", range: 0...1, summary: "1 = a slow hash, synchronously on the cooperative pool",
                get: { Double(hashOnPool.load(ordering: .relaxed)) },
                set: { hashOnPool.store(Int($0), ordering: .relaxed) }),
        ])
} catch {
    say("sluice-indexer: \(error)")
    exit(69)
}
say("sluice-indexer pid \(getpid()), socket \(agent.socketPath)")
say("indexing \(options.root) with \(options.workers) workers; attach with: \(sluiceCommand()) attach \(getpid())")
Signals.install()

Task.detached { await aggregator.run(Aggregate()) }
workers.resize(to: options.workers)
Task.detached { await walkForever() }

// The main thread prints a line a second and ends the program on a signal or at the end.
var last = totals.read()
var seconds = 0
while true {
    for _ in 0..<10 {
        if let signal = Signals.caught {
            agent.stop()
            say("sluice-indexer: signal \(signal), socket removed")
            exit(0)
        }
        usleep(100_000)
    }
    seconds += 1
    let now = totals.read()
    say(
        "t=\(seconds)s pass \(now.pass): \(now.files) files, \(now.bytes / 1_000_000) MB; "
            + "\(now.files - last.files) files/s; workers \(workers.target), open-files \(openFiles.stats.limit), "
            + "capacity \(paths.stats.capacity), pause \(pausePerFile.load(ordering: .relaxed)) ms")
    last = now
    if options.passes > 0, now.passesDone >= options.passes {
        agent.stop()
        say("sluice-indexer: \(options.passes) passes done")
        exit(0)
    }
}

// MARK: - The work

/// Walks the tree again and again, putting each regular file's path in the queue.
func walkForever() async {
    var pass = 1
    while options.passes == 0 || pass <= options.passes {
        totals.startPass(pass)
        await walk(options.root)
        // Wait until every path of this pass is hashed, then say so.
        try? await paths.join()
        try? await aggregator.tell(.passDone(pass))
        pass += 1
    }
}

func walk(_ folder: String) async {
    guard let dir = opendir(folder) else { return }
    var children: [(String, Bool)] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard name != ".", name != ".." else { continue }
        let type = entry.pointee.d_type
        if type == DT_DIR { children.append((folder + "/" + name, true)) }
        if type == DT_REG { children.append((folder + "/" + name, false)) }
    }
    closedir(dir)
    for (path, isFolder) in children {
        if isFolder {
            await walk(path)
        } else {
            try? await paths.put(path)
        }
    }
}

/// One worker: takes paths until the queue closes (false) or the worker count drops to
/// its number (true). A path taken is always hashed and reported: nothing is lost on a
/// resize.
func work(number: Int) async -> Bool {
    while number < workers.target {
        guard let path = try? await paths.get() else { return false }
        let pause = pausePerFile.load(ordering: .relaxed)
        if pause > 0 { try? await Task.sleep(for: .milliseconds(pause)) }
        let result =
            hashOnPool.load(ordering: .relaxed) == 1
            ? stretchedHashOnPool(path) : try? await openFiles.withPermit { hashFile(path) }
        try? await aggregator.tell(.file(bytes: result?.bytes ?? 0, hash: result?.hash ?? 0))
        try? paths.taskDone()
    }
    return true
}

/// FNV-1a over the file's first MiB, eight bytes at a step, read in 64 KiB chunks: the
/// work runs on the cooperative pool, so no file may hold a thread for long.
func hashFile(_ path: String) -> (bytes: Int, hash: UInt64)? {
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var total = 0
    var chunk = [UInt64](repeating: 0, count: 8192)
    while total < 1 << 20 {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { break }
        for word in chunk[..<((n + 7) / 8)] { hash = (hash ^ word) &* 0x100_0000_01b3 }
        total += n
    }
    return (total, hash)
}

/// The mistake on purpose (`hash-on-pool` 1): a key-stretching hash that runs for about
/// 300 ms, synchronously, on the pool thread of the task that calls it. With a few workers
/// every pool thread is held and every other task of the program waits.
func stretchedHashOnPool(_ path: String) -> (bytes: Int, hash: UInt64)? {
    guard var result = hashFile(path) else { return nil }
    var clock = timespec()
    clock_gettime(CLOCK_MONOTONIC, &clock)
    let start = clock
    var elapsed = 0
    while elapsed < 300_000_000 {
        for round in 0..<10_000 { result.hash = (result.hash ^ UInt64(round)) &* 0x100_0000_01b3 }
        clock_gettime(CLOCK_MONOTONIC, &clock)
        elapsed = (clock.tv_sec - start.tv_sec) * 1_000_000_000 + (clock.tv_nsec - start.tv_nsec)
    }
    return result
}

enum Indexed: Sendable {
    case file(bytes: Int, hash: UInt64)
    case passDone(Int)
}

/// The aggregating actor's behaviour: adds each file to the totals.
struct Aggregate: ActorBehavior {
    mutating func receive(_ envelope: Envelope<Indexed>, context: ActorContext<Indexed>) async throws {
        switch envelope.message {
        case .file(let bytes, let hash): totals.add(bytes: bytes, hash: hash)
        case .passDone(let pass): totals.finishPass(pass)
        }
    }
}

/// What the indexer has done, read by the printing loop.
final class Totals: Sendable {
    struct Numbers {
        var pass = 0
        var passesDone = 0
        var files = 0
        var bytes = 0
        var digest: UInt64 = 0
    }
    private let numbers = Mutex(Numbers())

    func read() -> Numbers { numbers.withLock { $0 } }
    func startPass(_ pass: Int) { numbers.withLock { $0.pass = pass } }
    func finishPass(_ pass: Int) { numbers.withLock { $0.passesDone = pass } }
    func add(bytes: Int, hash: UInt64) {
        numbers.withLock {
            $0.files += 1
            $0.bytes += bytes
            $0.digest ^= hash
        }
    }
}

/// The hashing tasks: resizing starts the missing ones at once; ones numbered at or above
/// the target finish the path they hold and end.
final class Workers: Sendable {
    private let state: Mutex<(target: Int, running: Set<Int>)>

    init(target: Int) { state = Mutex((target, [])) }

    var target: Int { state.withLock { $0.target } }

    func resize(to count: Int) {
        let toStart = state.withLock { s -> [Int] in
            s.target = count
            let missing = (0..<count).filter { !s.running.contains($0) }
            s.running.formUnion(missing)
            return missing
        }
        for number in toStart { spawn(number) }
    }

    private func spawn(_ number: Int) {
        Task.detached {
            let retired = await work(number: number)
            self.ended(number, retired: retired)
        }
    }

    /// A worker that ended while a resize wanted it again is started again.
    private func ended(_ number: Int, retired: Bool) {
        let again = state.withLock { s -> Bool in
            if retired, number < s.target { return true }
            s.running.remove(number)
            return false
        }
        if again { spawn(number) }
    }
}

struct Options {
    var root = "/usr"
    var workers = 4
    var openFiles = 8
    var capacity = 64
    var passes = 0
    var pauseMilliseconds = 1
    var hashOnPool = 0

    static let usage = """
        usage: sluice-indexer [FOLDER] [--workers N] [--open-files N] [--capacity N] [--pause MS] [--passes N] [--hash-on-pool 0|1]
          FOLDER        the tree to index (default /usr)
          --workers     tasks hashing files, 1...32 (default 4)
          --open-files  files open at once, 1...64 (default 8)
          --capacity    paths the queue holds, 1...4096 (default 64)
          --pause       a pause per file in ms, 0...100 (default 1)
          --passes      index the tree N times, then exit (default 0: until a signal)
          --hash-on-pool  1: hash slowly and synchronously on the cooperative pool (default 0)
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var i = 0
        func number(_ name: String, _ range: ClosedRange<Int>) -> Int {
            i += 1
            guard i < arguments.count, let n = Int(arguments[i]), range.contains(n) else {
                fail("\(name) takes a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--workers": options.workers = number("--workers", 1...32)
            case "--open-files": options.openFiles = number("--open-files", 1...64)
            case "--capacity": options.capacity = number("--capacity", 1...4096)
            case "--pause": options.pauseMilliseconds = number("--pause", 0...100)
            case "--passes": options.passes = number("--passes", 0...1_000_000)
            case "--hash-on-pool": options.hashOnPool = number("--hash-on-pool", 0...1)
            case "-h", "--help":
                say(usage)
                exit(0)
            case let argument where argument.hasPrefix("-"): fail("unknown option \(argument)")
            case let folder: options.root = folder
            }
            i += 1
        }
        var info = stat()
        guard stat(options.root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            fail("\(options.root) is not a folder")
        }
        return options
    }

    static func fail(_ message: String) -> Never {
        say("sluice-indexer: \(message)\n\(usage)")
        exit(64)
    }
}

/// Writes a line at once, unbuffered (stdout may be a pipe the tests read).
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// The signal that asked us to stop (an atomic: lock-free, so safe in a handler).
let caughtSignal = Atomic<Int32>(0)

/// SIGINT and SIGTERM set a flag the main loop reads.
enum Signals {
    static func install() {
        signal(SIGINT) { caughtSignal.store($0, ordering: .relaxed) }
        signal(SIGTERM) { caughtSignal.store($0, ordering: .relaxed) }
    }

    static var caught: Int32? {
        let signal = caughtSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}

/// How to run `sluice` from here: its name when it is on PATH, else the one built next to
/// this program (`.build/release/sluice`), else how to get it (a newcomer has no `sluice`
/// on PATH until `make install`).
func sluiceCommand() -> String {
    let path = getenv("PATH").map { String(cString: $0) } ?? ""
    for folder in path.split(separator: ":") where access("\(folder)/sluice", X_OK) == 0 { return "sluice" }
    var bytes = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &bytes, bytes.count - 1)
    if n > 0 {
        let me = String(decoding: bytes.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let sibling = String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/sluice"
        if access(sibling, X_OK) == 0 { return sibling }
    }
    return "swift run sluice (or make install, then sluice)"
}

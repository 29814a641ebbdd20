#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns

/// Fills in file and line of captured frames with `llvm-symbolizer` (shipped with the Swift
/// toolchain), in the viewer's process: the watched program never runs it. Each address is
/// asked once; answers are kept (bounded).
public final class Symbolicator: Sendable {
    /// The symbolizer's path, or nil when none was found (frames then keep their function
    /// names only).
    public let tool: String?
    private let cache = Locked<[String: Answer?]>([:])

    /// What the symbolizer said of one address: the function (as it names it), and the
    /// file and line when debug info has them.
    struct Answer: Sendable {
        var function: String?
        var file: String?
        var line: Int?
    }
    static let cacheLimit = 20_000
    static let batch = 100

    /// Looks for `llvm-symbolizer`: `$SLUICE_SYMBOLIZER`, next to `swift`, then on PATH.
    public init(tool: String? = Symbolicator.find()) { self.tool = tool }

    /// One for the whole process.
    public static let shared = Symbolicator()

    /// Where `llvm-symbolizer` is, if anywhere.
    public static func find() -> String? {
        if let set = getenv("SLUICE_SYMBOLIZER").map({ String(cString: $0) }), !set.isEmpty {
            return access(set, X_OK) == 0 ? set : nil
        }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init)
        for folder in folders where access(folder + "/swift", X_OK) == 0 {
            var buffer = [CChar](repeating: 0, count: 4096)
            if realpath(folder + "/swift", &buffer) != nil {
                let real = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let dir = String(real[..<(real.lastIndex(of: "/") ?? real.endIndex)])
                if access(dir + "/llvm-symbolizer", X_OK) == 0 { return dir + "/llvm-symbolizer" }
            }
        }
        for folder in folders where access(folder + "/llvm-symbolizer", X_OK) == 0 { return folder + "/llvm-symbolizer" }
        return nil
    }

    /// The pool figures with file and line filled in from what is known now; never waits.
    /// Frames not yet asked about are asked on a thread of its own, for the next call (a
    /// screen or a recording shows them a moment later).
    public func symbolicate(_ pool: PoolSnapshot) -> PoolSnapshot {
        let missing = unknown(pool)
        if !missing.isEmpty, tool != nil {
            let start = background.withLock { busy -> Bool in
                guard !busy else { return false }
                busy = true
                return true
            }
            if start {
                let started = startDetachedThread { [self] in
                    resolve(missing, within: Self.backgroundLimit)
                    background.withLock { $0 = false }
                }
                if !started { background.withLock { $0 = false } }
            }
        }
        return filled(pool)
    }

    /// The pool figures with file and line filled in, asking the symbolizer first and
    /// waiting for it at most `limit` (`sluice doctor`, a headless summary).
    public func symbolicate(_ pool: PoolSnapshot, waitingAtMost limit: Duration) -> PoolSnapshot {
        resolve(unknown(pool), within: limit)
        return filled(pool)
    }

    /// How long the background asker lets the symbolizer run before killing it.
    static let backgroundLimit = Duration.seconds(10)
    private let background = Locked(false)

    private func unknown(_ pool: PoolSnapshot) -> [PoolFrame] {
        var seen = Set<String>()
        return pool.blockers.flatMap(\.frames).filter { frame in
            let key = Self.key(frame)
            return seen.insert(key).inserted && cache.withLock { $0.index(forKey: key) == nil } && Self.isAskable(frame.module)
        }
    }

    private func filled(_ pool: PoolSnapshot) -> PoolSnapshot {
        var pool = pool
        for b in pool.blockers.indices {
            for f in pool.blockers[b].frames.indices {
                let frame = pool.blockers[b].frames[f]
                guard let answer = cache.withLock({ $0[Self.key(frame)] }) ?? nil else { continue }
                pool.blockers[b].frames[f].file = answer.file
                pool.blockers[b].frames[f].line = answer.line
                if frame.symbol == nil, let function = answer.function { pool.blockers[b].frames[f].symbol = function }
            }
        }
        return pool
    }

    /// Only absolute paths of regular files, with nothing that would break the tool's input
    /// line: the paths come from the watched program, and a device or a FIFO could hang it.
    static func isAskable(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.contains("\""), !path.contains("\n"), !path.contains("\r") else { return false }
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    static func key(_ frame: PoolFrame) -> String { "\(frame.module)\u{0}\(frame.offset)" }

    /// Asks the tool about `frames` (in batches), keeping the answers; gives up (nothing
    /// kept, asked again next time) when `limit` passes.
    private func resolve(_ frames: [PoolFrame], within limit: Duration) {
        guard let tool, !frames.isEmpty else { return }
        let deadline = ContinuousClock.now + limit
        var start = 0
        while start < frames.count, ContinuousClock.now < deadline {
            let part = Array(frames[start..<min(frames.count, start + Self.batch)])
            guard let answers = Self.run(tool, part, deadline: deadline) else { return }
            cache.withLock { c in
                if c.count > Self.cacheLimit { c.removeAll() }
                for (i, frame) in part.enumerated() { c[Self.key(frame)] = i < answers.count ? answers[i] : nil }
            }
            start += Self.batch
        }
    }

    /// Runs the tool on `frames`; one answer per frame, in order (nil: unknown); nil when
    /// it could not run or was killed at `deadline`.
    static func run(_ tool: String, _ frames: [PoolFrame], deadline: ContinuousClock.Instant) -> [Answer?]? {
        let input = frames.map { "\"\($0.module)\" 0x\(String($0.offset, radix: 16))\n" }.joined()
        guard let output = spawnAndRead(tool, arguments: ["--no-inlines", "--demangle"], input: input, deadline: deadline) else {
            return nil
        }
        return parse(output)
    }

    /// The tool's answers: two lines per address (function, then file:line:column), then a
    /// blank line; "??" where it does not know.
    static func parse(_ output: String) -> [Answer?] {
        output.split(separator: "\n\n", omittingEmptySubsequences: true).map { block -> Answer? in
            let lines = block.split(separator: "\n")
            guard lines.count >= 2 else { return nil }
            var answer = Answer()
            if lines[0] != "??" { answer.function = String(lines[0]) }
            let parts = lines[1].split(separator: ":")
            if parts.count >= 3, let line = Int(parts[parts.count - 2]), line > 0, parts[0] != "??" {
                answer.file = parts.dropLast(2).joined(separator: ":")
                answer.line = line
            }
            return answer.function == nil && answer.file == nil ? nil : answer
        }
    }

    /// Runs a program with `input` on its stdin, returns its stdout (nil if it cannot run, or
    /// has not finished at `deadline`: then it is killed).
    static func spawnAndRead(_ tool: String, arguments: [String], input: String, deadline: ContinuousClock.Instant) -> String? {
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0 else { return nil }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            return nil
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
        // The tool starts as from a shell: SIGPIPE (which sluice ignores, and exec keeps
        // ignored) back to its default, and no signal blocked (the thread asking may block
        // the ones the terminal's signal thread waits for).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tool, &actions, &attributes, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard rc == 0 else {
            close(toChild[1])
            close(fromChild[0])
            return nil
        }
        // Input and output both fit in a pipe's buffer (`batch` addresses), so writing all
        // first cannot deadlock.
        let bytes = Array(input.utf8)
        var at = 0
        while at < bytes.count {
            let n = bytes[at...].withUnsafeBytes { write(toChild[1], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            at += n
        }
        close(toChild[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var late = false
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                late = true
                break
            }
            var ready = pollfd(fd: fromChild[0], events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, Int32(max(1, min(1000, left / .milliseconds(1)))))
            if polled < 0, errno == EINTR { continue }
            if polled == 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fromChild[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[..<n]
        }
        close(fromChild[0])
        if late { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return late ? nil : String(decoding: output, as: UTF8.self)
    }
}

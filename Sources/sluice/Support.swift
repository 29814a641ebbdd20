#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import PoolDoctor
import TUI

/// Writes lines to stdout; remembers a failed write (stdout closed) instead of crashing.
final class Output: Sendable {
    private let state = Locked(false)
    var failed: Bool { state.withLock { $0 } }

    /// Writes `text` and a newline. Control characters in it (from a program's or a
    /// recording's names) are shown escaped; the newlines of a summary stay.
    func line(_ text: String) {
        state.withLock { failed in
            guard !failed else { return }
            let bytes = Array((text.terminalSafe(keepingNewlines: true) + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0, errno == EINTR { continue }
                    failed = true
                    return
                }
                offset += n
            }
        }
    }
}

/// The run's clock, set once it exists (the transcript closure is made before the run).
final class ClockBox: Sendable {
    private let clock = Locked<ScenarioClock?>(nil)
    func set(_ c: ScenarioClock) { clock.withLock { $0 = c } }
    var elapsed: Duration { clock.withLock { $0?.elapsed } ?? .zero }
}

/// Writes a message and a newline to stderr.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// This process's resident memory in kilobytes (from /proc/self/statm), 0 if unknown.
func residentKilobytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, 128, f) != nil else { return 0 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

/// Ends the process with `status` (a free function: inside a command, `exit` is
/// ArgumentParser's, which throws instead).
func endProcess(_ status: Int32) -> Never {
    exit(status)
}

/// The pool doctor of this process, for scenarios run here (started on first use: `list`,
/// `ps` and `replay` never start one).
let localDoctor = PoolDoctor(registry: nil)

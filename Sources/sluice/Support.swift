#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns

/// Writes lines to stdout; remembers a failed write (stdout closed) instead of crashing.
final class Output: Sendable {
    private let state = Locked(false)
    var failed: Bool { state.withLock { $0 } }

    func line(_ text: String) {
        state.withLock { failed in
            guard !failed else { return }
            let bytes = Array((text + "\n").utf8)
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

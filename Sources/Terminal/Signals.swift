#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Which termination signal arrived, if any. Handlers only store the number: everything
/// else (restoring the terminal, printing, exiting) happens in the loop that polls it.
public enum SignalFlag {
    private static let caught = Atomic<Int32>(0)

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP, and ignores SIGPIPE so a closed
    /// stdout shows up as a write error instead of killing the process.
    public static func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { number in SignalFlag.caught.store(number, ordering: .relaxed) }
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// The signal caught so far, or nil.
    public static var pending: Int32? {
        let n = caught.load(ordering: .relaxed)
        return n == 0 ? nil : n
    }

    /// The conventional exit status for a signal: 128 + its number (130 for SIGINT).
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TUI

/// Keeps what the dashboard shows: the screen as text, and as text with its colours in ANSI
/// escapes (`cat` or `less -R` shows it as it was), in two new files.
enum ScreenFile {
    /// Writes `NAME.txt` and `NAME.ans` in the current folder (or, when that cannot be
    /// written, the temporary folder), each created new, mode 0600, never through a
    /// symlink. Returns the text file's path, or why it could not be written.
    static func save(_ buffer: Buffer, stamp: Int = time(nil)) -> Result<String, SaveError> {
        let folders = [currentFolder(), getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"].compactMap { $0 }
        var why = "no folder to write to"
        for folder in folders {
            for attempt in 0..<100 {
                let base = "\(folder)/sluice-screen-\(stamp)" + (attempt == 0 ? "" : "-\(attempt)")
                switch write(buffer.lines.joined(separator: "\n") + "\n", to: base + ".txt") {
                case .success:
                    _ = write(buffer.ansiLines.joined(separator: "\n") + "\n", to: base + ".ans")
                    return .success(base + ".txt")
                case .failure(let error) where error.code == EEXIST:
                    continue
                case .failure(let error):
                    why = error.message
                }
                break
            }
        }
        return .failure(SaveError(code: 0, message: why))
    }

    struct SaveError: Error {
        let code: Int32
        let message: String
    }

    private static func currentFolder() -> String? {
        var bytes = [CChar](repeating: 0, count: 4096)
        guard getcwd(&bytes, bytes.count) != nil else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func write(_ text: String, to path: String) -> Result<Void, SaveError> {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(SaveError(code: errno, message: "\(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return .failure(SaveError(code: errno, message: "\(path): \(String(cString: strerror(errno)))")) }
            offset += n
        }
        return .success(())
    }
}

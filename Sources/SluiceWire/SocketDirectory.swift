#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where agents put their sockets: one folder per user that only its owner can enter
/// (`$XDG_RUNTIME_DIR/sluice`, else `/tmp/sluice-UID`, mode 0700), one socket per process
/// in it, named `NAME.PID.sock` (mode 0600). `SLUICE_DIR` overrides the folder (tests).
public struct SocketDirectory: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The folder for this user, from the environment.
    public static func forThisUser() -> SocketDirectory {
        if let given = environment("SLUICE_DIR"), !given.isEmpty { return SocketDirectory(path: given) }
        if let runtime = environment("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") {
            return SocketDirectory(path: runtime + "/sluice")
        }
        return SocketDirectory(path: "/tmp/sluice-\(getuid())")
    }

    /// Creates the folder (0700) or checks the one there: it must be ours, a folder, and
    /// closed to everyone else; anything else is someone's trap or mistake, refused.
    public func prepare() throws(DirectoryError) {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw .unusable(path, "cannot create it: \(errnoText())")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .unusable(path, errnoText()) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unusable(path, "it is not a folder") }
        guard info.st_uid == getuid() else {
            throw .unusable(path, "it belongs to uid \(info.st_uid), not to you (uid \(getuid()))")
        }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw .unusable(path, "others can enter it and it cannot be closed: \(errnoText())")
        }
    }

    /// Checks, without changing anything, that a viewer may trust the folder: absent (no
    /// programs), or a folder of this user's that nobody else can enter. Another user who
    /// made `/tmp/sluice-UID` first, or a folder opened to others, could hold sockets that
    /// pretend to be this user's programs.
    public func checkTrusted() throws(DirectoryError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .unusable(path, errnoText())
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unusable(path, "it is not a folder (a link or a file put there)") }
        guard info.st_uid == getuid() else {
            throw .unusable(path, "it belongs to uid \(info.st_uid), not to you (uid \(getuid())): someone else's, not trusted")
        }
        guard info.st_mode & 0o077 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw .unusable(path, "others can enter it (mode \(mode)), so its sockets are not trusted; make it 0700 (chmod 700 \(path))")
        }
    }

    /// This process's socket path. Names are kept to safe characters and short enough for
    /// a socket address (108 bytes).
    public func socketPath(name: String, pid: Int32 = getpid()) -> String {
        let safe = String(name.unicodeScalars.map { Self.isSafe($0) ? Character($0) : "_" }.prefix(32))
        return "\(path)/\(safe.isEmpty ? "program" : safe).\(pid).sock"
    }

    /// The sockets in the folder, with the name and pid their file names carry.
    public func entries() -> [SocketEntry] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var found: [SocketEntry] = []
        while let entry = readdir(dir) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let parsed = SocketEntry(file: file, in: path) { found.append(parsed) }
        }
        return found.sorted { ($0.name, $0.pid) < ($1.name, $1.pid) }
    }

    static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
    }
}

/// One socket file: `NAME.PID.sock`.
public struct SocketEntry: Sendable, Equatable {
    public let name: String
    public let pid: Int32
    public let path: String

    public init(name: String, pid: Int32, path: String) {
        self.name = name
        self.pid = pid
        self.path = path
    }

    init?(file: String, in folder: String) {
        guard file.hasSuffix(".sock") else { return nil }
        let parts = file.dropLast(5).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let pid = Int32(parts.last!), pid > 0 else { return nil }
        name = parts.dropLast().joined(separator: ".")
        self.pid = pid
        path = folder + "/" + file
    }

    /// Whether the process its name gives still exists.
    /// Whether the process its name gives still exists (true when the name gives none).
    public var processExists: Bool { pid <= 0 || processIsAlive(pid) }
}

public enum DirectoryError: Error, Sendable, CustomStringConvertible {
    case unusable(String, String)

    public var description: String {
        switch self {
        case .unusable(let path, let why): "cannot use the socket folder \(path): \(why)"
        }
    }
}

/// Whether `pid` runs: it exists and is not a zombie (a killed child that nobody has
/// reaped yet still answers `kill(pid, 0)`).
public func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return true }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    guard fgets(&line, 512, file) != nil else { return true }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // `pid (comm) S ...`: the state follows the last parenthesis.
    guard let close = text.lastIndex(of: ")") else { return true }
    let state = text[text.index(after: close)...].dropFirst().first
    return state != "Z" && state != "X"
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

func errnoText() -> String {
    String(cString: strerror(errno))
}

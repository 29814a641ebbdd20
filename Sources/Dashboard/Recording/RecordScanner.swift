#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a recording's bytes come from: a file read with `pread` in pieces, or bytes in
/// memory (tests and fuzzing). Never a stream: replay reads records again to seek.
protocol RecordingBytes: Sendable {
    /// The size when the recording was opened (a recording still being written grows; what
    /// comes after is not read).
    var count: Int { get }
    /// The bytes of `range`. - Throws: `RecordingError.unreadable` (a read error, or the
    /// file shrank).
    func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8]
}

/// A recording file, open for reading. Every read is a `pread` (no shared position), so
/// reads from several threads cannot interfere.
final class RecordingFile: RecordingBytes {
    let fd: Int32
    let path: String
    let count: Int

    init(path: String) throws(RecordingError) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable("\(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw .unreadable("\(path): \(why)")
        }
        let type = st.st_mode & S_IFMT
        // A device or a pipe (/dev/zero) never ends: a recording is a file.
        guard type == S_IFREG else {
            close(fd)
            throw .unreadable(type == S_IFDIR ? "\(path) is a directory" : "\(path) is not a regular file")
        }
        self.fd = fd
        self.path = path
        count = Int(st.st_size)
    }

    deinit { close(fd) }

    func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < range.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, range.count - done, off_t(range.lowerBound + done)) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw .unreadable("\(path): \(String(cString: strerror(errno)))") }
            if n == 0 { throw .unreadable("\(path) shrank while it was read") }
            done += n
        }
        return out
    }
}

/// A recording in memory.
struct RecordingMemory: RecordingBytes {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8] {
        guard range.upperBound <= bytes.count else { throw .unreadable("a read past the end") }
        return Array(bytes[range])
    }
}

/// Reads a recording's records in order, in pieces of `RecordingFormat.readChunk` (or one
/// record, if bigger), checking each record's length and CRC before handing it over. The
/// header is checked before anything else is read.
struct RecordScanner {
    struct Record {
        var type: UInt8
        /// Where the record starts in the file.
        var offset: Int
        /// Where its payload starts in the file.
        var payloadStart: Int
        var payload: ArraySlice<UInt8>
    }

    let source: any RecordingBytes
    private(set) var offset = RecordingFormat.headerSize
    private var window: [UInt8] = []
    private var windowStart = 0
    /// The most bytes held at once.
    private(set) var peakBuffered = 0
    /// Why the records stopped before the end of the file, if they did.
    private(set) var truncation: String?

    init(_ source: any RecordingBytes) { self.source = source }

    func checkHeader() throws(RecordingError) {
        let head = try source.read(0..<min(source.count, RecordingFormat.headerSize))
        guard !head.isEmpty else { throw .empty }
        let magic = RecordingFormat.magic
        guard head.prefix(magic.count).elementsEqual(magic.prefix(min(magic.count, head.count))) else { throw .notARecording }
        guard head.count >= RecordingFormat.headerSize else { throw .truncatedHeader }
        let version = UInt16(head[8]) | UInt16(head[9]) << 8
        guard version >= 1 else { throw .notARecording }
        guard version <= RecordingFormat.version else { throw .newerVersion(version) }
    }

    /// The next whole record, or nil at the end (or at a record cut short: `truncation`).
    mutating func next() throws(RecordingError) -> Record? {
        let remaining = source.count - offset
        guard remaining > 0 else { return nil }
        guard remaining >= RecordingFormat.recordOverhead else {
            truncation = "the recording is truncated: its last \(remaining) bytes are not a whole record"
            return nil
        }
        let head = try bytes(offset..<(offset + 5))
        let type = head[head.startIndex]
        let length = head.dropFirst().reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= RecordingFormat.maximumPayload else {
            throw .corrupted(offset: offset, why: "a record claims \(length) bytes")
        }
        guard length + RecordingFormat.recordOverhead <= remaining else {
            truncation = "the recording is truncated: its last \(remaining) bytes are not a whole record"
            return nil
        }
        let whole = try bytes(offset..<(offset + RecordingFormat.recordOverhead + length))
        let crcAt = whole.startIndex + 5 + length
        let stored = whole[crcAt...].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard CRC32.of(whole[whole.startIndex..<crcAt]) == stored else {
            throw .corrupted(offset: offset, why: "a record fails its checksum")
        }
        let record = Record(type: type, offset: offset, payloadStart: offset + 5, payload: whole[(whole.startIndex + 5)..<crcAt])
        offset += RecordingFormat.recordOverhead + length
        return record
    }

    /// `range` of the file, from the window if it is there, else read with what follows.
    private mutating func bytes(_ range: Range<Int>) throws(RecordingError) -> ArraySlice<UInt8> {
        if range.lowerBound < windowStart || range.upperBound > windowStart + window.count {
            window = []  // let go first: at most one window is ever held
            window = try source.read(range.lowerBound..<min(source.count, range.lowerBound + max(RecordingFormat.readChunk, range.count)))
            windowStart = range.lowerBound
            peakBuffered = max(peakBuffered, window.count)
        }
        return window[(range.lowerBound - windowStart)..<(range.upperBound - windowStart)]
    }
}

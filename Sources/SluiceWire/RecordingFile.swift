#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a recording's bytes come from: a file read with `pread` in pieces, or bytes in
/// memory (tests and fuzzing). Never a stream: replay reads records again to seek.
public protocol RecordingBytes: Sendable {
    /// The size when the recording was opened (a recording still being written grows; what
    /// comes after is not read).
    var count: Int { get }
    /// The bytes of `range`. - Throws: `RecordingError.unreadable` (a read error, or the
    /// file shrank).
    func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8]
}

/// A recording file, open for reading. Every read is a `pread` (no shared position), so
/// reads from several threads cannot interfere.
public final class RecordingFile: RecordingBytes {
    let fd: Int32
    let path: String
    /// The file's size when it was opened.
    public let count: Int

    /// Opens `path`, which must be a regular file. - Throws: `RecordingError.unreadable`.
    public init(path: String) throws(RecordingError) {
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

    /// The bytes of `range`, read with `pread`.
    public func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8] {
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
public struct RecordingMemory: RecordingBytes {
    let bytes: [UInt8]
    /// How many bytes there are.
    public var count: Int { bytes.count }

    /// A recording of `bytes`.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The bytes of `range`.
    public func read(_ range: Range<Int>) throws(RecordingError) -> [UInt8] {
        guard range.upperBound <= bytes.count else { throw .unreadable("a read past the end") }
        return Array(bytes[range])
    }
}

/// Reads a recording's records in order, in pieces of `RecordingFormat.readChunk` (or one
/// record, if bigger), checking each record's length and CRC before handing it over. The
/// header is checked before anything else is read.
public struct RecordScanner {
    /// One whole record whose CRC is right.
    public struct Record {
        /// Its type (`RecordingFormat.RecordType`, or one this version does not know).
        public var type: UInt8
        /// Where the record starts in the file.
        public var offset: Int
        /// Where its payload starts in the file.
        public var payloadStart: Int
        /// The payload.
        public var payload: ArraySlice<UInt8>
    }

    let source: any RecordingBytes
    /// Where the next record starts.
    public private(set) var offset = RecordingFormat.headerSize
    private var window: [UInt8] = []
    private var windowStart = 0
    /// The most bytes held at once.
    public private(set) var peakBuffered = 0
    /// Why the records stopped before the end of the file, if they did.
    public private(set) var truncation: String?

    /// A scanner of `source`, from its first record.
    public init(_ source: any RecordingBytes) { self.source = source }

    /// Throws unless `source` starts with the magic and a version this build reads.
    public func checkHeader() throws(RecordingError) {
        let head = try source.read(0..<min(source.count, RecordingFormat.headerSize))
        guard !head.isEmpty else { throw .empty }
        let magic = RecordingFormat.magic
        guard head.prefix(magic.count).elementsEqual(magic.prefix(min(magic.count, head.count))) else { throw .notARecording }
        guard head.count >= RecordingFormat.headerSize else { throw .truncatedHeader }
        let version = UInt16(head[8]) | UInt16(head[9]) << 8
        guard version >= 1 else { throw .notARecording }
        guard version <= RecordingFormat.version else { throw .newerVersion(version) }
        guard version == RecordingFormat.version else { throw .olderVersion(version) }
    }

    /// The next whole record, or nil at the end (or at a record cut short: `truncation`).
    public mutating func next() throws(RecordingError) -> Record? {
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

/// The recording file's building blocks (written down in `FORMAT.md`): the header and the
/// record framing with a CRC. Payloads use the socket's codec (`WireWriter`, `EventCodec`).
public enum RecordingFormat {
    /// The first 8 bytes of every recording: `SLUICREC`.
    public static let magic: [UInt8] = Array("SLUICREC".utf8)
    /// The version this build writes and the only one it reads. 2: keyframes and the end
    /// hold binary snapshots (`WireWriter.snapshot`, the socket's codec; they were JSON).
    public static let version: UInt16 = 2
    /// Magic, version (UInt16 LE), reserved (UInt16, 0).
    public static let headerSize = 12
    /// Type byte, payload length (UInt32 LE) before the payload; CRC-32 (UInt32 LE) after.
    public static let recordOverhead = 9
    /// A record longer than this is corruption, not data (the largest keyframe of 10,000
    /// patterns takes a small part of it).
    public static let maximumPayload = 16 << 20
    /// What a replay reads at once while it indexes a recording.
    public static let readChunk = 1 << 20
    /// The most a recording's index (its blocks, keyframes, names, knob changes and gaps)
    /// may take in memory: a file needing more is refused. A recording sluice writes
    /// needs far less (about 100 bytes for each 48 KB block or keyframe).
    public static let maximumIndexBytes = 16 << 20

    /// What a record holds.
    public enum RecordType: UInt8, Sendable {
        /// JSON: what was recorded (title, mode, panes, knobs, start time, shapes version).
        case info = 1
        /// A pattern's interned id: id, kind, name.
        case name = 2
        /// A block of events (see `FORMAT.md`).
        case events = 3
        /// A snapshot with knob values: where a seek starts.
        case keyframe = 4
        /// A knob changed.
        case knob = 5
        /// Events the source dropped before the recorder could read them.
        case gap = 6
        /// The run ended: its status, elapsed time and final snapshot.
        case end = 7
    }

    /// The file's first 12 bytes.
    public static func header() -> [UInt8] {
        magic + [UInt8(version & 0xFF), UInt8(version >> 8), 0, 0]
    }

    /// One framed record.
    public static func record(_ type: RecordType, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + recordOverhead)
        out.append(type.rawValue)
        appendUInt32(UInt32(payload.count), to: &out)
        out.append(contentsOf: payload)
        let crc = CRC32.of(out[...])
        appendUInt32(crc, to: &out)
        return out
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v & 0xFF))
        out.append(UInt8((v >> 8) & 0xFF))
        out.append(UInt8((v >> 16) & 0xFF))
        out.append(UInt8(v >> 24))
    }
}

/// CRC-32 (IEEE 802.3, as zlib), table-driven, 8 bytes at a time.
public enum CRC32 {
    static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[0][i] = c
        }
        for i in 0..<256 {
            for t in 1..<8 { tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][Int(tables[t - 1][i] & 0xFF)] }
        }
        return tables
    }()

    /// The CRC of `bytes`.
    public static func of(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { of(UnsafeRawBufferPointer($0)) }
    }

    /// The CRC of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let t = tables
        t[0].withUnsafeBufferPointer { t0 in
            t[1].withUnsafeBufferPointer { t1 in
                t[2].withUnsafeBufferPointer { t2 in
                    t[3].withUnsafeBufferPointer { t3 in
                        t[4].withUnsafeBufferPointer { t4 in
                            t[5].withUnsafeBufferPointer { t5 in
                                t[6].withUnsafeBufferPointer { t6 in
                                    t[7].withUnsafeBufferPointer { t7 in
                                        var i = 0
                                        let n = bytes.count
                                        while i + 8 <= n {
                                            let a =
                                                crc
                                                ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                                                    | UInt32(bytes[i + 3]) << 24)
                                            crc =
                                                t7[Int(a & 0xFF)] ^ t6[Int((a >> 8) & 0xFF)] ^ t5[Int((a >> 16) & 0xFF)]
                                                ^ t4[Int(a >> 24)] ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])]
                                                ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
                                            i += 8
                                        }
                                        while i < n {
                                            crc = t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                                            i += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// What is wrong with a file that should be a recording; `sluice replay` exits with
/// status 65 (EX_DATAERR) on any of these.
public enum RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    /// The recording cannot be created (a missing folder, a file already there, no right).
    case unwritable(String)
    case empty
    case notARecording
    case newerVersion(UInt16)
    /// A format this sluice no longer reads (version 1: JSON keyframes).
    case olderVersion(UInt16)
    /// The file ends inside its header or first record: nothing to replay.
    case truncatedHeader
    /// A record in the middle fails its CRC or cannot be decoded.
    case corrupted(offset: Int, why: String)
    /// A payload does not decode (turned into `corrupted` with its offset by the reader).
    case malformed(String)

    public var description: String {
        switch self {
        case .unreadable(let why): "cannot read the recording: \(why)"
        case .unwritable(let why): "cannot write the recording \(why)"
        case .empty: "the file is empty: not a recording"
        case .notARecording: "not a sluice recording (it does not start with SLUICREC)"
        case .newerVersion(let v):
            "the recording has format version \(v); this sluice reads version \(RecordingFormat.version): use a newer sluice"
        case .olderVersion(let v):
            "the recording has format version \(v), written by an older sluice; this sluice reads version \(RecordingFormat.version) only: replay it with the sluice that wrote it"
        case .truncatedHeader: "the recording is truncated before its first record: nothing to replay"
        case .corrupted(let offset, let why): "the recording is corrupted at byte \(offset): \(why)"
        case .malformed(let why): "the recording is corrupted: \(why)"
        }
    }
}

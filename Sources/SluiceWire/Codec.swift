/// The one byte codec of everything Sluice sends or keeps: snapshots and events on the
/// socket and in recording files alike (`PROTOCOL.md`, `FORMAT.md`). Integers are LEB128
/// varints (zigzag for signed values, so negatives stay short), doubles 8 bytes
/// little-endian, booleans a byte, strings a varint count then UTF-8, optionals a presence
/// byte then the value.
public struct WireWriter: Sendable {
    /// What has been written.
    public var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// One byte as it is.
    public mutating func byte(_ b: UInt8) { bytes.append(b) }
    /// A byte 0 or 1.
    public mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }

    /// An unsigned varint.
    public mutating func uint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A count (never negative).
    public mutating func count(_ n: Int) { uint(UInt64(max(0, n))) }

    /// A signed varint (zigzag).
    public mutating func signed(_ value: Int64) { uint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    /// A signed count or gauge (zigzag).
    public mutating func int(_ value: Int) { signed(Int64(value)) }

    /// 8 bytes of IEEE 754, little-endian.
    public mutating func double(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    /// A varint byte count, then UTF-8.
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            uint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A presence byte, then the value.
    public mutating func optionalInt(_ value: Int?) {
        bool(value != nil)
        if let value { int(value) }
    }

    /// Bytes as they are.
    public mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
}

/// Reads what `WireWriter` wrote. Decoding is validation: every number is range-checked
/// where it is read, so nothing a hostile peer or a crafted file says can make a sum, a
/// conversion or an index downstream trap. Integers past what any program reaches are
/// refused; doubles are clamped; anything short, overlong or impossible throws `WireError`.
public struct WireReader: Sendable {
    let bytes: [UInt8]
    /// Where the next read starts.
    public private(set) var at: Int
    let end: Int

    /// 2^62: 146 years of nanoseconds; the largest unsigned number read.
    public static let largestUInt: UInt64 = 1 << 62
    /// 2^53: every count a program could reach in a lifetime, and exact as a Double.
    public static let largestInt = 1 << 53
    /// Seconds, rates and knob values beyond this are no program's: read as this.
    public static let largestDouble = 1e15

    /// A reader of `bytes[range]` (all of them if `range` is nil).
    public init(_ bytes: [UInt8], _ range: Range<Int>? = nil) {
        self.bytes = bytes
        at = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { at >= end }
    /// Bytes not read yet.
    public var remaining: Int { end - at }

    /// One byte.
    public mutating func byte() throws(WireError) -> UInt8 {
        guard at < end else { throw .badMessage("cut short") }
        defer { at += 1 }
        return bytes[at]
    }

    /// A byte 0 or 1.
    public mutating func bool() throws(WireError) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        case let b: throw .badMessage("\(b) is not a boolean")
        }
    }

    /// An unsigned varint, at most `largestUInt`.
    public mutating func uint() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b <= 1 else { throw .badMessage("a number too long") }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                // Nanoseconds and counts far past any a process reaches: a hostile peer's or a
                // crafted file's, refused here so that no sum downstream can overflow.
                guard value <= Self.largestUInt else { throw .badMessage("\(value) is beyond any number a program reaches") }
                return value
            }
            shift += 7
        }
    }

    /// A signed varint (a time or a time difference): at most 2^61 either way.
    public mutating func signed() throws(WireError) -> Int64 {
        let z = try uint()
        return Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
    }

    /// A signed count or gauge: at most `largestInt` either way.
    public mutating func int() throws(WireError) -> Int {
        let value = Int(try signed())
        guard value.magnitude <= UInt(Self.largestInt) else { throw .badMessage("\(value) is beyond any count a program reaches") }
        return value
    }

    /// A count of items that each take at least a byte: never more than what is left.
    public mutating func count() throws(WireError) -> Int {
        let n = try uint()
        // `remaining` after the count itself is read.
        guard n <= UInt64(remaining) else { throw .badMessage("a count of \(n) with \(remaining) bytes left") }
        return Int(n)
    }

    /// A count of at most `limit`.
    public mutating func count(atMost limit: Int) throws(WireError) -> Int {
        let n = try uint()
        guard n <= UInt64(max(0, limit)) else { throw .badMessage("a count of \(n) where at most \(limit) fit") }
        return Int(n)
    }

    /// A double, clamped to ±`largestDouble` (a rate over an instant may come out
    /// infinite); NaN reads as 0.
    public mutating func double() throws(WireError) -> Double {
        guard remaining >= 8 else { throw .badMessage("cut short") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[at + i]) << UInt64(8 * i) }
        at += 8
        let value = Double(bitPattern: bits)
        guard !value.isNaN else { return 0 }
        return min(Self.largestDouble, max(-Self.largestDouble, value))
    }

    /// A string (invalid UTF-8 is repaired, not refused).
    public mutating func string() throws(WireError) -> String {
        let n = try count()
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }

    /// A presence byte, then a signed count.
    public mutating func optionalInt() throws(WireError) -> Int? {
        try bool() ? try int() : nil
    }

    /// `n` bytes as they are.
    public mutating func raw(_ n: Int) throws(WireError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .badMessage("cut short") }
        defer { at += n }
        return bytes[at..<(at + n)]
    }

    /// Everything not read yet.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { at = end }
        return bytes[at..<end]
    }

    /// Throws unless every byte has been read.
    public func expectEnd(_ what: String) throws(WireError) {
        guard isAtEnd else { throw .badMessage("\(remaining) bytes after \(what)") }
    }
}

extension WireError {
    /// What is wrong, without the kind of error in front.
    public var reason: String {
        switch self {
        case .badFrame(let why), .badMessage(let why), .versionMismatch(let why), .unexpected(let why): why
        }
    }
}

import AsyncPatterns

/// A viewer's `show` as JSON: `{"order":"mailbox","first":96,"offset":0,"everyUpTo":1000,"named":["x"]}`
/// (`offset` may be left out: 0).
/// Decoding is validation, as for every message an agent reads: an order that is no column,
/// a row count that is negative, fractional or past `largestRows`, more than `mostNamed`
/// names or a name past `longestName` bytes are refused with the reason, so nothing a
/// hostile viewer asks can make the agent hold or compare more than a screen needs.
extension ActorQuery: Codable {
    /// The most rows (`first`, `offset`, `everyUpTo`) a viewer may ask for: 2^20. A screen
    /// asks for its height from where it is scrolled to; a viewer of a program with more
    /// actors scrolls no further.
    public static let largestRows = 1 << 20
    /// The most actors a query may name (each is compared with every actor's name).
    public static let mostNamed = 16
    /// The longest name a query may hold, in UTF-8 bytes.
    public static let longestName = 1024

    enum Key: String, CodingKey { case order, first, offset, everyUpTo, named }

    /// The order's word on the wire: its case name (`name`, `mailbox`, `processed`, `rate`,
    /// `p99`, `deadLetters`).
    public static func word(_ order: ActorOrder) -> String { "\(order)" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func impossible(_ key: Key, _ what: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: "impossible actor query: \(what)")
        }
        let word = try c.decode(String.self, forKey: .order)
        guard let order = ActorOrder.allCases.first(where: { Self.word($0) == word }) else {
            let words = ActorOrder.allCases.map(Self.word).joined(separator: ", ")
            throw impossible(.order, "no column '\(word.prefix(64))' (the columns: \(words))")
        }
        func rows(_ key: Key) throws -> Int {
            // Read as a double, so that 1e30 is refused for its size, not as "not JSON".
            let value = try c.decode(Double.self, forKey: key)
            guard value.rounded() == value, (0...Double(Self.largestRows)).contains(value) else {
                let said = value.rounded() == value && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
                throw impossible(key, "\(key.stringValue) \(said) is not a row count in 0...\(Self.largestRows)")
            }
            return Int(value)
        }
        let first = try rows(.first)
        let offset = try c.contains(.offset) ? rows(.offset) : 0
        let everyUpTo = try rows(.everyUpTo)
        let named = try c.decode([String].self, forKey: .named)
        guard named.count <= Self.mostNamed else {
            throw impossible(.named, "\(named.count) names, at most \(Self.mostNamed)")
        }
        guard let long = named.first(where: { $0.utf8.count > Self.longestName }) else {
            self.init(order: order, first: first, offset: offset, everyUpTo: everyUpTo, named: named)
            return
        }
        throw impossible(.named, "a name of \(long.utf8.count) bytes, at most \(Self.longestName)")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(Self.word(order), forKey: .order)
        try c.encode(first, forKey: .first)
        try c.encode(offset, forKey: .offset)
        try c.encode(everyUpTo, forKey: .everyUpTo)
        try c.encode(named, forKey: .named)
    }

    /// This query as a viewer may send it: rows and names within what an agent reads.
    public var withinWireLimits: ActorQuery {
        ActorQuery(
            order: order, first: min(first, Self.largestRows), offset: min(offset, Self.largestRows),
            everyUpTo: min(max(0, everyUpTo), Self.largestRows),
            named: Array(named.filter { $0.utf8.count <= Self.longestName }.prefix(Self.mostNamed)))
    }
}

/// Totals travel in the binary `screen` message; JSON only because `AgentMessage` is
/// `Codable` (a `screen` in JSON is refused, as a snapshot is).
extension ActorTotals: Codable {
    enum Key: String, CodingKey { case count, processed, failed, deadLetters, offset, listedBefore }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init()
        count = try c.decode(Int.self, forKey: .count)
        processed = try c.decode(Int.self, forKey: .processed)
        failed = try c.decode(Int.self, forKey: .failed)
        deadLetters = try c.decode(Int.self, forKey: .deadLetters)
        offset = try c.decodeIfPresent(Int.self, forKey: .offset) ?? 0
        listedBefore = try c.decodeIfPresent(Int.self, forKey: .listedBefore) ?? 0
        guard
            let (key, value) = [
                (Key.count, count), (.processed, processed), (.failed, failed), (.deadLetters, deadLetters), (.offset, offset),
                (.listedBefore, listedBefore),
            ]
            .first(where: { !(0...WireReader.largestInt).contains($0.1) })
        else { return }
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "impossible \(key.stringValue): \(value)")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(count, forKey: .count)
        try c.encode(processed, forKey: .processed)
        try c.encode(failed, forKey: .failed)
        try c.encode(deadLetters, forKey: .deadLetters)
        try c.encode(offset, forKey: .offset)
        try c.encode(listedBefore, forKey: .listedBefore)
    }
}

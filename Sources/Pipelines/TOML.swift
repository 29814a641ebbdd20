/// Where something is in a file: 1-based line and column (columns count characters).
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1.
    public var column: Int

    /// A position.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }

    /// Whether `a` comes before `b` in the file.
    public static func < (a: Self, b: Self) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// A value read from a TOML document, with where it starts.
public struct TOMLNode: Sendable {
    /// What the value is.
    public enum Value: Sendable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case array([TOMLNode])
        case table(TOMLTable)
    }

    /// The value.
    public var value: Value
    /// Where the value starts.
    public var position: SourcePosition

    /// What kind of value it is, for messages ("a string", "a table").
    public var kindName: String {
        switch value {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in the order the file gives them, each with its value and the
/// position of the key itself (where a message about the key points).
public struct TOMLTable: Sendable {
    /// The keys, in file order.
    public private(set) var keys: [String] = []
    private var values: [String: TOMLNode] = [:]
    private var keyPositions: [String: SourcePosition] = [:]
    /// Where the table starts (its header, or its opening brace).
    public var position: SourcePosition

    /// An empty table starting at `position`.
    public init(position: SourcePosition) { self.position = position }

    /// The value under `key`.
    public subscript(key: String) -> TOMLNode? { values[key] }

    /// Where `key` is written (the table's own position if it is not there).
    public func position(ofKey key: String) -> SourcePosition { keyPositions[key] ?? position }

    /// Moves the value under `key` out (the key keeps its place), so the caller can change
    /// it in place and `set` it back without copying it.
    mutating func take(_ key: String) -> TOMLNode? { values.removeValue(forKey: key) }

    mutating func set(_ key: String, _ node: TOMLNode, at position: SourcePosition) {
        if keyPositions[key] == nil { keys.append(key) }
        values[key] = node
        keyPositions[key] = position
    }
}

/// A TOML syntax error, with where it is and what was expected there.
public struct TOMLError: Error, Sendable, Equatable {
    /// Where the parser stopped.
    public var position: SourcePosition
    /// What was wrong, and what was expected.
    public var message: String
}

/// A parser for the part of TOML 1.0 that pipeline files use: comments, bare, quoted and
/// dotted keys, `[tables]` and `[[arrays of tables]]`, basic and literal strings (one
/// line), integers, floats, booleans, arrays (over several lines) and inline tables. Dates
/// and multi-line strings are refused with a message saying so. Every value keeps its line
/// and column, so errors found after parsing (a link to nothing) point into the file.
public enum TOMLParser {
    /// Parses `text`. - Throws: `TOMLError` at the first problem.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(Array(text.unicodeScalars))
        return try parser.document()
    }
}

private struct Parser {
    let chars: [Unicode.Scalar]
    var index = 0
    var line = 1
    var column = 1
    /// Arrays and inline tables open now: bounded, so a hostile file cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 32

    init(_ chars: [Unicode.Scalar]) { self.chars = chars }

    var position: SourcePosition { SourcePosition(line: line, column: column) }
    var atEnd: Bool { index >= chars.count }
    var current: Unicode.Scalar? { atEnd ? nil : chars[index] }

    mutating func advance() {
        guard let c = current else { return }
        index += 1
        if c == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    func fail(_ message: String, at position: SourcePosition? = nil) -> TOMLError {
        TOMLError(position: position ?? self.position, message: message)
    }

    /// What `current` is, for messages.
    var found: String {
        guard let c = current else { return "the end of the file" }
        switch c {
        case "\n": return "the end of the line"
        case "\r": return "a carriage return"
        default: return "'\(Character(c))'"
        }
    }

    mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" { advance() }
    }

    /// Skips spaces and a comment up to (not past) the end of the line.
    mutating func skipSpacesAndComment() {
        skipSpaces()
        if current == "#" { while let c = current, c != "\n" { advance() } }
    }

    /// Skips blank lines, comments and spaces (inside arrays, between statements).
    mutating func skipWhitespaceAndNewlines() {
        while true {
            skipSpacesAndComment()
            if current == "\n" {
                advance()
            } else if current == "\r", index + 1 < chars.count, chars[index + 1] == "\n" {
                advance()
                advance()
            } else {
                return
            }
        }
    }

    mutating func endOfLine() throws(TOMLError) {
        skipSpacesAndComment()
        if current == "\r" { advance() }
        guard atEnd || current == "\n" else {
            throw fail("expected the end of the line (or a # comment) after the value, found \(found)")
        }
    }

    mutating func document() throws(TOMLError) -> TOMLTable {
        var root = TOMLTable(position: SourcePosition(line: 1, column: 1))
        // The table that `key = value` lines go into, as a path from the root; for an array
        // of tables the path's last step is its newest element.
        var path: [PathStep] = []
        var defined: Set<[String]> = []
        while true {
            skipWhitespaceAndNewlines()
            guard !atEnd else { return root }
            let start = position
            if current == "[" {
                advance()
                let isArray = current == "["
                if isArray { advance() }
                skipSpaces()
                let keys = try dottedKey()
                skipSpaces()
                guard current == "]" else { throw fail("expected ']' to end the table header, found \(found)") }
                advance()
                if isArray {
                    guard current == "]" else { throw fail("expected ']]' to end the array-of-tables header, found \(found)") }
                    advance()
                }
                try endOfLine()
                let names = keys.map(\.name)
                if isArray {
                    path = try Self.appendTable(to: &root, at: keys, start: start)
                } else {
                    guard !defined.contains(names) else {
                        throw fail("the table [\(names.joined(separator: "."))] is defined twice", at: start)
                    }
                    defined.insert(names)
                    path = try Self.openTable(in: &root, at: keys, start: start)
                }
            } else {
                let keys = try dottedKey()
                skipSpaces()
                guard current == "=" else {
                    throw fail("expected '=' after the key '\(keys.map(\.name).joined(separator: "."))', found \(found)")
                }
                advance()
                skipSpaces()
                let value = try self.value()
                try endOfLine()
                try Self.assign(value, to: keys, in: &root, under: path)
            }
        }
    }

    struct Key {
        var name: String
        var position: SourcePosition
    }

    enum PathStep {
        case key(String)
        case lastElement(String)
    }

    mutating func dottedKey() throws(TOMLError) -> [Key] {
        var keys = [try simpleKey()]
        while true {
            skipSpaces()
            guard current == "." else { return keys }
            advance()
            skipSpaces()
            keys.append(try simpleKey())
        }
    }

    mutating func simpleKey() throws(TOMLError) -> Key {
        let start = position
        if current == "\"" || current == "'" {
            guard case .string(let s) = try string().value else { preconditionFailure("string() returns strings") }
            return Key(name: s, position: start)
        }
        var name = ""
        while let c = current, c.properties.isAlphabetic && c.isASCII || ("0"..."9").contains(c) || c == "_" || c == "-" {
            name.unicodeScalars.append(c)
            advance()
        }
        guard !name.isEmpty else { throw fail("expected a key (letters, digits, _ or -, or a quoted string), found \(found)") }
        return Key(name: name, position: start)
    }

    // MARK: values

    mutating func value() throws(TOMLError) -> TOMLNode {
        let start = position
        guard let c = current else { throw fail("expected a value after '=', found the end of the file") }
        switch c {
        case "\"", "'": return try string()
        case "[": return try array()
        case "{": return try inlineTable()
        case "t", "f": return try boolean()
        case "\n", "\r", "#": throw fail("expected a value after '=', found \(found)")
        default:
            var text = ""
            while let c = current, !" \t\n\r,]}#".unicodeScalars.contains(c) {
                text.unicodeScalars.append(c)
                advance()
            }
            guard let node = Self.number(text, at: start) else {
                let unsigned = text.drop { $0 == "+" || $0 == "-" }
                if unsigned.count > 1, unsigned.first == "0", unsigned.dropFirst().first?.isNumber == true {
                    throw fail("'\(text)': numbers have no leading zeros in TOML", at: start)
                }
                if text.contains(":") || text.filter({ $0 == "-" }).count >= 2 {
                    throw fail("dates and times are not supported here: write a duration as a string such as \"20ms\"", at: start)
                }
                throw fail("expected a value (a number, \"a string\", true/false, [an array] or {a table}), found '\(text)'", at: start)
            }
            return node
        }
    }

    static func number(_ raw: String, at position: SourcePosition) -> TOMLNode? {
        guard !raw.isEmpty, !raw.hasPrefix("_"), !raw.hasSuffix("_"), !raw.contains("__") else { return nil }
        let text = raw.filter { $0 != "_" }
        switch text {
        case "inf", "+inf": return TOMLNode(value: .float(.infinity), position: position)
        case "-inf": return TOMLNode(value: .float(-.infinity), position: position)
        case "nan", "+nan", "-nan": return TOMLNode(value: .float(.nan), position: position)
        default: break
        }
        let digits = text.drop { $0 == "+" || $0 == "-" }
        guard let first = digits.first, first.isASCII, first.isNumber else { return nil }
        if digits.count > 1, first == "0", digits.dropFirst().first?.isNumber == true { return nil }  // leading zeros
        if let int = Int(text) { return TOMLNode(value: .integer(int), position: position) }
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }), let double = Double(text) else { return nil }
        return TOMLNode(value: .float(double), position: position)
    }

    mutating func boolean() throws(TOMLError) -> TOMLNode {
        let start = position
        var word = ""
        while let c = current, c.properties.isAlphabetic {
            word.unicodeScalars.append(c)
            advance()
        }
        switch word {
        case "true": return TOMLNode(value: .bool(true), position: start)
        case "false": return TOMLNode(value: .bool(false), position: start)
        default: throw fail("expected a value, found '\(word)' (strings need quotes: \"\(word)\")", at: start)
        }
    }

    mutating func string() throws(TOMLError) -> TOMLNode {
        let start = position
        let quote = current!
        advance()
        if current == quote, index + 1 < chars.count, chars[index + 1] == quote {
            throw fail(
                "multi-line strings (\(String(repeating: Character(quote), count: 3))) are not supported here: use one line", at: start)
        }
        var text = ""
        while true {
            guard let c = current, c != "\n" else { throw fail("this string has no closing \(Character(quote))", at: start) }
            advance()
            if c == quote { return TOMLNode(value: .string(text), position: start) }
            if c == "\\", quote == "\"" {
                let escapeAt = position
                guard let e = current else { throw fail("this string has no closing \"", at: start) }
                advance()
                switch e {
                case "n": text += "\n"
                case "t": text += "\t"
                case "r": text += "\r"
                case "\"": text += "\""
                case "\\": text += "\\"
                case "b": text += "\u{08}"
                case "f": text += "\u{0C}"
                case "u", "U":
                    let count = e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<count {
                        guard let h = current, h.properties.isASCIIHexDigit else {
                            throw fail("expected \(count) hex digits after \\\(Character(e))", at: escapeAt)
                        }
                        hex.unicodeScalars.append(h)
                        advance()
                    }
                    guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw fail("\\\(Character(e))\(hex) is not a Unicode scalar", at: escapeAt)
                    }
                    text.unicodeScalars.append(scalar)
                default:
                    throw fail("unknown escape '\\\(Character(e))' (use \\\\ for a backslash)", at: escapeAt)
                }
            } else {
                text.unicodeScalars.append(c)
            }
        }
    }

    mutating func array() throws(TOMLError) -> TOMLNode {
        let start = position
        try enter()
        defer { depth -= 1 }
        advance()
        var items: [TOMLNode] = []
        while true {
            skipWhitespaceAndNewlines()
            if current == "]" {
                advance()
                return TOMLNode(value: .array(items), position: start)
            }
            guard !atEnd else { throw fail("this array has no closing ']'", at: start) }
            items.append(try value())
            skipWhitespaceAndNewlines()
            guard !atEnd else { throw fail("this array has no closing ']'", at: start) }
            if current == "," {
                advance()
            } else if current != "]" {
                throw fail("expected ',' or ']' in the array, found \(found)")
            }
        }
    }

    mutating func inlineTable() throws(TOMLError) -> TOMLNode {
        let start = position
        try enter()
        defer { depth -= 1 }
        advance()
        var table = TOMLTable(position: start)
        skipSpaces()
        if current == "}" {
            advance()
            return TOMLNode(value: .table(table), position: start)
        }
        while true {
            skipSpaces()
            if current == "\n" || current == "\r" || atEnd {
                throw fail("an inline table { ... } stays on one line: close it with '}' before the end of the line")
            }
            let keys = try dottedKey()
            skipSpaces()
            guard current == "=" else {
                throw fail("expected '=' after the key '\(keys.map(\.name).joined(separator: "."))', found \(found)")
            }
            advance()
            skipSpaces()
            let value = try self.value()
            try Self.assign(value, to: keys, in: &table, under: [])
            skipSpaces()
            if current == "," {
                advance()
            } else if current == "}" {
                advance()
                return TOMLNode(value: .table(table), position: start)
            } else if current == "\n" || current == "\r" || atEnd {
                throw fail("an inline table { ... } stays on one line: close it with '}' before the end of the line")
            } else {
                throw fail("expected ',' or '}' in the inline table, found \(found)")
            }
        }
    }

    mutating func enter() throws(TOMLError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw fail("arrays and inline tables nest at most \(Self.maximumDepth) deep here")
        }
    }

    // MARK: building tables

    /// Sets `keys` (dotted) to `value` inside the table at `path`.
    static func assign(_ value: TOMLNode, to keys: [Key], in root: inout TOMLTable, under path: [PathStep]) throws(TOMLError) {
        try withTable(at: path, in: &root) { (table: inout TOMLTable) throws(TOMLError) in
            try assign(value, keys: keys[...], in: &table)
        }
    }

    static func assign(_ value: TOMLNode, keys: ArraySlice<Key>, in table: inout TOMLTable) throws(TOMLError) {
        let key = keys.first!
        if keys.count == 1 {
            guard table[key.name] == nil else {
                throw TOMLError(position: key.position, message: "the key '\(key.name)' is set twice in this table")
            }
            table.set(key.name, value, at: key.position)
            return
        }
        var inner: TOMLTable
        switch table[key.name]?.value {
        case nil: inner = TOMLTable(position: key.position)
        case .table(let t): inner = t
        default: throw TOMLError(position: key.position, message: "the key '\(key.name)' already holds a value, not a table")
        }
        try assign(value, keys: keys.dropFirst(), in: &inner)
        table.set(key.name, TOMLNode(value: .table(inner), position: inner.position), at: key.position)
    }

    /// Runs `body` on the table at `path`, writing it back. Each table on the way is moved
    /// out of its parent while `body` runs, so nothing is copied (a file of many tables
    /// parses in linear time).
    static func withTable(
        at path: [PathStep], in root: inout TOMLTable, _ body: (inout TOMLTable) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        try withTable(at: path[...], in: &root, body)
    }

    static func withTable(
        at path: ArraySlice<PathStep>, in root: inout TOMLTable, _ body: (inout TOMLTable) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        guard let step = path.first else { return try body(&root) }
        let rest = path.dropFirst()
        switch step {
        case .key(let name):
            let keyPosition = root.position(ofKey: name)
            guard case .table(var inner)? = root.take(name)?.value else { preconditionFailure("path leads through tables") }
            defer { root.set(name, TOMLNode(value: .table(inner), position: inner.position), at: keyPosition) }
            try withTable(at: rest, in: &inner, body)
        case .lastElement(let name):
            let keyPosition = root.position(ofKey: name)
            guard var node = root.take(name), case .array(var items) = node.value else {
                preconditionFailure("path leads through arrays of tables")
            }
            let position = node.position
            node.value = .bool(false)  // lets go of the array, so `items` changes in place
            guard case .table(var inner)? = items.popLast()?.value else { preconditionFailure("path leads through arrays of tables") }
            defer {
                items.append(TOMLNode(value: .table(inner), position: inner.position))
                root.set(name, TOMLNode(value: .array(items), position: position), at: keyPosition)
            }
            try withTable(at: rest, in: &inner, body)
        }
    }

    /// The path to `[a.b.c]`, creating the tables on the way.
    static func openTable(in root: inout TOMLTable, at keys: [Key], start: SourcePosition) throws(TOMLError) -> [PathStep] {
        var path: [PathStep] = []
        for (i, key) in keys.enumerated() {
            let isLast = i == keys.count - 1
            var failure: TOMLError?
            var step = PathStep.key(key.name)
            try withTable(at: path, in: &root) { (table: inout TOMLTable) throws(TOMLError) in
                switch table[key.name]?.value {
                case nil:
                    table.set(key.name, TOMLNode(value: .table(TOMLTable(position: start)), position: start), at: key.position)
                case .table: break
                case .array(let items) where !isLast && items.last.map({ if case .table = $0.value { true } else { false } }) == true:
                    step = .lastElement(key.name)
                default:
                    failure = TOMLError(position: key.position, message: "the key '\(key.name)' already holds a value, not a table")
                }
            }
            if let failure { throw failure }
            path.append(step)
        }
        return path
    }

    /// The path to a new element of `[[a.b]]`.
    static func appendTable(to root: inout TOMLTable, at keys: [Key], start: SourcePosition) throws(TOMLError) -> [PathStep] {
        var path = try openTable(in: &root, at: Array(keys.dropLast()), start: start)
        let key = keys.last!
        var failure: TOMLError?
        try withTable(at: path, in: &root) { (table: inout TOMLTable) throws(TOMLError) in
            // Moved out, appended to and put back: no copy of the tables already there.
            let keyPosition = table[key.name] == nil ? key.position : table.position(ofKey: key.name)
            var items: [TOMLNode] = []
            var position = start
            if let existing = table.take(key.name) {
                guard case .array(let list) = existing.value, list.last.map({ if case .table = $0.value { true } else { false } }) ?? true
                else {
                    table.set(key.name, existing, at: keyPosition)
                    failure = TOMLError(position: key.position, message: "'\(key.name)' is already a value, not an array of tables")
                    return
                }
                items = list
                position = existing.position
            }
            items.append(TOMLNode(value: .table(TOMLTable(position: start)), position: start))
            table.set(key.name, TOMLNode(value: .array(items), position: position), at: keyPosition)
        }
        if let failure { throw failure }
        path.append(.lastElement(key.name))
        return path
    }
}

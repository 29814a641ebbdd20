import AsyncPatterns
import Foundation
import Scenarios

/// What is wrong with a pipeline file: where (file, line, column) and what was expected.
/// `sluice run` and `sluice check` print each and exit with status 65.
public struct PipelineFileError: Error, Sendable, CustomStringConvertible {
    /// One problem.
    public struct Problem: Sendable, Equatable {
        /// Where the problem is.
        public var position: SourcePosition
        /// What was wrong, and what was expected.
        public var message: String
    }

    /// The file as named on the command line.
    public var file: String
    /// Every problem found, in file order (a syntax error stops at the first), up to
    /// `SpecReader.shown`.
    public var problems: [Problem]
    /// Problems found beyond those listed.
    public var more = 0

    /// `file:line:column: message`, one line per problem.
    public var description: String {
        (problems.map { "\(file):\($0.position.line):\($0.position.column): \($0.message)" }
            + (more > 0 ? ["\(file): and \(more) more problems"] : [])).joined(separator: "\n")
    }
}

extension PipelineSpec {
    /// Reads and checks the file at `path`.
    /// - Throws: `PipelineFileError` (line 1, column 1 when the file cannot be read).
    public static func load(path: String) throws(PipelineFileError) -> PipelineSpec {
        let text: String
        func refuse(_ message: String) -> PipelineFileError {
            PipelineFileError(file: path, problems: [.init(position: .init(line: 1, column: 1), message: message)])
        }
        // A pipeline is a small text file: a device (/dev/zero), a directory or something huge
        // is refused before it is read, so a wrong path can never hang or exhaust memory.
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path) {
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw refuse("not a regular file: expected a pipeline file (TOML)")
            }
            if let size = attributes[.size] as? Int, size > 1 << 20 {
                throw refuse("\(size) bytes is too big for a pipeline file (at most 1 MiB)")
            }
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else { throw refuse("not UTF-8 text") }
            text = decoded
        } catch let error as PipelineFileError {
            throw error
        } catch {
            throw PipelineFileError(
                file: path,
                problems: [.init(position: .init(line: 1, column: 1), message: "cannot read the file: \(error.localizedDescription)")])
        }
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(text, file: path, defaultName: base)
    }

    /// Parses and checks a pipeline file's text.
    /// - Parameters:
    ///   - file: the name errors carry.
    ///   - defaultName: the pipeline's name when the file has no `name`.
    /// - Throws: `PipelineFileError` listing every problem found.
    public static func parse(_ text: String, file: String, defaultName: String = "pipeline") throws(PipelineFileError) -> PipelineSpec {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text)
        } catch {
            throw PipelineFileError(file: file, problems: [.init(position: error.position, message: error.message)])
        }
        var reader = SpecReader()
        let spec = reader.read(root, defaultName: defaultName)
        guard reader.problems.isEmpty, let spec else {
            throw PipelineFileError(file: file, problems: reader.problems.sorted { $0.position < $1.position }, more: reader.more)
        }
        return spec
    }
}

/// Turns a parsed document into a spec, collecting every problem it finds.
private struct SpecReader {
    var problems: [PipelineFileError.Problem] = []
    /// Problems found after the first `shown`: counted, not kept (a hostile file with
    /// thousands of them gets its answer at once).
    var more = 0
    static let shown = 100
    /// Each stage's kind by name, once the stages are read.
    var kinds: [String: StageKind] = [:]

    mutating func problem(_ position: SourcePosition, _ message: String) {
        guard problems.count < Self.shown else {
            more += 1
            return
        }
        problems.append(.init(position: position, message: message))
    }

    static let topLevelKeys = ["name", "summary", "explanation", "seed_duration", "knobs"] + StageKind.allCases.map(\.rawValue)

    mutating func read(_ root: TOMLTable, defaultName: String) -> PipelineSpec? {
        for key in root.keys where !Self.topLevelKeys.contains(key) {
            if case .array = root[key]!.value {
                problem(
                    root.position(ofKey: key),
                    "unknown stage kind '\(key)': expected one of \(StageKind.allCases.map { "[[\($0.rawValue)]]" }.joined(separator: ", "))"
                )
            } else {
                problem(root.position(ofKey: key), "unknown key '\(key)': expected one of \(Self.topLevelKeys.joined(separator: ", "))")
            }
        }
        var spec = PipelineSpec(
            name: string(root, "name") ?? defaultName, summary: string(root, "summary") ?? "a pipeline from a file",
            explanation: string(root, "explanation") ?? "", seedDuration: duration(root, "seed_duration") ?? 10,
            sources: [], queues: [], pools: [], semaphores: [], actors: [], knobs: [])
        if let name = root["name"], !isValidName(spec.name) {
            problem(name.position, "the name '\(spec.name)' may hold only letters, digits, '-' and '_'")
        }
        var seen: [String: SourcePosition] = [:]
        for kind in StageKind.allCases {
            for table in stages(root, kind) {
                guard let name = stageName(table, kind) else { continue }
                if let first = seen[name] {
                    problem(table["name"]!.position, "the name '\(name)' is already used by the stage at line \(first.line)")
                    continue
                }
                seen[name] = table["name"]!.position
                switch kind {
                case .source: source(table, name).map { spec.sources.append($0) }
                case .queue: queue(table, name).map { spec.queues.append($0) }
                case .pool: pool(table, name).map { spec.pools.append($0) }
                case .semaphore: semaphore(table, name).map { spec.semaphores.append($0) }
                case .actor: actor(table, name).map { spec.actors.append($0) }
                }
            }
        }
        if spec.sources.isEmpty, spec.queues.isEmpty, spec.pools.isEmpty, spec.actors.isEmpty, problems.isEmpty {
            problem(root.position, "no stages: declare at least a [[source]] and where it sends its items")
        }
        guard problems.isEmpty else { return nil }
        for kind in StageKind.allCases { for name in stageNames(spec, kind) { kinds[name] = kind } }
        checkLinks(spec, root)
        if let knobs = root["knobs"] { spec.knobs = self.knobs(knobs, spec) }
        return problems.isEmpty ? spec : nil
    }

    // MARK: stages

    mutating func stages(_ root: TOMLTable, _ kind: StageKind) -> [TOMLTable] {
        guard let node = root[kind.rawValue] else { return [] }
        guard case .array(let items) = node.value else {
            problem(node.position, "'\(kind.rawValue)' must be written as [[\(kind.rawValue)]] tables (one per \(kind.rawValue))")
            return []
        }
        return items.compactMap { item in
            guard case .table(let t) = item.value else {
                problem(item.position, "each \(kind.rawValue) must be a table, found \(item.kindName)")
                return nil
            }
            return t
        }
    }

    mutating func stageName(_ table: TOMLTable, _ kind: StageKind) -> String? {
        guard table["name"] != nil else {
            problem(table.position, "this \(kind.rawValue) has no name: add name = \"...\"")
            return nil
        }
        guard let name = string(table, "name") else { return nil }
        guard isValidName(name) else {
            problem(table["name"]!.position, "the name '\(name)' may hold only letters, digits, '-' and '_' (knobs are named stage.field)")
            return nil
        }
        return name
    }

    func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            }
    }

    mutating func allowOnly(_ table: TOMLTable, _ keys: [String], in what: String) {
        for key in table.keys where !keys.contains(key) {
            problem(table.position(ofKey: key), "unknown field '\(key)' in \(what): expected one of \(keys.joined(separator: ", "))")
        }
    }

    mutating func source(_ t: TOMLTable, _ name: String) -> SourceSpec? {
        allowOnly(t, ["name", "rate", "arrivals", "burst", "items", "to"], in: "source '\(name)'")
        let rate = number(t, "rate", required: true, in: 0...1_000_000, what: "items per second")
        var arrivals = Arrivals.poisson
        switch string(t, "arrivals") {
        case nil, "poisson": arrivals = .poisson
        case "constant": arrivals = .constant
        case "bursty":
            if let size = integer(t, "burst", in: 1...1_000_000, what: "items per burst") {
                arrivals = .bursty(size: size)
            } else if t["burst"] == nil {
                problem(t.position(ofKey: "arrivals"), "bursty arrivals need burst = N (items per burst)")
            }
        case let other?:
            problem(t["arrivals"]!.position, "unknown arrivals '\(other)': expected \"constant\", \"poisson\" or \"bursty\"")
        }
        if t["burst"] != nil, arrivals != .bursty(size: integer(t, "burst", in: 1...1_000_000, what: "") ?? -1),
            string(t, "arrivals") != "bursty"
        {
            problem(t.position(ofKey: "burst"), "burst goes with arrivals = \"bursty\"")
        }
        let items = integer(t, "items", in: 1...Int.max, what: "items to emit")
        let to = string(t, "to", required: true)
        guard let rate, let to else { return nil }
        return SourceSpec(name: name, rate: rate, arrivals: arrivals, items: items, to: to, position: t.position)
    }

    mutating func queue(_ t: TOMLTable, _ name: String) -> QueueSpec? {
        allowOnly(t, ["name", "capacity", "low_water"], in: "queue '\(name)'")
        guard let capacity = integer(t, "capacity", required: true, in: 1...10_000_000, what: "items it holds") else { return nil }
        var lowWater: Int?
        if t["low_water"] != nil {
            lowWater = integer(t, "low_water", in: 1...max(1, capacity), what: "a depth from 1 to the capacity (\(capacity))")
        }
        return QueueSpec(name: name, capacity: capacity, lowWater: lowWater, position: t.position)
    }

    mutating func pool(_ t: TOMLTable, _ name: String) -> PoolSpec? {
        allowOnly(
            t, ["name", "from", "workers", "service", "failure", "retries", "semaphore", "to", "feedback"], in: "pool '\(name)'")
        let from = string(t, "from", required: true)
        let workers = integer(t, "workers", required: true, in: 0...100_000, what: "workers")
        let service = serviceTime(t, "service", required: true)
        let failure = fraction(t, "failure") ?? 0
        let retries = integer(t, "retries", in: 0...100, what: "retries") ?? 0
        let semaphore = string(t, "semaphore")
        let to = string(t, "to")
        var feedback: PoolSpec.Feedback?
        if let node = t["feedback"] {
            if case .table(let f) = node.value {
                allowOnly(f, ["to", "chance"], in: "feedback")
                let target = string(f, "to", required: true)
                let chance = number(f, "chance", required: true, in: 0...1, what: "a chance from 0 to 1")
                if let chance, chance >= 1 {
                    problem(
                        f["chance"]!.position,
                        "a feedback chance of \(formatDecimal(chance)) never lets an item leave the loop: use less than 1")
                }
                if let target, let chance, chance < 1 { feedback = .init(to: target, chance: chance) }
            } else {
                problem(node.position, "feedback must be a table such as { to = \"frontier\", chance = 0.3 }, found \(node.kindName)")
            }
        }
        guard let from, let workers, let service else { return nil }
        return PoolSpec(
            name: name, from: from, workers: workers, service: service, failure: failure, retries: retries, semaphore: semaphore, to: to,
            feedback: feedback, position: t.position)
    }

    mutating func semaphore(_ t: TOMLTable, _ name: String) -> SemaphoreSpec? {
        allowOnly(t, ["name", "permits"], in: "semaphore '\(name)'")
        guard let permits = integer(t, "permits", required: true, in: 0...100_000, what: "permits") else { return nil }
        return SemaphoreSpec(name: name, permits: permits, position: t.position)
    }

    mutating func actor(_ t: TOMLTable, _ name: String) -> ActorSpec? {
        allowOnly(t, ["name", "mailbox", "service", "to"], in: "actor '\(name)'")
        let mailbox = integer(t, "mailbox", in: 1...10_000_000, what: "messages its mailbox holds")
        let service = serviceTime(t, "service", required: false)
        var to: [String] = []
        if let node = t["to"] {
            switch node.value {
            case .string(let s): to = [s]
            case .array(let items):
                for item in items {
                    if case .string(let s) = item.value {
                        to.append(s)
                    } else {
                        problem(item.position, "expected a stage's name as a string, found \(item.kindName)")
                    }
                }
            default: problem(node.position, "'to' of an actor is a name or a list of names (fan-out), found \(node.kindName)")
            }
        }
        return ActorSpec(name: name, mailbox: mailbox, service: service, to: to, position: t.position)
    }

    // MARK: links

    mutating func checkLinks(_ spec: PipelineSpec, _ root: TOMLTable) {
        func phrase(_ kinds: Set<StageKind>) -> String {
            kinds.map(\.rawValue).sorted().map { ($0 == "actor" ? "an " : "a ") + $0 }.joined(separator: " or ")
        }
        func expect(_ name: String, _ kinds: Set<StageKind>, at position: SourcePosition, _ what: String) {
            guard let kind = self.kinds[name] else {
                var names = kinds.flatMap { k in stageNames(spec, k) }.sorted()
                if names.count > 12 { names = names.prefix(12) + ["..."] }
                problem(
                    position,
                    "\(what) '\(name)' links to nothing: expected the name of \(phrase(kinds))\(names.isEmpty ? "" : " (declared: \(names.joined(separator: ", ")))")"
                )
                return
            }
            if !kinds.contains(kind) {
                problem(position, "\(what) '\(name)' is \(phrase([kind])): expected \(phrase(kinds))")
            }
        }
        let stageTables = Dictionary(
            uniqueKeysWithValues: StageKind.allCases.flatMap { kind -> [(String, TOMLTable)] in
                guard case .array(let items)? = root[kind.rawValue]?.value else { return [] }
                return items.compactMap { item in
                    guard case .table(let t) = item.value, case .string(let n)? = t["name"]?.value else { return nil }
                    return (n, t)
                }
            })
        func at(_ stage: String, _ key: String) -> SourcePosition {
            stageTables[stage].map { $0[key]?.position ?? $0.position } ?? SourcePosition(line: 1, column: 1)
        }
        for s in spec.sources { expect(s.to, [.queue, .actor], at: at(s.name, "to"), "to") }
        var servedBy: [String: String] = [:]
        for p in spec.pools {
            expect(p.from, [.queue], at: at(p.name, "from"), "from")
            if let other = servedBy[p.from] {
                problem(at(p.name, "from"), "queue '\(p.from)' is already served by pool '\(other)': give each pool a queue of its own")
            }
            servedBy[p.from] = p.name
            if let to = p.to { expect(to, [.queue, .actor], at: at(p.name, "to"), "to") }
            if let s = p.semaphore { expect(s, [.semaphore], at: at(p.name, "semaphore"), "semaphore") }
            if let f = p.feedback {
                let position =
                    stageTables[p.name].flatMap { t -> SourcePosition? in
                        guard case .table(let ft)? = t["feedback"]?.value else { return nil }
                        return ft["to"]?.position
                    } ?? at(p.name, "feedback")
                expect(f.to, [.queue], at: position, "feedback to")
            }
        }
        for a in spec.actors {
            let positions: [SourcePosition] = {
                guard let node = stageTables[a.name]?["to"] else { return [] }
                if case .array(let items) = node.value { return items.map(\.position) }
                return [node.position]
            }()
            for (i, target) in a.to.enumerated() {
                expect(target, [.queue, .actor], at: i < positions.count ? positions[i] : at(a.name, "to"), "to")
            }
        }
        for q in spec.queues where servedBy[q.name] == nil {
            problem(q.position, "queue '\(q.name)' has no pool taking from it: add a [[pool]] with from = \"\(q.name)\"")
        }
        guard problems.isEmpty else { return }
        // Plain links may not form a cycle: every item would circle for ever. A loop back is
        // written as a pool's `feedback`, which sends on only by chance.
        var next: [String: [(String, SourcePosition)]] = [:]
        for s in spec.sources { next[s.name, default: []].append((s.to, at(s.name, "to"))) }
        for p in spec.pools {
            next[p.from, default: []].append((p.name, at(p.name, "from")))
            if let to = p.to { next[p.name, default: []].append((to, at(p.name, "to"))) }
        }
        for a in spec.actors { for t in a.to { next[a.name, default: []].append((t, at(a.name, "to"))) } }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ node: String) -> Bool {
            state[node] = 1
            stack.append(node)
            for (target, position) in next[node] ?? [] {
                if state[target] == 1 {
                    let loop = stack[stack.lastIndex(of: target)!...] + [target]
                    problem(
                        position,
                        "these links form a cycle: \(loop.joined(separator: " -> ")); items would circle for ever (a loop back is a pool's feedback = { to = ..., chance = ... })"
                    )
                    return false
                }
                if state[target] == nil, !visit(target) { return false }
            }
            stack.removeLast()
            state[node] = 2
            return true
        }
        for node in next.keys.sorted() where state[node] == nil {
            if !visit(node) { break }
        }
    }

    func stageNames(_ spec: PipelineSpec, _ kind: StageKind) -> [String] {
        switch kind {
        case .source: spec.sources.map(\.name)
        case .queue: spec.queues.map(\.name)
        case .pool: spec.pools.map(\.name)
        case .semaphore: spec.semaphores.map(\.name)
        case .actor: spec.actors.map(\.name)
        }
    }

    // MARK: knobs

    mutating func knobs(_ node: TOMLNode, _ spec: PipelineSpec) -> [KnobDeclaration] {
        guard case .table(let table) = node.value else {
            problem(node.position, "knobs must be a table: [knobs] then \"stage.field\" = { min = ..., max = ... }")
            return []
        }
        var result: [KnobDeclaration] = []
        let base = Parameters(spec, knobs: [:])
        for key in table.keys {
            let position = table.position(ofKey: key)
            let value = table[key]!
            // `[knobs]` with `workers.x = ...` unquoted is read as nested tables: accept both.
            var entries: [(String, TOMLNode, SourcePosition)] = []
            if case .table(let inner) = value.value, inner["min"] == nil, inner["max"] == nil, inner["step"] == nil {
                for field in inner.keys { entries.append(("\(key).\(field)", inner[field]!, inner.position(ofKey: field))) }
            } else {
                entries.append((key, value, position))
            }
            for (name, node, at) in entries {
                if let knob = self.knob(name, node, at: at, base) { result.append(knob) }
            }
        }
        return result
    }

    mutating func knob(_ name: String, _ node: TOMLNode, at position: SourcePosition, _ base: Parameters) -> KnobDeclaration? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            problem(position, "a knob is named \"stage.field\" (e.g. \"resizers.workers\"), not '\(name)'")
            return nil
        }
        let (stage, fieldName) = (parts[0], parts[1])
        guard let kind = kinds[stage] else {
            problem(position, "knob '\(name)': there is no stage '\(stage)'")
            return nil
        }
        let fields = KnobField.allCases.filter { $0.kind == kind }
        guard let field = KnobField(rawValue: fieldName), field.kind == kind else {
            problem(
                position,
                "knob '\(name)': a \(kind.rawValue) has \(fields.isEmpty ? "no knobs" : "knobs " + fields.map(\.rawValue).joined(separator: ", ")), not '\(fieldName)'"
            )
            return nil
        }
        var low: Double?
        var high: Double?
        var step: Double?
        switch node.value {
        case .table(let t):
            allowOnly(t, ["min", "max", "step"], in: "knob '\(name)'")
            low = number(t, "min", required: true, in: -.infinity ... .infinity, what: "")
            high = number(t, "max", required: true, in: -.infinity ... .infinity, what: "")
            step = number(t, "step", in: 0 ... .infinity, what: "a step above 0")
            if let s = step, s <= 0 { problem(t["step"]!.position, "knob '\(name)': a step must be above 0") }
        case .array(let items) where items.count == 2:
            low = numberValue(items[0])
            high = numberValue(items[1])
            if low == nil || high == nil { problem(node.position, "knob '\(name)': expected [min, max] as two numbers") }
        default:
            problem(node.position, "knob '\(name)': expected { min = ..., max = ..., step = ... } or [min, max], found \(node.kindName)")
        }
        guard let low, let high else { return nil }
        guard low <= high else {
            problem(position, "knob '\(name)': the range \(formatDecimal(low))...\(formatDecimal(high)) cannot hold: min is above max")
            return nil
        }
        let limits = field.limits
        guard limits.contains(low), limits.contains(high) else {
            problem(
                position,
                "knob '\(name)': the range \(formatDecimal(low))...\(formatDecimal(high)) cannot hold: \(field.summary) must lie in \(formatDecimal(limits.lowerBound))...\(formatDecimal(limits.upperBound))\(field.unit.isEmpty ? "" : " " + field.unit)"
            )
            return nil
        }
        if field.isInteger, low != low.rounded() || high != high.rounded() {
            problem(position, "knob '\(name)': \(field.summary) is a whole number; use whole bounds")
            return nil
        }
        let value = fileValue(base, stage, field)
        guard (low...high).contains(value) else {
            problem(
                position,
                "knob '\(name)': the file sets \(field.rawValue) = \(formatDecimal(value))\(field.unit.isEmpty ? "" : " " + field.unit), outside the range \(formatDecimal(low))...\(formatDecimal(high)) it gives"
            )
            return nil
        }
        let defaultStep: Double = field.isInteger ? 1 : max((high - low) / 20, 0.001)
        return KnobDeclaration(
            name: name, stage: stage, field: field, range: low...high, step: step ?? defaultStep, value: value, position: position)
    }

    /// The file's value of a knob's field, in the knob's unit.
    func fileValue(_ base: Parameters, _ stage: String, _ field: KnobField) -> Double {
        switch field {
        case .rate: base.rate[stage]!
        case .capacity: Double(base.capacity[stage]!)
        case .workers: Double(base.workers[stage]!)
        case .failure: base.failure[stage]! * 100
        case .service: base.service[stage]!.typical * 1000
        case .permits: Double(base.permits[stage]!)
        }
    }

    // MARK: values

    mutating func string(_ t: TOMLTable, _ key: String, required: Bool = false) -> String? {
        guard let node = t[key] else {
            if required { problem(t.position, "missing \(key) = \"...\" (this table needs one)") }
            return nil
        }
        guard case .string(let s) = node.value else {
            problem(node.position, "\(key) must be a string (in quotes), found \(node.kindName)")
            return nil
        }
        return s
    }

    func numberValue(_ node: TOMLNode) -> Double? {
        switch node.value {
        case .integer(let i): Double(i)
        case .float(let d): d.isFinite ? d : nil
        default: nil
        }
    }

    mutating func number(_ t: TOMLTable, _ key: String, required: Bool = false, in range: ClosedRange<Double>, what: String) -> Double? {
        guard let node = t[key] else {
            if required { problem(t.position, "missing \(key) = N\(what.isEmpty ? "" : " (\(what))")") }
            return nil
        }
        guard let value = numberValue(node) else {
            problem(node.position, "\(key) must be a finite number\(what.isEmpty ? "" : " (\(what))"), found \(node.kindName)")
            return nil
        }
        guard range.contains(value) else {
            problem(
                node.position,
                "\(key) = \(formatDecimal(value)) is out of range: expected \(what.isEmpty ? "" : what + " in ")\(formatDecimal(range.lowerBound))...\(formatDecimal(range.upperBound))"
            )
            return nil
        }
        return value
    }

    mutating func integer(_ t: TOMLTable, _ key: String, required: Bool = false, in range: ClosedRange<Int>, what: String) -> Int? {
        guard let node = t[key] else {
            if required { problem(t.position, "missing \(key) = N (\(what))") }
            return nil
        }
        guard case .integer(let value) = node.value else {
            problem(node.position, "\(key) must be a whole number (\(what)), found \(node.kindName)")
            return nil
        }
        guard range.contains(value) else {
            problem(
                node.position,
                "\(key) = \(value) is out of range: expected \(what) in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : String(range.upperBound))"
            )
            return nil
        }
        return value
    }

    /// `0.02` or `"2%"`.
    mutating func fraction(_ t: TOMLTable, _ key: String) -> Double? {
        guard let node = t[key] else { return nil }
        var value: Double?
        switch node.value {
        case .string(let s) where s.hasSuffix("%"): value = Double(s.dropLast()).map { $0 / 100 }
        default: value = numberValue(node)
        }
        guard let value, (0...1).contains(value) else {
            problem(node.position, "\(key) must be a chance from 0 to 1 (e.g. 0.02) or a percentage string (e.g. \"2%\")")
            return nil
        }
        return value
    }

    mutating func duration(_ t: TOMLTable, _ key: String) -> Double? {
        guard let node = t[key] else { return nil }
        return durationValue(node, key)
    }

    mutating func durationValue(_ node: TOMLNode, _ what: String) -> Double? {
        guard case .string(let text) = node.value else {
            problem(node.position, "\(what) must be a duration string such as \"20ms\", \"1.5s\" or \"300us\", found \(node.kindName)")
            return nil
        }
        guard let seconds = parseDurationSeconds(text), seconds > 0 else {
            problem(
                node.position,
                "\(what) '\(text)' is not a duration above zero: expected a number and a unit, e.g. \"20ms\", \"1.5s\", \"300us\", \"2m\"")
            return nil
        }
        return seconds
    }

    /// `service = "20ms"` (fixed) or `{ dist = "fixed" | "exponential" | "lognormal", ... }`.
    mutating func serviceTime(_ t: TOMLTable, _ key: String, required: Bool) -> ServiceTime? {
        guard let node = t[key] else {
            if required {
                problem(
                    t.position,
                    "missing \(key): a time such as \"20ms\", or { dist = \"exponential\", mean = \"20ms\" }, or { dist = \"lognormal\", p50 = \"20ms\", p99 = \"200ms\" }"
                )
            }
            return nil
        }
        if case .string = node.value { return durationValue(node, key).map { .fixed($0) } }
        guard case .table(let d) = node.value else {
            problem(node.position, "\(key) must be a duration string or a table { dist = ..., ... }, found \(node.kindName)")
            return nil
        }
        guard let dist = string(d, "dist") else {
            if d["dist"] == nil {
                problem(d.position, "this distribution has no dist: expected dist = \"fixed\", \"exponential\" or \"lognormal\"")
            }
            return nil
        }
        func need(_ field: String) -> TOMLNode? {
            guard let n = d[field] else {
                problem(d.position, "a \(dist) distribution needs \(field) = \"...\" (a duration such as \"20ms\")")
                return nil
            }
            return n
        }
        switch dist {
        case "fixed":
            allowOnly(d, ["dist", "value"], in: "a fixed distribution")
            guard let n = need("value"), let v = durationValue(n, "value") else { return nil }
            return .fixed(v)
        case "exponential":
            allowOnly(d, ["dist", "mean"], in: "an exponential distribution")
            guard let n = need("mean"), let m = durationValue(n, "mean") else { return nil }
            return .exponential(mean: m)
        case "lognormal", "log-normal":
            allowOnly(d, ["dist", "p50", "p99"], in: "a log-normal distribution")
            let p50 = need("p50").flatMap { durationValue($0, "p50") }
            let p99 = need("p99").flatMap { durationValue($0, "p99") }
            guard let p50, let p99 else { return nil }
            guard p99 > p50 else {
                problem(
                    d["p99"]!.position,
                    "p99 (\(formatShortSeconds(p99))) must be above p50 (\(formatShortSeconds(p50))): a log-normal tail lies above its median"
                )
                return nil
            }
            return .logNormal(p50: p50, p99: p99)
        default:
            problem(d["dist"]!.position, "unknown distribution '\(dist)': expected \"fixed\", \"exponential\" or \"lognormal\"")
            return nil
        }
    }
}

/// `20ms`, `1.5s`, `300us` (or `µs`), `2m`, `1h` in seconds; nil when not one.
public func parseDurationSeconds(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        return value * scale
    }
    return nil
}

import AsyncPatterns

/// What `sluice doctor` saw while it watched: the pool figures of each snapshot folded into
/// stalls during the watch and the blockers seen then (the program's table ages places out;
/// the watch keeps every place seen while it watched). Pure: fed snapshots, no clock.
public struct PoolWatch: Sendable {
    /// The first figures seen (stalls before the watch do not count).
    public private(set) var first: PoolSnapshot?
    /// The last figures seen.
    public private(set) var last: PoolSnapshot?
    private var baseline: [String: (stalls: Int, nanos: UInt64)] = [:]
    private var seen: [String: PoolBlocker] = [:]
    private var order: [String] = []
    /// Problems the doctor noted during the watch.
    public private(set) var notes: [String] = []

    /// An empty watch.
    public init() {}

    /// Folds in one snapshot's pool figures.
    public mutating func add(_ pool: PoolSnapshot) {
        if first == nil {
            first = pool
            for b in pool.blockers { baseline[b.location] = (b.stalls, b.totalNanos) }
        }
        last = pool
        for note in pool.notes where !notes.contains(note) { notes.append(note) }
        for b in pool.blockers where b.stalls > (baseline[b.location]?.stalls ?? 0) {
            if seen[b.location] == nil { order.append(b.location) }
            var during = b
            during.stalls = b.stalls - (baseline[b.location]?.stalls ?? 0)
            during.totalNanos = b.totalNanos &- (baseline[b.location]?.nanos ?? 0)
            if let before = seen[b.location], before.frames.contains(where: { $0.file != nil }),
                !b.frames.contains(where: { $0.file != nil })
            {
                during.frames = before.frames
            }
            seen[b.location] = during
        }
    }

    /// Lets `fill` (a symbolicator) fill in the frames of every place seen, all at once.
    public mutating func fillFrames(_ fill: (PoolSnapshot) -> PoolSnapshot) {
        var all = PoolSnapshot()
        all.blockers = order.compactMap { seen[$0] }
        for b in fill(all).blockers { seen[b.location] = b }
    }

    /// Stalls that began and ended during the watch, plus one going on at its end.
    public var stalls: Int {
        guard let first, let last else { return 0 }
        return last.stalls - first.stalls + (last.stalledNowNanos > 0 ? 1 : 0)
    }

    /// Time stalled during the watch, in nanoseconds.
    public var stalledNanos: UInt64 {
        guard let first, let last else { return 0 }
        return last.stalledNanos &- first.stalledNanos &+ last.stalledNowNanos
    }

    /// The places that held the pool during the watch, most time stalled first: stalls and
    /// time stalled during the watch; `longestNanos` is the program's figure for the place.
    public var blockers: [PoolBlocker] {
        order.compactMap { seen[$0] }.sorted { ($0.totalNanos, $0.stalls) > ($1.totalNanos, $1.stalls) }
    }

    /// The report as one JSON object.
    public func json(program: String, pid: Int, seconds: Double) -> JSON {
        let p = last ?? PoolSnapshot()
        return .object([
            ("program", .string(program)), ("pid", .int(pid)), ("watched_seconds", .number((seconds * 10).rounded() / 10)),
            ("threshold_ms", .number(Self.ms(p.thresholdNanos))), ("stalls", .int(stalls)),
            ("stalled_ms", .number(Self.ms(stalledNanos))), ("longest_stall_ms", .number(Self.ms(p.longestStallNanos))),
            (
                "delay_ms",
                .object([
                    ("p50", .number(Self.ms(p.delayP50Nanos))), ("p99", .number(Self.ms(p.delayP99Nanos))),
                    ("max", .number(Self.ms(p.delayMaxNanos))), ("beats", .int(p.beats)),
                ])
            ),
            ("jobs_per_second", p.jobsPerSecond.map { .number($0.rounded()) } ?? .null), ("hook", .string(p.hook)),
            ("threads", .int(p.threads)), ("busy_at_last_capture", .int(p.busyAtLastCapture)), ("capture", .string(p.capture)),
            ("blockers", .array(blockers.map(Self.json))), ("other_stalls", .int(p.otherStalls)),
            ("notes", .array(notes.map(JSON.string))),
        ])
    }

    static func json(_ b: PoolBlocker) -> JSON {
        var fields: [(String, JSON)] = [
            ("location", .string(b.location)), ("stalls", .int(b.stalls)), ("total_ms", .number(ms(b.totalNanos))),
            ("longest_ms", .number(ms(b.longestNanos))),
        ]
        if let culprit = b.culprit, let file = culprit.file, let line = culprit.line {
            fields += [("file", .string(file)), ("line", .int(line))]
        }
        fields.append(("frames", .array(b.frames.map(json))))
        return .object(fields)
    }

    static func json(_ f: PoolFrame) -> JSON {
        var fields: [(String, JSON)] = [
            ("symbol", f.symbol.map(JSON.string) ?? .null), ("module", .string(f.module)),
            ("offset", .string("0x" + String(f.offset, radix: 16))), ("folded", .bool(f.folded)),
        ]
        if let file = f.file, let line = f.line { fields += [("file", .string(file)), ("line", .int(line))] }
        return .object(fields)
    }

    /// The report for people: figures, then each blocker with its program frames.
    public func text(program: String, pid: Int, seconds: Double) -> String {
        let p = last ?? PoolSnapshot()
        var lines = [
            "\(program) (pid \(pid)): watched the cooperative pool for \(formatDecimal((seconds * 10).rounded() / 10)) s",
            "  heartbeat delay p50 \(Self.msText(p.delayP50Nanos)), p99 \(Self.msText(p.delayP99Nanos)), max \(Self.msText(p.delayMaxNanos)) over \(p.beats) beats; \(p.threads) pool threads",
            "  jobs enqueued: " + (p.jobsPerSecond.map { "\(Int($0.rounded()))/s" } ?? "not counted") + " (hook: \(p.hook))",
            stalls == 0
                ? "  no stall of \(Self.msText(p.thresholdNanos)) or more"
                : "  \(stalls) stalls of \(Self.msText(p.thresholdNanos)) or more, \(Self.msText(stalledNanos)) in all, the longest \(Self.msText(p.longestStallNanos))",
        ]
        if p.captureOn == false { lines.append("  the culprit is unknown: capture \(p.capture)") }
        for (i, b) in blockers.enumerated() {
            let at = b.culprit.flatMap { f in f.file.map { " at \($0):\(f.line ?? 0)" } } ?? ""
            lines.append(
                "  #\(i + 1) \(b.location)\(at): \(b.stalls) stalls, \(Self.msText(b.totalNanos)) stalled, the longest \(Self.msText(b.longestNanos))"
            )
            for f in b.frames where !f.folded {
                let place = f.file.map { "  \($0):\(f.line ?? 0)" } ?? ""
                lines.append("       \(f.symbol ?? "\(f.module)+0x\(String(f.offset, radix: 16))")\(place)")
            }
        }
        for note in notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }

    static func ms(_ nanos: UInt64) -> Double { (Double(nanos) / 1e5).rounded() / 10 }
    static func msText(_ nanos: UInt64) -> String { "\(formatDecimal(ms(nanos))) ms" }
}

import AsyncPatterns

/// What a headless watch reports, whatever it watched (`run`, `attach`, `replay` print it):
/// per pattern, its final counters. Its keys mean the same everywhere: `elapsed_seconds`
/// is how long the numbers cover (a scenario's clock; the watch of a program), the
/// counters and `operations_total` are totals since the source started. A program watched
/// (kind `attached`) is named with its pid, and its summary adds the operations while
/// watched and the knobs' last values.
public struct RunSummary: Sendable {
    /// What was watched: the kind of source, its name, a scenario's preset, a program's pid.
    public let origin: SourceOrigin
    public let elapsedSeconds: Double
    public let status: SourceStatus
    public let snapshot: Snapshot
    /// A program's knobs when the watch ended.
    public let knobs: [String: Double]
    /// A program's operations when the watch began: its counters are totals since it started.
    public let operationsBefore: Int
    /// How many recent events the summary lists.
    public var eventLimit = 50

    public init(
        origin: SourceOrigin, elapsedSeconds: Double, status: SourceStatus, snapshot: Snapshot, knobs: [String: Double] = [:],
        operationsBefore: Int = 0
    ) {
        self.origin = origin
        self.elapsedSeconds = elapsedSeconds
        self.status = status
        self.snapshot = snapshot
        self.knobs = knobs
        self.operationsBefore = operationsBefore
    }

    /// Operations while watched.
    public var watchedOperations: Int { max(0, snapshot.operations - operationsBefore) }

    /// Why it ended early, if it did: `failed: why`, `detached: why`.
    var failure: String? {
        switch status {
        case .failed(let why): why
        case .detached(let why): "detached: \(why)"
        case .running, .paused, .done: nil
        }
    }

    public var json: JSON {
        let s = snapshot
        let who: [(String, JSON)] =
            origin.kind == .attached
            ? [("program", .string(origin.title)), ("pid", .int(origin.pid ?? 0))]
            : [("scenario", .string(origin.title)), ("preset", .string(origin.preset ?? "live"))]
        let program: [(String, JSON)] =
            origin.kind == .attached
            ? [
                ("watched_operations", .int(watchedOperations)),
                ("knobs", .object(knobs.sorted { $0.key < $1.key }.map { ($0.key, JSON.number($0.value)) })),
            ] : []
        let status: JSON = .string(failure.map { "failed: \($0)" } ?? "done")
        let patterns: [(String, JSON)] = [
            ("status", status),
            ("elapsed_seconds", .number((elapsedSeconds * 1000).rounded() / 1000)),
            (
                "queues",
                .array(
                    s.queues.map { q in
                        .object([
                            ("name", .string(q.name)), ("capacity", .int(q.capacity)), ("put", .int(q.put)), ("got", .int(q.got)),
                            ("done", .int(q.done)), ("max_depth", .int(q.maxDepth)), ("depth", .int(q.depth)),
                        ])
                    })
            ),
            (
                "semaphores",
                .array(
                    s.semaphores.map { m in
                        .object([
                            ("name", .string(m.name)), ("limit", .int(m.limit)), ("max_in_use", .int(m.maxInUse)),
                            ("acquired", .int(m.acquired)), ("in_use", .int(m.inUse)), ("waiting", .int(m.waiting)),
                        ])
                    })
            ),
            (
                "actors",
                .array(
                    s.actors.map { a in
                        .object([
                            ("name", .string(a.name)), ("processed", .int(a.processed)), ("dead_letters", .int(a.deadLetters)),
                            ("max_mailbox_depth", .int(a.maxMailboxDepth)), ("failed", .int(a.failed)),
                        ])
                    })
            ),
            (
                "streams",
                .array(
                    s.streams.map { t in
                        .object([
                            ("name", .string(t.name)), ("produced", .int(t.produced)), ("consumed", .int(t.consumed)),
                            ("total", t.total.map { .int($0) } ?? .null), ("finished", .bool(t.isFinished)),
                        ])
                    })
            ),
            (
                "resources",
                .array(
                    s.resources.map { r in
                        .object([
                            ("name", .string(r.name)), ("opened", .int(r.opened)), ("closed", .int(r.closed)),
                            ("failed", .int(r.failed)), ("open", .int(r.open)),
                        ])
                    })
            ),
            ("loop_lag_max_ms", .number((Double(s.health.maxLagNanos) / 1e4).rounded() / 100)),
            ("operations_total", .int(s.operations)),
            ("recent_events", .array(s.recentEvents.suffix(eventLimit).map { .string(describe($0)) })),
        ]
        let pool: [(String, JSON)] = s.pool.map { [("pool", poolJSON($0))] } ?? []
        let summary = JSON.object(who + patterns + pool + program)
        // Only runs that model their queues (pipeline files) have this key.
        guard let models = s.queueModels, case .object(var fields) = summary else { return summary }
        let rows = models.map { m in
            JSON.object([
                ("name", .string(m.name)), ("model", .string(m.model)), ("arrival_rate", .number(m.arrivalRate)),
                ("service_rate", .number(m.serviceRate)), ("servers", .int(m.servers)), ("utilization", .number(m.utilization)),
                ("wait_seconds", .number(m.measuredWaitSeconds)),
                ("predicted_wait_seconds", m.predictedWaitSeconds.map { .number($0) } ?? .null), ("depth", .number(m.measuredDepth)),
                ("predicted_depth", m.predictedDepth.map { .number($0) } ?? .null), ("little_depth", .number(m.littleDepth)),
                ("servers_for_stability", .int(m.serversForStability)),
            ])
        }
        fields.insert(("queue_models", .array(rows)), at: fields.firstIndex { $0.0 == "loop_lag_max_ms" } ?? fields.count)
        return .object(fields)
    }

    /// The pool doctor's figures: heartbeat delay, stalls, and the top blockers by place.
    public func poolJSON(_ p: PoolSnapshot) -> JSON {
        func ms(_ nanos: UInt64) -> JSON { .number((Double(nanos) / 1e4).rounded() / 100) }
        return .object([
            ("delay_p50_ms", ms(p.delayP50Nanos)), ("delay_p99_ms", ms(p.delayP99Nanos)), ("delay_max_ms", ms(p.delayMaxNanos)),
            ("beats", .int(p.beats)), ("jobs_per_second", p.jobsPerSecond.map { .number($0.rounded()) } ?? .null),
            ("threads", .int(p.threads)), ("stalls", .int(p.stalls)), ("stalled_ms", ms(p.stalledNanos)),
            ("longest_stall_ms", ms(p.longestStallNanos)), ("threshold_ms", ms(p.thresholdNanos)), ("capture", .string(p.capture)),
            (
                "blockers",
                .array(
                    p.blockers.map { b in
                        var fields: [(String, JSON)] = [
                            ("location", .string(b.location)), ("stalls", .int(b.stalls)), ("total_ms", ms(b.totalNanos)),
                            ("longest_ms", ms(b.longestNanos)),
                        ]
                        if let f = b.culprit, let file = f.file, let line = f.line {
                            fields += [("file", .string(file)), ("line", .int(line))]
                        }
                        return .object(fields)
                    })
            ),
        ])
    }

    /// A few lines for people.
    public var text: String {
        let s = snapshot
        var lines: [String]
        if origin.kind == .attached {
            let seconds = elapsedSeconds
            let status = "watched for \(formatDecimal((seconds * 10).rounded() / 10)) s" + (failure.map { ", then \($0)" } ?? "")
            let rate = seconds > 0 ? " (\(formatDecimal((Double(watchedOperations) / seconds).rounded()))/s)" : ""
            lines = [
                "\(origin.title) (pid \(origin.pid ?? 0)): \(status): \(watchedOperations) operations while watched\(rate)",
                "  totals since the program started: \(s.operations) operations",
            ]
        } else {
            lines = ["\(origin.title) (\(origin.mode)): \(statusLine) \(formatDecimal(elapsedSeconds)) s, \(s.operations) operations"]
        }
        for q in s.queues {
            lines.append(
                "  queue \(q.name): capacity \(q.capacity), put \(q.put), got \(q.got), done \(q.done), max depth \(q.maxDepth), left \(q.depth)"
            )
        }
        for m in s.semaphores {
            lines.append("  semaphore \(m.name): limit \(m.limit), acquired \(m.acquired), max in use \(m.maxInUse), waiting \(m.waiting)")
        }
        let actors = s.actors.sorted { $0.processed > $1.processed }
        for a in actors.prefix(10) {
            lines.append("  actor \(a.name): processed \(a.processed), dead letters \(a.deadLetters), max mailbox \(a.maxMailboxDepth)")
        }
        if actors.count > 10 { lines.append("  ... and \(actors.count - 10) more actors") }
        for t in s.streams.suffix(6) {
            lines.append(
                "  stream \(t.name): produced \(t.produced)\(t.total.map { "/\($0)" } ?? ""), consumed \(t.consumed)\(t.isFinished ? ", finished" : "")"
            )
        }
        for r in s.resources {
            if r.opened == 0, r.timed.count > 0 {
                lines.append(
                    "  timer \(r.name): \(r.timed.count) timed, p50 \(formatDecimal(Double(r.timed.p50) / 1e6)) ms, max \(formatDecimal(Double(r.timed.max) / 1e6)) ms"
                )
            } else {
                lines.append("  resource \(r.name): opened \(r.opened), closed \(r.closed), failed \(r.failed), open \(r.open)")
            }
        }
        for m in s.queueModels ?? [] {
            let predicted =
                m.predictedWaitSeconds.map { "theory \(formatShortSeconds($0))" }
                ?? "theory: grows without bound, needs c >= \(m.serversForStability)"
            lines.append(
                "  theory \(m.name): λ \(formatDecimal(m.arrivalRate))/s, μ \(formatDecimal(m.serviceRate))/s, c \(m.servers), "
                    + "ρ \(formatFixed(m.utilization, places: 2)); wait \(formatShortSeconds(m.measuredWaitSeconds)) (\(predicted)); "
                    + "depth \(formatDecimal(m.measuredDepth)) (λ·W \(formatDecimal(m.littleDepth))); \(m.model)"
            )
        }
        if s.health.beats > 0 {
            lines.append("  loop lag: max \(formatDecimal(Double(s.health.maxLagNanos) / 1e6)) ms")
        }
        if let p = s.pool {
            let ms = { (n: UInt64) in formatDecimal((Double(n) / 1e5).rounded() / 10) }
            lines.append(
                "  pool: heartbeat delay p50 \(ms(p.delayP50Nanos)) ms, p99 \(ms(p.delayP99Nanos)) ms; \(p.stalls) stalls, \(ms(p.stalledNanos)) ms in all"
            )
            for b in p.blockers.prefix(3) {
                let at = b.culprit.flatMap { f in f.file.map { " at \($0):\(f.line ?? 0)" } } ?? ""
                lines.append("    blocker \(b.location)\(at): \(b.stalls) stalls, \(ms(b.totalNanos)) ms")
            }
        }
        if origin.kind == .attached, !knobs.isEmpty {
            lines.append(
                "  knobs: " + knobs.sorted { $0.key < $1.key }.map { "\($0.key) \(formatDecimal($0.value))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    private var statusLine: String {
        if let failure { return "failed (\(failure)) after" }
        switch status {
        case .running, .paused: return "stopped after"
        default: return origin.preset == "seed" ? "finished after" : "ran for"
        }
    }
}

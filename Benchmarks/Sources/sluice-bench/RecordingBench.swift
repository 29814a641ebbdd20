// Recording and replay (issue #14): what recording costs a running scenario, the bytes an
// event takes in the file, and seek and step times on a synthetic 10,000,000-event file.
#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
import Synchronization

/// A source that makes up events as fast as the recorder reads them: a producer-consumer
/// mix (put, got, taskDone, acquire, release, enqueue, process) one microsecond apart.
final class SyntheticSource: Source {
    let total: Int
    let base = MonotonicInstant.now().nanoseconds
    private let made = Mutex(0)
    init(events: Int) { total = events }

    var origin: SourceOrigin { SourceOrigin(title: "synthetic", kind: .scenario, preset: "live") }
    var status: SourceStatus { .running }
    var abilities: SourceAbilities { SourceAbilities() }
    var panes: [PatternKind] { [.queue, .semaphore, .actor] }
    var knobs: [KnobSpec] { [] }
    var knobValues: [String: Double] { [:] }
    var isDone: Bool { made.withLock { $0 >= total } }

    func snapshot() -> Snapshot {
        var s = Snapshot()
        var q = QueueSnapshot(name: "jobs")
        q.capacity = 64
        q.put = made.withLock { $0 } / 3
        s.queues = [q]
        s.semaphores = [SemaphoreSnapshot(name: "permits")]
        s.actors = (0..<8).map { ActorSnapshot(name: "actor-\($0)") }
        return s
    }

    func events(after cursor: Int) -> SourceEvents {
        let from = made.withLock { m -> Int in
            defer { m = min(total, m + 16384) }
            return m
        }
        let to = min(total, from + 16384)
        let queue = PatternID(.queue, "jobs")
        let permits = PatternID(.semaphore, "permits")
        var events: [PatternEvent] = []
        events.reserveCapacity(to - from)
        for k in from..<to {
            let at = MonotonicInstant(nanoseconds: base + UInt64(k) * 1000)
            let depth = k % 50
            let g = QueueGauges(depth: depth, waitingProducers: 0, waitingConsumers: k % 7 == 0 ? 1 : 0)
            let sg = SemaphoreGauges(limit: 3, inUse: k % 4, waiting: 0)
            let actor = PatternID(.actor, "actor-\(k % 8)")
            switch k % 10 {
            case 0, 7: events.append(.queue(.put(gauges: g), source: queue, at: at))
            case 1, 8: events.append(.queue(.got(gauges: g), source: queue, at: at))
            case 2, 9: events.append(.queue(.taskDone(unfinished: depth), source: queue, at: at))
            case 3: events.append(.semaphore(.acquired(gauges: sg), source: permits, at: at))
            case 4: events.append(.semaphore(.released(gauges: sg), source: permits, at: at))
            case 5: events.append(.actor(.enqueued(depth: k % 5), source: actor, at: at))
            default: events.append(.actor(.processed(depth: k % 5), source: actor, at: at))
            }
        }
        return SourceEvents(events: events, next: cursor + events.count, missed: 0)
    }

    func setEventInterest(_ interest: EventInterest) {}
    func stop(waitingAtMost limit: Duration) {}
}

struct RecordingResults {
    var rows: [(name: String, value: Double, unit: String)] = []
    var recordingCostPercent = Double.nan
    var recordedEventRate = Double.nan
    var bytesPerEvent = Double.nan
    var realBytesPerEvent = Double.nan
    var seekMaxMillis = Double.nan
    var stepMaxMillis = Double.nan
}

/// Milliseconds `body` takes.
func millis(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    body()
    return (ContinuousClock.now - start).seconds * 1000
}

/// Operations per real second of a headless run of the release `sluice` (its JSON counts
/// them; `--duration` is real time), and what it said on stderr (the recorder's counts).
func headlessRate(_ arguments: String) -> (rate: Double, stderr: String)? {
    let seconds = arguments.firstRange(of: "--duration ").flatMap { Double(arguments[$0.upperBound...].prefix { $0.isNumber }) } ?? 5
    let out = "/tmp/sluice-bench-rec-\(getpid())"
    guard system("\(options.sluicePath) \(arguments) --json > \(out).out 2> \(out).err") == 0 else { return nil }
    defer {
        unlink(out + ".out")
        unlink(out + ".err")
    }
    func read(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var text = ""
        var line = [CChar](repeating: 0, count: 1 << 16)
        while fgets(&line, Int32(line.count), f) != nil {
            text += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }
    let json = read(out + ".out")
    func number(_ key: String) -> Double? {
        guard let r = json.firstRange(of: "\"\(key)\":") else { return nil }
        return Double(json[r.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
    guard let ops = number("operations_total") else { return nil }
    return (ops / seconds, read(out + ".err"))
}

func recordingBenchmarks(quick: Bool) -> RecordingResults {
    var r = RecordingResults()
    let path = "/tmp/sluice-bench-\(getpid()).rec"
    defer { unlink(path) }

    // 1. What recording costs a scenario running flat out (every event, on a real file).
    let scenario =
        "run producer-consumer --headless --duration \(quick ? 2 : 5)s --producers 4 --consumers 8 --capacity 1000 --interval 1 --service 1 --speed 1000"
    var costs: [Double] = []
    var eventRates: [Double] = []
    for _ in 0..<(quick ? 1 : 3) {
        guard let plain = headlessRate(scenario), let recorded = headlessRate(scenario + " --record \(path)") else { break }
        costs.append((1 - recorded.rate / plain.rate) * 100)
        let seconds = Double(quick ? 2 : 5)
        if let range = recorded.stderr.firstRange(of: "recorded "),
            let events = Double(recorded.stderr[range.upperBound...].prefix { $0.isNumber })
        {
            eventRates.append(events / seconds)
            var st = stat()
            stat(path, &st)
            r.realBytesPerEvent = Double(st.st_size) / events
        }
        r.rows.append(("scenario flat out: ops/s unrecorded", plain.rate, "ops/s"))
        r.rows.append(("scenario flat out: ops/s recorded", recorded.rate, "ops/s"))
    }
    if !costs.isEmpty {
        r.recordingCostPercent = costs.sorted()[costs.count / 2]
        r.recordedEventRate = eventRates.isEmpty ? .nan : eventRates.sorted()[eventRates.count / 2]
        r.rows.append(("recording cost (median of runs)", r.recordingCostPercent, "%"))
        r.rows.append(("events recorded per second", r.recordedEventRate, "events/s"))
        r.rows.append(("bytes an event, that scenario's file", r.realBytesPerEvent, "bytes"))
    }

    // 1b. The fastest scenario (a stream and a generator with no delays): its ceiling.
    let streams = "run streams --headless --duration \(quick ? 2 : 5)s --items 1000000 --delay 0 --step 0 --speed 1000"
    if let plain = headlessRate(streams), let recorded = headlessRate(streams + " --record \(path)") {
        r.rows.append(("streams flat out: ops/s unrecorded", plain.rate, "ops/s"))
        r.rows.append(("streams flat out: ops/s recorded", recorded.rate, "ops/s"))
        let text = recorded.stderr
        if let a = text.firstRange(of: "recorded "), let events = Double(text[a.upperBound...].prefix { $0.isNumber }),
            let b = text.firstRange(of: "bytes, "), let missed = Double(text[b.upperBound...].prefix { $0.isNumber })
        {
            r.rows.append(("streams flat out: events recorded a second", events / Double(quick ? 2 : 5), "events/s"))
            r.rows.append(("streams flat out: events missed a second", missed / Double(quick ? 2 : 5), "events/s"))
        }
    }

    // 2. A synthetic 10,000,000-event recording: bytes an event, write rate, open, seek, step.
    let count = quick ? 1_000_000 : 10_000_000
    let source = SyntheticSource(events: count)
    guard let recorder = try? Recorder(recording: source, to: path, limit: 1 << 30) else { return r }
    let writeMillis = millis {
        while !source.isDone { recorder.pump() }
        recorder.finish()
    }
    var st = stat()
    stat(path, &st)
    r.bytesPerEvent = Double(st.st_size) / Double(recorder.eventsRecorded)
    r.rows.append(("synthetic recording: events", Double(recorder.eventsRecorded), "events"))
    r.rows.append(("synthetic recording: bytes an event, keyframes included", r.bytesPerEvent, "bytes"))
    r.rows.append(("synthetic recording: made and written", Double(count) / writeMillis * 1000, "events/s"))
    var opened: Recording?
    let openMillis = millis { opened = try? Recording.open(path: path) }
    guard let recording = opened else { return r }
    r.rows.append(("open and index the file (\(st.st_size >> 20) MiB)", openMillis, "ms"))
    let replay = ReplaySource(recording, now: { 0 })
    replay.pause()
    var rng = UInt64(14)
    func random(_ n: Int) -> Int {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((rng >> 33) % UInt64(max(1, n)))
    }
    let duration = Double(recording.durationNanos) / 1e9
    var seeks: [Double] = []
    for _ in 0..<100 {
        let to = Double(random(1_000_000)) / 1_000_000 * duration
        seeks.append(
            millis {
                replay.seek(toSeconds: to)
                _ = replay.snapshot()
            })
    }
    var steps: [Double] = []
    for i in 0..<200 {
        replay.seek(toSeconds: Double(random(1_000_000)) / 1_000_000 * duration)
        _ = replay.snapshot()
        let at = replay.timeline?.eventIndex ?? 0
        let took = millis {
            replay.step(by: i % 2 == 0 ? -1 : 1)
            _ = replay.snapshot()
        }
        if getenv("SLUICE_BENCH_DEBUG") != nil, took > 1 { print("slow step", i % 2 == 0 ? "back" : "forward", at, took) }
        steps.append(took)
    }
    seeks.sort()
    steps.sort()
    r.seekMaxMillis = seeks.last ?? .nan
    r.stepMaxMillis = steps.last ?? .nan
    r.rows.append(("seek + state at the cursor: median", seeks[seeks.count / 2], "ms"))
    r.rows.append(("seek + state at the cursor: slowest of 100", r.seekMaxMillis, "ms"))
    r.rows.append(("step back/forward + state: median", steps[steps.count / 2], "ms"))
    r.rows.append(("step back/forward + state: slowest of 200", r.stepMaxMillis, "ms"))
    return r
}

import AsyncPatterns
import Foundation
import Patience
import Scenarios
import TUI
import Testing

@testable import Dashboard
@testable import SluiceWire

/// Recordings whose checksums are right and whose values are hostile: counts at Int.max and
/// Int.min, times of 1e308, negative depths and totals, in keyframes and in events. Opened,
/// checked as headless replay checks them, replayed, stepped, sought and drawn as the
/// dashboard draws them (every 50th): each either replays or throws a `RecordingError`, and
/// nothing traps. 2,000 in `make test`, 100,000 in `make check` (`SLUICE_SEMANTIC_FUZZ_COUNT`).
@MainActor
@Suite struct SemanticFuzzTests {
    /// Past 2^53 the reader refuses a count where it decodes it (the file then exits 65); at
    /// the bound (±2^53) it reads, and everything downstream must take it.
    static let hostileInts = [
        "9223372036854775807", "-9223372036854775808", "-1", "9007199254740993", "9007199254740992", "-9007199254740992", "0",
        "4611686018427387904",
    ]
    /// What the reader lets through: the bounds themselves, negatives, zero.
    static let inRangeInts = ["9007199254740992", "-9007199254740992", "-1", "0", "4503599627370497"]
    static let hostileDoubles = ["1e308", "-1e308", "-1", "5e-324", "1e15"]

    /// A rich snapshot's JSON with some of its numbers replaced by hostile ones (`inRange`:
    /// only ones the reader lets through, so the replay has to take them).
    static func hostileSnapshot(_ base: Snapshot, _ rng: inout SplitMix64, inRange: Bool = false) -> Snapshot {
        let json = String(decoding: try! JSONEncoder().encode(base), as: UTF8.self)
        // Numbers follow ':', '[' or ','; keys and names are quoted, so they are left alone.
        var out = ""
        var number = ""
        var inString = false
        var previous: Character = " "
        func flush(_ rng: inout SplitMix64) {
            guard !number.isEmpty else { return }
            if rng.next() % 3 == 0 {
                let pool = number.contains(".") || number.contains("e") ? hostileDoubles : inRange ? inRangeInts : hostileInts
                out += pool[Int(rng.next() % UInt64(pool.count))]
            } else {
                out += number
            }
            number = ""
        }
        for c in json {
            if inString {
                out.append(c)
                if c == "\"", previous != "\\" { inString = false }
            } else if c == "\"" {
                flush(&rng)
                inString = true
                out.append(c)
            } else if c.isNumber || (c == "-" && number.isEmpty) || (!number.isEmpty && "eE.+-".contains(c)) {
                number.append(c)
            } else {
                flush(&rng)
                out.append(c)
            }
            previous = c
        }
        flush(&rng)
        guard var s = try? JSONDecoder().decode(Snapshot.self, from: Data(out.utf8)) else { return base }
        if inRange { s.elapsedSeconds = min(1e9, max(0, s.elapsedSeconds)) }
        return s
    }

    static func hostileEvent(_ event: PatternEvent, _ rng: inout SplitMix64) -> PatternEvent {
        let extreme = [Int.max, Int.min, -1, 1 << 53][Int(rng.next() % 4)]
        switch event {
        case .queue(_, let source, let at):
            let g = QueueGauges(depth: extreme, waitingProducers: 0 &- extreme, waitingConsumers: extreme)
            return .queue(rng.next() % 2 == 0 ? .put(gauges: g) : .capacityChanged(capacity: extreme, gauges: g), source: source, at: at)
        case .semaphore(_, let source, let at):
            return .semaphore(.acquired(gauges: SemaphoreGauges(limit: extreme, inUse: extreme, waiting: -1)), source: source, at: at)
        case .actor(_, let source, let at):
            return .actor(.enqueued(depth: extreme), source: source, at: at)
        case .stream(_, let source, let at):
            return .stream(.produced(count: extreme, total: extreme), source: source, at: at)
        default:
            return event
        }
    }

    @Test func hostileValuesUnderValidChecksumsNeverTrap() throws {
        var rng = SplitMix64(seed: 23)
        let events = sampleEvents(count: 96)
        var fold = SnapshotFold(Snapshot())
        for e in events { fold.apply(e) }
        let rich = fold.snapshot
        let count = ProcessInfo.processInfo.environment["SLUICE_SEMANTIC_FUZZ_COUNT"].flatMap(Int.init) ?? 2_000
        // Mangling JSON is the slow part: a pool of hostile snapshots, drawn from at random.
        let pool = (0..<64).map { _ in Self.hostileSnapshot(rich, &rng) }
        let inRange = (0..<64).map { _ in Self.hostileSnapshot(rich, &rng, inRange: true) }
        // Three files in four take values the reader lets through, to reach the replay.
        var lenient = false
        func pick(_ rng: inout SplitMix64) -> Snapshot {
            let from = lenient ? inRange : pool
            return from[Int(rng.next() % UInt64(from.count))]
        }
        var replayed = 0
        // No input may take longer than the suite waits for anything (a hang, or close to one).
        var slowest = Duration.zero
        for n in 0..<count {
            let started = ContinuousClock.now
            defer { slowest = max(slowest, .now - started) }
            lenient = n % 4 != 0
            var w = RecordingWriter(info: sampleInfo)
            w.keyframe(pick(&rng), knobs: ["rate": 10], speed: 1, status: .running, time: 0)
            for (i, e) in events.enumerated() {
                // A third of the files carry hostile events too: counts past 2^53 are refused
                // where the events are decoded (checkEverything), the rest fold and draw.
                w.append(n % 3 == 0 && rng.next() % 4 == 0 ? Self.hostileEvent(e, &rng) : e)
                if i == 48 {
                    w.keyframe(pick(&rng), knobs: ["rate": 1e308], speed: 1, status: .running, time: w.lastTime)
                }
            }
            var final = pick(&rng)
            final.elapsedSeconds = lenient ? [0, 1e9, 2][Int(rng.next() % 3)] : [1e308, -1e308, 2][Int(rng.next() % 3)]
            w.end(status: .done, elapsedSeconds: final.elapsedSeconds, snapshot: final, reason: "stopped", time: w.lastTime)
            guard let recording = try? Recording(bytes: w.take()) else { continue }
            do {
                try recording.checkEverything()
            } catch {
                #expect(error is RecordingError, "input \(n): \(type(of: error))")
                continue
            }
            replayed += 1
            let replay = ReplaySource(recording, now: { 0 })
            replay.seek(toSeconds: 0.5)
            _ = replay.snapshot()
            decodedOrRefused(n) { _ = try replay.finalState() }
            // Drawing costs most: every 50th is drawn, stepped and sought, as a user would.
            guard n % 50 == 0 else { continue }
            let backend = TestBackend(width: 100, height: 30)
            let app = DashboardApp(
                backend: backend, choices: [SourceChoice(name: "fuzz", summary: "", explanation: "", knobs: []) { _ in replay }])
            app.open(0, values: [:])
            app.draw()
            for key: Key in [.char("."), .char("."), .char(","), .char("]"), .char("w"), .tab, .char("G")] {
                app.press(key)
                app.draw()
            }
            app.quit()
        }
        // Keyframes with a count past 2^53, or an end past 1e9 s, are refused where they are
        // decoded (a third of the ends, many keyframes): the rest must replay.
        #expect(
            replayed > count / 5, "\(replayed) of \(count): hostile recordings within the bounds must open, or the fuzz reaches nothing")
        #expect(slowest < patience, "an input took \(slowest)")
    }
}

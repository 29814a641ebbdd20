import AsyncPatterns
import SluiceWire

/// A recording played back: a source that can pause, change speed, step one event,
/// seek to a time or a warning, and restart. Every pane shows the state at the cursor,
/// rebuilt from the nearest keyframe before it and the events after that keyframe.
/// Knobs show the values recorded at the cursor; they cannot be turned.
///
/// The cursor moves with the time of `now` (monotonic nanoseconds, injectable for tests)
/// times the speed while playing; everything is computed when asked, under one lock.
public final class ReplaySource: Source, Pacing, Restartable, Seekable {
    public static let speedRange = 1.0 / 64...64.0
    /// Events the log pane gets before the cursor.
    public static let recentKept = SnapshotFold.recentKept
    static let checkpointEvents = 512
    /// Snapshots with more patterns than this get no checkpoints (each would copy them).
    static let checkpointPatterns = 2000
    static let maximumCheckpoints = 64

    public let recording: Recording
    private let now: @Sendable () -> UInt64
    private let warningFractions: [Double]
    /// The knob values of the first keyframe (the start of every knob's story).
    private let firstKnobs: [String: Double]

    private struct Player {
        var index = 0
        var time: Int64 = 0
        var playing = true
        var speed = 1.0
        var anchorWall: UInt64 = 0
        var anchorTime: Int64 = 0
        var fold: (index: Int, keyframe: Int, fold: SnapshotFold)?
        /// Folds every `checkpointEvents` events after the current keyframe, so a step back
        /// replays a few hundred events, not all since the keyframe.
        var checkpoints: [(index: Int, fold: SnapshotFold)] = []
        var keyframe: (k: Int, body: KeyframeBody)?
        var failure: String?
        /// The end record, decoded once (nil inside: the file has none).
        var end: EndBody??
    }

    private let player: Locked<Player>

    public init(_ recording: Recording, now: @escaping @Sendable () -> UInt64 = { MonotonicInstant.now().nanoseconds }) {
        self.recording = recording
        self.now = now
        var fractions: [Double] = []
        let duration = Double(max(1, recording.durationNanos))
        for block in recording.blocks where block.onsets > 0 {
            let f = min(1, max(0, Double(block.firstTime) / duration))
            if fractions.last.map({ f - $0 >= 0.001 }) ?? true { fractions.append(f) }
        }
        warningFractions = fractions
        firstKnobs = (try? recording.keyframe(0).knobs) ?? [:]
        var p = Player()
        p.anchorWall = now()
        player = Locked(p)
    }

    public var origin: SourceOrigin { SourceOrigin(title: recording.info.title, kind: .replay) }
    public var abilities: SourceAbilities { SourceAbilities(pace: self, restart: self, seek: self) }
    public var panes: [PatternKind] { recording.info.panes }
    public var knobs: [KnobSpec] { recording.knobSpecs }
    public var notice: String? {
        player.withLock { $0.failure } ?? recording.truncation
    }

    public var speed: Double { player.withLock { $0.speed } }

    public var status: SourceStatus {
        player.withLock { p in
            advance(&p)
            if let failure = p.failure { return .failed(failure) }
            if p.playing { return .running }
            return p.index >= recording.eventCount && p.time >= recording.durationNanos ? .done : .paused
        }
    }

    public var timeline: Timeline {
        player.withLock { p in
            advance(&p)
            return Timeline(
                positionSeconds: Double(p.time) / 1e9, durationSeconds: Double(recording.durationNanos) / 1e9, eventIndex: p.index,
                eventCount: recording.eventCount, warnings: warningFractions)
        }
    }

    /// The knob values recorded at the cursor: the first keyframe's, then every change
    /// recorded up to the cursor.
    public var knobValues: [String: Double] {
        player.withLock { p in
            advance(&p)
            var values = firstKnobs
            for change in recording.knobChanges where change.eventIndex <= p.index {
                values[change.name] = change.value
            }
            return values
        }
    }

    /// The state at the cursor.
    public func snapshot() -> Snapshot {
        player.withLock { p in
            advance(&p)
            return state(&p)
        }
    }

    /// A replay hands no events to a recorder: its events are in the file already.
    public func events(after cursor: Int) -> SourceEvents { SourceEvents(events: [], next: cursor, missed: 0) }

    public func setEventInterest(_ interest: EventInterest) {}

    public func pause() {
        player.withLock { p in
            advance(&p)
            p.playing = false
        }
    }

    public func resume() {
        player.withLock { p in
            advance(&p)
            if p.index >= recording.eventCount, p.time >= recording.durationNanos { return }
            p.playing = true
            anchor(&p)
        }
    }

    public func setSpeed(_ speed: Double) {
        player.withLock { p in
            advance(&p)
            p.speed = min(Self.speedRange.upperBound, max(Self.speedRange.lowerBound, speed))
            anchor(&p)
        }
    }

    public func restart() {
        player.withLock { p in
            p.index = 0
            p.time = 0
            p.playing = true
            p.failure = nil
            anchor(&p)
        }
    }

    public func stop(waitingAtMost limit: Duration) {
        pause()
    }

    public func step(by events: Int) {
        player.withLock { p in
            advance(&p)
            p.playing = false
            let index = min(recording.eventCount, max(0, p.index + events))
            p.index = index
            p.time = cursorTime(&p)
            anchor(&p)
        }
    }

    public func seek(toSeconds seconds: Double) {
        player.withLock { p in
            advance(&p)
            let t = seconds.isFinite ? Int64(min(Double(recording.durationNanos), max(0, seconds * 1e9))) : 0
            p.time = t
            p.index = attempt(&p) { try recording.eventCount(atOrBefore: t) } ?? p.index
            anchor(&p)
        }
    }

    public func seekWarning(forward: Bool) -> Bool {
        player.withLock { p in
            advance(&p)
            let index = p.index
            guard let found = attempt(&p, { try warning(from: index, forward: forward) }), let j = found else { return false }
            p.playing = false
            p.index = j + 1
            p.time = cursorTime(&p)
            anchor(&p)
            return true
        }
    }

    /// The next warning onset at or after event `index` (forward), or the last before
    /// event `index - 1` (back).
    private func warning(from index: Int, forward: Bool) throws -> Int? {
        let blocks = recording.blocks
        guard !blocks.isEmpty else { return nil }
        if forward {
            var b = recording.blockIndex(containing: index)
            while b < blocks.count {
                if blocks[b].onsets > 0 {
                    var found: Int?
                    try recording.decode(block: b) { i, _, onset in
                        if i >= index, onset {
                            found = i
                            return false
                        }
                        return true
                    }
                    if let found { return found }
                }
                b += 1
            }
        } else {
            var b = min(blocks.count - 1, recording.blockIndex(containing: max(0, index - 1)))
            while b >= 0 {
                if blocks[b].onsets > 0 {
                    var found: Int?
                    try recording.decode(block: b) { i, _, onset in
                        if i >= index - 1 { return false }
                        if onset { found = i }
                        return true
                    }
                    if let found { return found }
                }
                b -= 1
            }
        }
        return nil
    }

    // MARK: - Inside the lock

    private func anchor(_ p: inout Player) {
        p.anchorWall = now()
        p.anchorTime = p.time
    }

    /// Moves a playing cursor to where the clock says it is.
    private func advance(_ p: inout Player) {
        guard p.playing, p.failure == nil else { return }
        let wall = now()
        let elapsed = Double(wall &- p.anchorWall) * p.speed
        let t = p.anchorTime &+ Int64(min(elapsed, 9e18))
        if t >= recording.durationNanos {
            p.time = recording.durationNanos
            p.index = recording.eventCount
            p.playing = false
            return
        }
        p.time = t
        p.index = attempt(&p) { try recording.eventCount(atOrBefore: t) } ?? p.index
    }

    private func attempt<T>(_ p: inout Player, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch {
            p.failure = (error as? RecordingError)?.description ?? "\(error)"
            p.playing = false
            return nil
        }
    }

    /// The time of the last event before the cursor (computing the state there).
    private func cursorTime(_ p: inout Player) -> Int64 {
        guard p.index > 0 else { return 0 }
        if p.index >= recording.eventCount { return recording.durationNanos }
        _ = state(&p)
        guard let at = p.fold?.fold.lastAt else { return p.time }
        return Int64(bitPattern: at.nanoseconds &- recording.info.startNanos)
    }

    private func state(_ p: inout Player) -> Snapshot {
        let index = p.index
        // At the end of a whole recording, the run's own final snapshot.
        if index >= recording.eventCount, p.time >= recording.durationNanos {
            if p.end == nil { p.end = .some(attempt(&p) { try recording.end() } ?? nil) }
            if let end = p.end ?? nil { return end.snapshot }
        }
        let k = recording.keyframeIndex(atOrBefore: index)
        if p.keyframe?.k != k {
            guard let body = attempt(&p, { try recording.keyframe(k) }) else { return Snapshot() }
            p.keyframe = (k, body)
            p.checkpoints = []
        }
        let body = p.keyframe!.body
        let keyframeIndex = recording.keyframes[k].eventIndex
        // Start from the latest of: the last state computed, a checkpoint, the keyframe.
        var fold: SnapshotFold
        var from: Int
        if let cached = p.fold, cached.keyframe == k, cached.index <= index {
            (fold, from) = (cached.fold, cached.index)
            if let checkpoint = p.checkpoints.last(where: { $0.index <= index }), checkpoint.index > from {
                (fold, from) = (checkpoint.fold, checkpoint.index)
            }
        } else if let checkpoint = p.checkpoints.last(where: { $0.index <= index }) {
            (fold, from) = (checkpoint.fold, checkpoint.index)
        } else {
            fold = SnapshotFold(body.snapshot)
            from = keyframeIndex
            let before = attempt(&p) { try recording.events(max(0, keyframeIndex - Self.recentKept)..<keyframeIndex).map(\.event) }
            fold.seed(recent: before ?? [])
            p.checkpoints = [(keyframeIndex, fold)]  // the first: the keyframe itself, its log seeded
        }
        if from < index {
            let checkpointing = body.snapshot.patternCount < Self.checkpointPatterns
            var next = from
            var checkpoints = p.checkpoints
            let done: Void? = attempt(&p) {
                try recording.forEachEvent(from..<index) { event in
                    fold.apply(event)
                    next += 1
                    if checkpointing, (next - keyframeIndex) % Self.checkpointEvents == 0,
                        checkpoints.last.map({ $0.index < next }) ?? true
                    {
                        checkpoints.append((next, fold))
                        // A crafted file may hold millions of events after one keyframe:
                        // every other checkpoint goes, so their memory stays bounded.
                        if checkpoints.count > Self.maximumCheckpoints {
                            checkpoints = checkpoints.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                        }
                    }
                }
            }
            p.checkpoints = checkpoints
            guard done != nil else { return fold.snapshot }
        }
        p.fold = (index, k, fold)
        let missed = recording.gaps.reduce(0) { $1.eventIndex <= index ? $0 + $1.missed : $0 }
        var snapshot = fold.finished(totalEvents: index + missed)
        let since = Double(max(0, p.time - recording.keyframes[k].time)) / 1e9
        snapshot.elapsedSeconds = body.snapshot.elapsedSeconds + since * body.speed
        return snapshot
    }
}

extension ReplaySource {
    /// The summary's parts as the recorded run ended: its status, elapsed seconds and
    /// final snapshot; for a file without an end, the state after its last event.
    public func finalState() throws -> (status: SourceStatus, elapsedSeconds: Double, snapshot: Snapshot) {
        if let end = try recording.end() {
            return (SourceStatus(recordedText: end.status), end.elapsedSeconds, end.snapshot)
        }
        let snapshot: Snapshot = player.withLock { p in
            p.playing = false
            p.index = recording.eventCount
            p.time = recording.durationNanos
            return state(&p)
        }
        if let failure = player.withLock({ $0.failure }) { throw RecordingError.malformed(failure) }
        return (.done, snapshot.elapsedSeconds, snapshot)
    }

    /// The summary the recorded watch printed: its status, elapsed time and final snapshot
    /// (for a file without an end, the state after its last event); for a program watched,
    /// its knobs at the end and its operations when recording began.
    public func summary() throws -> RunSummary {
        let final = try finalState()
        let origin = recording.info.origin
        guard origin.kind == .attached else {
            return RunSummary(origin: origin, elapsedSeconds: final.elapsedSeconds, status: final.status, snapshot: final.snapshot)
        }
        seek(toSeconds: Double(recording.durationNanos) / 1e9)
        return RunSummary(
            origin: origin, elapsedSeconds: final.elapsedSeconds, status: final.status, snapshot: final.snapshot, knobs: knobValues,
            operationsBefore: (try? recording.firstSnapshot())?.operations ?? 0)
    }
}

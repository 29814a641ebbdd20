#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncPatterns
import SluiceWire

/// Records any `Source` to a file: every event (it asks the source for all of them), a
/// keyframe (snapshot and knob values) every `keyframeEvents` events or second, knob
/// changes, and events the source dropped before they could be read (a gap).
///
/// It reads the source only through the `Source` protocol, on a thread of its own (never
/// the UI's, never the cooperative pool), polling the source's bounded event log every
/// millisecond. It writes whole records only; at the size limit, or when a write fails
/// (a full disk), it ends the file with what it has and says so in `message`.
public final class Recorder: @unchecked Sendable {
    public static let defaultLimit = 512 << 20
    /// The most the records written may take in a replay's index: below the reader's bound,
    /// with room for the keyframe and records written after the check.
    public static let indexBudget = RecordingFormat.maximumIndexBytes - (256 << 10)
    let indexBudget: Int
    /// Bytes kept free under the limit for the end record.
    static let reserve = 256 * 1024

    private struct State {
        var writer: RecordingWriter
        var cursor = 0
        var restarted = false
        var written = 0
        var lastKeyframeEvents = 0
        var lastKeyframeTime: UInt64 = 0
        var lastKeyframeSize = 0
        /// Bytes written and pending when the last keyframe was written.
        var lastKeyframeBytes = 0
        var knobs: [String: Double] = [:]
        var missed = 0
        var finished = false
        var message: String?
        /// The source is being stopped: what it reports from now on (waiters cancelled by
        /// the stop) is recorded, but is not a warning of the run.
        var stopping = false
    }

    public let source: any Source
    public let path: String
    /// The source's operations when recording began (in its first keyframe).
    public let startOperations: Int
    public let limit: Int
    let keyframeEvents: Int
    let maximumKeyframeEvents: Int
    let keyframeNanos: UInt64
    private let fd: Int32
    private let state: Locked<State>
    private let stopping = Locked(false)
    private let threadDone = Locked(true)

    /// Creates `path` (see `create`) and writes the header, the info record and a first
    /// keyframe. Asks `source` for every event from now on.
    /// - Throws: `RecordingError.unwritable` when the file cannot be created.
    /// Keyframes come every `keyframeEvents` events at least (2,048), later while the events
    /// since the last one take less than twice its size (a big snapshot would
    /// otherwise fill the file), at most every `maximumKeyframeEvents`, and every
    /// `keyframeSeconds` when anything happened. A step back replays events from the last
    /// keyframe: this bounds its cost. Recording also stops (reason `limit`) before its
    /// records would need more than `indexBudget` bytes of a replay's index.
    public init(
        recording source: any Source, to path: String, limit: Int = Recorder.defaultLimit, keyframeEvents: Int = 2048,
        maximumKeyframeEvents: Int = 32768, keyframeSeconds: Double = 1, replacing: Bool = false,
        indexBudget: Int = Recorder.indexBudget, recordLimit: Int = RecordingFormat.maximumPayload
    ) throws {
        self.source = source
        self.indexBudget = indexBudget
        self.path = path
        self.limit = max(limit, 2 * Self.reserve)
        self.keyframeEvents = keyframeEvents
        self.maximumKeyframeEvents = max(keyframeEvents, maximumKeyframeEvents)
        keyframeNanos = UInt64(keyframeSeconds * 1e9)
        fd = try Self.create(path, replacing: replacing)
        source.setEventInterest(.all)
        let now = MonotonicInstant.now().nanoseconds
        let info = RecordingInfo(
            title: source.title, mode: source.mode, origin: source.origin, panes: source.panes, knobs: source.knobs.map(RecordedKnob.init),
            startNanos: now, shapes: RecordingInfo.shapesVersion)
        var s = State(writer: RecordingWriter(info: info, recordLimit: recordLimit))
        s.knobs = source.knobValues
        s.lastKeyframeTime = now
        let first = source.snapshot()
        startOperations = first.operations
        guard let size = s.writer.keyframe(first, knobs: s.knobs, speed: source.speed, status: source.status, time: 0) else {
            close(fd)
            unlink(path)
            throw RecordingError.unwritable(
                "to \(path): a snapshot of \(first.patternCount) patterns is more than a recording's record holds (\(formatBytes(recordLimit)))"
            )
        }
        s.lastKeyframeSize = size
        state = Locked(s)
        state.withLock { flush(&$0) }
    }

    deinit { close(fd) }

    /// Creates a new file, mode 0600, never through a symlink and never into a file that
    /// is already there (someone else's file, or one planted in a shared folder, would get
    /// the recording). `replacing` removes what is at `path` first (a symlink itself, not
    /// what it points to); a file planted again in between is still refused.
    static func create(_ path: String, replacing: Bool) throws(RecordingError) -> Int32 {
        func failure(_ what: String) -> RecordingError { .unwritable("to \(path): \(what)") }
        if replacing {
            var info = stat()
            if lstat(path, &info) == 0 {
                guard info.st_mode & S_IFMT != S_IFDIR else { throw failure("it is a folder") }
                guard unlink(path) == 0 else { throw failure("cannot remove the file there (\(String(cString: strerror(errno)))))") }
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            switch errno {
            case EEXIST: throw failure("a file is already there (--force replaces it)")
            case ENOENT: throw failure("no such folder")
            default: throw failure(String(cString: strerror(errno)))
            }
        }
        return fd
    }

    /// Why recording stopped early (size limit, write error), if it did.
    public var message: String? { state.withLock { $0.message } }
    public var bytesWritten: Int { state.withLock { $0.written } }
    public var eventsRecorded: Int { state.withLock { $0.writer.eventCount } }
    /// Events the source dropped before the recorder read them (recorded as gaps).
    public var eventsMissed: Int { state.withLock { $0.missed } }
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Starts the thread that polls the source every millisecond until `finish`.
    public func start() {
        threadDone.withLock { $0 = false }
        if !startDetachedThread({ self.loop() }) {
            threadDone.withLock { $0 = true }
        }
    }

    private func loop() {
        while !stopping.withLock({ $0 }) {
            let got = pump()
            if got < 256 { usleep(1000) }
        }
        threadDone.withLock { $0 = true }
    }

    /// Reads what the source has now and writes it; returns how many events it read.
    /// The thread calls this; tests call it by hand (no thread, no timing).
    @discardableResult
    public func pump() -> Int {
        state.withLock { s in
            guard !s.finished else { return 0 }
            return read(&s)
        }
    }

    private func read(_ s: inout State) -> Int {
        if s.restarted {
            s.cursor = 0
            s.restarted = false
        }
        // Knobs first: a change is placed before the events read with it (the poll that sees it).
        let now = MonotonicInstant.now().nanoseconds
        let time = Self.time(now, since: s.writer.startNanos)
        let knobs = source.knobValues
        if knobs != s.knobs {
            for (name, value) in knobs.sorted(by: { $0.key < $1.key }) where s.knobs[name] != value {
                s.writer.knob(name, value, time: time)
            }
            s.knobs = knobs
        }
        let got = source.events(after: s.cursor)
        if got.missed > 0 {
            s.missed += got.missed
            s.writer.gap(got.missed)
        }
        // Checked at every event: one read may bring more than the whole limit.
        let budget = limit - Self.reserve - 2 * s.lastKeyframeSize
        var full = false
        for event in got.events {
            s.writer.append(event, mayWarn: !s.stopping)
            if s.writer.pendingBytes >= 256 * 1024 {
                s.writer.seal()
                flush(&s)
                if s.finished { return got.events.count }
            }
            if s.written + s.writer.pendingBytes > budget || s.writer.indexBytes > indexBudget {
                full = true
                break
            }
        }
        s.cursor = got.next
        let since = s.writer.eventCount - s.lastKeyframeEvents
        let bytesSince = s.written + s.writer.pendingBytes - s.lastKeyframeBytes
        if (since >= keyframeEvents && bytesSince >= 2 * s.lastKeyframeSize) || since >= maximumKeyframeEvents
            || (Self.elapsed(now, since: s.lastKeyframeTime) >= keyframeNanos && since > 0)
        {
            let snapshot = source.snapshot()
            guard let size = s.writer.keyframe(snapshot, knobs: knobs, speed: source.speed, status: source.status, time: time) else {
                s.message =
                    "recording stopped after \(s.writer.eventCount) events: a snapshot of \(snapshot.patternCount) patterns is more than a record holds (\(formatBytes(s.writer.recordLimit))), and \(path) ends there"
                end(&s, status: source.status, elapsedSeconds: snapshot.elapsedSeconds, snapshot: snapshot, reason: "limit")
                return got.events.count
            }
            s.lastKeyframeSize = size
            s.lastKeyframeEvents = s.writer.eventCount
            s.lastKeyframeTime = now
            s.lastKeyframeBytes = s.written + s.writer.pendingBytes
            // Written at once, not when 256 KB have gathered: a recorder killed any way
            // (kill -9, a crash) leaves a file that replays up to its last keyframe. No
            // fsync: the kernel keeps what was written when the process dies; only a
            // machine that loses power loses the last seconds (fsync at the end).
            flush(&s)
            if s.finished { return got.events.count }
        }
        if s.writer.indexBytes > indexBudget {
            // So many records (a long, quiet run) that a replay's index would pass its bound.
            s.message =
                "recording stopped after \(s.writer.eventCount) events: a replay indexes at most \(formatBytes(RecordingFormat.maximumIndexBytes)) of records, and \(path) ends there"
            end(&s, status: source.status, elapsedSeconds: source.snapshot().elapsedSeconds, snapshot: source.snapshot(), reason: "limit")
        } else if full || s.written + s.writer.pendingBytes > budget {
            s.message =
                "recording stopped at its size limit (\(formatBytes(limit))) after \(s.writer.eventCount) events: \(path) ends there"
            end(&s, status: source.status, elapsedSeconds: source.snapshot().elapsedSeconds, snapshot: source.snapshot(), reason: "limit")
        } else if s.writer.pendingBytes >= 256 * 1024 {
            s.writer.seal()
            flush(&s)
        }
        return got.events.count
    }

    /// The source restarted: its events are numbered from 0 again. `body` restarts it.
    public func sourceRestarts(_ body: () -> Void) {
        state.withLock { s in
            body()
            s.restarted = true
        }
    }

    /// The source is about to be stopped (quit, a deadline, a signal): reads what it has
    /// now; events that come after (waiters the stop cancels) are recorded without marking
    /// warnings, since the run did not go wrong.
    public func sourceWillStop() {
        state.withLock { s in
            guard !s.finished else { return }
            _ = read(&s)
            s.stopping = true
        }
    }

    /// Reads the last events, writes the end record (with this status and snapshot: the
    /// summary a headless run prints) and closes the file. Waits for the thread to leave,
    /// which polls every millisecond. Returns `message`.
    @discardableResult
    public func finish(status: SourceStatus, elapsedSeconds: Double, snapshot: Snapshot) -> String? {
        stopping.withLock { $0 = true }
        while !threadDone.withLock({ $0 }) { usleep(200) }
        return state.withLock { s in
            guard !s.finished else { return s.message }
            _ = read(&s)
            if !s.finished { end(&s, status: status, elapsedSeconds: elapsedSeconds, snapshot: snapshot, reason: "stopped") }
            return s.message
        }
    }

    /// Finishes with the source's own status and snapshot.
    @discardableResult
    public func finish() -> String? {
        let snapshot = source.snapshot()
        return finish(status: source.status, elapsedSeconds: snapshot.elapsedSeconds, snapshot: snapshot)
    }

    /// Nanoseconds from `start` to `now` on the events' clock, never below zero (it may read
    /// a little earlier on this thread than it did on the one that read `start`).
    private static func elapsed(_ now: UInt64, since start: UInt64) -> UInt64 {
        MonotonicInstant(nanoseconds: now).nanoseconds(since: MonotonicInstant(nanoseconds: start))
    }

    /// A record's time: nanoseconds from the recording's start to `now`.
    private static func time(_ now: UInt64, since start: UInt64) -> Int64 {
        Int64(clamping: elapsed(now, since: start))
    }

    private func end(_ s: inout State, status: SourceStatus, elapsedSeconds: Double, snapshot: Snapshot, reason: String) {
        let time = Self.time(MonotonicInstant.now().nanoseconds, since: s.writer.startNanos)
        s.writer.end(status: status, elapsedSeconds: elapsedSeconds, snapshot: snapshot, reason: reason, time: time)
        flush(&s)
        s.finished = true
        fsync(fd)
    }

    /// Writes whole records; a failed write cuts the file back to its last whole record.
    private func flush(_ s: inout State) {
        guard !s.finished else { return }
        let bytes = s.writer.take()
        guard !bytes.isEmpty else { return }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                let why = String(cString: strerror(errno))
                _ = ftruncate(fd, off_t(s.written))
                s.message = "recording stopped: writing \(path) failed (\(why)); it ends after \(s.written) bytes"
                s.finished = true
                return
            }
            offset += n
        }
        s.written += bytes.count
    }
}

/// A byte count for people: `512 MB`, `64 KB`, `10 B`.
func formatBytes(_ n: Int) -> String {
    if n >= 1 << 30, n % (1 << 30) == 0 { return "\(n >> 30) GB" }
    if n >= 1 << 20 { return n % (1 << 20) == 0 ? "\(n >> 20) MB" : "\(formatDecimal(Double(n) / Double(1 << 20))) MB" }
    if n >= 1 << 10 { return "\(n >> 10) KB" }
    return "\(n) B"
}

/// `10MB`, `512k`, `1G`, `1048576`: a size in bytes (K, M, G are powers of 1024).
public func parseByteSize(_ text: String) -> Int? {
    var t = text.uppercased()
    if t.hasSuffix("B") { t.removeLast() }
    var scale = 1
    if let last = t.last, let s = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last)] {
        scale = s
        t.removeLast()
    }
    guard let v = Double(t), v.isFinite, v > 0, v * Double(scale) < Double(1 << 50) else { return nil }
    return Int(v * Double(scale))
}

/// A source recorded as it runs: what it shows and can do is the inner source's (its
/// capabilities pass through, restart told to the recorder first); event interest stays
/// `all` (the recorder needs every event, whatever the event log shows), and leaving ends
/// the recording. `sluice run --record` and `sluice attach --record` wrap their source in it.
public final class RecordingSource: Source {
    public let inner: any Source
    public let recorder: Recorder

    public init(_ inner: any Source, recorder: Recorder) {
        self.inner = inner
        self.recorder = recorder
    }

    public var origin: SourceOrigin { inner.origin }
    public var mode: String { inner.mode + (recorder.isFinished ? "" : ", rec") }
    public var status: SourceStatus { inner.status }
    public var panes: [PatternKind] { inner.panes }
    public var knobs: [KnobSpec] { inner.knobs }
    public var knobValues: [String: Double] { inner.knobValues }
    public var notice: String? { recorder.message ?? inner.notice }
    public var abilities: SourceAbilities {
        var abilities = inner.abilities
        abilities.restart = abilities.restart.map { RecordedRestart($0, recorder: recorder) }
        return abilities
    }

    /// The inner source's snapshot with at most 256 recent events (the recorder has the
    /// source keep many more between its reads).
    public func snapshot() -> Snapshot {
        var s = inner.snapshot()
        if s.recentEvents.count > 256 {
            s.droppedEvents += s.recentEvents.count - 256
            s.recentEvents.removeFirst(s.recentEvents.count - 256)
        }
        return s
    }
    public func events(after cursor: Int) -> SourceEvents { inner.events(after: cursor) }
    public func setEventInterest(_ interest: EventInterest) {}

    public func stop(waitingAtMost limit: Duration) {
        recorder.sourceWillStop()
        inner.stop(waitingAtMost: limit)
        recorder.finish()
    }
}

/// A restart the recorder hears of: the source's events are numbered from 0 again.
private final class RecordedRestart: Restartable {
    let inner: any Restartable
    let recorder: Recorder
    init(_ inner: any Restartable, recorder: Recorder) {
        self.inner = inner
        self.recorder = recorder
    }
    func restart() { recorder.sourceRestarts { inner.restart() } }
}

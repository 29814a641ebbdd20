import DequeModule
import Synchronization

/// Receives the events of a registry's patterns, as many as its subscription asks for
/// (`PatternRegistry.subscribe(_:interest:)`).
///
/// `observe` is called synchronously on the task that caused the change, after the
/// pattern's lock is released. It must not block, suspend or call back into the pattern;
/// keep it to a few counter updates or an append to a bounded buffer. (An `EventLog` is the
/// exception: subscribed to a registry, it takes its events from the registry's event
/// buffer when it is read, not through `observe`.)
public protocol PatternObserver: Sendable {
    func observe(_ event: PatternEvent)
}

/// An event with its number in a log.
private struct Numbered: Sendable {
    let number: UInt64
    let event: BufferedEvent
}

/// The last `capacity` events of a log, oldest first: a ring that, once full, writes each
/// new event over the oldest. A batch is written through one buffer pointer (no uniqueness
/// or bounds check an event, no deque).
///
/// Keeps the sources its events point at alive (`holders`): one more each time an event's
/// source is not the one before, swept down to those still pointed at now and then.
private struct KeptEvents: Sendable {
    private var storage: ContiguousArray<Numbered> = []
    /// Where the oldest is, once full.
    private var start = 0
    let capacity: Int
    private var holders: [SourceName] = []
    /// The source last appended to `holders`.
    private var lastHeld: UInt?
    /// `holders` is swept when it reaches this many.
    private var sweepAt = 64
    /// Sweeps of `holders` so far (for tests).
    private(set) var sweeps = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { storage.count }

    subscript(i: Int) -> Numbered {
        let j = start + i
        return storage[j < capacity ? j : j - capacity]
    }

    /// Appends one event (`observe`, and logs of notable events: not a hot path).
    mutating func append(_ event: consuming Numbered) {
        Self.hold(event.event.source, in: &holders, last: &lastHeld)
        if storage.count < capacity {
            storage.append(event)
        } else {
            storage[start] = event
            start = start + 1 == capacity ? 0 : start + 1
        }
        sweepIfDue()
    }

    /// Appends each event of `events`, numbered from `number` on, handing the notable ones
    /// to `notable` too (a copy); the number after the last.
    mutating func append<Events: IteratorProtocol<BufferedEvent>>(
        from events: inout Events, numberedFrom number: UInt64, notable: (BufferedEvent) -> Void
    ) -> UInt64 {
        defer { sweepIfDue() }
        var number = number
        // Until full, one at a time (a log's first events only).
        while storage.count < capacity {
            guard let event = events.next() else { return number }
            if event.isNotable { notable(event) }
            Self.hold(event.source, in: &holders, last: &lastHeld)
            storage.append(Numbered(number: number, event: event))
            number &+= 1
        }
        var start = self.start
        var holders: [SourceName] = []
        swap(&holders, &self.holders)
        var last = lastHeld
        storage.withUnsafeMutableBufferPointer { kept in
            let base = kept.baseAddress!
            while let event = events.next() {
                if event.isNotable { notable(event) }
                Self.hold(event.source, in: &holders, last: &last)
                base[start] = Numbered(number: number, event: event)
                number &+= 1
                start = start + 1 == kept.count ? 0 : start + 1
            }
        }
        swap(&holders, &self.holders)
        lastHeld = last
        self.start = start
        return number
    }

    @inline(__always)
    private static func hold(_ source: Unmanaged<SourceName>, in holders: inout [SourceName], last: inout UInt?) {
        let raw = UInt(bitPattern: source.toOpaque())
        guard raw != last else { return }
        last = raw
        holders.append(source.takeUnretainedValue())
    }

    /// Lets go of the sources no kept event points at.
    private mutating func sweepIfDue() {
        guard holders.count >= sweepAt else { return }
        sweeps += 1
        var seen = Set<ObjectIdentifier>()
        var still: [SourceName] = []
        for kept in storage {
            let name = kept.event.source.takeUnretainedValue()
            if seen.insert(ObjectIdentifier(name)).inserted { still.append(name) }
        }
        holders = still
        // The last event's source is among them, not necessarily last: the next event's
        // source is held again (a duplicate at worst).
        lastHeld = nil
        // Each sweep reads every kept event: not before `capacity` more holders, so that it
        // costs O(1) an event however the sources interleave.
        sweepAt = Swift.max(64, 2 * holders.count, capacity)
    }

    /// The last `n` events (all if fewer), oldest first.
    func suffix(_ n: Int) -> [PatternEvent] {
        let n = Swift.min(n, count)
        var events: [PatternEvent] = []
        events.reserveCapacity(n)
        for i in (count - n)..<count { events.append(self[i].event.event) }
        return events
    }
}

/// A pattern's link to its registry: its identity, its membership, and its events. Costs
/// one relaxed atomic load per operation while nobody wants the events.
@usableFromInline
struct Emitter: Sendable {
    @usableFromInline let registry: PatternRegistry?
    /// The same registry, for `send`: used at +0 (`_withUnsafeGuaranteedRef`), not retained
    /// and released around each event (an atomic pair an event, as the compiler kept the
    /// registry alive across the event's building). Safe: `registry`, beside it, holds it
    /// as long as the emitter, and only the pattern holding the emitter sends.
    @usableFromInline let unretained: Unmanaged<PatternRegistry>?
    @usableFromInline let source: PatternID
    /// The pattern's identity as its events point at it (see `SourceName`); only with a
    /// registry.
    @usableFromInline let name: SourceName?
    /// The pattern's key in the registry (0 when it has none).
    @usableFromInline let key: UInt64

    init(_ registry: PatternRegistry?, _ source: PatternID) {
        self.registry = registry
        unretained = registry.map { .passUnretained($0) }
        self.source = source
        name = registry == nil ? nil : SourceName(source)
        key = registry?.reserveID() ?? 0
    }

    /// Joins the registry; call once the pattern is fully initialized.
    func register(_ probe: any PatternProbe) { registry?.add(probe, id: key) }

    /// Leaves the registry with its last numbers (finished, stopped or released); once a
    /// pattern. The registry's event buffer keeps the pattern's name from here on, for its
    /// events still in the buffer and any it sends after.
    func retire(_ final: PatternReading) {
        guard let registry, let name else { return }
        registry.events.adopt(name)
        registry.retire(id: key, final: final)
    }

    /// Whether someone wants events of this level: one relaxed atomic load.
    @inlinable func wants(notable: Bool) -> Bool {
        guard let registry else { return false }
        return registry.interest.load(ordering: .relaxed) >= (notable ? EventInterest.notable : .all).rawValue
    }

    /// Builds and delivers one event of a kind: the event (and the gauges in it) is built
    /// only once someone listens at all, and delivered only to those who want its level.
    ///
    /// A routine event (`isNotable` false: an item put or got, a message sent or processed)
    /// is sent inside `if wants(notable: false) { ... }` at its call site, so that with only
    /// notable events subscribed (the dashboard) it costs one relaxed load and nothing is
    /// built: its gauges read counters that other threads write (the mailbox's depth reads
    /// the run loop's), and building the event only to drop it was most of what watching
    /// cost a fast path.
    @inlinable func send<Event: KindEvent>(_ event: () -> Event, as wrap: (Event) -> EventBody) {
        unretained?._withUnsafeGuaranteedRef { registry in
            // `name` is there whenever `registry` is; read in place, not bound (a binding
            // retained and released it once an event).
            guard registry.interest.load(ordering: .relaxed) >= EventInterest.notable.rawValue else { return }
            let event = event()
            let notable = event.isNotable
            registry.deliver(
                { BufferedEvent(source: .passUnretained(name.unsafelyUnwrapped), at: .now(), body: wrap(event)) }, notable: notable)
        }
    }
    @inlinable func queue(_ event: @autoclosure () -> QueueEvent) { send(event, as: EventBody.queue) }
    @inlinable func semaphore(_ event: @autoclosure () -> SemaphoreEvent) { send(event, as: EventBody.semaphore) }
    @inlinable func actor(_ event: @autoclosure () -> ActorEvent) { send(event, as: EventBody.actor) }
    @inlinable func stream(_ event: @autoclosure () -> StreamEvent) { send(event, as: EventBody.stream) }
    @inlinable func resource(_ event: @autoclosure () -> ResourceEvent) { send(event, as: EventBody.resource) }
    @inlinable func health(_ event: @autoclosure () -> HealthEvent) { send(event, as: EventBody.health) }
}

/// An event of one pattern kind, which knows whether it is notable.
@usableFromInline protocol KindEvent {
    var isNotable: Bool { get }
}

extension QueueEvent: KindEvent {}
extension SemaphoreEvent: KindEvent {}
extension ActorEvent: KindEvent {}
extension StreamEvent: KindEvent {}
extension ResourceEvent: KindEvent {}
extension HealthEvent: KindEvent {}

/// Keeps the most recent events and, apart, the most recent notable ones, each numbered, in
/// bounded memory; counts what it had to drop. Subscribe it to a registry.
///
/// Subscribed to a registry, a log takes its events from the registry's event buffer rather
/// than one call of `observe` at a time: each read of the log (`fill`, `events(since:)`,
/// `total`) first drains the buffer, so it sees every event emitted before it (one another
/// thread is still writing holds back those after it until the next read); events the
/// buffer had to drop (it was full while another reader drained it) are counted as events
/// seen and not kept, like those the log itself dropped: a gap in the numbers, never a
/// silent one.
public final class EventLog: PatternObserver {
    private struct State {
        /// Each event with its number: ascending, with gaps where a buffer dropped.
        var all: KeptEvents
        var notable: Deque<PatternEvent> = []
        /// Events seen (the number of the next one).
        var total: UInt64 = 0
        var notableTotal: UInt64 = 0
        /// Of `total`, events the registries' buffers dropped before the log could take them.
        var bufferDropped: UInt64 = 0
        /// The source of the last event `observe` took, for the next one from it.
        var observed: SourceName?
    }

    /// Events kept in each of the two logs.
    public let capacity: Int
    private let state: Locked<State>
    /// The buffers of the registries this log is subscribed to, drained before every read.
    private let buffers = Locked<[EventBuffer]>([])

    /// - Parameter capacity: events kept in each of the two logs.
    public init(capacity: Int = 256) {
        precondition(capacity >= 1, "an event log keeps at least one event")
        self.capacity = capacity
        state = Locked(State(all: KeptEvents(capacity: capacity)))
    }

    /// Appends the event (and, if notable, to the notable log), dropping the oldest when full.
    public func observe(_ event: PatternEvent) {
        state.withLock { s in
            let source = s.observed.flatMap { $0.id == event.source ? $0 : nil } ?? SourceName(event.source)
            s.observed = source
            append(BufferedEvent(source: .passUnretained(source), at: event.at, body: event.body), to: &s)
        }
    }

    private func append(_ event: consuming BufferedEvent, to s: inout State) {
        if event.isNotable { appendNotable(event, to: &s) }
        s.all.append(Numbered(number: s.total, event: event))
        s.total &+= 1
    }

    private func appendNotable(_ event: borrowing BufferedEvent, to s: inout State) {
        s.notableTotal &+= 1
        if s.notable.count == capacity { s.notable.removeFirst() }
        s.notable.append(event.event)
    }

    /// Takes what a registry's buffer drains: every event of `events` (the ones
    /// `interest` wants are kept), then those of `gap`, the events the buffer dropped, that
    /// it wants (counted, and numbered, as events seen and not kept). The gap after the
    /// events: a buffer drops when it is full, so the events it holds came before those it
    /// dropped.
    ///
    /// `count`: how many `events` hands out. Of more than the log keeps, the first ones would
    /// only go in to push each other out: they are numbered and counted, and only the
    /// notable ones among them kept (in the notable log).
    func take<Events: IteratorProtocol<BufferedEvent>>(
        interest: EventInterest, _ events: inout Events, count: Int, gap: () -> EventGap
    ) {
        state.withLock { s in
            switch interest {
            case .all:
                // The first of more events than the log keeps would only push each other out
                // (the last `capacity` write over every event kept before).
                var skip = count - capacity
                while skip > 0, let event = events.next() {
                    skip -= 1
                    if event.isNotable { appendNotable(event, to: &s) }
                    s.total &+= 1
                }
                // The kept events out of the state while they are written, so that the
                // notable ones can go to the state's notable log meanwhile.
                var kept = KeptEvents(capacity: capacity)
                swap(&kept, &s.all)
                s.total = kept.append(from: &events, numberedFrom: s.total) { appendNotable($0, to: &s) }
                swap(&kept, &s.all)
            case .notable:
                while let event = events.next() {
                    if event.isNotable { append(event, to: &s) }
                }
            case .none: while events.next() != nil {}
            }
            let gap = gap()
            guard interest > .none else { return }
            let dropped = interest >= .all ? gap.routine &+ gap.notable : gap.notable
            s.total &+= dropped
            s.notableTotal &+= gap.notable
            s.bufferDropped &+= dropped
        }
    }

    func attach(_ buffer: EventBuffer) { buffers.withLock { $0.append(buffer) } }

    func detach(_ buffer: EventBuffer) {
        buffers.withLock { list in
            if let i = list.firstIndex(where: { $0 === buffer }) { list.remove(at: i) }
        }
    }

    /// Takes what the registries' buffers hold, so a read sees every event emitted before it.
    private func drainBuffers() {
        for buffer in buffers.withLock({ $0 }) { buffer.drain() }
    }

    /// How many times the log let go of the sources its events no longer point at (for
    /// tests).
    var sourceSweeps: Int { state.withLock { $0.all.sweeps } }

    /// Events seen so far, kept or not.
    public var total: UInt64 {
        drainBuffers()
        return state.withLock { $0.total }
    }

    /// Of `total`, the events a registry's event buffer dropped before this log could take
    /// them (the buffer was full while another reader drained it). Also in `total`, and in
    /// `Snapshot.droppedEvents` and the `missed` of `events(since:)`.
    public var bufferDropped: UInt64 {
        drainBuffers()
        return state.withLock { $0.bufferDropped }
    }

    /// Copies the kept events into `snapshot` (recent, notable and how many each dropped):
    /// at most the last `limit` of each (a log kept long for a recorder is not copied whole).
    public func fill(_ snapshot: inout Snapshot, limit: Int = .max) {
        let limit = max(0, limit)
        drainBuffers()
        state.withLock { s in
            snapshot.recentEvents = s.all.suffix(limit)
            snapshot.droppedEvents = Int(s.total) - snapshot.recentEvents.count
            snapshot.notableEvents = Array(s.notable.suffix(limit))
            snapshot.droppedNotableEvents = Int(s.notableTotal) - snapshot.notableEvents.count
        }
    }

    /// The events numbered `cursor` and later that are still kept, the cursor to ask with
    /// next time, and how many after `cursor` were dropped before they could be read.
    public func events(since cursor: UInt64) -> (events: [PatternEvent], next: UInt64, missed: UInt64) {
        drainBuffers()
        return state.withLock { s in
            guard cursor < s.total else { return ([], s.total, 0) }
            // The first kept event numbered `cursor` or later (the numbers ascend).
            var low = 0
            var high = s.all.count
            while low < high {
                let middle = (low + high) / 2
                if s.all[middle].number < cursor { low = middle + 1 } else { high = middle }
            }
            let events = s.all.suffix(s.all.count - low)
            return (events, s.total, s.total - cursor - UInt64(events.count))
        }
    }
}

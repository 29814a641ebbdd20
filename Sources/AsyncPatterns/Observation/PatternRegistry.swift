import DequeModule
import Synchronization

/// The live patterns of a program (or of one scenario run), readable at any moment.
///
/// Patterns keep their own numbers (counters and gauges under the lock they already take
/// or in atomics, a fixed-size latency distribution); a snapshot reads them, so it costs
/// nothing per operation and its gauges are always the current truth. A pattern joins the
/// registry it is given when it is created and leaves it when it finishes (a stopped actor,
/// an ended stream) or is released: its last numbers are kept among the recently finished
/// (at most `finishedToKeep` of each kind) and added to `Snapshot.retired`, so memory stays
/// flat whatever names a program makes up.
///
/// Events go only to those who ask (`subscribe(_:interest:)`): with nobody asking for every
/// event, an item through a queue emits nothing.
public final class PatternRegistry: Sendable {
    /// Where patterns register unless given another registry (or nil).
    public static let shared = PatternRegistry()

    /// How many finished patterns of each kind a snapshot still lists.
    public let finishedToKeep: Int
    /// Relaxed: the read-modify-write alone makes each id unique; it publishes nothing.
    let nextID = Atomic<UInt64>(0)
    /// The highest interest of any subscriber (`EventInterest.rawValue`), read by every
    /// pattern before it builds an event. Relaxed is enough: it only says whether to build
    /// events at all, and publishes no memory (the subscribers themselves are read under
    /// their lock in `deliver`). A pattern on another thread may go on building events for a
    /// moment after the last subscriber left (`deliver` then finds nobody), or start a
    /// moment after one subscribed: events are a live view, not a ledger; the numbers a
    /// snapshot reads are kept by the patterns whether or not anyone listens.
    @usableFromInline let interest = Atomic<Int>(0)
    /// Where events of each level go (`EventRoutes`): into `events` for the event logs
    /// subscribed, and to the other observers, called one event at a time. Read by `Emitter`
    /// once it has built an event. Relaxed, like `interest`.
    @usableFromInline let routes = Atomic<Int>(0)
    /// Events on their way to the event logs subscribed (drained by the logs' reads).
    @usableFromInline let events = EventBuffer(capacity: 1024)
    private let state: Locked<RegistryState>
    private let subscribers = Locked<[Subscriber]>([])
    /// Taken by `snapshot` around its reading: the rate meters and the actor index are its
    /// alone.
    let reader: Locked<SnapshotReader>
    /// Where this registry's actors report a change, for its actor index.
    let actorChanges = ActorChangeLog()
    private let timeSource: @Sendable () -> Duration

    /// - Parameters:
    ///   - finishedToKeep: finished patterns of each kind that snapshots still list.
    ///   - timeSource: the time rates and `Snapshot.elapsed` are measured in (a scenario
    ///     clock's elapsed time, say); by default, real time since the registry was made.
    public init(finishedToKeep: Int = 32, timeSource: (@Sendable () -> Duration)? = nil) {
        precondition(finishedToKeep >= 0, "finishedToKeep cannot be negative")
        self.finishedToKeep = finishedToKeep
        state = Locked(RegistryState())
        if let timeSource {
            self.timeSource = timeSource
        } else {
            let start = monotonicNanoseconds()
            self.timeSource = { .nanoseconds(Int64(monotonicNanoseconds() &- start)) }
        }
        // Operations are counted from now: the first snapshot already has a rate.
        reader = Locked(SnapshotReader(operationsRate: RateMeter(origin: self.timeSource())))
    }

    /// Live patterns right now.
    public var count: Int { state.withLock { $0.live } }

    /// Actors a snapshot lists now (live, then recently finished).
    var listedActors: Int { state.withLock { $0.actorCount + $0.finishedCounts[.actor, default: 0] } }

    // MARK: membership (called by patterns)

    func reserveID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).newValue }

    func add(_ probe: any PatternProbe, id: UInt64) {
        let actor = probe as? ActorCounters
        state.withLock {
            $0.add(Entry(id: id, probe: probe, actor: actor))
            // Under the state lock, like every later change (`recomputeInterest`): the
            // probe cannot miss one, nor get them out of order.
            probe.everyEventWanted(interest.load(ordering: .relaxed) >= EventInterest.all.rawValue)
        }
    }

    /// Takes the pattern out; its last reading joins the finished list. Idempotent.
    func retire(id: UInt64, final reading: PatternReading) {
        let keep = finishedToKeep
        state.withLock { $0.retire(id: id, final: reading, keep: keep) }
    }

    // MARK: snapshot

    /// Every live pattern's numbers now, then the recently finished ones. Rates are per
    /// second of the time source over the last second or so; while it stands still (a
    /// paused clock) they hold their last value. Percentiles are read from each pattern's
    /// distribution, recomputed only for patterns that recorded something since.
    public func snapshot() -> Snapshot {
        snapshot(indexed: false) { snap, view, now, _ in
            snap.actors.reserveCapacity(view.actors)
            var operations = 0
            for case let entry? in view.entries { operations += entry.probe.read(into: &snap, meters: &entry.meters.value, now: now) }
            var none = Meters()
            for reading in view.finished { reading.append(to: &snap, meters: &none, now: now) }
            return (operations, ())
        }.snapshot
    }

    /// A snapshot whose patterns `read` fills in from the registry's entries, returning the
    /// live patterns' operations and whatever else it found. `indexed`: `read` keeps the
    /// actor index, and the view carries the actors that joined and left since.
    func snapshot<Found>(
        indexed: Bool, _ read: (inout Snapshot, RegistryView, Duration, inout ActorIndex) -> (operations: Int, found: Found)
    ) -> (snapshot: Snapshot, found: Found) {
        let now = timeSource()
        return reader.withLock { reader in
            // The entries are taken under the state lock (the array, not a copy of it) and
            // read outside it, so registering and retiring never wait for a large snapshot;
            // one that comes meanwhile copies the array once.
            let (view, retired, retiredOperations) = state.withLock { s in
                var membership: ActorMembershipLog?
                if indexed {
                    // From the first indexed snapshot on, the state logs who joins and leaves.
                    membership = s.membership
                    s.membership = ActorMembershipLog()
                }
                return (
                    RegistryView(
                        entries: s.entries, finished: s.finished, actors: s.actorCount + s.finishedCounts[.actor, default: 0],
                        membership: membership),
                    s.retired, s.retiredOperations
                )
            }
            var snap = Snapshot()
            snap.elapsed = now
            snap.retired = retired
            let (operations, found) = read(&snap, view, now, &reader.index)
            snap.operations = retiredOperations + operations
            snap.operationsPerSecond = reader.operationsRate.update(count: snap.operations, now: now)
            return (snap, found)
        }
    }

    // MARK: events

    /// Sends events to `observer` from every pattern in this registry, as much as it asks
    /// for. Keep the subscription: it ends when cancelled or released.
    ///
    /// An `EventLog` takes its events from the registry's event buffer, drained whenever the
    /// log is read (see `EventLog`); any other observer is called once an event, on the task
    /// that caused it.
    public func subscribe(_ observer: any PatternObserver, interest: EventInterest) -> EventSubscription {
        let subscription = EventSubscription(registry: self)
        let id = ObjectIdentifier(subscription)
        let log = observer as? EventLog
        if let log {
            events.attach(log, interest: interest, id: id)
            log.attach(events)
        }
        subscribers.withLock { list in
            list.append(Subscriber(id: id, observer: observer, interest: interest, buffered: log != nil))
            recomputeInterest(list)
        }
        return subscription
    }

    func setInterest(_ interest: EventInterest, for subscription: ObjectIdentifier) {
        events.setInterest(interest, id: subscription)
        subscribers.withLock { list in
            for i in list.indices where list[i].id == subscription { list[i].interest = interest }
            recomputeInterest(list)
        }
    }

    func unsubscribe(_ subscription: ObjectIdentifier) {
        subscribers.withLock { list in
            list.removeAll { $0.id == subscription }
            recomputeInterest(list)
        }
        events.detach(subscription)?.detach(events)
    }

    /// Stores the highest interest of any subscriber, for patterns to read.
    private func recomputeInterest(_ list: [Subscriber]) {
        let highest = list.map(\.interest.rawValue).max() ?? 0
        routes.store(EventRoutes(list.map { ($0.interest, $0.buffered) }).rawValue, ordering: .relaxed)
        let everyEvent = highest >= EventInterest.all.rawValue
        let before = interest.exchange(highest, ordering: .relaxed) >= EventInterest.all.rawValue
        guard everyEvent != before else { return }
        // A probe added meanwhile reads `interest` under this lock: before this section, it
        // is told here; after it, the lock orders the store above before its read.
        state.withLock { s in
            for case let entry? in s.entries { entry.probe.everyEventWanted(everyEvent) }
        }
    }

    /// Hands `event` (built only if someone wants its level) to every subscriber that wants
    /// it: into the event buffer for the event logs, and to each other observer. Called by
    /// patterns, outside their locks, only after `interest` said someone does. Inlined into
    /// the patterns: an event only event logs want (the usual case) goes straight into
    /// their buffer, with no call.
    @inlinable
    func deliver(_ event: () -> BufferedEvent, notable: Bool) {
        let routes = EventRoutes(rawValue: routes.load(ordering: .relaxed))
        guard routes.toObservers(notable: notable) else {
            if routes.toLogs(notable: notable) { events.push(event()) }
            return
        }
        deliver(event(), notable: notable, toLogs: routes.toLogs(notable: notable))
    }

    /// `deliver` when another observer wants the event: a copy into the buffer too if event
    /// logs want it, then each such observer.
    @usableFromInline
    func deliver(_ event: consuming BufferedEvent, notable: Bool, toLogs: Bool) {
        let needed = notable ? EventInterest.notable.rawValue : EventInterest.all.rawValue
        let observed = event.event
        if toLogs { events.push(event) }
        for subscriber in subscribers.withLock({ $0 }) where !subscriber.buffered && subscriber.interest.rawValue >= needed {
            subscriber.observer.observe(observed)
        }
    }

    /// A stall of the pool, for whoever listens (notable): what the pool doctor reports.
    package func poolStall(_ stall: PoolStall, from source: String = "pool") {
        guard interest.load(ordering: .relaxed) >= EventInterest.notable.rawValue else { return }
        deliver(.poolStall(stall: stall), from: source)
    }

    /// Puts a free-form note in the event log of whoever listens (notable).
    public func note(_ text: String, from source: String = "program") {
        guard interest.load(ordering: .relaxed) >= EventInterest.notable.rawValue else { return }
        deliver(.note(text: text), from: source)
    }

    /// A notable health event from a source with no pattern of its own: one `SourceName` an
    /// event, which the buffer keeps alive until the event has left it.
    private func deliver(_ event: HealthEvent, from source: String) {
        let name = SourceName(PatternID(.health, source))
        events.adopt(name)
        // `name` held until the event is in the ring (the buffer's sweep may see it unheld
        // only after its claim).
        withExtendedLifetime(name) {
            deliver({ BufferedEvent(source: .passUnretained(name), at: .now(), body: .health(event)) }, notable: true)
        }
    }
}

/// Where a registry's events of each level go, in one word that `Emitter.send` reads once.
@usableFromInline struct EventRoutes {
    @usableFromInline let rawValue: Int

    @inlinable init(rawValue: Int) { self.rawValue = rawValue }

    /// From the subscribers' interests and whether each is an event log (buffered).
    init(_ subscribers: [(interest: EventInterest, buffered: Bool)]) {
        var raw = 0
        for s in subscribers {
            let base = s.buffered ? 0 : 2
            if s.interest >= .notable { raw |= 1 << base }
            if s.interest >= .all { raw |= 2 << base }
        }
        rawValue = raw
    }

    /// Whether an event log wants events of this level.
    @inlinable func toLogs(notable: Bool) -> Bool { rawValue & (notable ? 1 : 2) != 0 }
    /// Whether another observer wants events of this level.
    @inlinable func toObservers(notable: Bool) -> Bool { rawValue & (notable ? 4 : 8) != 0 }
}

/// How many events an observer wants.
public enum EventInterest: Int, Sendable, Hashable, Comparable, Codable, CaseIterable {
    /// None (a paused subscription).
    case none = 0
    /// Only events that change the shape of things (`PatternEvent.isNotable`).
    case notable = 1
    /// Every event: each item put and got, each message. Costs the program a clock read and
    /// a call per operation; ask for it only while someone looks at every event.
    case all = 2

    /// Whether `a` asks for fewer events than `b`.
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A subscription to a registry's events. Ends when cancelled or released.
public final class EventSubscription: Sendable {
    private let registry: PatternRegistry

    fileprivate init(registry: PatternRegistry) { self.registry = registry }

    deinit { registry.unsubscribe(ObjectIdentifier(self)) }

    /// Asks for more or fewer events from now on.
    public func setInterest(_ interest: EventInterest) {
        registry.setInterest(interest, for: ObjectIdentifier(self))
    }

    /// Stops the events; idempotent.
    public func cancel() { registry.unsubscribe(ObjectIdentifier(self)) }
}

private struct Subscriber: Sendable {
    let id: ObjectIdentifier
    let observer: any PatternObserver
    var interest: EventInterest
    /// An event log, which takes its events from the registry's buffer.
    let buffered: Bool
}

// MARK: - registry internals

/// A registered pattern, as the registry reads it.
protocol PatternProbe: AnyObject, Sendable {
    func read() -> PatternReading
    /// Appends the pattern's numbers to `snap` with its rates; returns its operations. A
    /// pattern kept by the hundred thousand (actors) builds its row in place.
    func read(into snap: inout Snapshot, meters: inout Meters, now: Duration) -> Int
    /// Whether someone now subscribes to every event of the registry: told when the probe
    /// joins and at each change, under the registry's state lock. For a pattern whose fast
    /// path checks a flag of its own instead of the registry (the queue); nothing by default.
    func everyEventWanted(_ wanted: Bool)
}

extension PatternProbe {
    func everyEventWanted(_ wanted: Bool) {}

    func read(into snap: inout Snapshot, meters: inout Meters, now: Duration) -> Int {
        let reading = read()
        reading.append(to: &snap, meters: &meters, now: now)
        return reading.operations
    }
}

/// One pattern's numbers, read at once.
enum PatternReading: Sendable {
    case queue(QueueSnapshot)
    case semaphore(SemaphoreSnapshot)
    case actor(ActorSnapshot)
    case stream(StreamSnapshot)
    case resource(ResourceSnapshot)
    case health(HealthSnapshot)

    /// Operations counted by the pattern (what would be one event each).
    var operations: Int {
        switch self {
        case .queue(let q): q.put + q.got + q.done
        case .semaphore(let s): s.acquired + s.released
        case .actor(let a): a.processed + a.failed + a.deadLetters
        case .stream(let s): s.produced + s.consumed
        case .resource(let r): r.opened + r.closed + r.openFailed
        case .health(let h): h.beats
        }
    }

    /// Adds the reading to `snap` with its rates (finished patterns pass fresh meters:
    /// their rates read 0).
    func append(to snap: inout Snapshot, meters: inout Meters, now: Duration) {
        switch self {
        case .queue(var q):
            q.putPerSecond = meters.primary.update(count: q.put, now: now)
            q.gotPerSecond = meters.secondary.update(count: q.got, now: now)
            snap.queues.append(q)
        case .semaphore(var s):
            s.acquiredPerSecond = meters.primary.update(count: s.acquired, now: now)
            snap.semaphores.append(s)
        case .actor(var a):
            a.processedPerSecond = meters.primary.update(count: a.processed, now: now)
            snap.actors.append(a)
        case .stream(var s):
            s.producedPerSecond = meters.primary.update(count: s.produced, now: now)
            snap.streams.append(s)
        case .resource(var r):
            r.openedPerSecond = meters.primary.update(count: r.opened, now: now)
            snap.resources.append(r)
        case .health(let h):
            // One loop-lag monitor per run: the latest registered one is shown.
            snap.health = h
        }
    }
}

/// The rates a snapshot keeps for one pattern.
struct Meters {
    /// The pattern's main rate: puts, acquires, messages processed, items produced, opens.
    var primary = RateMeter()
    /// A second rate, for the queue alone: gets.
    var secondary = RateMeter()
}

/// The rates of one pattern, kept across snapshots.
// `@unchecked Sendable`: `value` is read and written only inside `PatternRegistry.snapshot`,
// under its `reader` lock; the state lock only stores and hands out the reference.
final class MeterBox: @unchecked Sendable {
    /// Unchecked: that lock already makes each access exclusive, and the actor index
    /// reaches it for each of 100,000 actors (a dynamic check each otherwise).
    @exclusivity(unchecked) var value = Meters()
}

/// A listed pattern's probe: an object that holds the pattern's numbers (its locked state,
/// its counters), not the pattern. The registry holds it strongly, so reading it is always
/// safe; the pattern retires it from its `deinit`, and no pattern is ever weakly referenced
/// (a weak reference gives an object a side table and slows every retain and release of it).
struct Entry {
    let id: UInt64
    let probe: any PatternProbe
    let meters: MeterBox
    /// The probe again when it is an actor's, and its meters, unretained (`probe` and
    /// `meters` keep them): a snapshot reads 100,000 actors' counters without a retain and a
    /// release each, atomic operations that would make each cache miss wait for the last.
    let actor: (counters: Unmanaged<ActorCounters>, meters: Unmanaged<MeterBox>)?

    init(id: UInt64, probe: any PatternProbe, actor: ActorCounters?) {
        self.id = id
        self.probe = probe
        let meters = MeterBox()
        self.meters = meters
        self.actor = actor.map { (.passUnretained($0), .passUnretained(meters)) }
    }

    var isActor: Bool { actor != nil }
}

/// What a snapshot reads: the entries and finished readings as they were when it began.
struct RegistryView {
    let entries: [Entry?]
    let finished: Deque<PatternReading>
    /// Actors among them.
    let actors: Int
    /// For an indexed snapshot: the actors that joined and left since the last one (nil:
    /// the first, which indexes every entry).
    var membership: ActorMembershipLog? = nil
}

/// What only the snapshot that holds the reader lock touches.
struct SnapshotReader {
    var operationsRate: RateMeter
    var index = ActorIndex()
}

/// A pattern whose numbers live in one locked value, as its registry reads it: the value,
/// not the pattern, so the registry holds it strongly without keeping the pattern alive
/// (and no pattern needs a weak reference, which would slow every retain of it).
final class LockedProbe<Value: Sendable>: PatternProbe {
    let state: Locked<Value>
    let reading: @Sendable (inout Value, _ gone: Bool) -> PatternReading

    init(_ state: Locked<Value>, reading: @escaping @Sendable (inout Value, _ gone: Bool) -> PatternReading) {
        self.state = state
        self.reading = reading
    }

    func read() -> PatternReading { state.withLock { reading(&$0, false) } }
    /// The last reading, for the finished list.
    func last() -> PatternReading { state.withLock { reading(&$0, true) } }
}

/// Marks actors, so a snapshot can make room for all of them at once.
protocol ActorProbe: PatternProbe {}

struct RegistryState {
    /// In registration order; nil where a pattern retired (compacted when half are).
    var entries: [Entry?] = []
    var position: [UInt64: Int] = [:]
    var live = 0
    var actorCount = 0
    var finished: Deque<PatternReading> = []
    var finishedCounts: [PatternKind: Int] = [:]
    var retired = RetiredTotals()
    var retiredOperations = 0
    /// Actors that joined and left since the last indexed snapshot; nil until the first.
    var membership: ActorMembershipLog?

    mutating func add(_ entry: Entry) {
        position[entry.id] = entries.count
        entries.append(entry)
        live += 1
        if entry.isActor {
            actorCount += 1
            membership?.add(entry, actors: actorCount)
        }
    }

    mutating func retire(id: UInt64, final reading: PatternReading, keep: Int) {
        guard let i = position.removeValue(forKey: id) else { return }
        if let actor = entries[i]!.actor {
            actorCount -= 1
            membership?.remove(actor.counters.takeUnretainedValue(), actors: actorCount)
        }
        entries[i] = nil
        live -= 1
        retiredOperations += reading.operations
        retired.add(reading)
        let kind = reading.kind
        finished.append(reading)
        finishedCounts[kind, default: 0] += 1
        if finishedCounts[kind, default: 0] > keep, let oldest = finished.firstIndex(where: { $0.kind == kind }) {
            finished.remove(at: oldest)
            finishedCounts[kind, default: 0] -= 1
        }
        if entries.count >= 64, live < entries.count / 2 { compact() }
    }

    private mutating func compact() {
        entries.removeAll { $0 == nil }
        position.removeAll(keepingCapacity: true)
        for (i, e) in entries.enumerated() { position[e!.id] = i }
    }
}

extension PatternReading {
    var kind: PatternKind {
        switch self {
        case .queue: .queue
        case .semaphore: .semaphore
        case .actor: .actor
        case .stream: .stream
        case .resource: .resource
        case .health: .health
        }
    }
}

extension RetiredTotals {
    mutating func add(_ reading: PatternReading) {
        switch reading {
        case .queue(let q):
            queues += 1
            queueItems += q.put
        case .semaphore: semaphores += 1
        case .actor(let a):
            actors += 1
            actorProcessed += a.processed
            actorDeadLetters += a.deadLetters
            actorFailed += a.failed
        case .stream(let s):
            streams += 1
            streamElements += s.produced
        case .resource(let r):
            resources += 1
            resourcesOpened += r.opened
        case .health: break
        }
    }
}

/// A rate over windows of about a second of the time source. 24 bytes: 100,000 actors
/// each keep one.
///
/// Until a window has shown any operations (the first second of a run, or after a quiet
/// one), the rate is measured over whatever time has passed since the last read that saw
/// none, so a run shows its rate from its first operations instead of 0 for a second.
struct RateMeter {
    private var anchorCount = 0
    /// Nanoseconds of the time source at the anchor; -1 before the first update.
    private var anchorNanos: Int64 = -1
    private(set) var rate: Double = 0

    /// A meter that anchors at its first update.
    init() {}

    /// A meter whose count started at 0 at `origin` of the time source (the registry's own:
    /// its time source starts when it is made), so its first update already has a rate.
    init(origin: Duration) {
        anchorNanos = Int64(origin.seconds * 1e9)
    }

    /// Whether, with the count still `count`, updates would only ever give 0 (and move the
    /// anchor): the actor index then stops reading the pattern until it changes.
    func isSettled(at count: Int) -> Bool { rate == 0 && anchorNanos >= 0 && count == anchorCount }

    /// Shorter than this since the anchor, a rate would be noise.
    private static let shortestWindow: Int64 = 10_000_000

    mutating func update(count: Int, now: Duration) -> Double {
        update(count: count, nanoseconds: Int64(now.seconds * 1e9))
    }

    /// `update(count:now:)` with the time in nanoseconds of the time source (converted once
    /// for 100,000 actors).
    mutating func update(count: Int, nanoseconds nowNanos: Int64) -> Double {
        guard anchorNanos >= 0 else {
            anchorNanos = nowNanos
            anchorCount = count
            return rate
        }
        let dt = nowNanos - anchorNanos
        if dt >= 1_000_000_000 {
            rate = Double(count - anchorCount) / (Double(dt) / 1e9)
            anchorNanos = nowNanos
            anchorCount = count
            return rate
        }
        guard rate == 0 else { return rate }
        // No full window with operations yet: nothing since the anchor moves the anchor up
        // (operations have not begun); otherwise the rate so far, not kept as the window's.
        if count == anchorCount {
            anchorNanos = max(anchorNanos, nowNanos)
            return 0
        }
        return dt >= Self.shortestWindow ? Double(count - anchorCount) / (Double(dt) / 1e9) : 0
    }
}

extension Duration {
    /// The duration in seconds, as a Double. For the package's own modules: not API.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

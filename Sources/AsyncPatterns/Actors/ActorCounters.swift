import Synchronization

/// An actor's numbers, in an object of their own: the registry holds this strongly and
/// reads it while the actor lives, without keeping the actor alive.
@usableFromInline
final class ActorCounters: Sendable, ActorProbe {
    let name: String
    /// Where the actor is in its life (`ActorLifecycle`): read by every send and by the run
    /// loop after each message.
    @usableFromInline let lifecycle = ActorLifecycle.Storage()
    // The counters below are read and written relaxed: each is a number to show, and none
    // publishes other memory (messages travel through the mailbox, which orders them).
    @usableFromInline let deadLetters = Atomic<Int>(0)
    @usableFromInline let failed = Atomic<Int>(0)
    @usableFromInline let blockedSends = Atomic<Int>(0)
    /// The deepest the mailbox was seen by the run loop (its only writer).
    @usableFromInline let maxDepth = Atomic<Int>(0)
    /// Processing times and the last dead letters, behind one lock (one object an actor).
    @usableFromInline let diagnostics = Locked(ActorDiagnostics())
    /// Set once `diagnostics` holds anything: a snapshot skips the lock of idle actors.
    /// Relaxed: set after the lock-protected write; a reader that sees it takes the lock,
    /// which orders the data, and one that misses it shows no diagnostics this once.
    @usableFromInline let hasDiagnostics = Atomic<Bool>(false)
    // The mailbox depth is `sent - taken`: senders count up one counter, the run loop (the
    // only writer of the other two) stores its own. Padding keeps the three groups on cache
    // lines of their own (Swift lays out stored properties in order), so a busy sender and
    // the run loop do not trade a line on every message.
    @usableFromInline let padding1 = CacheLinePadding()
    /// Messages counted into the mailbox (taken back when a delivery fails).
    @usableFromInline let sent = Atomic<Int>(0)
    /// The senders' change mark (on their cache line): clear once the registry's actor index
    /// has read the actor; the first send after that sets it and reports the actor to
    /// `changes`. Set from the start, so an actor reports nothing before the index knows it.
    /// Relaxed: a change whose report races with the index's read is read again at the
    /// next snapshot (the index reads an actor that reported a change for a second).
    @usableFromInline let sentMark = Atomic<Bool>(true)
    @usableFromInline let padding2 = CacheLinePadding()
    /// Messages the run loop has taken out (processed or reported as dead letters).
    @usableFromInline let taken = Atomic<Int>(0)
    @usableFromInline let processed = Atomic<Int>(0)
    /// The run loop's change mark, as `sentMark` is the senders'.
    @usableFromInline let loopMark = Atomic<Bool>(true)
    /// Where the actor reports its first change after each read (its registry's log); nil:
    /// the index reads it at every snapshot.
    let changes: ActorChangeLog?
    /// The actor's slot in its registry's actor index (-1: none yet), so the index finds
    /// the actor of a reported change without a table of its own. Read and written only by
    /// the index, under the registry's reader lock: relaxed is enough.
    let indexSlot = Atomic<Int32>(-1)

    init(name: String, changes: ActorChangeLog? = nil) {
        self.name = name
        self.changes = changes
    }

    /// After a send: reports the actor if it is the first change since the index read it.
    @inlinable func sentChanged() {
        if !sentMark.load(ordering: .relaxed) { reportSent() }
    }

    /// After a message: reports the actor if it is the first change since the index read it.
    @inlinable func loopChanged() {
        if !loopMark.load(ordering: .relaxed) { reportLoop() }
    }

    @usableFromInline @inline(never) func reportSent() {
        if !sentMark.exchange(true, ordering: .relaxed) { changes?.append(self) }
    }

    @usableFromInline @inline(never) func reportLoop() {
        if !loopMark.exchange(true, ordering: .relaxed) { changes?.append(self) }
    }

    /// Messages sent and not yet taken by the run loop. A message is counted as sent before
    /// it can be taken; the two counters are read one after the other, so clamp at zero.
    @inlinable var depth: Int {
        let out = taken.load(ordering: .relaxed)
        return max(0, sent.load(ordering: .relaxed) &- out)
    }

    func read() -> PatternReading { .actor(snapshot()) }

    func read(into snap: inout Snapshot, meters: inout Meters, now: Duration) -> Int {
        snap.actors.append(snapshot())
        let i = snap.actors.count - 1
        snap.actors[i].processedPerSecond = meters.primary.update(count: snap.actors[i].processed, now: now)
        return snap.actors[i].processed + snap.actors[i].failed + snap.actors[i].deadLetters
    }

    func snapshot() -> ActorSnapshot {
        var a = ActorSnapshot(name: name)
        a.mailboxDepth = depth
        a.maxMailboxDepth = max(a.mailboxDepth, maxDepth.load(ordering: .relaxed))
        a.processed = processed.load(ordering: .relaxed)
        a.failed = failed.load(ordering: .relaxed)
        a.deadLetters = deadLetters.load(ordering: .relaxed)
        a.blockedSends = blockedSends.load(ordering: .relaxed)
        a.isStopped = lifecycle.current.isStopped
        if hasDiagnostics.load(ordering: .relaxed) {
            (a.processing, a.recentDeadLetters) = diagnostics.withLock { d in
                (d.processing?.percentiles() ?? Percentiles(), d.recentDeadLetters)
            }
        }
        return a
    }
}

/// What an actor keeps for the screen beyond its counters.
@usableFromInline
struct ActorDiagnostics: Sendable {
    /// Processing times of a sample of messages; made on the first sample, so an idle actor
    /// keeps none.
    @usableFromInline var processing: LatencyDistribution?
    var recentDeadLetters: [String] = []
    @usableFromInline init() {}
}

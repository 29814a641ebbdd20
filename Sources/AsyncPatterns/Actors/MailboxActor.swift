import Synchronization

/// What an actor does with each message. The behaviour's state is owned by the actor's
/// run loop, one message at a time, so it needs no locks.
public protocol ActorBehavior<Message>: Sendable {
    associatedtype Message: Sendable
    /// Handles one message. Throwing counts as a failed message; the actor goes on.
    mutating func receive(_ envelope: Envelope<Message>, context: ActorContext<Message>) async throws
}

/// What a behaviour can do while handling a message: who it is, and send to its peers.
public struct ActorContext<Message: Sendable>: Sendable {
    /// The actor processing the message.
    public let actor: MailboxActor<Message>

    @inlinable
    init(actor: MailboxActor<Message>) { self.actor = actor }

    /// The actor's name.
    public var name: String { actor.name }

    /// Sends to a peer by name (the tutorial's `send(to, content)`), looked up in the
    /// actor's directory. An actor is not its own peer: a send to its own name is a dead
    /// letter, as in the tutorial.
    ///
    /// An unknown name, a stopped peer, (with `.fail`) a full mailbox, or the sender's own
    /// cancellation while it waits for room makes the message a dead letter, reported once
    /// as `.deadLetter`: by the recipient when it exists, else by the sender.
    /// - Suspends: while the peer's bounded mailbox is full, with `.wait`.
    /// - Returns: whether the message was delivered.
    @discardableResult
    public func send(to peer: String, _ message: Message, ifFull: MailboxActor<Message>.FullPolicy = .wait) async -> Bool {
        guard peer != name, let target = actor.directory?.actor(named: peer) else {
            actor.reportDeadLetter(to: peer, reason: .unknownRecipient)
            return false
        }
        do {
            try await target.tell(message, from: name, ifFull: ifFull)
            return true
        } catch is MailboxFull {
        } catch is ActorStopped {
            // Both reported by the recipient already.
        } catch {
            actor.reportDeadLetter(to: peer, reason: .senderCancelled)
        }
        return false
    }
}

/// An actor whose messages go through an observable mailbox (the tutorial's `Actor`).
///
/// Messages are processed one at a time, in order, by `run(_:)`. An idle actor is
/// suspended on its mailbox: it never polls. The mailbox may be bounded: a send then waits
/// for room or fails, the sender's choice. `stop()` lets the message being processed
/// finish; messages still queued are reported as dead letters and their asks fail.
/// Actors find each other by name through a shared `ActorDirectory`, not a copy of every
/// peer in every actor. The actor keeps its own numbers (`stats`, and a sample of processing
/// times in its registry's snapshots) and emits `ActorEvent`s (enqueued, processed, dead
/// letters, …) only to those who subscribe to its registry.
public final class MailboxActor<Message: Sendable>: Sendable {
    /// What a send does when a bounded mailbox is full.
    public enum FullPolicy: Sendable {
        /// Suspend until there is room (back-pressure).
        case wait
        /// Fail at once; the message becomes a dead letter.
        case fail
    }

    /// The name peers address it by, and its name in events and snapshots.
    public let name: String
    /// The mailbox bound; nil when unbounded.
    public let mailboxCapacity: Int?
    /// Where it finds its peers by name (and where they find it); nil: it sends to nobody.
    public let directory: ActorDirectory<Message>?
    @usableFromInline let mailbox: BoundedQueue<Envelope<Message>>
    @usableFromInline let emit: Emitter
    /// The actor's numbers; also what the registry reads, and holds, instead of the actor.
    @usableFromInline let counters: ActorCounters

    /// The identity in events (`kind` is `.actor`).
    public var id: PatternID { emit.source }

    /// - Parameters:
    ///   - name: the name peers address it by.
    ///   - mailboxCapacity: nil for an unbounded mailbox, else at least 1.
    ///   - directory: joins it (replacing an actor of the same name) until it stops.
    ///   - registry: where the actor is listed until it stops (nil: nowhere); its
    ///     subscribers get the actor's events.
    public init(
        name: String, mailboxCapacity: Int? = nil, directory: ActorDirectory<Message>? = nil,
        registry: PatternRegistry? = .shared
    ) {
        precondition(mailboxCapacity.map { $0 >= 1 } ?? true, "a mailbox bound must be at least 1")
        self.name = name
        self.mailboxCapacity = mailboxCapacity
        self.directory = directory
        mailbox = BoundedQueue(capacity: mailboxCapacity ?? Int.max, name: name, registry: nil)
        emit = Emitter(registry, PatternID(.actor, name))
        counters = ActorCounters(name: name)
        directory?.add(self)
        emit.register(counters)
    }

    deinit { emit.retire(.actor(counters.snapshot())) }

    // MARK: sending

    /// Sends to a peer by name, as this actor (the tutorial's `actor.send(to, content)`).
    /// See `ActorContext.send(to:_:ifFull:)`.
    @discardableResult
    public func send(to peer: String, _ message: Message, ifFull: FullPolicy = .wait) async -> Bool {
        await ActorContext(actor: self).send(to: peer, message, ifFull: ifFull)
    }

    /// Puts a message in this actor's own mailbox.
    /// - Parameters:
    ///   - message: what to send.
    ///   - sender: the sending actor's name, if any (visible to the receiver).
    ///   - ifFull: wait for room (default) or fail when a bounded mailbox is full.
    /// - Suspends: only when the mailbox is bounded, full and `ifFull` is `.wait`.
    /// - Throws: `ActorStopped` (dead letter), `MailboxFull` with `.fail`,
    ///   `CancellationError` if cancelled while waiting (not delivered).
    /// - Emits: `.enqueued`, or `.senderBlocked` when it waits, or `.deadLetter`.
    @inlinable
    nonisolated(nonsending) public func tell(_ message: Message, from sender: String? = nil, ifFull: FullPolicy = .wait) async throws {
        try await deliver(Envelope(sender: sender, message: message, reply: nil), ifFull: ifFull)
    }

    /// Sends a request built around a reply handle and suspends until the actor answers
    /// through it: `let n = try await counter.ask { .getCount(replyTo: $0) }`.
    ///
    /// - Parameters:
    ///   - isolation: where `makeMessage` runs: the caller's isolation by default, so it may
    ///     be written inside an actor or on the main actor.
    ///   - sender: the asking actor's name, if any (visible to the receiver).
    ///   - makeMessage: builds the request from the `ReplyTo` the behaviour answers with.
    /// - Suspends: while a bounded mailbox is full, then until the answer arrives.
    /// - Returns: what the behaviour sent with `ReplyTo.send(_:)` (only the first answer
    ///   counts).
    /// - Throws: each outcome other than an answer has an error of its own:
    ///   - the error the behaviour passed to `ReplyTo.fail(_:)`, or, when its `receive`
    ///     threw before answering, the error it threw (the message counts as failed);
    ///   - `NoReply`: the behaviour handled the message without answering;
    ///   - `ActorStopped`: the actor was stopped (or its `run` task cancelled) before it
    ///     took the message, or before it ever ran: the message became a dead letter;
    ///   - `MailboxFull`: never, since `ask` waits for room in a bounded mailbox;
    ///   - `CancellationError`: the asking task was cancelled while it waited for room or
    ///     for the answer (a later answer is ignored); **also when the asking task was not
    ///     cancelled** but the task running the actor's `run(_:)` was, while the behaviour
    ///     handled this message: the behaviour's sleeps and waits throw
    ///     `CancellationError`, and `receive` passes it on as its error (see the first
    ///     case). Tell the two apart with `Task.isCancelled` in the asker.
    ///   - `TimedOut`: only from the variants with a timeout.
    /// - Emits: what `tell` emits.
    public func ask<Reply: Sendable>(
        isolation: isolated (any Actor)? = #isolation, from sender: String? = nil, _ makeMessage: (ReplyTo<Reply>) -> Message
    ) async throws -> Reply {
        let slot = ReplySlot<Reply>()
        let envelope = Envelope(sender: sender, message: makeMessage(ReplyTo(slot: slot)), reply: slot)
        return try await ask(envelope, slot)
    }

    /// `ask` that gives up after `timeout` on `clock`.
    /// - Throws: `TimedOut` when no answer arrived in time (the message may still be
    ///   processed; its answer is then ignored), or what `ask` throws.
    public func ask<Reply: Sendable, C: Clock>(
        isolation: isolated (any Actor)? = #isolation, timeout: C.Duration, clock: C, from sender: String? = nil,
        _ makeMessage: (ReplyTo<Reply>) -> Message
    ) async throws -> Reply {
        let slot = ReplySlot<Reply>()
        let envelope = Envelope(sender: sender, message: makeMessage(ReplyTo(slot: slot)), reply: slot)
        return try await withDeadline(timeout, clock: clock) { try await self.ask(envelope, slot) }
    }

    /// `ask` with a timeout on the continuous clock.
    /// - Throws: `TimedOut` when no answer arrived in time, or what `ask` throws.
    public func ask<Reply: Sendable>(
        isolation: isolated (any Actor)? = #isolation, timeout: Duration, from sender: String? = nil,
        _ makeMessage: (ReplyTo<Reply>) -> Message
    ) async throws -> Reply {
        try await ask(isolation: isolation, timeout: timeout, clock: ContinuousClock(), from: sender, makeMessage)
    }

    func ask<Reply: Sendable>(_ envelope: Envelope<Message>, _ slot: ReplySlot<Reply>) async throws -> Reply {
        try await deliver(envelope, ifFull: .wait)
        return try await slot.wait()
    }

    @inlinable
    nonisolated(nonsending) func deliver(_ envelope: Envelope<Message>, ifFull: FullPolicy) async throws {
        if counters.stopping.load(ordering: .acquiring) {
            reportDeadLetter(to: name, reason: .stopped)
            throw ActorStopped(name: name)
        }
        // Counted before the put so the depth (sent - taken) never goes below zero; taken
        // back on every path where the message did not go in. The run loop's counter is
        // read only for events: reading it on every send would pull its cache line over.
        counters.sent.wrappingAdd(1, ordering: .relaxed)
        do {
            if try !mailbox.tryPut(envelope) {
                guard ifFull == .wait else { throw MailboxFull(name: name) }
                counters.blockedSends.wrappingAdd(1, ordering: .relaxed)
                emit.actor(.senderBlocked(depth: currentDepth - 1))
                try await mailbox.put(envelope)
            }
        } catch {
            counters.sent.wrappingSubtract(1, ordering: .relaxed)
            switch error {
            case is QueueClosed:
                reportDeadLetter(to: name, reason: .stopped)
                throw ActorStopped(name: name)
            case is MailboxFull:
                reportDeadLetter(to: name, reason: .mailboxFull)
                throw error
            default:
                throw error  // cancelled while waiting for room: not delivered, the sender knows
            }
        }
        emit.actor(.enqueued(depth: currentDepth))
    }

    @usableFromInline
    func reportDeadLetter(to recipient: String, reason: DeadLetterReason) {
        counters.deadLetters.wrappingAdd(1, ordering: .relaxed)
        counters.diagnostics.withLock { d in
            if d.recentDeadLetters.count == 5 { d.recentDeadLetters.removeFirst() }
            d.recentDeadLetters.append("\(recipient): \(reason.rawValue)")
        }
        if !counters.hasDiagnostics.load(ordering: .relaxed) { counters.hasDiagnostics.store(true, ordering: .relaxed) }
        emit.actor(.deadLetter(to: recipient, reason: reason))
    }

    // MARK: running

    /// Processes messages one at a time until `stop()` or until the calling task is
    /// cancelled (which stops the actor the same way), then reports what was left in the
    /// mailbox as dead letters and fails their asks with `ActorStopped`.
    ///
    /// Suspends while the mailbox is empty, without polling. Runs once: it is the mailbox's
    /// single consumer (and the only writer of its `taken` counter); a second call, or a
    /// call after `stop()`, returns at once.
    /// - Emits: `.started`, `.processed` or `.failed` per message, `.stopped`.
    @inlinable
    public func run<B: ActorBehavior>(_ behavior: B) async where B.Message == Message {
        guard
            counters.lifecycle.compareExchange(expected: Lifecycle.idle, desired: Lifecycle.running, ordering: .acquiringAndReleasing)
                .exchanged
        else { return }  // stopped before it ran (stop() reported the mailbox), or running already
        // The loop itself only waits and dispatches: the mailbox wait and the processing of a
        // message are calls of their own, so an idle actor's task holds small frames (the
        // processing frame exists only while a message is processed).
        var loop = RunLoop(
            behavior: behavior, context: ActorContext(actor: self), batchLimit: mailboxCapacity == nil ? 64 : 1,
            taken: counters.taken.load(ordering: .relaxed), processed: counters.processed.load(ordering: .relaxed),
            deepest: counters.maxDepth.load(ordering: .relaxed), timed: emit.registry != nil)
        emit.actor(.started)
        // Cancelling the task stops the actor: no message is handed to a behaviour whose
        // task is cancelled (each would fail, and with steady sending the loop would spin).
        // The handler sets a flag the loop reads with its stop flag: cheaper than asking the
        // task whether it is cancelled before every message.
        await withTaskCancellationHandler {
            while !counters.stopping.load(ordering: .acquiring), !counters.cancelled.load(ordering: .acquiring) {
                guard await refill(&loop) else { break }  // closed by stop(), or cancelled
                await processBatch(&loop)
            }
        } onCancel: {
            counters.cancelled.store(true, ordering: .releasing)
        }
        drainAfterStop(inHand: loop.batch[loop.next...])
        counters.lifecycle.store(Lifecycle.ended, ordering: .releasing)
    }

    /// Takes the next batch: up to `batchLimit` messages under one lock, or waits for one.
    /// An unbounded mailbox is emptied in batches (messages count in the depth until
    /// processed); a bounded one is taken one message at a time, since a batch in hand
    /// would let senders exceed the bound.
    /// - Returns: false when the mailbox is closed and empty, or the task was cancelled.
    @inlinable @inline(never)
    nonisolated(nonsending) func refill<B>(_ loop: inout RunLoop<B>) async -> Bool where B.Message == Message {
        loop.batch.removeAll(keepingCapacity: true)
        loop.next = 0
        do {
            if let id = try mailbox.takeBatch(into: &loop.batch, max: loop.batchLimit) {
                loop.batch.append(try await mailbox.getWaiting(id: id))
            }
        } catch {
            return false
        }
        // Once per batch: reading the senders' counter pulls their cache line over.
        let depth = currentDepth
        if depth > loop.deepest {
            loop.deepest = depth
            counters.maxDepth.store(depth, ordering: .relaxed)
        }
        return true
    }

    /// Processes the messages of the batch in order, each counted, a sample timed, each
    /// reported, until the batch is done or the actor is stopped.
    @inlinable @inline(never)
    nonisolated(nonsending) func processBatch<B>(_ loop: inout RunLoop<B>) async where B.Message == Message {
        while loop.next < loop.batch.count {
            let envelope = loop.batch[loop.next]
            loop.next += 1
            loop.takenCount &+= 1
            counters.taken.store(loop.takenCount, ordering: .relaxed)
            let start = loop.timed && loop.sampler.tick() ? monotonicNanoseconds() : 0
            do {
                try await loop.behavior.receive(envelope, context: loop.context)
                envelope.reply?.fail(NoReply())
                loop.processedCount &+= 1
                counters.processed.store(loop.processedCount, ordering: .relaxed)
                if start != 0 { recordProcessing(monotonicNanoseconds() &- start, &loop.sampler) }
                emit.actor(.processed(depth: currentDepth))
            } catch {
                envelope.reply?.fail(error)
                counters.failed.wrappingAdd(1, ordering: .relaxed)
                emit.actor(.failed(depth: currentDepth))
            }
            if counters.stopping.load(ordering: .acquiring) || counters.cancelled.load(ordering: .acquiring) { return }
        }
    }

    @usableFromInline
    func recordProcessing(_ nanos: UInt64, _ sampler: inout LatencySampler) {
        sampler.took(nanos)
        counters.diagnostics.withLock { d in
            if d.processing == nil { d.processing = LatencyDistribution() }
            d.processing!.record(nanos)
        }
        if !counters.hasDiagnostics.load(ordering: .relaxed) { counters.hasDiagnostics.store(true, ordering: .relaxed) }
    }

    /// Stops the actor: the message being processed finishes, later sends become dead
    /// letters, and queued messages are reported as dead letters (their asks throw
    /// `ActorStopped`): by the run loop, or here when `run` never started (it then never
    /// will). Never suspends. Idempotent.
    /// - Emits: `.deadLetter` per message left and `.stopped`, here or from the run loop.
    public func stop() {
        counters.stopping.store(true, ordering: .releasing)
        directory?.remove(self)
        mailbox.close()
        if counters.lifecycle.compareExchange(expected: Lifecycle.idle, desired: Lifecycle.ended, ordering: .acquiringAndReleasing)
            .exchanged
        {
            drainAfterStop(inHand: [])
        }
    }

    /// Stops taking messages but lets `run(_:)` process the ones already sent: later sends
    /// become dead letters (they and their asks throw `ActorStopped`), the actor leaves its
    /// directory, and `run` returns once the mailbox is empty (the actor is then stopped).
    /// For a graceful shutdown; `stop()` (or cancelling the run task) still ends it at once.
    /// An actor whose `run` never starts keeps its messages until it does. Never suspends.
    /// Idempotent.
    /// - Emits: `.deadLetter` for each later send, `.stopped` when `run` returns.
    public func finish() {
        directory?.remove(self)
        mailbox.close()
    }

    /// Reports what was left, in order: the rest of the run loop's batch, then the mailbox.
    @usableFromInline
    func drainAfterStop(inHand: ArraySlice<Envelope<Message>>) {
        counters.stopping.store(true, ordering: .releasing)
        mailbox.close()
        var unprocessed = 0
        func deadLetter(_ envelope: Envelope<Message>) {
            counters.taken.wrappingAdd(1, ordering: .relaxed)
            unprocessed += 1
            envelope.reply?.fail(ActorStopped(name: name))
            reportDeadLetter(to: name, reason: .stopped)
        }
        inHand.forEach(deadLetter)
        while let envelope = try? mailbox.tryGet() { deadLetter(envelope) }
        directory?.remove(self)
        // Still listed (as stopped) until released: a late send still counts against it.
        emit.actor(.stopped(unprocessed: unprocessed))
    }

    /// Messages sent and not yet taken by the run loop. A message is counted as sent before
    /// it can be taken; the two counters are read one after the other, so clamp at zero.
    @usableFromInline var currentDepth: Int { counters.depth }

    /// A picture of the actor right now.
    public var stats: ActorStats {
        ActorStats(
            mailboxDepth: currentDepth,
            processed: counters.processed.load(ordering: .relaxed),
            failed: counters.failed.load(ordering: .relaxed),
            deadLetters: counters.deadLetters.load(ordering: .relaxed),
            isStopped: counters.stopping.load(ordering: .relaxed))
    }
}

/// The run loop's own state: the behaviour, the batch in hand, and the counters it alone
/// writes.
@usableFromInline
struct RunLoop<B: ActorBehavior> {
    @usableFromInline var behavior: B
    @usableFromInline let context: ActorContext<B.Message>
    @usableFromInline let batchLimit: Int
    @usableFromInline var batch: [Envelope<B.Message>] = []
    @usableFromInline var next = 0
    @usableFromInline var takenCount: Int
    @usableFromInline var processedCount: Int
    @usableFromInline var deepest: Int
    @usableFromInline let timed: Bool
    @usableFromInline var sampler = LatencySampler()

    @inlinable
    init(behavior: B, context: ActorContext<B.Message>, batchLimit: Int, taken: Int, processed: Int, deepest: Int, timed: Bool) {
        self.behavior = behavior
        self.context = context
        self.batchLimit = batchLimit
        takenCount = taken
        processedCount = processed
        self.deepest = deepest
        self.timed = timed
    }
}

/// An actor's numbers, in an object of their own: the registry holds this strongly and
/// reads it while the actor lives, without keeping the actor alive.
@usableFromInline
final class ActorCounters: Sendable, ActorProbe {
    let name: String
    @usableFromInline let stopping = Atomic<Bool>(false)
    /// Set when the task running the loop is cancelled (which stops the actor).
    @usableFromInline let cancelled = Atomic<Bool>(false)
    /// `Lifecycle`: whether `run` started, so that `stop()` before it drains the mailbox.
    @usableFromInline let lifecycle = Atomic<Int>(Lifecycle.idle)
    @usableFromInline let deadLetters = Atomic<Int>(0)
    @usableFromInline let failed = Atomic<Int>(0)
    @usableFromInline let blockedSends = Atomic<Int>(0)
    /// The deepest the mailbox was seen by the run loop (its only writer).
    @usableFromInline let maxDepth = Atomic<Int>(0)
    /// Processing times and the last dead letters, behind one lock (one object an actor).
    @usableFromInline let diagnostics = Locked(ActorDiagnostics())
    /// Set once `diagnostics` holds anything: a snapshot skips the lock of idle actors.
    @usableFromInline let hasDiagnostics = Atomic<Bool>(false)
    // The mailbox depth is `sent - taken`: senders count up one counter, the run loop (the
    // only writer of the other two) stores its own. Padding keeps the three groups on cache
    // lines of their own (Swift lays out stored properties in order), so a busy sender and
    // the run loop do not trade a line on every message.
    @usableFromInline let padding1 = CacheLinePadding()
    /// Messages counted into the mailbox (taken back when a delivery fails).
    @usableFromInline let sent = Atomic<Int>(0)
    @usableFromInline let padding2 = CacheLinePadding()
    /// Messages the run loop has taken out (processed or reported as dead letters).
    @usableFromInline let taken = Atomic<Int>(0)
    @usableFromInline let processed = Atomic<Int>(0)

    init(name: String) { self.name = name }

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
        snap.actors[i].processedPerSecond = meters.a.update(count: snap.actors[i].processed, now: now)
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
        a.isStopped = stopping.load(ordering: .relaxed)
        if hasDiagnostics.load(ordering: .relaxed) {
            (a.processing, a.recentDeadLetters) = diagnostics.withLock { d in
                (d.processing?.percentiles() ?? Percentiles(), d.recentDeadLetters)
            }
        }
        return a
    }
}

/// The states of `ActorCounters.lifecycle`.
@usableFromInline
enum Lifecycle {
    /// `run` not called yet.
    @usableFromInline static let idle = 0
    /// `run` is the mailbox's consumer.
    @usableFromInline static let running = 1
    /// `run` returned, or `stop()` came first (and drained the mailbox).
    @usableFromInline static let ended = 2
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

/// Where actors find each other by name: one shared table for a group of actors, instead of
/// a copy of every peer in every actor (100,000 actors cost one entry each). An actor joins
/// when it is created with the directory and leaves when it stops.
public final class ActorDirectory<Message: Sendable>: Sendable {
    private let actors = Locked<[String: MailboxActor<Message>]>([:])

    /// An empty directory; actors join it when created with it.
    public init() {}

    /// The running actor registered under `name`, if any.
    public func actor(named name: String) -> MailboxActor<Message>? {
        actors.withLock { $0[name] }
    }

    /// Actors in the directory now.
    public var count: Int { actors.withLock { $0.count } }

    func add(_ actor: MailboxActor<Message>) {
        actors.withLock { $0[actor.name] = actor }
    }

    /// Removes `actor`, not another that took its name since.
    func remove(_ actor: MailboxActor<Message>) {
        actors.withLock { table in
            if table[actor.name] === actor { table.removeValue(forKey: actor.name) }
        }
    }
}

/// Counters of a `MailboxActor` at one moment.
public struct ActorStats: Sendable, Hashable {
    /// Messages sent and not yet taken by the run loop.
    public var mailboxDepth: Int
    /// Messages handled without throwing.
    public var processed: Int
    /// Messages whose handler threw (the actor went on; an `ask` among them threw the
    /// handler's error). `ActorSnapshot.failed` in a registry's snapshot.
    public var failed: Int
    /// Dead letters this actor reported (as sender to unknown peers, or as a stopped recipient).
    public var deadLetters: Int
    /// Whether `stop()` was called or the run loop ended.
    public var isStopped: Bool
}

import Synchronization

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
        counters = ActorCounters(name: name, changes: registry?.actorChanges)
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
        if !counters.lifecycle.current.acceptsMessages {
            reportDeadLetter(to: name, reason: .stopped)
            throw ActorStopped(name: name)
        }
        // Counted before the put so the depth (sent - taken) never goes below zero; taken
        // back on every path where the message did not go in. The run loop's counter is
        // read only for events: reading it on every send would pull its cache line over.
        counters.sent.wrappingAdd(1, ordering: .relaxed)
        counters.sentChanged()
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
        // Routine: built (reading the run loop's counter) only for a subscriber to every event.
        if emit.wants(notable: false) { emit.actor(.enqueued(depth: currentDepth)) }
    }

    @usableFromInline
    func reportDeadLetter(to recipient: String, reason: DeadLetterReason) {
        counters.deadLetters.wrappingAdd(1, ordering: .relaxed)
        counters.reportSent()
        counters.diagnostics.withLock { d in
            if d.recentDeadLetters.count == 5 { d.recentDeadLetters.removeFirst() }
            d.recentDeadLetters.append("\(recipient): \(reason.rawValue)")
        }
        if !counters.hasDiagnostics.load(ordering: .relaxed) { counters.hasDiagnostics.store(true, ordering: .relaxed) }
        emit.actor(.deadLetter(to: recipient, reason: reason))
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
            isStopped: counters.lifecycle.current.isStopped)
    }
}

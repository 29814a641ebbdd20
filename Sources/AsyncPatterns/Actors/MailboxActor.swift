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
    public let actor: MailboxActor<Message>

    @inlinable
    init(actor: MailboxActor<Message>) { self.actor = actor }

    public var name: String { actor.name }

    /// Sends to a peer by name (the tutorial's `send(to, content)`).
    ///
    /// An unknown name, a stopped peer or (with `.fail`) a full mailbox makes the message
    /// a dead letter: reported as `.deadLetter`, never silently dropped.
    /// - Suspends: while the peer's bounded mailbox is full, with `.wait`.
    /// - Returns: whether the message was delivered.
    @discardableResult
    public func send(to peer: String, _ message: Message, ifFull: MailboxActor<Message>.FullPolicy = .wait) async -> Bool {
        guard let target = actor.peer(named: peer) else {
            actor.reportDeadLetter(to: peer, reason: .unknownRecipient)
            return false
        }
        do {
            try await target.tell(message, from: name, ifFull: ifFull)
            return true
        } catch let error as MailboxFull {
            actor.reportDeadLetter(to: error.name, reason: .mailboxFull)
        } catch let error as ActorStopped {
            actor.reportDeadLetter(to: error.name, reason: .stopped)
        } catch {
            // Cancelled while waiting for room: the message was not delivered.
            actor.reportDeadLetter(to: peer, reason: .stopped)
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
/// Emits `ActorEvent`s: enqueued, processed (with processing time), dead letters.
public final class MailboxActor<Message: Sendable>: Sendable {
    /// What a send does when a bounded mailbox is full.
    public enum FullPolicy: Sendable {
        /// Suspend until there is room (back-pressure).
        case wait
        /// Fail at once; the message becomes a dead letter.
        case fail
    }

    public let name: String
    /// The mailbox bound; nil when unbounded.
    public let mailboxCapacity: Int?
    @usableFromInline let mailbox: BoundedQueue<Envelope<Message>>
    @usableFromInline let emit: Emitter
    private let peers = Locked<[String: MailboxActor<Message>]>([:])
    @usableFromInline let stopping = Atomic<Bool>(false)
    @usableFromInline let deadLetters = Atomic<Int>(0)
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

    /// The identity in events (`kind` is `.actor`).
    public var id: PatternID { emit.source }

    /// - Parameters:
    ///   - name: the name peers address it by.
    ///   - mailboxCapacity: nil for an unbounded mailbox, else at least 1.
    ///   - observer: receives `ActorEvent`s.
    public init(name: String, mailboxCapacity: Int? = nil, observer: (any PatternObserver)? = nil) {
        precondition(mailboxCapacity.map { $0 >= 1 } ?? true, "a mailbox bound must be at least 1")
        self.name = name
        self.mailboxCapacity = mailboxCapacity
        mailbox = BoundedQueue(capacity: mailboxCapacity ?? Int.max, name: name)
        emit = Emitter(observer, PatternID(.actor, name))
    }

    // MARK: peers

    /// Makes `other` reachable by its name from this actor's context.
    public func addPeer(_ other: MailboxActor<Message>) {
        peers.withLock { $0[other.name] = other }
    }

    /// Forgets the peer registered under `name`; later sends to it are dead letters.
    public func removePeer(named name: String) {
        peers.withLock { _ = $0.removeValue(forKey: name) }
    }

    /// The peer registered under `name`, if any.
    public func peer(named name: String) -> MailboxActor<Message>? {
        peers.withLock { $0[name] }
    }

    /// Names of the registered peers, sorted.
    public var peerNames: [String] { peers.withLock { $0.keys.sorted() } }

    /// Registers every actor as a peer of every other (not of itself), as the tutorial does.
    public static func connect(_ actors: [MailboxActor<Message>]) {
        for a in actors {
            for b in actors where a !== b { a.addPeer(b) }
        }
    }

    // MARK: sending

    /// Sends to a peer by name, as this actor (the tutorial's `actor.send(to, content)`).
    /// See `ActorContext.send(to:_:ifFull:)`.
    @discardableResult
    public func send(to peer: String, _ message: Message, ifFull: FullPolicy = .wait) async -> Bool {
        await ActorContext(actor: self).send(to: peer, message, ifFull: ifFull)
    }

    /// Puts a message in this actor's own mailbox.
    /// - Parameters:
    ///   - sender: the sending actor's name, if any (visible to the receiver).
    ///   - ifFull: wait for room (default) or fail when a bounded mailbox is full.
    /// - Suspends: only when the mailbox is bounded, full and `ifFull` is `.wait`.
    /// - Throws: `ActorStopped` (dead letter), `MailboxFull` with `.fail`,
    ///   `CancellationError` if cancelled while waiting (not delivered).
    /// - Emits: `.enqueued`, or `.senderBlocked` when it waits, or `.deadLetter`.
    @inlinable
    public func tell(_ message: Message, from sender: String? = nil, ifFull: FullPolicy = .wait) async throws {
        try await deliver(Envelope(sender: sender, message: message, reply: nil, enqueuedAt: emit.stamp()), ifFull: ifFull)
    }

    /// Sends `message` and suspends until the actor replies with `Envelope.respond`
    /// (the tutorial's `get_count`).
    /// - Throws: `NoReply` if the actor handled it without replying, `ActorStopped` if it
    ///   stopped first, and what `tell` throws.
    public func ask(_ message: Message, from sender: String? = nil) async throws -> Message {
        let slot = ReplySlot<Message>()
        try await deliver(Envelope(sender: sender, message: message, reply: slot, enqueuedAt: emit.stamp()), ifFull: .wait)
        return try await slot.wait()
    }

    @inlinable
    func deliver(_ envelope: Envelope<Message>, ifFull: FullPolicy) async throws {
        if stopping.load(ordering: .acquiring) {
            reportDeadLetter(to: name, reason: .stopped)
            throw ActorStopped(name: name)
        }
        // Counted before the put so the depth (sent - taken) never goes below zero; taken
        // back on every path where the message did not go in. The run loop's counter is
        // read only for events: reading it on every send would pull its cache line over.
        sent.wrappingAdd(1, ordering: .relaxed)
        do {
            if try !mailbox.tryPut(envelope) {
                guard ifFull == .wait else { throw MailboxFull(name: name) }
                emit.actor(.senderBlocked(depth: currentDepth - 1))
                try await mailbox.put(envelope)
            }
        } catch {
            sent.wrappingSubtract(1, ordering: .relaxed)
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
        deadLetters.wrappingAdd(1, ordering: .relaxed)
        emit.actor(.deadLetter(to: recipient, reason: reason))
    }

    // MARK: running

    /// Processes messages one at a time until `stop()` (or cancellation of the calling
    /// task), then reports what was left in the mailbox as dead letters.
    /// Suspends while the mailbox is empty, without polling. Run it from one task only: it
    /// is the mailbox's single consumer (and the only writer of its `taken` counter).
    /// - Emits: `.started`, `.processed` or `.failed` per message, `.stopped`.
    @inlinable
    public func run<B: ActorBehavior>(_ behavior: B) async where B.Message == Message {
        var behavior = behavior
        let context = ActorContext(actor: self)
        // An unbounded mailbox is emptied in batches (one lock for up to 64 messages), then
        // processed one at a time; messages count in the depth until processed. A bounded
        // one is taken one message at a time: a batch in hand would let senders exceed
        // the bound.
        let batchLimit = mailboxCapacity == nil ? 64 : 1
        var batch: [Envelope<Message>] = []
        var next = 0
        var takenCount = taken.load(ordering: .relaxed)
        var processedCount = processed.load(ordering: .relaxed)
        emit.actor(.started)
        while !stopping.load(ordering: .acquiring) {
            if next == batch.count {
                batch.removeAll(keepingCapacity: true)
                next = 0
                do {
                    try await mailbox.getBatch(into: &batch, max: batchLimit)
                } catch {
                    break  // closed by stop(), or the run task was cancelled
                }
            }
            let envelope = batch[next]
            next += 1
            takenCount &+= 1
            taken.store(takenCount, ordering: .relaxed)
            let start = emit.stamp()
            do {
                try await behavior.receive(envelope, context: context)
                envelope.reply?.fulfil(.failure(NoReply()))
                processedCount &+= 1
                processed.store(processedCount, ordering: .relaxed)
                emit.actor(.processed(depth: currentDepth, nanos: emit.stamp() &- start))
            } catch {
                envelope.reply?.fulfil(.failure(error))
                emit.actor(.failed(depth: currentDepth))
            }
        }
        drainAfterStop(inHand: batch[next...])
    }

    /// Stops the actor: the message being processed finishes, later sends become dead
    /// letters, and queued messages are reported as dead letters by the run loop.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        mailbox.close()
    }

    /// Reports what was left, in order: the rest of the run loop's batch, then the mailbox.
    @usableFromInline
    func drainAfterStop(inHand: ArraySlice<Envelope<Message>>) {
        stopping.store(true, ordering: .releasing)
        mailbox.close()
        var unprocessed = 0
        func deadLetter(_ envelope: Envelope<Message>) {
            taken.wrappingAdd(1, ordering: .relaxed)
            unprocessed += 1
            envelope.reply?.fulfil(.failure(ActorStopped(name: name)))
            reportDeadLetter(to: name, reason: .stopped)
        }
        inHand.forEach(deadLetter)
        while let envelope = try? mailbox.tryGet() { deadLetter(envelope) }
        emit.actor(.stopped(unprocessed: unprocessed))
    }

    /// Messages sent and not yet taken by the run loop. A message is counted as sent before
    /// it can be taken; the two counters are read one after the other, so clamp at zero.
    @usableFromInline var currentDepth: Int {
        let out = taken.load(ordering: .relaxed)
        return max(0, sent.load(ordering: .relaxed) &- out)
    }

    /// A picture of the actor right now.
    public var stats: ActorStats {
        ActorStats(
            mailboxDepth: currentDepth,
            processed: processed.load(ordering: .relaxed),
            deadLetters: deadLetters.load(ordering: .relaxed),
            isStopped: stopping.load(ordering: .relaxed))
    }
}

/// Counters of a `MailboxActor` at one moment.
public struct ActorStats: Sendable, Hashable {
    public var mailboxDepth: Int
    public var processed: Int
    /// Dead letters this actor reported (as sender to unknown peers, or as a stopped recipient).
    public var deadLetters: Int
    public var isStopped: Bool
}

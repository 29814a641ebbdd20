import Synchronization

/// A message in a mailbox, with who sent it and, for `ask`, the pending reply.
public struct Envelope<Message: Sendable>: Sendable {
    /// The sending actor's name; nil for sends from outside any actor.
    public let sender: String?
    /// What was sent.
    public let message: Message
    /// The `ask` waiting for an answer, if any: failed with `NoReply` once the message is
    /// processed without an answer, with `ActorStopped` when it becomes a dead letter.
    @usableFromInline let reply: (any PendingReply)?

    @inlinable
    init(sender: String?, message: Message, reply: (any PendingReply)?) {
        self.sender = sender
        self.message = message
        self.reply = reply
    }

    /// True when the sender waits for a reply (the message was sent with `ask`).
    public var expectsReply: Bool { reply != nil }
}

/// Where the answer to an `ask` goes: the asker builds its message around one
/// (`actor.ask { .getCount(replyTo: $0) }`) and the behaviour answers through it
/// (`replyTo.send(count)`), so a reply has its own type, not the request's.
///
/// Only the first answer counts; later ones, and answers after the asker gave up (timed
/// out, cancelled), are ignored. Two handles are equal when they answer the same `ask`.
public struct ReplyTo<Reply: Sendable>: Sendable, Hashable {
    @usableFromInline let slot: ReplySlot<Reply>

    @usableFromInline init(slot: ReplySlot<Reply>) { self.slot = slot }

    /// Answers the `ask`; never suspends. Only the first answer counts.
    public func send(_ reply: Reply) {
        slot.fulfil(.success(reply))
    }

    /// Answers the `ask` with an error, which the asker's `ask` throws.
    public func fail(_ error: any Error) {
        slot.fulfil(.failure(error))
    }

    /// Whether the `ask` has its outcome already (an answer, or it gave up).
    public var isAnswered: Bool { slot.isFulfilled }

    /// Whether `a` and `b` answer the same `ask`.
    public static func == (a: ReplyTo, b: ReplyTo) -> Bool { a.slot === b.slot }
    /// Hashes the identity of the `ask` it answers.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(slot)) }
}

/// An `ask`'s outcome as the run loop sees it, whatever the reply's type: it only ever
/// fails it (processed without an answer, dead letter).
@usableFromInline
protocol PendingReply: AnyObject, Sendable {
    func fail(_ error: any Error)
}

/// Thrown by `ask` when the actor processed the message without replying.
public struct NoReply: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    /// A sentence for logs.
    public var description: String { "the actor processed the message without replying" }
}

/// Thrown by sends and asks to an actor that has stopped (the message became a dead letter).
public struct ActorStopped: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// The stopped actor's name.
    public let name: String
    /// Creates the error for the actor `name`.
    public init(name: String) { self.name = name }
    /// A sentence for logs.
    public var description: String { "actor '\(name)' is stopped" }
}

/// Thrown by `send(ifFull: .fail)` when a bounded mailbox is full.
public struct MailboxFull: AsyncPatternsError, Hashable, CustomStringConvertible {
    /// The actor whose mailbox is full.
    public let name: String
    /// Creates the error for the actor `name`.
    public init(name: String) { self.name = name }
    /// A sentence for logs.
    public var description: String { "the mailbox of '\(name)' is full" }
}

/// A one-shot place for an `ask`'s answer: fulfilled once, by a reply, by "no reply" after
/// processing, by the actor stopping, or by the asker giving up (cancelled, timed out);
/// whichever comes first wins.
@usableFromInline
final class ReplySlot<Reply: Sendable>: PendingReply {
    private enum State {
        case empty
        case waiting(UnsafeContinuation<Reply, any Error>)
        case done(Result<Reply, any Error>)
        case consumed
    }

    private let state = Locked<State>(.empty)

    @usableFromInline init() {}

    var isFulfilled: Bool {
        state.withLock { if case .done = $0 { true } else if case .consumed = $0 { true } else { false } }
    }

    @usableFromInline
    func fail(_ error: any Error) { fulfil(.failure(error)) }

    @usableFromInline
    func fulfil(_ result: Result<Reply, any Error>) {
        let waiter: UnsafeContinuation<Reply, any Error>? = state.withLock { state in
            switch state {
            case .empty:
                state = .done(result)
                return nil
            case .waiting(let continuation):
                state = .consumed
                return continuation
            case .done, .consumed:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    /// Suspends until fulfilled. Cancelling the waiting task fulfils it with
    /// `CancellationError` (a later answer is ignored).
    func wait() async throws -> Reply {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let ready: Result<Reply, any Error>? = state.withLock { state in
                    switch state {
                    case .empty:
                        state = .waiting(continuation)
                        return nil
                    case .done(let result):
                        state = .consumed
                        return result
                    case .waiting, .consumed:
                        preconditionFailure("a reply slot is awaited once")
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            fulfil(.failure(CancellationError()))
        }
    }
}

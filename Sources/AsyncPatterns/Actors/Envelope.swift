import Synchronization

/// A message in a mailbox, with who sent it and, for `ask`, where the reply goes.
public struct Envelope<Message: Sendable>: Sendable {
    /// The sending actor's name; nil for sends from outside any actor.
    public let sender: String?
    public let message: Message
    @usableFromInline let reply: ReplySlot<Message>?

    @inlinable
    init(sender: String?, message: Message, reply: ReplySlot<Message>?) {
        self.sender = sender
        self.message = message
        self.reply = reply
    }

    /// True when the sender waits for a reply (`ask`).
    public var expectsReply: Bool { reply != nil }

    /// Answers an `ask`. Only the first reply counts; a reply to a plain send is ignored.
    public func respond(_ answer: Message) {
        reply?.fulfil(.success(answer))
    }
}

/// Thrown by `ask` when the actor processed the message without replying.
public struct NoReply: Error, Hashable, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the actor processed the message without replying" }
}

/// Thrown by sends and asks to an actor that has stopped (the message became a dead letter).
public struct ActorStopped: Error, Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { "actor '\(name)' is stopped" }
}

/// Thrown by `send(ifFull: .fail)` when a bounded mailbox is full.
public struct MailboxFull: Error, Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { "the mailbox of '\(name)' is full" }
}

/// A one-shot place for an `ask`'s answer: fulfilled once, by reply, by "no reply" after
/// processing, or by the actor stopping; whichever comes first wins.
@usableFromInline
final class ReplySlot<Message: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(UnsafeContinuation<Message, any Error>)
        case done(Result<Message, any Error>)
        case consumed
    }

    private let state = Locked<State>(.empty)

    @usableFromInline init() {}

    @usableFromInline
    func fulfil(_ result: Result<Message, any Error>) {
        let waiter: UnsafeContinuation<Message, any Error>? = state.withLock { state in
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

    /// Suspends until fulfilled. Not cancellable by itself: the ask's caller decides with
    /// the actor's lifecycle (a stopped actor fulfils every pending slot).
    func wait() async throws -> Message {
        try await withUnsafeThrowingContinuation { continuation in
            let ready: Result<Message, any Error>? = state.withLock { state in
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
    }
}

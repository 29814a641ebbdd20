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

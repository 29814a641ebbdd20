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

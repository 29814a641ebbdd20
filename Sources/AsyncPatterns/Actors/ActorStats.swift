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

import AsyncPatterns
import ServiceLifecycle

/// A `MailboxActor` and its behaviour as a swift-service-lifecycle `Service`:
/// `ServiceGroup(services: [counter.service(CounterBehavior()), …])` runs the actor's loop
/// with the program's other services.
///
/// At graceful shutdown the actor finishes (`MailboxActor.finish()`): later sends become
/// dead letters, the messages already in its mailbox are processed, then the service
/// returns. A group that loses patience (its `maximumGracefulShutdownDuration`) cancels the
/// service, which stops the actor at once: what is still queued becomes dead letters and
/// their asks throw `ActorStopped`, as with `stop()`.
public struct ActorService<Behavior: ActorBehavior>: Service {
    /// The actor the service runs.
    public let actor: MailboxActor<Behavior.Message>
    /// What the actor does with each message.
    public let behavior: Behavior

    /// A service that runs `actor` with `behavior`.
    public init(_ actor: MailboxActor<Behavior.Message>, behavior: Behavior) {
        self.actor = actor
        self.behavior = behavior
    }

    /// Runs the actor (`MailboxActor.run(_:)`) until graceful shutdown has emptied its
    /// mailbox, cancellation, or `stop()`. Throws nothing; a second service of the same
    /// actor returns at once.
    public func run() async throws {
        let actor = actor
        await withGracefulShutdownHandler {
            await actor.run(behavior)
        } onGracefulShutdown: {
            actor.finish()
        }
    }
}

extension MailboxActor {
    /// This actor with `behavior`, as a swift-service-lifecycle `Service` for a
    /// `ServiceGroup`; see `ActorService`.
    public func service<Behavior: ActorBehavior>(_ behavior: Behavior) -> ActorService<Behavior>
    where Behavior.Message == Message {
        ActorService(self, behavior: behavior)
    }
}

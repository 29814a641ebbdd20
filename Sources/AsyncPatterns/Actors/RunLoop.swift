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

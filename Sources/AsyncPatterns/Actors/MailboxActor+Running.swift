import Synchronization

extension MailboxActor {
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
        // Stopped before it ran (stop() reported the mailbox), or running already: return.
        guard counters.lifecycle.transition({ $0.start() }) == .run else { return }
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
        // The handler moves the lifecycle the loop reads anyway: cheaper than asking the task
        // whether it is cancelled before every message.
        await withTaskCancellationHandler {
            while counters.lifecycle.current.keepsProcessing {
                guard await refill(&loop) else { break }  // closed by stop() or finish(), or cancelled
                await processBatch(&loop)
            }
        } onCancel: {
            counters.lifecycle.transition { $0.cancel() }
        }
        counters.lifecycle.transition { $0.loopEnded() }
        drainAfterStop(inHand: loop.batch[loop.next...])
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
                if emit.wants(notable: false) { emit.actor(.processed(depth: currentDepth)) }
            } catch {
                envelope.reply?.fail(error)
                counters.failed.wrappingAdd(1, ordering: .relaxed)
                emit.actor(.failed(depth: currentDepth))
            }
            counters.loopChanged()
            if !counters.lifecycle.current.keepsProcessing { return }
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
        let action = counters.lifecycle.transition { $0.stop() }
        directory?.remove(self)
        mailbox.close()
        if action == .drainMailbox { drainAfterStop(inHand: []) }
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
    /// Called once, by the caller the lifecycle named: `stop()` before `run`, or the loop's end.
    @usableFromInline
    func drainAfterStop(inHand: ArraySlice<Envelope<Message>>) {
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
}

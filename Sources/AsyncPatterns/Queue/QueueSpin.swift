internal import CSpinHint
import Synchronization

/// How long a consumer that finds a FIFO queue empty looks again before it waits (issue
/// #23).
///
/// Waiting costs a continuation, a task switch and, for the put that serves the waiter, the
/// lock and an executor job. With two or more processors a producer may be writing the next
/// item on another one at that very moment, so a consumer first looks again for a moment, a
/// few microseconds at most (each round one spin hint and one look at the ring). With one
/// processor nobody can put while it looks, so it never spins.
///
/// Spinning holds a thread of the cooperative pool, so each queue keeps its own budget
/// (`QueueRing.spinRounds`): a spin that finds an item sets it back to the full
/// `QueueSpin.rounds`, a spin that finds none halves it, down to a floor of
/// `QueueSpin.probeRounds` that keeps trying cheaply. Where spinning does not pay (the
/// producers wait for the same thread, a machine with busy processors), it soon costs
/// next to nothing.
@usableFromInline enum QueueSpin {
    /// The full budget, in rounds: 0 with a single processor. Read relaxed: a tuning
    /// value that publishes no memory.
    @usableFromInline static let rounds = Atomic<Int>(sluice_available_processors() > 1 ? 64 : 0)

    /// The budget a queue keeps after spins that found nothing (at most `rounds`).
    @usableFromInline static let probeRounds = 4

    /// One round's pause: the processor's spin-wait hint (x86 `pause`, ARM `yield`).
    @usableFromInline @inline(never) static func hint() { sluice_spin_hint() }

    /// The most pauses after a lost compare-and-swap (doubling from 1; 0: none).
    @usableFromInline static let lostRaceLimit = Atomic<Int>(sluice_available_processors() > 1 ? 16 : 0)

    /// After a lost compare-and-swap on a ring position: waits a little, twice as long
    /// each time, so that the winners' cache line is not pulled away at once again.
    @usableFromInline @inline(never) static func backOffAfterLostRace(_ lost: inout Int) {
        let limit = lostRaceLimit.load(ordering: .relaxed)
        guard limit > 0 else { return }
        lost &+= 1
        let pauses = Swift.min(limit, 1 << Swift.min(lost, 10))
        for _ in 0..<pauses { sluice_spin_hint() }
    }
}

/// For `sluice-bench`: the most pauses after a lost compare-and-swap on a queue's ring.
@_spi(Benchmarks) public var queueLostRacePauses: Int {
    get { QueueSpin.lostRaceLimit.load(ordering: .relaxed) }
    set { QueueSpin.lostRaceLimit.store(max(0, newValue), ordering: .relaxed) }
}

/// For `sluice-bench`: the full spin budget of a queue consumer, in rounds (see
/// `QueueSpin`); 0 turns spinning off. Queues made after the call start with it.
@_spi(Benchmarks) public var queueSpinRounds: Int {
    get { QueueSpin.rounds.load(ordering: .relaxed) }
    set { QueueSpin.rounds.store(max(0, newValue), ordering: .relaxed) }
}

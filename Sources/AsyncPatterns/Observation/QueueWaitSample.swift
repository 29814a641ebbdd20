import Synchronization

/// How long a queue's items wait, for a sample of them: a put stamps the items whose
/// position has the bits of `QueueRing.samplePeriodMask` clear with the time they went in,
/// and whichever get takes a stamped item records its wait here, without the queue's lock.
///
/// Consumers record at the same moment (queue 4/4), so the distribution is written with
/// atomic additions (`LatencyDistribution.recordShared`); a snapshot reads it under the
/// queue's lock, which only keeps its readers apart.
///
/// How many items are stamped follows how far apart items come, like `LatencySampler`: one
/// in 256 while they come fast (a clock read costs more than an item), every item once they
/// come more than 20 µs apart. The period halves at each sampled get that finds items came
/// slowly and doubles at each that finds them fast, so a slow queue reaches every item within
/// 510 items, and a fast one whose consumer drains bursts and waits between them (a gap
/// that makes one spacing look slow) samples a few more items, not every item of the burst.
@usableFromInline
final class QueueWaitSample: Sendable {
    /// The stamping mask while items come fast: one item in 256.
    @usableFromInline static let sparsestMask = 255

    @usableFromInline let distribution = LatencyDistribution()
    /// When the last sampled item was got (0: none yet). Relaxed: it only tunes the
    /// sampling, and publishes no other memory; two gets that race here measure the spacing
    /// from one or the other, both real gets.
    @usableFromInline let lastSampleAt = Atomic<UInt64>(0)

    @usableFromInline init() {}

    /// Records how long an item stamped at `enqueuedAt` waited, at `now`, and returns the
    /// stamping mask the queue should use from now on, given the one it used (`mask`).
    @inlinable func record(since enqueuedAt: UInt64, now: UInt64, mask: Int) -> Int {
        distribution.recordShared(now &- Swift.min(now, enqueuedAt))
        let last = lastSampleAt.exchange(now, ordering: .relaxed)
        guard last != 0, now > last else { return mask }
        // The spacing of items since the last sampled get, about `mask + 1` items ago.
        let slow = (now - last) / UInt64(mask &+ 1) > 20_000
        return slow ? mask >> 1 : Swift.min(Self.sparsestMask, mask << 1 | 1)
    }
}

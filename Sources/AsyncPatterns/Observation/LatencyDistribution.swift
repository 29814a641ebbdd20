import Synchronization

/// A fixed-size latency distribution: 125 log-linear buckets (four per power of two from
/// 64 ns to about 137 s), a count, a sum and the exact maximum, in 1,024 bytes that never grow.
///
/// Recording is a few instructions and no allocation: `record` by a single writer at a time
/// (under the lock its pattern already holds, or a pattern's only writer), `recordShared`
/// by writers that hold no common lock (a queue's consumers: see `QueueWaitSample`).
/// Percentiles are read from the buckets, so they are accurate to the bucket's width
/// (about 12%), with the maximum exact.
// `@unchecked Sendable`: the numbers are atomics, so writers and a reader may meet (a
// reader then sees some of a record's four numbers and not yet the others: a statistic
// off by one sample for one read). `cached` and `cachedCount` are touched only by
// `percentiles()`, which every pattern calls under its own lock, one reader at a time.
@usableFromInline
final class LatencyDistribution: @unchecked Sendable {
    @usableFromInline static let bucketCount = 125
    // Relaxed throughout: each number is a count to show and publishes no other memory.
    // Relaxed loads and stores are plain moves, so a single writer pays what it paid for
    // plain fields.
    @usableFromInline let buckets: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let counted = Atomic<UInt64>(0)
    @usableFromInline let total = Atomic<UInt64>(0)
    @usableFromInline let largest = Atomic<UInt64>(0)
    // Percentiles are recomputed only when something was recorded since the last read:
    // 100,000 idle actors cost nothing to snapshot.
    private var cached = Percentiles()
    private var cachedCount: UInt64 = 0

    @usableFromInline init() {
        buckets = .allocate(capacity: Self.bucketCount)
        for i in 0..<Self.bucketCount { (buckets + i).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: Self.bucketCount)
        buckets.deallocate()
    }

    /// Samples recorded so far.
    var count: UInt64 { counted.load(ordering: .relaxed) }

    /// The bucket of `nanos`: 0 below 64 ns, then four per octave, the last one open.
    @inlinable static func bucket(_ nanos: UInt64) -> Int {
        guard nanos >= 64 else { return 0 }
        let octave = 63 - nanos.leadingZeroBitCount  // 6 for 64...127
        let sub = Int(truncatingIfNeeded: (nanos >> UInt64(octave - 2)) & 3)
        return Swift.min(bucketCount - 1, (octave - 6) * 4 + sub + 1)
    }

    /// The lower and upper bounds of bucket `i` in nanoseconds.
    static func bounds(_ i: Int) -> (lower: UInt64, upper: UInt64) {
        guard i > 0 else { return (0, 64) }
        let octave = (i - 1) / 4 + 6
        let sub = UInt64((i - 1) % 4)
        return ((4 + sub) << UInt64(octave - 2), (5 + sub) << UInt64(octave - 2))
    }

    /// Records one sample. One writer at a time (a load and a store each, no
    /// read-modify-write): under the pattern's lock, or by its only writer.
    @inlinable func record(_ nanos: UInt64) {
        let bucket = buckets + Self.bucket(nanos)
        bucket.pointee.store(bucket.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        counted.store(counted.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        total.store(total.load(ordering: .relaxed) &+ nanos, ordering: .relaxed)
        if nanos > largest.load(ordering: .relaxed) { largest.store(nanos, ordering: .relaxed) }
    }

    /// Records one sample where other writers may record at the same moment, with no lock:
    /// each number is added to atomically, so none is lost.
    @inlinable func recordShared(_ nanos: UInt64) {
        buckets[Self.bucket(nanos)].wrappingAdd(1, ordering: .relaxed)
        counted.wrappingAdd(1, ordering: .relaxed)
        total.wrappingAdd(nanos, ordering: .relaxed)
        var seen = largest.load(ordering: .relaxed)
        while nanos > seen {
            let (won, current) = largest.weakCompareExchange(expected: seen, desired: nanos, ordering: .relaxed)
            if won { break }
            seen = current
        }
    }

    /// p50, p90, p99, max, mean and counts per decade; and the buckets themselves when the
    /// reader asked for them (`LatencyBuckets.reading`), since copying them costs an
    /// allocation that a dashboard's frames should not pay.
    func percentiles() -> Percentiles {
        var result = summary()
        if LatencyBuckets.isRequested {
            result.buckets = LatencyBuckets(counts: (0..<Self.bucketCount).map { buckets[$0].load(ordering: .relaxed) })
        }
        return result
    }

    private func summary() -> Percentiles {
        let count = counted.load(ordering: .relaxed)
        if count == cachedCount { return cached }
        // Shared writers may record while this reads: the percentiles are taken against the
        // buckets' sum read first; the buckets only grow, so the pass below reaches every
        // target.
        var inBuckets: UInt64 = 0
        for i in 0..<Self.bucketCount { inBuckets &+= buckets[i].load(ordering: .relaxed) }
        let max = largest.load(ordering: .relaxed)
        var result = Percentiles()
        result.count = count
        result.max = max
        result.mean = count == 0 ? 0 : total.load(ordering: .relaxed) / count
        let targets: [Double] = [0.5, 0.9, 0.99]
        var found: [UInt64] = [0, 0, 0]
        var seen: UInt64 = 0
        var next = 0
        for i in 0..<Self.bucketCount {
            let inBucket = buckets[i].load(ordering: .relaxed)
            guard inBucket > 0 else { continue }
            seen += inBucket
            let (lower, upper) = Self.bounds(i)
            let value = Swift.min(max, lower + (upper - lower) / 2)
            while next < targets.count, Double(seen) >= targets[next] * Double(inBuckets) {
                found[next] = value
                next += 1
            }
            result.decades.add(inBucket, at: value)
        }
        (result.p50, result.p90, result.p99) = (found[0], found[1], found[2])
        cached = result
        cachedCount = count
        return result
    }
}

/// When to time an operation: reading the clock costs about 20 ns, more than a queue item
/// itself costs, so a pattern whose operations come fast times one in 32 (a queue's items:
/// one in 256, see `QueueWaitSample`); once they come more than 20 µs apart (or, for
/// operations that are timed from start to end, once one takes that long), the clock is
/// cheap by comparison and every one is timed. Unbiased for a steady workload: which
/// operation is timed does not depend on how long it takes.
@usableFromInline
struct LatencySampler: Sendable {
    @usableFromInline var countdown: UInt32 = 1
    @usableFromInline var period: UInt32 = 32
    /// When the last sampled operation happened (0: none yet).
    @usableFromInline var lastSampleAt: UInt64 = 0

    @inlinable init() {}

    /// True when this operation should be timed.
    @inlinable mutating func tick() -> Bool {
        countdown &-= 1
        guard countdown == 0 else { return false }
        countdown = period
        return true
    }

    /// Feeds back what a timed operation took (for operations timed from start to end).
    @inlinable mutating func took(_ nanos: UInt64) {
        adapt(slow: nanos > 20_000)
    }

    /// Feeds back when a sampled operation happened, for operations whose timing spans
    /// others (an item's wait in a queue): the spacing of operations decides, not the wait.
    @inlinable mutating func sampled(at now: UInt64) {
        defer { lastSampleAt = now }
        guard lastSampleAt != 0, now > lastSampleAt else { return }
        adapt(slow: (now - lastSampleAt) / UInt64(period) > 20_000)
    }

    @inlinable mutating func adapt(slow: Bool) {
        period = slow ? 1 : 32
        if countdown > period { countdown = period }
    }
}

/// Measuring hooks for `make bench`, not API.
@_spi(Benchmarks)
public enum ObservationCosts {
    /// Records `count` latencies into a fresh distribution; returns nanoseconds per record.
    public static func recordLatencies(_ count: Int) -> Double {
        let distribution = LatencyDistribution()
        let start = monotonicNanoseconds()
        for i in 0..<count { distribution.record(UInt64(truncatingIfNeeded: i & 0xFFFF) &* 97) }
        let elapsed = monotonicNanoseconds() &- start
        precondition(distribution.count == UInt64(count))
        return Double(elapsed) / Double(max(1, count))
    }

    /// Bytes a latency distribution takes (its buckets and totals).
    public static var distributionBytes: Int { LatencyDistribution.bucketCount * 8 + 3 * 8 }
}

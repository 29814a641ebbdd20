import AsyncPatterns

/// Stalls aggregated by where the pool's threads were: a fixed number of places, the rest
/// counted. Pure and synchronous (tested against fixed stacks).
public struct BlockerTable: Sendable {
    /// The most places kept.
    public let capacity: Int
    /// Places not seen for this long (seconds) leave the table.
    public let ageOut: Double
    private(set) var entries: [String: PoolBlocker] = [:]
    /// Stalls that found no room, or no program code on any stack.
    public private(set) var otherStalls = 0

    /// A table of at most `capacity` places, forgetting those unseen for `ageOut` seconds.
    public init(capacity: Int = 16, ageOut: Double = 10) {
        precondition(capacity > 0, "a blocker table needs room for one place")
        self.capacity = capacity
        self.ageOut = ageOut
    }

    /// One stall of `nanos`, during which pool threads were at `places` (key, name and the
    /// stack captured there), at `now` seconds.
    public mutating func record(stallNanos nanos: UInt64, places: [(key: String, name: String, frames: [PoolFrame])], now: Double) {
        forgetOld(now: now)
        guard !places.isEmpty else {
            otherStalls += 1
            return
        }
        var seen = Set<String>()
        var overflowed = false
        for place in places where seen.insert(place.key).inserted {
            guard entries[place.key] != nil || entries.count < capacity else {
                overflowed = true
                continue
            }
            var blocker = entries[place.key] ?? PoolBlocker(location: place.name)
            blocker.stalls += 1
            blocker.totalNanos += nanos
            blocker.longestNanos = max(blocker.longestNanos, nanos)
            blocker.lastSeenSeconds = now
            blocker.frames = place.frames
            entries[place.key] = blocker
        }
        if overflowed { otherStalls += 1 }
    }

    /// Drops places unseen for `ageOut` seconds.
    public mutating func forgetOld(now: Double) {
        entries = entries.filter { now - $0.value.lastSeenSeconds < ageOut }
    }

    /// The places, most time stalled first (then most stalls, then name).
    public var blockers: [PoolBlocker] {
        entries.values.sorted {
            ($0.totalNanos, $0.stalls, $1.location) > ($1.totalNanos, $1.stalls, $0.location)
        }
    }
}

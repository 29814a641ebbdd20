import AsyncPatterns

/// The orders the actors can be listed in (the actors pane's columns, in order): app state,
/// not a view's, so the state and the facts a key needs sort as the pane shows.
public enum ActorSort: Int, CaseIterable, Sendable {
    case name, mailbox, processed, rate, p99, deadLetters

    public var title: String {
        switch self {
        case .name: "name"
        case .mailbox: "mailbox"
        case .processed: "processed"
        case .rate: "rate"
        case .p99: "p99"
        case .deadLetters: "dead letters"
        }
    }

    /// The next order (after the last, the first again).
    public var next: ActorSort { ActorSort(rawValue: (rawValue + 1) % Self.allCases.count)! }

    /// The actors in this order.
    public func sorted(_ actors: [ActorSnapshot]) -> [ActorSnapshot] {
        actors.sorted { precedes($0, $1) }
    }

    /// The first `count` actors in this order, without sorting them all: 100,000 actors
    /// cost one pass and a short sorted list, not a sort of 100,000 rows every frame.
    public func first(_ count: Int, of actors: [ActorSnapshot]) -> [ActorSnapshot] {
        guard count < actors.count / 4 else { return Array(sorted(actors).prefix(count)) }
        var top: [Int] = []
        top.reserveCapacity(count + 1)
        for i in actors.indices {
            if top.count == count, let last = top.last, !precedes(actors[i], actors[last]) { continue }
            let at = top.partitioningIndex { !precedes(actors[$0], actors[i]) }
            top.insert(i, at: at)
            if top.count > count { top.removeLast() }
        }
        return top.map { actors[$0] }
    }

    func precedes(_ a: ActorSnapshot, _ b: ActorSnapshot) -> Bool {
        switch self {
        case .name: return a.name.compare(naturally: b.name)
        case .mailbox: return (a.mailboxDepth, b.name) > (b.mailboxDepth, a.name)
        case .processed: return (a.processed, b.name) > (b.processed, a.name)
        case .rate: return (a.processedPerSecond, b.name) > (b.processedPerSecond, a.name)
        case .p99: return (a.processing.p99, b.name) > (b.processing.p99, a.name)
        case .deadLetters: return (a.deadLetters, b.name) > (b.deadLetters, a.name)
        }
    }
}

extension String {
    /// "actor-2" before "actor-10": names that differ only in a number after the last `-`
    /// compare by that number. Allocates nothing (called for every pair a sort compares).
    func compare(naturally other: String) -> Bool {
        if let a = lastIndex(of: "-"), let b = other.lastIndex(of: "-"), self[..<a] == other[..<b],
            let x = Int(self[index(after: a)...]), let y = Int(other[other.index(after: b)...])
        {
            return x < y
        }
        return self < other
    }
}

extension Array {
    /// The first index whose element satisfies `belongsInSecondPartition`, for an array
    /// already partitioned by it (binary search).
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

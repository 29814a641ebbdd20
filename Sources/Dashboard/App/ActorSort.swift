import AsyncPatterns

/// The orders the actors can be listed in (the actors pane's columns, in order): app state,
/// not a view's, so the state and the facts a key needs sort as the pane shows. The
/// registry's own order, so a snapshot can carry only the rows the screen shows.
public typealias ActorSort = ActorOrder

extension ActorOrder {
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

    /// The `count` actors from place `ActorTotals.offset` on in this order, of a snapshot's
    /// `actors` listed from that place: after the `listedBefore` of them that come before it.
    public func window(_ count: Int, listedBefore: Int, of actors: [ActorSnapshot]) -> ArraySlice<ActorSnapshot> {
        first(listedBefore + max(0, count), of: actors).dropFirst(listedBefore)
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
}

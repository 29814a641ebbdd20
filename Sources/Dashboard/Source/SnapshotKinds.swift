import AsyncPatterns

extension Snapshot {
    /// How many patterns of `kind` the snapshot holds (health: 1 with the pool doctor's
    /// figures, else 0). The one place outside the engine that maps a kind to its list.
    public func count(of kind: PatternKind) -> Int {
        switch kind {
        case .queue: queues.count
        case .semaphore: semaphores.count
        case .actor: actors.count
        case .stream: streams.count
        case .resource: resources.count
        case .health: pool == nil ? 0 : 1
        }
    }

    /// The kinds it holds any pattern of, in the usual order.
    public var kindsPresent: [PatternKind] { PatternKind.allCases.filter { count(of: $0) > 0 } }

    /// How many patterns it holds in all (the pool doctor's figures not counted).
    public var patternCount: Int { PatternKind.allCases.reduce(0) { $1 == .health ? $0 : $0 + count(of: $1) } }
}

import Synchronization
import Testing
@testable import AsyncPatterns

/// A time source the test moves by hand.
final class HandClock: Sendable {
    let nanos = Atomic<Int64>(0)
    func advance(_ d: Duration) { nanos.wrappingAdd(Int64(d.seconds * 1e9), ordering: .relaxed) }
    var source: @Sendable () -> Duration { { .nanoseconds(self.nanos.load(ordering: .relaxed)) } }
}

/// `snapshot(actors:)` against the full snapshot: the same first rows in every order, the
/// same totals and everything else the same, from a list of a few actors.
@Suite struct ActorQueryTests {
    /// Actors with counters set by hand (many ties, names that sort naturally and not), a
    /// queue, and some actors finished; read once, then again two seconds on, so rates show.
    func registry() -> (PatternRegistry, HandClock) {
        let clock = HandClock()
        let registry = PatternRegistry(finishedToKeep: 4, timeSource: clock.source)
        _ = BoundedQueue<Int>(capacity: 4, name: "jobs", registry: registry)
        var counters: [(ActorCounters, UInt64)] = []
        for i in 0..<600 {
            let name = i % 9 == 0 ? "worker-\(i % 50)" : i % 13 == 0 ? "z\(i)" : "actor-\(i)"
            let c = ActorCounters(name: name)
            let id = registry.reserveID()
            registry.add(c, id: id)
            c.processed.store((i * 7919) % 40, ordering: .relaxed)
            if i % 17 == 0 { c.sent.store(i % 7, ordering: .relaxed) }
            if i % 29 == 0 { c.deadLetters.store(i % 3, ordering: .relaxed) }
            if i % 11 == 0 {
                c.diagnostics.withLock { d in
                    d.processing = LatencyDistribution()
                    d.processing?.record(UInt64(1_000 * (i % 23 + 1)))
                }
                c.hasDiagnostics.store(true, ordering: .relaxed)
            }
            counters.append((c, id))
        }
        for (c, id) in counters.suffix(6) { registry.retire(id: id, final: c.read()) }
        _ = registry.snapshot()
        clock.advance(.seconds(2))
        for (i, (c, _)) in counters.enumerated() where i % 5 == 0 { c.processed.wrappingAdd(i % 41, ordering: .relaxed) }
        return (registry, clock)
    }

    @Test(arguments: ActorOrder.allCases)
    func theFirstRowsAreThoseOfTheFullSnapshot(order: ActorOrder) {
        let (registry, _) = registry()
        let full = registry.snapshot()
        #expect(full.actors.count == 598 && full.actors.contains { $0.processedPerSecond > 0 })
        for first in [0, 1, 7, 60, 700] {
            let (partial, totals) = registry.snapshot(actors: ActorQuery(order: order, first: first, named: ["actor-2"]))
            #expect(totals == ActorTotals(of: full.actors))
            #expect(
                Array(partial.actors.sorted(by: order.precedes).prefix(first))
                    == Array(full.actors.sorted(by: order.precedes).prefix(first)))
            // Listed in the full snapshot's order, each as the full snapshot has it.
            var rest = full.actors[...]
            for a in partial.actors {
                guard let at = rest.firstIndex(of: a) else {
                    Issue.record("\(a.name) is not in the full snapshot's order")
                    break
                }
                rest = rest[(at + 1)...]
            }
            let followed = full.actors.filter { $0.mailboxDepth > 0 || $0.deadLetters > 0 || $0.name == "actor-2" }
            #expect(followed.allSatisfy(partial.actors.contains))
            if first < 100 { #expect(partial.actors.count <= first + followed.count) }
            var same = partial
            same.actors = full.actors
            #expect(same == full)
        }
    }

    @Test func everyActorIsListedWhileThereAreFew() {
        let (registry, _) = registry()
        let full = registry.snapshot()
        let (partial, totals) = registry.snapshot(actors: ActorQuery(order: .mailbox, first: 3, everyUpTo: 598))
        #expect(partial == full && totals == ActorTotals(of: full.actors))
        let (fewer, _) = registry.snapshot(actors: ActorQuery(order: .mailbox, first: 3, everyUpTo: 597))
        #expect(fewer.actors.count < 100)
    }

    @Test func aQueryCoversThoseThatAskForLess() {
        let q = ActorQuery(order: .rate, first: 64, everyUpTo: 1000, named: ["a"])
        #expect(q.covers(ActorQuery(order: .rate, first: 40, everyUpTo: 1000, named: ["a"])))
        #expect(q.covers(ActorQuery(order: .rate, first: 40, everyUpTo: 1000)))
        #expect(!q.covers(ActorQuery(order: .rate, first: 65, everyUpTo: 1000)))
        #expect(!q.covers(ActorQuery(order: .name, first: 40, everyUpTo: 1000)))
        #expect(!q.covers(ActorQuery(order: .rate, first: 40, everyUpTo: 1000, named: ["b"])))
    }

    /// A caller in the process may ask for every row from anywhere: no arithmetic traps.
    @Test func theLargestQueriesAreAnswered() {
        let (registry, _) = registry()
        let full = registry.snapshot()
        for offset in [1, Int.max] {
            var query = ActorQuery(order: .name, first: .max, offset: offset)
            #expect(query.covers(ActorQuery(order: .name, first: 5, offset: offset)))
            let (partial, totals) = registry.snapshot(actors: query)
            #expect(totals.count == full.actors.count)
            #expect(offset == 1 ? partial.actors.count >= full.actors.count - 1 : partial.actors.count < full.actors.count)
            query.first = .min
            query.offset = .min
            _ = registry.snapshot(actors: query)
        }
    }
}

import Synchronization
import Testing

@testable import AsyncPatterns

/// The registry's actor index (issue #23): a snapshot for a screen reads only the actors
/// that changed, and still lists exactly what reading every actor would list.
@Suite struct ActorIndexTests {
    /// What `snapshot(actors:)` must list, worked out from a full snapshot: the names of
    /// the window, the actors with mail or dead letters and those named, and how many of
    /// those listed come before the window.
    static func expected(_ query: ActorQuery, _ full: Snapshot) -> (names: Set<String>, window: [String], before: Int) {
        let sorted = full.actors.sorted(by: query.order.precedes)
        let start = min(query.offset, sorted.count)
        let window = sorted[start..<min(sorted.count, start + query.first)]
        let extra = full.actors.filter { $0.mailboxDepth > 0 || $0.deadLetters > 0 || query.named.contains($0.name) }
        let names = Set(window.map(\.name) + extra.map(\.name))
        let before = sorted[..<start].count { names.contains($0.name) }
        return (names, window.map(\.name), before)
    }

    /// Checks one query against the full snapshot taken at the same moment.
    static func check(_ registry: PatternRegistry, _ query: ActorQuery, _ what: Comment) {
        let (partial, totals) = registry.snapshot(actors: query)
        let full = registry.snapshot()
        let want = expected(query, full)
        #expect(Set(partial.actors.map(\.name)) == want.names, what)
        #expect(partial.actors.count == want.names.count, "each listed once: \(what)")
        var all = ActorTotals(of: full.actors)
        all.offset = min(query.offset, full.actors.count)
        all.listedBefore = want.window.isEmpty ? 0 : want.before
        #expect(totals == all, what)
        let rows = partial.actors.sorted(by: query.order.precedes)
        #expect(Array(rows.dropFirst(totals.listedBefore).prefix(want.window.count).map(\.name)) == want.window, what)
        // Each row as the full snapshot has it, rate included, in the full snapshot's order.
        let byName = Dictionary(full.actors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(partial.actors.allSatisfy { byName[$0.name] == $0 }, what)
        #expect(partial.actors.map(\.name) == full.actors.map(\.name).filter(want.names.contains), what)
        var same = partial
        same.actors = full.actors
        #expect(same == full, what)
    }

    /// `n` actors' counters in `registry`, reporting their changes as actors do.
    static func counters(_ n: Int, in registry: PatternRegistry, from: Int = 0) -> [(ActorCounters, UInt64)] {
        (from..<from + n).map { i in
            let c = ActorCounters(name: i % 7 == 0 ? "w\(i)" : "actor-\(i)", changes: registry.actorChanges)
            let id = registry.reserveID()
            registry.add(c, id: id)
            return (c, id)
        }
    }

    /// Changes an actor's numbers the way its senders and run loop do, reports included.
    static func change(_ c: ActorCounters, _ rng: inout SplitMix64) {
        switch rng.next() % 5 {
        case 0:
            c.sent.wrappingAdd(Int(rng.next() % 3) + 1, ordering: .relaxed)
            c.sentChanged()
        case 1:
            let waiting = c.sent.load(ordering: .relaxed) - c.taken.load(ordering: .relaxed)
            c.taken.wrappingAdd(waiting, ordering: .relaxed)
            c.processed.wrappingAdd(waiting, ordering: .relaxed)
            c.loopChanged()
        case 2:
            c.processed.wrappingAdd(Int(rng.next() % 50), ordering: .relaxed)
            c.sent.wrappingAdd(0, ordering: .relaxed)
            c.loopChanged()
        case 3:
            c.deadLetters.wrappingAdd(1, ordering: .relaxed)
            c.reportSent()
        default:
            c.diagnostics.withLock { d in
                if d.processing == nil { d.processing = LatencyDistribution() }
                d.processing?.record(1_000 * (rng.next() % 5_000 + 1))
            }
            c.hasDiagnostics.store(true, ordering: .relaxed)
            c.failed.wrappingAdd(1, ordering: .relaxed)
            c.loopChanged()
        }
    }

    @Test(arguments: ActorOrder.allCases)
    func theIndexListsWhatReadingEveryActorLists(order: ActorOrder) {
        let clock = HandClock()
        let registry = PatternRegistry(finishedToKeep: 5, timeSource: clock.source)
        _ = BoundedQueue<Int>(capacity: 4, name: "jobs", registry: registry)
        var actors = Self.counters(400, in: registry)
        var rng = SplitMix64(seed: UInt64(order.rawValue) + 7)
        var next = 400
        for round in 0..<12 {
            // Some change, some join, some leave (their last numbers among the finished).
            for _ in 0..<(round % 3 == 0 ? 150 : 12) { Self.change(actors[Int(rng.next() % UInt64(actors.count))].0, &rng) }
            if round % 4 == 1 {
                actors += Self.counters(20, in: registry, from: next)
                next += 20
            }
            if round % 4 == 2 {
                for _ in 0..<15 {
                    let (c, id) = actors.remove(at: Int(rng.next() % UInt64(actors.count)))
                    registry.retire(id: id, final: c.read())
                }
            }
            clock.advance(.milliseconds(round % 5 == 4 ? 1_500 : 300))
            for (first, offset) in [(0, 0), (10, 0), (25, 40), (30, actors.count - 20), (50, actors.count + 1), (5, 10_000)] {
                Self.check(
                    registry, ActorQuery(order: order, first: first, offset: offset, named: ["actor-3", "w5"]),
                    "round \(round), \(first) from \(offset)")
            }
        }
    }

    /// Names made to trip the name orders (shared prefixes of 8 and 16 bytes, numbers with
    /// leading zeros, a `+` and past 64 bits, no `-`, Unicode), joining in bulk and a few at a
    /// time, with the screen switching between the name order and another.
    @Test(arguments: ActorOrder.allCases)
    func namesMadeToTripTheOrders(order: ActorOrder) {
        let clock = HandClock()
        let registry = PatternRegistry(finishedToKeep: 5, timeSource: clock.source)
        func join(_ n: Int, from: Int) -> [(ActorCounters, UInt64)] {
            (from..<from + n).map { i in
                let name =
                    switch i % 9 {
                    case 0: "actor-\(i)"
                    case 1: "actor-0\(i)"
                    case 2: "actor-+\(i)"
                    case 3: "long-common-prefix-of-many-names-\(i)"
                    case 4: "é-\(i % 50)-\(i)"
                    case 5: "日本-\(i)"
                    case 6: "w\(i)"
                    case 7: "big-\(i)00000000000000000000"
                    default: "abcdefgh\(i)"
                    }
                let c = ActorCounters(name: name, changes: registry.actorChanges)
                let id = registry.reserveID()
                registry.add(c, id: id)
                return (c, id)
            }
        }
        var actors = join(400, from: 0)
        var rng = SplitMix64(seed: UInt64(order.rawValue) + 41)
        var next = 400
        for round in 0..<8 {
            for _ in 0..<30 { Self.change(actors[Int(rng.next() % UInt64(actors.count))].0, &rng) }
            // Bulk (more than the index inserts one by one) and a few.
            let more = round == 3 ? 300 : 7
            actors += join(more, from: next)
            next += more
            for _ in 0..<5 {
                let (c, id) = actors.remove(at: Int(rng.next() % UInt64(actors.count)))
                registry.retire(id: id, final: c.read())
            }
            clock.advance(.milliseconds(300))
            // Every other round asks for another order first: the name order is then made
            // (again) only when asked for.
            let orders = round % 2 == 0 ? [order] : [.mailbox, order, .name]
            for o in orders {
                for (first, offset) in [(20, 0), (30, actors.count / 2), (25, actors.count - 10)] {
                    Self.check(
                        registry, ActorQuery(order: o, first: first, offset: offset), "round \(round), \(o), \(first) from \(offset)")
                }
            }
        }
    }

    /// A screen of many idle actors reads only those that changed.
    @Test func aSnapshotReadsOnlyTheActorsThatChanged() {
        let clock = HandClock()
        let registry = PatternRegistry(timeSource: clock.source)
        let actors = Self.counters(5_000, in: registry)
        let query = ActorQuery(order: .processed, first: 40)
        _ = registry.snapshot(actors: query)
        #expect(registry.indexReads == 5_000, "the first snapshot reads every actor")
        clock.advance(.seconds(2))
        _ = registry.snapshot(actors: query)
        #expect(registry.indexReads == 5_000, "then each once more (a change may race with the first read): none changed")
        _ = registry.snapshot(actors: query)
        #expect(registry.indexReads == 0)
        var rng = SplitMix64(seed: 3)
        for i in [17, 4_000, 2_222] {
            actors[i].0.processed.wrappingAdd(5, ordering: .relaxed)
            actors[i].0.loopChanged()
            actors[i].0.loopChanged()
            actors[i].0.sentChanged()
        }
        Self.change(actors[9].0, &rng)
        clock.advance(.milliseconds(50))
        _ = registry.snapshot(actors: query)
        #expect(registry.indexReads == 4)
        Self.check(registry, query, "after the change")
        // Read again while their rates change, and no more once they settle at 0.
        var rounds = 0
        while registry.indexReads > 0, rounds < 5 {
            clock.advance(.seconds(2))
            Self.check(registry, query, "settling, round \(rounds)")
            #expect(registry.indexReads <= 4)
            rounds += 1
        }
        #expect(registry.indexReads == 0 && rounds >= 2)
    }

    /// Most actors leaving (the index drops their slots), then more actors joining between
    /// two snapshots than the registry logs (the index starts again from the entries).
    @Test func manyLeavingAndMoreJoiningThanTheLogHolds() {
        let clock = HandClock()
        let registry = PatternRegistry(timeSource: clock.source)
        var actors = Self.counters(600, in: registry)
        var rng = SplitMix64(seed: 5)
        for (c, _) in actors { Self.change(c, &rng) }
        let query = ActorQuery(order: .processed, first: 30, offset: 10, named: ["actor-599"])
        Self.check(registry, query, "600")
        for (c, id) in actors.prefix(500) { registry.retire(id: id, final: c.read()) }
        actors.removeFirst(500)
        clock.advance(.milliseconds(100))
        for order in ActorOrder.allCases { Self.check(registry, ActorQuery(order: order, first: 30, offset: 10), "100 left, \(order)") }
        var joined: [(ActorCounters, UInt64)] = []
        for round in 0..<10 {
            let more = Self.counters(500, in: registry, from: 1_000 + round * 500)
            for (c, _) in more { Self.change(c, &rng) }
            for (c, id) in more.prefix(450) { registry.retire(id: id, final: c.read()) }
            joined += more.suffix(50)
        }
        clock.advance(.milliseconds(100))
        for order in ActorOrder.allCases {
            Self.check(registry, ActorQuery(order: order, first: 30, offset: 50), "after the flood, \(order)")
        }
        for (c, _) in (actors + joined).prefix(40) { Self.change(c, &rng) }
        clock.advance(.milliseconds(100))
        for order in ActorOrder.allCases { Self.check(registry, ActorQuery(order: order, first: 30, offset: 50), "then, \(order)") }
    }

    /// A window at the bottom of the list, in each order: the last rows, not every row
    /// down to them.
    @Test(arguments: ActorOrder.allCases)
    func theBottomOfTheList(order: ActorOrder) {
        let registry = PatternRegistry(timeSource: { .seconds(5) })
        let actors = Self.counters(3_000, in: registry)
        var rng = SplitMix64(seed: 11)
        for (c, _) in actors.prefix(500) { Self.change(c, &rng) }
        let query = ActorQuery(order: order, first: 60, offset: 2_940)
        let (partial, totals) = registry.snapshot(actors: query)
        let full = registry.snapshot()
        let last = full.actors.sorted(by: order.precedes).suffix(60).map(\.name)
        let rows = partial.actors.sorted(by: order.precedes)
        #expect(rows.dropFirst(totals.listedBefore).map(\.name) == last)
        #expect(totals.offset == 2_940 && totals.count == 3_000)
        #expect(partial.actors.count < 60 + 600)
        Self.check(registry, query, "bottom")
    }

    /// Rows sort as their places were worked out: actors that move between the index's
    /// read and the rows' build are listed as read, so the screen, sorting the rows by the
    /// same order, finds each at its place and the window where `listedBefore` says (rows
    /// read again put a busy actor elsewhere, and the window's edge flickered).
    @Test(arguments: ActorOrder.allCases)
    func rowsSortAsTheirPlacesWereWorkedOut(order: ActorOrder) {
        let registry = PatternRegistry(timeSource: { .seconds(5) })
        let actors = Self.counters(200, in: registry)
        var rng = SplitMix64(seed: 5)
        for (c, _) in actors { Self.change(c, &rng) }
        _ = registry.snapshot(actors: ActorQuery(order: order, first: 10))
        for (c, _) in actors { Self.change(c, &rng) }  // after the read, before any row
        let (placed, rows, moved) = registry.reader.withLock { r in
            let placed = r.index.first(200, in: order)
            let moved = placed.count { s in
                let now = ActorKey(r.index.counters(s).snapshot()), read = r.index.key(s)
                return (now.mailboxDepth, now.processed, now.deadLetters) != (read.mailboxDepth, read.processed, read.deadLetters)
            }
            return (placed.map { r.index.key($0).name }, placed.map { r.index.row($0, orderedByP99: order == .p99) }, moved)
        }
        #expect(moved > 50, "the actors moved after the read: the check below can fail")
        #expect(rows.count == 200)
        #expect(rows.sorted(by: order.precedes).map(\.name) == placed)
        for row in rows {
            #expect(row.processing.p50 <= row.processing.p90 && row.processing.p90 <= row.processing.p99)
            #expect(row.processing.p99 <= row.processing.max)
        }
    }

    /// Real actors sending, processing, stopping and being released while snapshots read
    /// them on a thread of their own; once all is still, the index lists what reading every
    /// actor lists. (Run under ThreadSanitizer too.)
    @Test func actorsChangingJoiningAndLeavingWhileSnapshotsRead() async throws {
        let clock = HandClock()
        let registry = PatternRegistry(finishedToKeep: 8, timeSource: clock.source)
        let stop = Atomic<Bool>(false)
        let reads = Counter()
        let done = Counter()
        let started = startDetachedThread {
            defer { done.add() }
            var order = 0
            while !stop.load(ordering: .relaxed) {
                _ = registry.snapshot(actors: ActorQuery(order: ActorOrder(rawValue: order % 6)!, first: 20, offset: order % 3 * 30))
                clock.advance(.milliseconds(70))
                order += 1
                reads.add()
            }
        }
        #expect(started)
        let rounds = underThreadSanitizer ? 3 : 8
        for round in 0..<rounds {
            await withTaskGroup(of: Void.self) { group in
                for a in 0..<24 {
                    let actor = MailboxActor<Tally>(name: "r\(round)-\(a)", mailboxCapacity: a % 3 == 0 ? 4 : nil, registry: registry)
                    group.addTask { await actor.run(TallyBehavior()) }
                    group.addTask {
                        for _ in 0..<(a * 7 % 40) { try? await actor.tell(.increment) }
                        if a % 4 == 0 { _ = try? await actor.ask { .getCount($0) } }
                        if a % 5 != 0 { actor.finish() } else { actor.stop() }
                        try? await actor.tell(.increment)  // a dead letter
                    }
                }
            }
        }
        let kept = (0..<30).map { MailboxActor<Tally>(name: "kept-\($0)", registry: registry) }
        for (i, actor) in kept.enumerated() where i % 3 == 0 { try await actor.tell(.add(i)) }
        while reads.load < 10 { await Task.yield() }
        stop.store(true, ordering: .relaxed)
        while done.load == 0 { await Task.yield() }
        clock.advance(.seconds(3))
        for order in ActorOrder.allCases {
            Self.check(registry, ActorQuery(order: order, first: 12, offset: 5, named: ["kept-7"]), "\(order), still")
        }
        for actor in kept { actor.stop() }
    }
}

extension PatternRegistry {
    /// Actors the last indexed snapshot read (for tests).
    var indexReads: Int { reader.withLock { $0.index.lastReads } }
}

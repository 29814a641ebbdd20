import AsyncPatterns
import Scenarios
import Testing
@testable import Dashboard
import TUI

/// Every pane over hand-made snapshots: empty, full, and areas too small.
@Suite struct PaneSnapshotTests {
    let a = Glyphs.ascii

    func queue(depth: Int, capacity: Int) -> QueueSnapshot {
        var q = QueueSnapshot(name: "jobs")
        q.capacity = capacity
        q.depth = depth
        q.maxDepth = depth
        q.waitingProducers = depth == capacity ? 3 : 0
        q.put = 120
        q.got = 120 - depth
        q.done = 100 - depth
        q.putPerSecond = 30
        q.gotPerSecond = 12.5
        q.wait = Percentiles(count: 10, p50: 2_500_000, p99: 900_000_000, max: 1_000_000_000)
        return q
    }

    @Test func queuePaneEmptyAndFull() {
        let empty = QueuePane(queue: QueueSnapshot(name: "jobs"), depthHistory: [], glyphs: a).rendered(width: 44, height: 8)
        #expect(
            empty.lines == [
                "+ Queue jobs ------------------------------+",
                "|depth ................................ 0/0|",
                "|last 60s                                  |",
                "|blocked producers 0  consumers 0          |",
                "|rate    put 0/s  get 0/s                  |",
                "|wait    p50 0ns  p99 0ns                  |",
                "|total   put 0  got 0  done 0  max 0       |",
                "+------------------------------------------+",
            ])
        var full = QueuePane(queue: queue(depth: 50, capacity: 50), depthHistory: [10, 25, 50], glyphs: a)
        full.note = "consumers 8"
        #expect(
            full.rendered(width: 44, height: 8).lines == [
                "+ Queue jobs · consumers 8 ----------------+",
                "|depth ############################## 50/50|",
                "|last 60s                               .=@|",
                "|blocked producers 3  consumers 0          |",
                "|rate    put 30/s  get 12.5/s              |",
                "|wait    p50 2.5ms  p99 900ms              |",
                "|total   put 120  got 70  done 50  max 50  |",
                "+------------------------------------------+",
            ])
        #expect(
            QueuePane(queue: queue(depth: 5, capacity: 50), depthHistory: [], glyphs: a).rendered(width: 12, height: 3).lines == [
                "+ Queue jo~+", "|depth 5/50|", "+----------+",
            ])
        #expect(QueuePane(queue: queue(depth: 5, capacity: 50), depthHistory: [], glyphs: a).rendered(width: 2, height: 1).lines == [""])
    }

    /// Items dropped by a close that emptied the queue at once show on the totals line.
    @Test func queuePaneShowsDroppedItemsOnlyWhenThereAreAny() {
        var q = queue(depth: 0, capacity: 50)
        q.isClosed = true
        q.dropped = 7
        let lines = QueuePane(queue: q, depthHistory: [], glyphs: a).rendered(width: 60, height: 8).lines
        #expect(lines.contains { $0.contains("total   put 120  got 120  done 100  max 0  dropped 7") })
        q.dropped = 0
        let none = QueuePane(queue: q, depthHistory: [], glyphs: a).rendered(width: 60, height: 8).lines
        #expect(!none.contains { $0.contains("dropped") })
    }

    @Test func semaphorePaneShowsSlotsAndLine() {
        var s = SemaphoreSnapshot(name: "permits")
        s.limit = 3
        s.inUse = 3
        s.maxInUse = 3
        s.waiting = 5
        s.acquired = 42
        let lines = SemaphorePane(semaphore: s, inUseHistory: [1, 2, 3], glyphs: a).rendered(width: 40, height: 8).lines
        #expect(lines[0] == "+ Semaphore permits  3/3 in use -------+")
        #expect(lines[1] == "|###                                   |")
        #expect(lines[2] == "|waiting 5 .....                       |")
        #expect(lines.contains("|acquired 42  max in use 3  gave up 0  |"))
        #expect(
            SemaphorePane(semaphore: SemaphoreSnapshot(name: "p"), inUseHistory: [], glyphs: a).rendered(width: 30, height: 4).lines == [
                "+ Semaphore p  0/0 in use ---+", "|no permits                  |", "|waiting 0                   |",
                "+----------------------------+",
            ])
    }

    func actor(_ name: String, depth: Int, processed: Int, dead: Int = 0) -> ActorSnapshot {
        var x = ActorSnapshot(name: name)
        x.mailboxDepth = depth
        x.processed = processed
        x.deadLetters = dead
        x.processedPerSecond = Double(processed) / 10
        x.processing = Percentiles(count: 1, p50: 1_000_000, p99: 4_000_000, max: 5_000_000)
        return x
    }

    @Test func actorsPaneSortsAndCountsTheRest() {
        let actors = (0..<1_000).map { actor("actor-\($0)", depth: $0 % 7, processed: $0) }
        let pane = ActorsPane(actors: actors, depthHistory: [:], sort: .processed, selected: nil, glyphs: a)
        let lines = pane.rendered(width: 60, height: 8).lines
        #expect(lines[0].hasPrefix("+ Actors (1000)  sort: processed"))
        #expect(lines[1] == "|name         mailbox processedv     /s     p99  dead      |")
        #expect(lines[2].hasPrefix("|actor-999"))
        #expect(lines[6].contains("+ 996 more"))
        let byName = ActorsPane(actors: actors, depthHistory: [:], sort: .name, selected: 0, focused: true, glyphs: a).rendered(
            width: 60, height: 6)
        #expect(byName.lines[2].hasPrefix("|actor-0 "))
        #expect(byName.lines[3].hasPrefix("|actor-1 "))
        #expect(byName[1, 2].style.reverse)
        let empty = ActorsPane(actors: [], depthHistory: [:], glyphs: a).rendered(width: 30, height: 4)
        #expect(empty.lines[1] == "|no actors yet               |")
        #expect(ActorsPane(actors: actors, depthHistory: [:], glyphs: a).rendered(width: 5, height: 2).lines.count == 2)
    }

    @Test func actorsPaneWideLayoutHasBarsAndSparklines() {
        let actors = [actor("slow", depth: 40, processed: 10, dead: 2), actor("fast", depth: 1, processed: 900)]
        var slowHistory = History()
        for v in [10.0, 20, 40] { slowHistory.append(v) }
        let history: [String: History] = ["slow": slowHistory]
        let lines = ActorsPane(actors: actors, depthHistory: history, sort: .mailbox, glyphs: a).rendered(width: 90, height: 5).lines
        #expect(lines[2].hasPrefix("|slow ") && lines[2].contains("########") && lines[2].contains(".=@"))
        #expect(lines[3].hasPrefix("|fast "))
    }

    @Test func streamsResourcesHealthAndLog() {
        var s = StreamSnapshot(name: "data #1")
        s.produced = 50
        s.total = 200
        s.producedPerSecond = 10
        let streams = StreamsPane(streams: [s], glyphs: a).rendered(width: 50, height: 3).lines
        #expect(streams[1].hasPrefix("|data #1 ###") && streams[1].hasSuffix("50/200  10/s  eta 15s|"))
        #expect(StreamsPane(streams: [], glyphs: a).rendered(width: 30, height: 3).lines[1] == "|no streams yet              |")

        var r = ResourceSnapshot(name: "db")
        r.opened = 10
        r.closed = 9
        r.open = 1
        r.failed = 2
        let resources = ResourcesPane(resources: [r], glyphs: a).rendered(width: 60, height: 4).lines
        #expect(resources[1] == "|db: opening 0  open 1  closing 0                          |")
        #expect(resources[2].hasPrefix("|opened 10  closed 9  failed 2"))

        var h = HealthSnapshot()
        h.beats = 10
        h.lastLagNanos = 150_000_000
        h.maxLagNanos = 180_000_000
        let warn = Warning(level: .bad, text: "pool stalled")
        let health = HealthPane(health: h, lagHistory: [1, 150], warnings: [warn], glyphs: a).rendered(width: 50, height: 5).lines
        #expect(health[1].hasPrefix("|loop lag ") && health[1].hasSuffix("150 ms (max 180)|"))
        #expect(health[3] == "|! pool stalled                                  |")
        #expect(
            HealthPane(health: HealthSnapshot(), lagHistory: [], warnings: [], glyphs: a).rendered(width: 20, height: 3).lines[1]
                == "|all clear         |")

        let id = PatternID(.health, "scenario")
        let events = (0..<5).map { PatternEvent.health(.note(text: "note \($0)"), source: id, at: .now()) }
        let log = EventLogPane(events: events, dropped: 10, glyphs: a).rendered(width: 40, height: 5).lines
        #expect(
            log == [
                "+ Events (all) ------------------------+",
                "|^ 13 earlier events not shown         |",
                "|note 3                                |",
                "|note 4                                |",
                "+--------------------------------------+",
            ])
    }

    @Test func knobsPaneHighlightsTheSelectedKnob() {
        let specs = ProducerConsumerScenario().knobs
        let lines = KnobsPane(specs: specs, values: ["consumers": 8], selected: 1, speed: 2, lastChange: "consumers 7 -> 8", glyphs: a)
            .rendered(width: 30, height: 12).lines
        #expect(lines[1] == "|  producers                3|")
        #expect(lines[2] == "|> consumers                8|")
        #expect(lines[7] == "|  0...64 step 1             |")
        #expect(lines[8] == "|  speed 2x                  |")
        #expect(lines[9] == "|  consumers 7 -> 8          |")
    }

    @Test func warningsExplainWhatIsWrong() {
        var snap = Snapshot()
        snap.queues = [queue(depth: 50, capacity: 50)]
        snap.health.beats = 3
        snap.health.lastLagNanos = 250_000_000
        var dead = ActorSnapshot(name: "driver")
        dead.deadLetters = 4
        dead.recentDeadLetters = ["ghost: unknown recipient"]
        snap.actors = [dead]
        let texts = warnings(for: snap, history: DashboardHistory()).map(\.text)
        #expect(
            texts == [
                "pool stalled: heartbeat 250 ms late; blocking calls hold the cooperative threads",
                "jobs full: 3 producers blocked (back-pressure)",
                "4 dead letters (latest: ghost: unknown recipient)",
            ])
        var filling = Snapshot()
        filling.queues = [queue(depth: 10, capacity: 50)]
        #expect(warnings(for: filling, history: DashboardHistory()).map(\.text) == ["jobs will be full in 2.3 s: 30/s in, 12.5/s out"])
        var draining = Snapshot()
        draining.queues = [queue(depth: 40, capacity: 50)]
        draining.queues[0].waitingProducers = 2
        #expect(
            warnings(for: draining, history: DashboardHistory()).map(\.text) == ["jobs was full: 2 producers wait until it drains to 25"])
    }

    /// Nothing can move (#25: Health said "all clear" with 32 jobs waiting on 0 permits).
    @Test func aStandstillIsNamed() {
        var stuck = Snapshot()
        var permits = SemaphoreSnapshot(name: "permits")
        permits.limit = 0
        permits.waiting = 32
        stuck.semaphores = [permits]
        #expect(
            warnings(for: stuck, history: DashboardHistory()).map(\.text) == [
                "nothing can run: permits has 0 permits and 32 waiting (raise its limit)"
            ])
        var unconsumed = Snapshot()
        unconsumed.queues = [queue(depth: 50, capacity: 50)]
        unconsumed.queues[0].gotPerSecond = 0
        #expect(
            warnings(for: unconsumed, history: DashboardHistory()).map(\.text) == [
                "nothing takes from jobs: full, 3 producers blocked and no get lately (no consumers?)"
            ])
    }
}

import AsyncPatterns
import Testing
@testable import Dashboard
import TUI

/// Every queue and semaphore of a source is on screen: a row each, the selected one in detail.
@Suite struct InstancePaneTests {
    let a = Glyphs.ascii

    func queue(_ name: String, depth: Int, waiting: Int = 0) -> QueueSnapshot {
        var q = QueueSnapshot(name: name)
        q.capacity = 10
        q.depth = depth
        q.waitingProducers = waiting
        return q
    }

    @Test func queuePaneListsEveryQueueAndDetailsTheSelectedOne() {
        let queues = [queue("urls", depth: 1), queue("pages", depth: 10, waiting: 2), queue("links", depth: 3)]
        let lines = QueuePane(queues: queues, selected: 1, depthHistory: [:], glyphs: a).rendered(width: 60, height: 14).lines
        #expect(lines[0].contains("Queues (3)") && lines[0].contains("pages"))
        for name in ["urls", "pages", "links"] { #expect(lines.contains { $0.contains(name) }, "row for \(name)") }
        #expect(lines.contains { $0.contains("10/10") })
        #expect(lines.contains { $0.contains("producers 2") })  // the detail is the selected queue's
        #expect(lines.contains { $0.contains("depth") && $0.contains("10/10") })
    }

    @Test func manyQueuesScrollToTheSelection() {
        let queues = (0..<30).map { queue("q\($0)", depth: $0 % 10) }
        let lines = QueuePane(queues: queues, selected: 25, depthHistory: [:], glyphs: a).rendered(width: 60, height: 12).lines
        #expect(lines.contains { $0.contains("q25") } && !lines.contains { $0.contains("q0 ") })
    }

    @Test func oneQueueKeepsTheDetailView() {
        let lines = QueuePane(queues: [queue("jobs", depth: 4)], depthHistory: [:], glyphs: a).rendered(width: 44, height: 8).lines
        #expect(lines[0].contains("Queue jobs") && !lines[0].contains("Queues"))
    }

    @Test func semaphorePaneListsEverySemaphore() {
        var s1 = SemaphoreSnapshot(name: "fetches")
        s1.limit = 4
        s1.inUse = 4
        s1.waiting = 3
        var s2 = SemaphoreSnapshot(name: "files")
        s2.limit = 8
        s2.inUse = 1
        let lines = SemaphorePane(semaphores: [s1, s2], selected: 1, inUseHistory: [:], glyphs: a).rendered(width: 60, height: 12).lines
        #expect(lines[0].contains("Semaphores (2)") && lines[0].contains("files  1/8 in use"))
        #expect(lines.contains { $0.contains("fetches") && $0.contains("4/4") })
    }
}

import Synchronization
import Testing

@testable import AsyncPatterns

/// The registry's event buffer (issue #23): event logs take their events from it, numbered
/// and in order per pattern, whatever threads emit them; what it drops is counted.
@Suite struct EventBufferTests {
    /// Runs `body` on a thread of its own (never on the shared pool) and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let started = startDetachedThread { continuation.resume(returning: body()) }
            precondition(started, "could not start a thread")
        }
    }

    /// Runs `body(i)` on `count` threads at once; returns when all have finished. Call it
    /// from a thread of its own: it waits.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = CountingSemaphore()
        for i in 0..<count {
            let started = startDetachedThread {
                body(i)
                finished.signal()
            }
            precondition(started, "could not start a thread")
        }
        for _ in 0..<count { finished.wait() }
    }

    /// Each note's source and its number among its source's notes.
    static func notes(_ events: [PatternEvent]) -> [(source: String, number: Int)] {
        events.compactMap { event in
            guard case .health(.note(let text), let source, _) = event else { return nil }
            return (source.name, Int(text)!)
        }
    }

    /// Whether each source's notes come in increasing order, none twice.
    static func inOrderPerSource(_ notes: [(source: String, number: Int)]) -> Bool {
        var last: [String: Int] = [:]
        for note in notes {
            if let previous = last[note.source], previous >= note.number { return false }
            last[note.source] = note.number
        }
        return true
    }

    /// Four threads emit while a reader reads the log as a recorder does (by cursor): every
    /// event is numbered (read, or counted as missed), and each pattern's come in order. A
    /// log that keeps more than all drops nothing itself; a small one wraps all the time.
    @Test(arguments: [1 << 17, 100])
    func eventsOfManyThreadsAreNumberedAndInOrderPerPattern(capacity: Int) async {
        let registry = PatternRegistry()
        let log = EventLog(capacity: capacity)
        let subscription = registry.subscribe(log, interest: .all)
        let threads = 4
        let each = underThreadSanitizer ? 2_000 : 20_000
        let (read, missed) = await Self.onThread { () -> ([PatternEvent], UInt64) in
            let done = Atomic<Bool>(false)
            let reader = Locked<([PatternEvent], UInt64)>(([], 0))
            let readerFinished = CountingSemaphore()
            let started = startDetachedThread {
                var cursor: UInt64 = 0
                var events: [PatternEvent] = []
                var missed: UInt64 = 0
                while true {
                    let last = done.load(ordering: .acquiring)
                    let got = log.events(since: cursor)
                    events += got.events
                    missed += got.missed
                    cursor = got.next
                    if last { break }
                }
                reader.withLock { $0 = (events, missed) }
                readerFinished.signal()
            }
            precondition(started, "could not start a thread")
            Self.onThreads(threads) { i in
                for k in 0..<each { registry.note(String(k), from: "t\(i)") }
            }
            done.store(true, ordering: .releasing)
            readerFinished.wait()
            return reader.withLock { $0 }
        }
        let total = UInt64(threads * each)
        #expect(log.total == total)
        #expect(UInt64(read.count) + missed == total, "every event is read or counted as missed")
        if capacity > Int(total) {
            #expect(missed == log.bufferDropped, "the log kept everything it took: misses are the buffer's drops")
        } else {
            #expect(missed >= log.bufferDropped)
        }
        let notes = Self.notes(read)
        #expect(notes.count == read.count)
        #expect(Self.inOrderPerSource(notes))
        subscription.cancel()
    }

    /// One emitter, many more events than the buffer holds, nobody reading meanwhile: the
    /// emitter empties the buffer itself every half of it, so nothing is dropped.
    @Test func noEventIsLostWhenTheBufferDoesNotOverflow() async throws {
        let registry = PatternRegistry()
        let log = EventLog(capacity: 1 << 16)
        let subscription = registry.subscribe(log, interest: .all)
        let queue = BoundedQueue<Int>(capacity: 100, name: "q", registry: registry)
        let count = registry.events.capacity * 10
        let failures = await Self.onThread { () -> Int in
            var failures = 0
            for k in 0..<count {
                registry.note(String(k), from: "main")
                if (try? queue.tryPut(k)) != true || (try? queue.tryGet()) != k { failures += 1 }
            }
            return failures
        }
        #expect(failures == 0)
        let (events, next, missed) = log.events(since: 0)
        #expect(next == UInt64(3 * count) && missed == 0 && log.bufferDropped == 0)
        #expect(events.count == 3 * count)
        #expect(Self.notes(events).map(\.number) == Array(0..<count))
        // The queue's events, in the order they happened: put, got, note, put, got...
        var puts = 0
        var gots = 0
        for (i, event) in events.enumerated() {
            switch event {
            case .queue(.put, _, _):
                #expect(i % 3 == 1)
                puts += 1
            case .queue(.got, _, _):
                #expect(i % 3 == 2)
                gots += 1
            default: #expect(i % 3 == 0)
            }
        }
        #expect(puts == count && gots == count)
        subscription.cancel()
        withExtendedLifetime(queue) {}
    }

    /// A reader that holds the buffer (a long drain) while an emitter overflows it: the
    /// events beyond the buffer's capacity are dropped, and counted in the logs' numbers,
    /// `bufferDropped`, the snapshot's dropped counts and the cursor's misses; a log that
    /// takes only notable events counts only the notable ones dropped.
    @Test func dropsAreCountedWhenTheBufferOverflows() async throws {
        let registry = PatternRegistry()
        let all = EventLog(capacity: 1 << 16)
        let notable = EventLog(capacity: 1 << 16)
        let s1 = registry.subscribe(all, interest: .all)
        let s2 = registry.subscribe(notable, interest: .notable)
        let queue = BoundedQueue<Int>(capacity: 10_000, name: "q", registry: registry)
        let capacity = registry.events.capacity
        let puts = capacity * 2
        let notes = 10
        await Self.onThread {
            registry.events.whileDraining {
                Self.onThreads(1) { _ in
                    for k in 0..<puts { _ = try? queue.tryPut(k) }
                    for k in 0..<notes { registry.note(String(k), from: "late") }
                }
            }
        }
        #expect(queue.count == puts, "the queue itself lost nothing")
        #expect(all.total == UInt64(puts + notes))
        #expect(all.bufferDropped == UInt64(puts + notes - capacity))
        var snap = Snapshot()
        all.fill(&snap)
        #expect(snap.recentEvents.count == capacity && snap.droppedEvents == puts + notes - capacity)
        #expect(snap.recentEvents.allSatisfy { if case .queue(.put, _, _) = $0 { true } else { false } })
        let (events, next, missed) = all.events(since: 0)
        #expect(events.count == capacity && next == UInt64(puts + notes) && missed == UInt64(puts + notes - capacity))
        #expect(notable.total == UInt64(notes) && notable.bufferDropped == UInt64(notes))
        var notableSnap = Snapshot()
        notable.fill(&notableSnap)
        #expect(notableSnap.notableEvents.isEmpty && notableSnap.droppedNotableEvents == notes)

        // Drained, the buffer takes events again; their numbers follow the gap.
        registry.note("after", from: "late")
        let after = all.events(since: next)
        #expect(after.events.count == 1 && after.missed == 0 && after.next == next + 1)
        s1.cancel()
        s2.cancel()
    }

    /// A log whose subscription ends has every event emitted before the end (still in the
    /// buffer then) and none after; the other subscribers go on; with nobody left, nothing
    /// is built.
    @Test func aSubscriberThatStops() {
        let registry = PatternRegistry()
        let stopping = EventLog(capacity: 1_000)
        let staying = EventLog(capacity: 1_000)
        let s1 = registry.subscribe(stopping, interest: .all)
        let s2 = registry.subscribe(staying, interest: .all)
        for k in 0..<100 { registry.note(String(k), from: "n") }
        s1.cancel()
        for k in 100..<200 { registry.note(String(k), from: "n") }
        #expect(stopping.total == 100 && Self.notes(stopping.events(since: 0).events).map(\.number) == Array(0..<100))
        #expect(staying.total == 200 && Self.notes(staying.events(since: 0).events).map(\.number) == Array(0..<200))
        s1.cancel()  // idempotent
        s2.setInterest(.none)
        registry.note("unseen", from: "n")
        #expect(staying.total == 200)
        s2.setInterest(.notable)
        registry.note("seen", from: "n")
        #expect(staying.total == 201)
        s2.cancel()
        #expect(registry.interest.load(ordering: .relaxed) == 0)
        registry.note("nobody", from: "n")
        #expect(stopping.total == 100 && staying.total == 201)
    }

    /// A log smaller than what it takes keeps exactly the last events, numbered, oldest
    /// first, whatever the size of each batch a read drains into it (its ring wraps at every
    /// place), and its notable log keeps the last notable ones.
    @Test func aSmallLogKeepsTheLastEventsInOrderAcrossItsWrap() {
        let registry = PatternRegistry()
        let capacity = 7
        let log = EventLog(capacity: capacity)
        let subscription = registry.subscribe(log, interest: .all)
        let queue = BoundedQueue<Int>(capacity: 10_000, name: "q", registry: registry)
        var emitted: [Int] = []  // the note numbers, -1 for a put
        var notes = 0
        for batch in [1, 2, 3, 5, 6, 7, 8, 9, 13, 1, 1, 20, 600, 3, 0, 2] {
            for k in 0..<batch {
                if k % 3 == 1 {
                    _ = try? queue.tryPut(k)
                    emitted.append(-1)
                } else {
                    registry.note(String(notes), from: "n")
                    emitted.append(notes)
                    notes += 1
                }
            }
            let (events, next, missed) = log.events(since: 0)
            let total = emitted.count
            let kept = min(total, capacity)
            #expect(next == UInt64(total) && missed == UInt64(total - kept) && log.total == UInt64(total))
            let expected = Array(emitted.suffix(kept))
            let got = events.map { event -> Int in
                if case .health(.note(let text), _, _) = event { return Int(text)! }
                return -1
            }
            #expect(got == expected, "after \(total) events")
            // From a cursor inside what is kept: the events from it on, none missed.
            if kept > 2 {
                let cursor = UInt64(total - 2)
                let tail = log.events(since: cursor)
                #expect(tail.events.count == 2 && tail.missed == 0 && tail.next == UInt64(total))
            }
            var snap = Snapshot()
            log.fill(&snap, limit: 3)
            #expect(snap.recentEvents.count == min(3, kept) && snap.droppedEvents == total - min(3, kept))
            #expect(Self.notes(snap.notableEvents).map(\.number) == Array((0..<notes).suffix(min(3, capacity))))
        }
        subscription.cancel()
        withExtendedLifetime(queue) {}
    }

    /// Event logs and other observers side by side, at each level of interest: each gets
    /// exactly the events of its level (the registry routes an event to the buffer, to the
    /// observers, or both, by one word it keeps for both), observers once an event.
    @Test func logsAndObserversEachGetTheirLevel() {
        let registry = PatternRegistry()
        let queue = BoundedQueue<Int>(capacity: 100, name: "q", registry: registry)
        /// Puts and gets `n` items and writes one note: 2n routine events, one notable.
        func traffic(_ n: Int) {
            for k in 0..<n {
                _ = try? queue.tryPut(k)
                _ = try? queue.tryGet()
            }
            registry.note("n", from: "t")
        }
        let allLog = EventLog(capacity: 1_000)
        let notableLog = EventLog(capacity: 1_000)
        let allObserver = CountingObserver()
        let notableObserver = CountingObserver()

        // Only an observer of notable events, then a log of every event beside it.
        let s1 = registry.subscribe(notableObserver, interest: .notable)
        traffic(5)
        #expect(notableObserver.count.load(ordering: .relaxed) == 1)
        let s2 = registry.subscribe(allLog, interest: .all)
        traffic(5)
        #expect(notableObserver.count.load(ordering: .relaxed) == 2 && allLog.total == 11)
        // Then a log of notable events and an observer of every event.
        let s3 = registry.subscribe(notableLog, interest: .notable)
        let s4 = registry.subscribe(allObserver, interest: .all)
        traffic(5)
        #expect(notableObserver.count.load(ordering: .relaxed) == 3 && allObserver.count.load(ordering: .relaxed) == 11)
        #expect(allLog.total == 22 && notableLog.total == 1)
        // The log of every event leaves: the observer of every event still gets each once.
        s2.cancel()
        traffic(5)
        #expect(allObserver.count.load(ordering: .relaxed) == 22 && allLog.total == 22 && notableLog.total == 2)
        // Only logs of notable events left: routine events go nowhere, notes to the log.
        s1.cancel()
        s4.cancel()
        traffic(5)
        #expect(notableObserver.count.load(ordering: .relaxed) == 4 && allObserver.count.load(ordering: .relaxed) == 22)
        #expect(notableLog.total == 3 && allLog.total == 22)
        var snap = Snapshot()
        notableLog.fill(&snap)
        #expect(snap.recentEvents.count == 3 && snap.recentEvents.allSatisfy(\.isNotable))
        s3.cancel()
        withExtendedLifetime(queue) {}
    }

    /// An event outlives its pattern: the buffer, and then each log that keeps the event,
    /// keep the pattern's name (events point at it unretained), and let it go once no event
    /// they hold points at it; what they keep stays bounded while patterns come and go.
    @Test func eventsKeepTheNameOfAPatternThatIsGone() async throws {
        let registry = PatternRegistry()
        let capacity = 350
        let log = EventLog(capacity: capacity)
        let subscription = registry.subscribe(log, interest: .all)
        weak var goneName: SourceName?
        do {
            let gone = BoundedQueue<Int>(capacity: 4, name: "gone", registry: registry)
            goneName = gone.emit.name
            try await gone.put(1)
        }
        // Others come and go: the buffer sweeps the names it keeps again and again.
        for i in 0..<300 {
            try await BoundedQueue<Int>(capacity: 4, name: "other \(i)", registry: registry).put(i)
        }
        let first = log.events(since: 0).events.first
        #expect(first?.source == PatternID(.queue, "gone"))
        guard case .queue(.put, _, _) = first else {
            Issue.record("the first event is \(String(describing: first))")
            return
        }
        #expect(goneName != nil, "the log keeps an event from it")
        for i in 0..<600 {
            try await BoundedQueue<Int>(capacity: 4, name: "later \(i)", registry: registry).put(i)
        }
        #expect(log.total == 901)
        #expect(log.events(since: 0).events.first?.source == PatternID(.queue, "later 250"))
        // Names are let go in sweeps, not at once: what the buffer keeps stays bounded (not
        // one name a pattern that came and went), and the gone pattern's name goes.
        var most = 0
        for i in 0..<20_000 {
            try await BoundedQueue<Int>(capacity: 4, name: "then \(i)", registry: registry).put(i)
            if i % 100 == 0 { _ = log.total }  // a reader, as a dashboard's frames
            most = max(most, registry.events.adoptedNames)
        }
        _ = log.total
        #expect(goneName == nil, "neither the buffer nor the log keeps it")
        // The log keeps the names of at most `capacity` patterns; the buffer those and, until
        // it sweeps, as many again (786 when written; 20,000 came and went).
        #expect(most <= 3 * capacity, "the buffer kept \(most) names")
        subscription.cancel()
    }
}

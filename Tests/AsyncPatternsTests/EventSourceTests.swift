import Synchronization
import Testing

@testable import AsyncPatterns

/// Events point at their pattern's name unretained (`SourceName`): the event buffer and the
/// logs keep each name as long as an event they hold points at it, and let it go after,
/// without piling names up or slowing the emitters.
@Suite struct EventSourceTests {
    final class Counting: PatternObserver {
        let seen = Atomic<Int>(0)
        func observe(_ event: PatternEvent) { seen.wrappingAdd(1, ordering: .relaxed) }
    }

    /// A registry nobody subscribes an event log to (the default `.shared` of a program that
    /// never opens the dashboard) never drains: it still lets go of the names of patterns
    /// that left it.
    @Test func namesOfPatternsThatLeftAnUnwatchedRegistryAreLetGo() {
        let registry = PatternRegistry()
        weak var first: SourceName?
        for i in 0..<10_000 {
            let s = AsyncSemaphore(limit: 1, name: "s\(i)", registry: registry)
            if i == 0 { first = s.emit.name }
            _ = s.tryAcquire()
            try? s.release()
        }
        let adopted = registry.events.adoptedNames
        #expect(adopted <= 256, "the buffer keeps \(adopted) names of 10,000 patterns gone")
        #expect(first == nil, "the first pattern's name is still alive")
    }

    /// Notes with only a plain observer subscribed (no event log): each note's name is
    /// adopted, nothing is pushed and nothing drains; the names do not pile up.
    @Test func notesSeenOnlyByAPlainObserverDoNotPileUp() {
        let registry = PatternRegistry()
        let observer = Counting()
        let subscription = registry.subscribe(observer, interest: .notable)
        for i in 0..<5_000 { registry.note("n\(i)", from: "program") }
        #expect(observer.seen.load(ordering: .relaxed) == 5_000)
        let adopted = registry.events.adoptedNames
        #expect(adopted <= 256, "the buffer keeps \(adopted) names for 5,000 notes")
        subscription.cancel()
    }

    /// Names a sweep found unheld while an event was claimed and not yet written go once a
    /// drain has passed that claim (not when the list has doubled again, which after a burst
    /// may be never). A claim made by hand stands for an emitter between claim and write.
    @Test func namesMarkedBehindAClaimGoOnceTheDrainPassesIt() {
        let registry = PatternRegistry()
        let log = EventLog(capacity: 16)
        let subscription = registry.subscribe(log, interest: .all)
        let buffer = registry.events
        // An emitter claims a position and is preempted before it writes.
        let claimed = buffer.tail.wrappingAdd(1, ordering: .relaxed).oldValue
        weak var first: SourceName?
        for i in 0..<200 {
            let s = AsyncSemaphore(limit: 1, name: "burst \(i)", registry: registry)
            if i == 0 { first = s.emit.name }
        }
        _ = log.total  // drains (stops at the claim) and sweeps: every name marked, kept
        // The emitter writes its event, from a name it holds.
        let holder = SourceName(PatternID(.health, "late"))
        buffer.fill(claimed, with: BufferedEvent(source: .passUnretained(holder), at: .now(), body: .health(.note(text: "late"))))
        for _ in 0..<100 { _ = log.total }  // many drains, far past the claim
        #expect(log.total == 1)
        let adopted = buffer.adoptedNames
        #expect(adopted < 200, "200 marked names kept after 100 drains past their mark")
        #expect(first == nil, "a burst's name outlives every event that pointed at it")
        withExtendedLifetime(holder) {}
        subscription.cancel()
    }

    /// Patterns come and go on four threads, each emitting routine and notable events, notes
    /// interleaved, while one thread reads two logs (every event and notable ones: the drain
    /// for several logs; a tiny log that skips) and a plain observer sees every event (made on
    /// the emitter's thread). A source read after it was freed crashes here, or under
    /// AddressSanitizer.
    @Test func patternsComingAndGoingWhileLogsAreRead() async {
        let registry = PatternRegistry()
        let all = EventLog(capacity: 3)
        let notable = EventLog(capacity: 64)
        let observer = Counting()
        let s1 = registry.subscribe(all, interest: .all)
        let s2 = registry.subscribe(notable, interest: .notable)
        let s3 = registry.subscribe(observer, interest: .all)
        let rounds = underThreadSanitizer ? 300 : 3_000
        let checked = await EventBufferTests.onThread { () -> Int in
            let done = Atomic<Bool>(false)
            let reads = Atomic<Int>(0)
            let readerDone = CountingSemaphore()
            let reader = startDetachedThread {
                defer { readerDone.signal() }
                var cursor: UInt64 = 0
                while !done.load(ordering: .acquiring) {
                    let (events, next, _) = all.events(since: cursor)
                    for e in events { precondition(!e.source.name.isEmpty) }
                    cursor = next
                    var snap = Snapshot()
                    notable.fill(&snap)
                    for e in snap.recentEvents { precondition(!e.source.name.isEmpty) }
                    reads.wrappingAdd(1, ordering: .relaxed)
                }
            }
            precondition(reader)
            EventBufferTests.onThreads(4) { t in
                for i in 0..<rounds {
                    let q = BoundedQueue<Int>(capacity: 2, name: "q\(t)-\(i)", registry: registry)
                    _ = try? q.tryPut(i)
                    _ = try? q.tryGet()
                    q.close()
                    if i % 7 == 0 { registry.note("t\(t) i\(i)", from: "n\(t)") }
                }
            }
            done.store(true, ordering: .releasing)
            readerDone.wait()
            return reads.load(ordering: .relaxed)
        }
        _ = checked
        #expect(all.total > 0 && notable.total > 0)
        s1.cancel()
        s2.cancel()
        s3.cancel()
    }

    /// A full log whose events alternate between two sources lets go of old sources in
    /// sweeps of everything it keeps: not one every few dozen events (each one a scan of the
    /// whole log, on an emitting thread), but one per log's worth of sources at most.
    @Test func aLogSweepsItsSourcesOncePerCapacityAtMost() {
        let registry = PatternRegistry()
        let capacity = 4_096
        let log = EventLog(capacity: capacity)
        let subscription = registry.subscribe(log, interest: .all)
        let a = AsyncSemaphore(limit: 1, name: "a", registry: registry)
        let b = AsyncSemaphore(limit: 1, name: "b", registry: registry)
        let rounds = 10_000
        for _ in 0..<rounds {
            for s in [a, b] {
                _ = s.tryAcquire()
                try? s.release()
            }
            _ = log.total
        }
        let events = 4 * rounds  // an acquire and a release each, two semaphores
        #expect(log.total == UInt64(events))
        #expect(log.sourceSweeps <= events / capacity + 2, "\(log.sourceSweeps) sweeps for \(events) events")
        subscription.cancel()
    }
}

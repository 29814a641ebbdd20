// A crawler-style pipeline written against AsyncPatterns' public API only: a queue of URLs
// consumed as an AsyncSequence, workers inside an actor, a semaphore capping fetches, an
// aggregating mailbox actor answering typed asks (with a timeout, and cancelled), a
// resource scope per connection, streams, clocks, and a custom observer. Every pattern is
// used from inside an actor and from the main actor. Exits 1 on a wrong result.
import AsyncPatterns
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: a custom observer

/// Counts the events it sees by kind: synchronous and short, as an observer must be.
final class KindCounter: PatternObserver {
    private let counts = Mutex<[PatternKind: Int]>([:])
    func observe(_ event: PatternEvent) {
        counts.withLock { $0[event.source.kind, default: 0] += 1 }
    }
    func count(_ kind: PatternKind) -> Int { counts.withLock { $0[kind, default: 0] } }
}

// MARK: the aggregating actor

enum StatsMessage: Sendable {
    case fetched(url: String, bytes: Int)
    case total(ReplyTo<Int>)
    case pages(ReplyTo<[String]>)
    case hold(ReplyTo<Int>)  // never answered while the actor is paused: for the timeout
}

struct Aggregator: ActorBehavior {
    var bytes = 0
    var urls: [String] = []
    mutating func receive(_ envelope: Envelope<StatsMessage>, context: ActorContext<StatsMessage>) async throws {
        switch envelope.message {
        case .fetched(let url, let n):
            bytes += n
            urls.append(url)
        case .total(let replyTo): replyTo.send(bytes)
        case .pages(let replyTo): replyTo.send(urls.sorted())
        case .hold: break  // processed without an answer: the asker gets NoReply
        }
    }
}

// MARK: a connection, per resource scope

/// A non-Sendable page: built and used inside the caller's isolation only.
final class Page {
    let url: String
    var body: String
    init(url: String, body: String) {
        self.url = url
        self.body = body
    }
}

struct Connection: Sendable {
    let host: String
}

// MARK: the crawler, an actor

actor Crawler {
    let queue: BoundedQueue<String>
    let permits: AsyncSemaphore
    let connections: ResourceScope
    let stats: MailboxActor<StatsMessage>
    var fetched = 0
    var lastPage: Page?

    init(registry: PatternRegistry, stats: MailboxActor<StatsMessage>) {
        queue = BoundedQueue(capacity: 4, name: "urls", registry: registry)
        permits = AsyncSemaphore(limit: 2, name: "fetches", registry: registry)
        connections = ResourceScope(name: "connections", registry: registry)
        self.stats = stats
    }

    /// One worker: takes URLs until the queue is closed and empty.
    func work() async throws {
        for try await url in queue {
            let page = try await fetch(url)
            lastPage = page
            try await stats.tell(.fetched(url: page.url, bytes: page.body.count))
            try queue.taskDone()
        }
    }

    func fetch(_ url: String) async throws -> Page {
        try await permits.withPermit {
            fetched += 1  // actor state inside the body
            return try await connections.with(
                open: { Connection(host: url) },
                close: { _ in },
                body: { connection in
                    Page(url: url, body: "<html>\(connection.host)</html>")
                })
        }
    }

    /// An ask from inside an actor.
    func reportedTotal() async throws -> Int {
        try await stats.ask(timeout: .seconds(10)) { .total($0) }
    }

    func timedWork() async throws -> Int {
        let (n, _) = try await connections.timed(clock: ContinuousClock()) { fetched }
        let m = try await withResource(open: { 1 }, close: { _ in }, body: { $0 + fetched })
        return n + m
    }
}

// MARK: the main actor's side

@MainActor final class Screen {
    var lines: [String] = []
}

@MainActor func mainActorUses(registry: PatternRegistry, screen: Screen) async throws {
    let permits = AsyncSemaphore(limit: 1, name: "main-permits", registry: registry)
    try await permits.withPermit { screen.lines.append("permit") }
    try await permits.acquire(timeout: .seconds(5))
    try permits.release()
    let scope = ResourceScope(name: "main-scope", registry: registry)
    let page = try await scope.with(open: { Connection(host: "main") }, close: { _ in }) { c in
        Page(url: c.host, body: "")
    }
    screen.lines.append(page.url)
    let queue = BoundedQueue<Int>(capacity: 2, resumeProducersBelow: 1, name: "main-queue", registry: registry)
    try await queue.put(1, timeout: .seconds(5))
    _ = try queue.tryPut(2)
    queue.close()
    for try await n in queue { screen.lines.append("item \(n)") }
    for try await n in ProgressStream(0..<2, name: "main-stream", registry: registry) { screen.lines.append("s\(n)") }
    for try await n in asyncRange(0, 2, delay: .zero, name: "main-range", registry: registry) { screen.lines.append("r\(n)") }
    let generator = AsyncGenerator<Int>(total: 2, name: "main-gen", registry: registry) { yield in
        try await yield(1)
        try await yield(2)
    }
    for try await n in generator { screen.lines.append("g\(n)") }
    let answer = try await runOffPool { 6 * 7 }
    screen.lines.append("off-pool \(answer)")
}

// MARK: run it

func check(_ condition: Bool, _ what: String) {
    if !condition {
        print("FAILED: \(what)")
        exit(1)
    }
}

let registry = PatternRegistry()
let observer = KindCounter()
let subscription = registry.subscribe(observer, interest: .all)
let log = EventLog(capacity: 64)
let notable = registry.subscribe(log, interest: .notable)

let stats = MailboxActor<StatsMessage>(name: "stats", registry: registry)
let statsRun = Task { await stats.run(Aggregator()) }
let crawler = Crawler(registry: registry, stats: stats)
let urls = (1...12).map { "https://example.org/\($0)" }

try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<3 { group.addTask { try await crawler.work() } }
    for url in urls { try await crawler.queue.put(url) }  // back-pressure: capacity 4
    try await crawler.queue.join()
    crawler.queue.close()
    try await group.waitForAll()
}
check(await crawler.fetched == 12, "12 fetches")
check(try await crawler.timedWork() == 25, "timed and withResource inside the actor")
crawler.permits.setLimit(3)
crawler.queue.setCapacity(8)

// Typed asks: with a timeout, and cancelled.
let total = try await stats.ask(timeout: .seconds(10)) { .total($0) }
check(total == urls.map { "<html>\($0)</html>".count }.reduce(0, +), "the aggregated total")
check(try await crawler.reportedTotal() == total, "an ask from inside an actor")
check(try await stats.ask { .pages($0) } == urls.sorted(), "every page reported")
do {
    _ = try await stats.ask { .hold($0) }
    check(false, "an unanswered ask throws NoReply")
} catch is NoReply {}

let idle = MailboxActor<StatsMessage>(name: "idle", registry: registry)  // never run
let clock = ManualClock()
let timedAsk = Task { try await idle.ask(timeout: .seconds(1), clock: clock) { .total($0) } }
await clock.waitForSleepers(1)
clock.advance(by: .seconds(1))
do {
    _ = try await timedAsk.value
    check(false, "an ask to an idle actor times out")
} catch is TimedOut {}
let cancelledAsk = Task { try await idle.ask { .total($0) } }
cancelledAsk.cancel()
do {
    _ = try await cancelledAsk.value
    check(false, "a cancelled ask ends")
} catch is CancellationError {
} catch is ActorStopped {}
idle.stop()

// The main actor's side (top-level code runs on the main actor).
let screen = Screen()
try await mainActorUses(registry: registry, screen: screen)
let lines = screen.lines
check(lines == ["permit", "main", "item 1", "item 2", "s0", "s1", "r0", "r1", "g1", "g2", "off-pool 42"], "main actor: \(lines)")

// Peers found by name in a directory; a scenario clock paced stream.
let directory = ActorDirectory<StatsMessage>()
let left = MailboxActor<StatsMessage>(name: "left", directory: directory, registry: registry)
let right = MailboxActor<StatsMessage>(name: "right", directory: directory, registry: registry)
let rightRun = Task { await right.run(Aggregator()) }
check(await left.send(to: "right", .fetched(url: "peer", bytes: 1)), "a send to a peer by name")
check(try await right.ask { .total($0) } == 1, "the peer got it")
right.stop()
left.stop()
await rightRun.value
let fast = ScenarioClock(speed: 1000)
var paced: [Int] = []
for try await n in asyncRange(0, 3, delay: .milliseconds(1), clock: fast, registry: nil) { paced.append(n) }
check(paced == [0, 1, 2], "a stream on a scenario clock")

// A loop-lag monitor, briefly.
let monitor = LoopLagMonitor(interval: .milliseconds(5), registry: registry)
let beats = Task { await monitor.run() }
while monitor.stats.beats < 2 { await Task.yield() }
beats.cancel()
await beats.value

stats.stop()
await statsRun.value
subscription.cancel()
notable.cancel()

let snapshot = registry.snapshot()
check(snapshot.queue("urls")?.got == 12, "the snapshot counts every URL")
check(snapshot.actor("stats")?.processed == 16, "the snapshot counts every message")
for kind in [PatternKind.queue, .semaphore, .actor, .resource, .stream, .health] {
    check(observer.count(kind) > 0, "the observer saw \(kind) events")
}
let errors: [any AsyncPatternsError] = [QueueClosed(), TimedOut(), NoReply()]
print("consumer: \(urls.count) pages, \(total) bytes, \(errors.count) error kinds, every pattern used: ok")

import AsyncPatterns
import Foundation
import Testing

// The README's library examples, compiled and run here. Each is the text between a
// `README:begin NAME` and a `README:end` line of this file, and `readmeShowsTheseExamples`
// fails when README.md's code block of that name differs from it.

/// The README's second example: an actor with a typed ask.
// README:begin actor
enum CounterMessage: Sendable {
    case add(Int)
    case total(ReplyTo<Int>)  // an ask: the reply is an Int, not a message
}

struct Adder: ActorBehavior {
    var sum = 0
    mutating func receive(_ envelope: Envelope<CounterMessage>, context: ActorContext<CounterMessage>) async throws {
        switch envelope.message {
        case .add(let n): sum += n
        case .total(let replyTo): replyTo.send(sum)
        }
    }
}

actor Crawler {
    var fetched = 0
    let permits = AsyncSemaphore(limit: 4)  // at most 4 fetches at a time

    func fetch(_ url: String) async throws {
        try await permits.withPermit { fetched += 1 }  // the body runs on this actor
    }
}
// README:end

@Suite struct ReadmeExampleTests {
    @Test func queueExampleProcessesFifteenJobs() async throws {
        // README:begin queue
        let registry = PatternRegistry()  // or leave it out: PatternRegistry.shared
        let queue = BoundedQueue<String>(capacity: 10, name: "jobs", registry: registry)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {  // a consumer: the loop ends once the queue is closed and empty
                for try await job in queue {
                    print("processing", job)
                    try queue.taskDone()
                }
            }
            for i in 0..<15 { try await queue.put("job-\(i)") }  // suspends while the queue is full
            try await queue.join()  // every job marked done
            queue.close()
            try await group.waitForAll()
        }
        print(registry.snapshot().queue("jobs")!.got)  // 15
        // README:end
        #expect(registry.snapshot().queue("jobs")!.got == 15)
    }

    @Test func actorExampleAnswersAsks() async throws {
        // README:begin ask
        let counter = MailboxActor<CounterMessage>(name: "counter")
        let run = Task { await counter.run(Adder()) }
        try await counter.tell(.add(2))
        let total = try await counter.ask(timeout: .seconds(60)) { .total($0) }  // 2
        counter.stop()
        await run.value

        let crawler = Crawler()
        try await crawler.fetch("https://swift.org")
        // README:end
        #expect(total == 2)
        #expect(await crawler.fetched == 1)
    }

    /// The README's library examples are the code above, verbatim (indentation aside).
    @Test func readmeShowsTheseExamples() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let markdown = try String(contentsOf: readme, encoding: .utf8)
        let source = try String(contentsOf: here, encoding: .utf8)
        let examples = Self.examples(in: source)
        #expect(Set(examples.keys) == ["queue", "actor", "ask"])
        for (name, code) in examples {
            let block = "```swift\n" + code + "\n```"
            #expect(markdown.contains(block), "README.md lacks the example '\(name)':\n\(block)")
        }
    }

    /// The marked regions of `source`, each with its common indentation removed.
    static func examples(in source: String) -> [String: String] {
        var result: [String: String] = [:]
        var name: String?
        var lines: [Substring] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("// README" + ":begin ") {
                name = String(trimmed.dropFirst("// README:begin ".count))
                lines = []
            } else if trimmed.hasPrefix("// README" + ":end"), let current = name {
                let indent = lines.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
                result[current] = lines.map { String($0.dropFirst(Swift.min(indent, $0.count))) }.joined(separator: "\n")
                name = nil
            } else if name != nil {
                lines.append(line)
            }
        }
        return result
    }
}

import Testing
import AsyncPatterns

/// The README's library example, verbatim in spirit: it must compile and do what it says.
@Suite struct ReadmeExampleTests {
    @Test func queueExampleProcessesFifteenJobs() async throws {
        let registry = PatternRegistry()
        let queue = BoundedQueue<String>(capacity: 10, name: "jobs", registry: registry)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {  // a consumer, until the queue is closed and empty
                while let job = try? await queue.get() {
                    _ = job
                    try queue.taskDone()
                }
            }
            for i in 0..<15 { try await queue.put("job-\(i)") }  // suspends while the queue is full
            try await queue.join()  // every job marked done
            queue.close()
            try await group.waitForAll()
        }
        #expect(registry.snapshot().queue("jobs")!.got == 15)
    }
}

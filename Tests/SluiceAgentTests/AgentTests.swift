#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Logging
import NIOCore
import Patience
import ServiceLifecycle
import Testing

import PoolDoctor
@testable import SluiceAgent
@testable import SluiceWire

/// The agent and a viewer in one process, over a real Unix socket in a folder of the test's.
@Suite final class AgentTests: Sendable {
    let folder = "/tmp/sluice-agent-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    deinit {
        for entry in SocketDirectory(path: folder).entries() { unlink(entry.path) }
        rmdir(folder)
    }

    func startAgent(
        registry: PatternRegistry, knobs: [AgentKnob] = [], maxViewers: Int = 4, stuckLimit: Duration = .seconds(10),
        idleLimit: Duration = SluiceAgent.defaultIdleLimit
    ) throws -> SluiceAgent {
        // No pool doctor: it would watch (and at a stall, signal) the shared test process's
        // pool. `testThePoolDoctorsFiguresReachTheViewer` runs one that can signal nothing.
        let agent = SluiceAgent(
            name: "test", knobs: knobs, registry: registry, maxViewers: maxViewers, directory: SocketDirectory(path: folder),
            stuckLimit: stuckLimit, idleLimit: idleLimit, pool: nil)
        try agent.listen(directory: SocketDirectory(path: folder))
        return agent
    }

    /// The agent's pool doctor: its figures in every snapshot, its threshold a knob. The
    /// doctor here captures no thread (`threads` is empty), installs no hook and beats on a
    /// thread of its own: the test process's pool is shared, and busy with other tests.
    @Test func thePoolDoctorsFiguresReachTheViewer() async throws {
        try await offPool {
            let registry = PatternRegistry()
            let heartbeat = DedicatedThreadExecutor(name: "agent-doctor", threads: 1)
            defer { heartbeat.shutdown() }
            let agent = SluiceAgent(
                name: "test", registry: registry, directory: SocketDirectory(path: folder),
                pool: PoolDoctor.Options(hook: false, executor: heartbeat, threads: { [] }))
            try agent.listen(directory: SocketDirectory(path: folder))
            defer { agent.stop() }
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            defer { viewer.close() }
            #expect(viewer.knobs.map(\.name) == ["pool-threshold"])
            #expect(viewer.knobs[0].unit == "ms")
            viewer.watch(snapshotsPerSecond: 50, events: .none)
            try eventuallyBlocking { (viewer.latest?.snapshot.pool?.beats ?? 0) >= 2 }
            #expect(viewer.latest?.snapshot.pool?.thresholdNanos == 100_000_000)
            #expect(viewer.latest?.snapshot.pool?.hook == "off (option)")
            #expect(viewer.latest?.knobs["pool-threshold"] == 100)
            #expect(viewer.setKnob("pool-threshold", to: 250) == .applied(250))
            try eventuallyBlocking { viewer.latest?.snapshot.pool?.thresholdNanos == 250_000_000 }
            #expect(agent.doctor?.stallThreshold == .milliseconds(250))
        }
    }

    @Test func helloSnapshotsEventsAndKnobs() async throws {
        try await offPool {
            let registry = PatternRegistry()
            let queue = BoundedQueue<Int>(capacity: 8, name: "jobs", registry: registry)
            let agent = try startAgent(
                registry: registry,
                knobs: [
                    .capacity(of: queue, range: 1...100),
                    AgentKnob("strict", range: 0...10, summary: "refuses odd values", get: { 2 }) { value in
                        if Int(value) % 2 == 1 { throw KnobRefusal("only even values") }
                    },
                ])
            defer { agent.stop() }
            var info = stat()
            #expect(stat(folder, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700, "the folder is its owner's alone")
            #expect(stat(agent.socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)

            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            defer { viewer.close() }
            #expect(viewer.program.name == "test")
            #expect(viewer.program.pid == Int(getpid()))
            #expect(viewer.program.patterns == 1)
            #expect(viewer.knobs.map(\.name) == ["capacity", "strict"])
            #expect(viewer.knobs[0].range == 1...100)
            #expect(viewer.knobs[0].actsOn == .queue)

            try queue.tryPut(1).ok()
            viewer.watch(snapshotsPerSecond: 50, events: .notable)
            try eventuallyBlocking { viewer.latest?.snapshot.queue("jobs")?.put == 1 }
            #expect(viewer.latest?.knobs["capacity"] == 8)
            try eventuallyBlocking { agent.stats.viewers == 1 }

            #expect(viewer.setKnob("capacity", to: 20) == .applied(20))
            #expect(queue.stats.capacity == 20)
            #expect(viewer.setKnob("capacity", to: 1_000) == .applied(100), "kept within the range")
            #expect(viewer.setKnob("strict", to: 3) == .refused("only even values"))
            #expect(viewer.setKnob("nope", to: 1) == .refused("test has no knob 'nope'; its knobs: capacity, strict"))
            #expect(viewer.setKnob("capacity", to: .nan) == .refused("nan is not a number"))

            // A knob change is a notable event, and reaches the viewer.
            try eventuallyBlocking {
                viewer.log.events(since: 0).events.contains {
                    if case .health(.note(let text), _, _) = $0 { return text == "capacity set to 100 by a viewer" }
                    return false
                }
            }
        }
    }

    /// Presses in a burst each count (#25: `+ + +` went 5 -> 6): the viewer's knob values
    /// follow the program's answer at once, not the next snapshot, so each press starts
    /// from the value the last one set.
    @Test func quickKnobPressesEachCount() async throws {
        try await offPool {
            let registry = PatternRegistry()
            let queue = BoundedQueue<Int>(capacity: 5, name: "jobs", registry: registry)
            let agent = try startAgent(registry: registry, knobs: [.capacity(of: queue, range: 1...100)])
            defer { agent.stop() }
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            defer { viewer.close() }
            viewer.watch(snapshotsPerSecond: 1, events: .notable)  // slow snapshots: the next one is far off
            try eventuallyBlocking { viewer.latest?.knobs["capacity"] == 5 }
            for _ in 0..<3 {
                let now = try #require(viewer.latest?.knobs["capacity"])
                #expect(viewer.setKnob("capacity", to: now + 1) == .applied(now + 1))
            }
            #expect(queue.stats.capacity == 8)
            #expect(viewer.latest?.knobs["capacity"] == 8)
        }
    }

    @Test func brokenPeersAreClosedWithAReasonAndNothingElseChanges() async throws {
        try await offPool {
            let registry = PatternRegistry()
            let programsLog = EventLog()
            let subscription = registry.subscribe(programsLog, interest: .notable)
            defer { subscription.cancel() }
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let cases: [(bytes: [UInt8], reason: String)] = [
                (frame(Array("hello".utf8)), "bad message: not JSON"),
                ([0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], "bad frame: a frame of 4294967295 bytes, over the limit of 65536"),
                ([0, 0, 0, 0], "bad frame: a frame of length 0"),
                (
                    frame(WireCoding.encode(ViewerMessage.hello(versions: [7], client: "future"))),
                    "protocol version mismatch: this side speaks version 2, 3, the other side 7"
                ),
                (frame(WireCoding.encode(ViewerMessage.watch(snapshotsPerSecond: 1, events: .none))), "the first message must be hello"),
                (frame(Array(#"{"hello":{"versions":"one"}}"#.utf8)), "bad message: wrong type at 'hello.versions'"),
            ]
            for (bytes, reason) in cases {
                let answer = try RawPeer(path: agent.socketPath).send(bytes).readUntilClosed()
                #expect(answer == [.goodbye(reason: reason)], "for \(bytes.prefix(16))")
            }
            try eventuallyBlocking { agent.stats.closedForErrors == cases.count }
            // The program's own events say so too.
            let notes = programsLog.events(since: 0).events.compactMap { event -> String? in
                if case .health(.note(let text), _, _) = event { return text }
                return nil
            }
            #expect(notes.first == "sluice agent: closed a viewer: bad message: not JSON")
            #expect(notes.count == cases.count)
            // A truncated frame, then the peer goes: closed without a word, and counted nowhere.
            try RawPeer(path: agent.socketPath).send([0, 0, 0, 9, 1, 2]).close()
            // A good viewer is served as before.
            let viewer = try AgentConnection.open(path: agent.socketPath, client: "test")
            viewer.close()
            try eventuallyBlocking { agent.stats.connections == 0 }
        }
    }

    @Test func viewersBeyondTheLimitAreRefused() async throws {
        try await offPool {
            let agent = try startAgent(registry: PatternRegistry(), maxViewers: 1)
            defer { agent.stop() }
            let first = try AgentConnection.open(path: agent.socketPath, client: "first")
            first.watch(snapshotsPerSecond: 10, events: .none)
            try eventuallyBlocking { agent.stats.viewers == 1 }
            let second = try AgentConnection.open(path: agent.socketPath, client: "second")
            second.watch(snapshotsPerSecond: 10, events: .none)
            try eventuallyBlocking { second.closedReason != nil }
            #expect(second.closedReason == "this program already has 1 viewers, the most it allows")
            first.close()
            try eventuallyBlocking { agent.stats.viewers == 0 }
        }
    }

    @Test func aStuckViewerIsDroppedAndCounted() async throws {
        try await offPool {
            let registry = PatternRegistry()
            // Big snapshots fill the socket quickly when nobody reads them.
            let queues = (0..<300).map {
                BoundedQueue<Int>(capacity: 1, name: "queue-\($0)-" + String(repeating: "x", count: 40), registry: registry)
            }
            let agent = try startAgent(registry: registry, stuckLimit: .milliseconds(200))
            defer { agent.stop() }
            let peer = try RawPeer(path: agent.socketPath)
            try peer.send(frame(WireCoding.encode(ViewerMessage.hello(versions: WireVersion.supported, client: "stuck"))))
            try peer.send(frame(WireCoding.encode(ViewerMessage.watch(snapshotsPerSecond: 50, events: .none))))
            try eventuallyBlocking { agent.stats.droppedViewers == 1 }
            #expect(agent.stats.droppedSnapshots > 0)
            try eventuallyBlocking { agent.stats.viewers == 0 }
            withExtendedLifetime(queues) {}
            peer.close()
        }
    }

    /// A peer that floods requests and never reads the answers: before, the agent queued
    /// every answer (2 GB in 20 s); now it closes the peer once they pass the high mark.
    @Test func aRequesterThatNeverReadsIsClosedBeforeItsAnswersPileUp() async throws {
        try await offPool {
            let registry = PatternRegistry()
            let notes = EventLog(capacity: 64)
            let subscription = registry.subscribe(notes, interest: .notable)
            defer { subscription.cancel() }
            let agent = try startAgent(registry: registry)
            defer { agent.stop() }
            let peer = try RawPeer(path: agent.socketPath)
            defer { peer.close() }
            try peer.send(frame(WireCoding.encode(ViewerMessage.hello(versions: WireVersion.supported, client: "flood"))))
            let request = frame(WireCoding.encode(ViewerMessage.setKnob(id: 1, name: String(repeating: "k", count: 60_000), value: 1)))
            var sent = 0
            while sent < 4_000, peer.trySend(request) { sent += 1 }
            #expect(sent < 4_000, "the agent never closed the flooding peer")
            #expect(sent * request.count < 64 << 20, "the agent took more than 64 MB of requests before closing")
            try eventuallyBlocking { agent.stats.closedUnread == 1 && agent.stats.connections == 0 }
            #expect(notes.events(since: 0).events.contains { "\($0)".contains("did not read the answers") })
        }
    }

    /// Said hello, then nothing: closed with a reason once the idle limit passes.
    @Test func aConnectionThatNeitherWatchesNorAsksIsClosedWhenIdle() async throws {
        try await offPool {
            let agent = try startAgent(registry: PatternRegistry(), idleLimit: .milliseconds(200))
            defer { agent.stop() }
            let peer = try RawPeer(path: agent.socketPath)
            try peer.send(frame(WireCoding.encode(ViewerMessage.hello(versions: WireVersion.supported, client: "idle"))))
            let messages = try peer.readUntilClosed()
            #expect(messages.contains { "\($0)".contains("idle for") }, "\(messages)")
            #expect(agent.stats.closedIdle == 1)
        }
    }

    /// One process cannot hold every slot: the fifth connection of a pid is refused.
    @Test func oneProcessHoldsAtMostItsShareOfConnections() async throws {
        try await offPool {
            let agent = try startAgent(registry: PatternRegistry())
            defer { agent.stop() }
            let held = try (0..<SluiceAgent.connectionsPerPeer).map { _ in try RawPeer(path: agent.socketPath) }
            defer { for peer in held { peer.close() } }
            try eventuallyBlocking { agent.stats.connections == SluiceAgent.connectionsPerPeer }
            let extra = try RawPeer(path: agent.socketPath)
            let messages = try extra.readUntilClosed()
            #expect(messages.contains { "\($0)".contains("already has \(SluiceAgent.connectionsPerPeer) connections") }, "\(messages)")
            #expect(agent.stats.refusedBusyPeers == 1)
        }
    }

    @Test func agentAsAServiceStopsOnCancellation() async throws {
        let agent = SluiceAgent(name: "service", registry: PatternRegistry(), directory: SocketDirectory(path: folder), pool: nil)
        let task = Task { try await agent.run() }
        try await eventually { agent.isListening }
        #expect(access(agent.socketPath, F_OK) == 0)
        task.cancel()
        try await task.value
        #expect(!agent.isListening)
        #expect(access(agent.socketPath, F_OK) != 0, "the socket is removed")
    }

    @Test func agentInAServiceGroupStopsAtGracefulShutdown() async throws {
        let agent = SluiceAgent(name: "grouped", registry: PatternRegistry(), directory: SocketDirectory(path: folder), pool: nil)
        let group = ServiceGroup(services: [agent], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await eventually { agent.isListening }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(!agent.isListening)
        #expect(access(agent.socketPath, F_OK) != 0, "the socket is removed")
    }

    @Test func aForeignFolderIsRefused() async throws {
        try await offPool {
            mkdir(folder, 0o755)
            #expect(throws: Never.self) { try SocketDirectory(path: folder).prepare() }
            var info = stat()
            stat(folder, &info)
            #expect(info.st_mode & 0o777 == 0o700)
            #expect(throws: (any Error).self) { try SocketDirectory(path: "/etc/passwd").prepare() }
        }
    }

    /// What a viewer trusts: an absent folder (nothing to list) or one closed to others; it
    /// changes nothing, unlike the agent's `prepare`.
    @Test func aViewerTrustsOnlyAFolderClosedToOthers() async throws {
        try await offPool {
            #expect(throws: Never.self) { try SocketDirectory(path: folder).checkTrusted() }
            mkdir(folder, 0o700)
            #expect(throws: Never.self) { try SocketDirectory(path: folder).checkTrusted() }
            chmod(folder, 0o777)
            do {
                let error = try #require(throws: (any Error).self) { try SocketDirectory(path: folder).checkTrusted() }
                #expect("\(error)".contains("others can enter it (mode 777)"), "\(error)")
            }
            var info = stat()
            stat(folder, &info)
            #expect(info.st_mode & 0o777 == 0o777, "a viewer does not change the folder")
            chmod(folder, 0o700)
            let link = folder + "-link"
            symlink(folder, link)
            defer { unlink(link) }
            do {
                let error = try #require(throws: (any Error).self) { try SocketDirectory(path: link).checkTrusted() }
                #expect("\(error)".contains("not a folder"), "\(error)")
            }
        }
    }

    /// A socket in a folder others can enter is not connected to.
    @Test func aViewerRefusesASocketInAnOpenFolder() async throws {
        try await offPool {
            let agent = try startAgent(registry: PatternRegistry())
            defer { agent.stop() }
            chmod(folder, 0o755)
            do {
                let error = try #require(throws: (any Error).self) { try AgentConnection.open(path: agent.socketPath, client: "test") }
                #expect("\(error)".hasPrefix("not attaching to \(agent.socketPath): "), "\(error)")
            }
            #expect(agent.stats.connections == 0)
        }
    }
}

// MARK: - Helpers

/// Runs a test's blocking body (socket calls, polling with `usleep`) on a thread of its own,
/// with the test's context (so its expectations count): never on the shared pool.
func offPool(_ body: () throws -> Void) async throws {
    let executor = DedicatedThreadExecutor(name: "agent-test", threads: 1)
    defer { executor.shutdown() }
    try await withTaskExecutorPreference(executor) {
        #expect(currentThreadName() == executor.name, "the body must run on the test's own thread")
        try body()
    }
}

/// The calling thread's name (`comm`), read from /proc.
func currentThreadName() -> String {
    let fd = open("/proc/thread-self/comm", O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 32)
    let count = read(fd, &bytes, bytes.count)
    return String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).trimmingSuffix("\n")
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

func frame(_ payload: [UInt8]) -> [UInt8] {
    let n = UInt32(payload.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
}

/// Fails the test that throws it (a skip would hide the failure).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Bool {
    func ok() throws { if !self { throw TestFailure("expected true") } }
}

/// A peer that speaks bytes, not the protocol: plain blocking POSIX calls.
final class RawPeer {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw TestFailure("cannot connect: \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes`; false once the agent has closed (no SIGPIPE).
    func trySend(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ bytes: [UInt8]) throws -> RawPeer {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw TestFailure("short write") }
        return self
    }

    /// Every message the agent sends until it closes the connection.
    func readUntilClosed() throws -> [AgentMessage] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n != 0 else { break }
            guard n > 0 else { throw TestFailure("read failed or timed out: \(errno)") }
            data += chunk[..<n]
        }
        close()
        var buffer = ByteBuffer(bytes: data)
        var messages: [AgentMessage] = []
        while let payload = try Frame.next(from: &buffer, limit: Frame.agentLimit) {
            messages.append(try WireCoding.decodeAgentMessage(from: payload))
        }
        return messages
    }

    func close() { Glibc.close(fd) }
}

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Foundation
import Patience
import SluiceWire
import TUI
import Testing

@testable import Dashboard

/// A fake agent of the viewer's own user answering with hostile hellos and snapshots:
/// impossible times and counts, control characters in every name, snapshots at the limits.
/// `AgentConnection.open` either refuses with a reason or connects, and then the dashboard
/// draws what it was sent: nothing traps and no fuzz case hangs (each has a deadline).
@MainActor
@Suite struct HostileAgentFuzzTests {
    static let numbers = ["-1e308", "1e308", "-1", "0", "9223372036854775807", "-9223372036854775808", "1795816800.5", "4", "NaN"]
    static let names = ["\u{1B}]0;PWNED\u{07}\u{1B}[31mEVIL", "", String(repeating: "x", count: 5000), "ok", "\u{9B}2J\n\r\t"]

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    static func json(_ s: String) -> String {
        String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
    }

    /// What the fake agent says: a hello, then snapshots, all drawn from `rng`.
    static func script(_ rng: inout SplitMix64) -> [UInt8] {
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        // Half the hellos have sound numbers (and hostile names), so the snapshots get drawn.
        let sound = rng.next() % 2 == 0
        func number(_ good: String, _ bad: [String]) -> String { sound ? good : pick(bad) }
        let hello = """
            {"hello":{"version":\(pick([2, 3])),"program":{"name":\(json(pick(names))),"pid":\(number("42", ["-3", "9223372036854775807"])),\
            "startedAt":\(number("1795816800.5", numbers)),"patterns":\(number("4", numbers)),\
            "viewers":\(number("0", ["-1", "99"])),"maxViewers":\(number("4", ["0", "-4"]))},\
            "knobs":[{"name":\(json(pick(names))),"unit":\(json(pick(names))),"min":\(pick(numbers)),"max":\(pick(numbers)),\
            "step":\(pick(numbers)),"defaultValue":\(pick(numbers)),"summary":\(json(pick(names))),"actsOn":"queue"}]}}
            """
        var out = frame(Array(hello.utf8))
        for _ in 0..<3 {
            var s = Snapshot()
            var q = QueueSnapshot(name: pick(names))
            (q.capacity, q.depth, q.put, q.got) = (pick([Int.max, -1, 1 << 53, 5]), pick([Int.min, -1, 1 << 53, 3]), 1 << 53, -(1 << 53))
            q.putPerSecond = pick([Double.infinity, -1e308, .nan, 3])
            s.queues = [q]
            var m = SemaphoreSnapshot(name: pick(names))
            (m.limit, m.inUse, m.waiting) = (pick([-5, 1 << 53, 3]), pick([-1, 1 << 53, 2]), pick([-7, 1 << 53, 1]))
            s.semaphores = [m]
            s.elapsedSeconds = pick([-1e308, 1e308, .nan, 3.5])
            s.operations = pick([Int.max, -1, 100])
            let knobs = [pick(names): pick([1e308, -1, .nan])]
            guard rng.next() % 2 == 0 else {
                out += frame(SnapshotLayout.encode(snapshot: s, knobs: knobs, dropped: pick([-1, Int.max, 0])))
                continue
            }
            // A screen (version 3): a few hostile rows and totals of every actor. With a sound
            // hello, only values the reader takes (at its bounds, negative), so that screens
            // get as far as the dashboard.
            if sound { (s.queues, s.semaphores, s.elapsedSeconds, s.operations) = ([], [], 3.5, 100) }
            let dropped = sound ? 0 : pick([-1, Int.max, 0])
            var a = ActorSnapshot(name: pick(names))
            (a.mailboxDepth, a.processed, a.deadLetters) = (pick([-1, 1 << 53, 2]), pick([-1, 1 << 53, 7]), pick([-3, 1 << 53, 1]))
            a.processedPerSecond = pick([Double.infinity, -1e308, .nan, 3])
            s.actors = Array(repeating: a, count: pick([0, 1, 3]))
            var totals = ActorTotals()
            totals.count = pick([s.actors.count, 3, 1 << 53, -1, Int.max])
            totals.processed = pick([0, 1 << 53, 1 << 53, -5, Int.max])
            (totals.failed, totals.deadLetters) = (pick([0, 1 << 53, 1 << 53, -1]), pick([0, 1 << 53, 4]))
            out += frame(SnapshotLayout.encode(screen: s, actors: totals, knobs: knobs, dropped: dropped))
        }
        return out
    }

    @Test func hostileHellosAndSnapshotsNeverTrapTheViewer() throws {
        let folder = "/tmp/sluice-hostile-agent-\(getpid())"
        mkdir(folder, 0o700)
        defer { rmdir(folder) }
        let path = folder + "/evil.\(getpid()).sock"
        var rng = SplitMix64(seed: 31)
        let count = ProcessInfo.processInfo.environment["SLUICE_HOSTILE_AGENT_COUNT"].flatMap(Int.init) ?? 200
        var connected = 0
        var screens = 0
        for n in 0..<count {
            let fake = try FakeAgent(path: path, says: Self.script(&rng))
            defer { fake.stop() }
            guard let connection = try? AgentConnection.open(path: path, client: "fuzz", waitingAtMost: patience) else { continue }
            connected += 1
            _ = connection.program.name.terminalSafe()
            let source = AttachedSource(connection, rate: 10)
            let deadline = ContinuousClock.now + patience
            while connection.latest == nil, connection.closedReason == nil, ContinuousClock.now < deadline { usleep(1_000) }
            if n % 2 == 0 {
                // Everything the fake agent says has been read once it closes (50 ms on).
                while connection.closedReason == nil, ContinuousClock.now < deadline { usleep(1_000) }
                if connection.latestActors?.actors != nil { screens += 1 }
            }
            guard n % 4 == 0 else {
                source.stop(waitingAtMost: .milliseconds(100))
                continue
            }
            let backend = TestBackend(width: 100, height: 30)
            let app = DashboardApp(
                backend: backend, choices: [SourceChoice(name: "evil", summary: "", explanation: "", knobs: []) { _ in source }])
            app.open(0, values: [:])
            app.draw()
            app.press(.char("+"))
            app.draw()
            // The actors pane, its end and an actor's detail: what a screen's totals reach.
            for key in [Key.tab, .tab, .end, .enter, .escape, .char("s")] {
                app.press(key)
                app.draw()
            }
            let text = backend.lastFrame?.lines.joined() ?? ""
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            app.quit()
        }
        #expect(connected > count / 4, "too few hostile agents got as far as a connection: the fuzz reaches little")
        #expect(screens > count / 50, "too few hostile screens were read: the fuzz reaches little of version 3")
    }
}

/// Listens once on a thread of its own, sends its script to whoever connects, and closes.
final class FakeAgent: @unchecked Sendable {
    // `@unchecked Sendable`: `fd` is set in init and only closed by `stop`, after which the
    // thread's accept fails and it returns; the thread reads nothing else of the instance.
    private let fd: Int32
    private let path: String

    init(path: String, says script: [UInt8]) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1))) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw CocoaError(.fileWriteUnknown) }
        let listener = fd
        Thread.detachNewThread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var offset = 0
            while offset < script.count {
                let n = script[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                offset += n
            }
            usleep(50_000)
            close(client)
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}

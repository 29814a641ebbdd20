import AsyncPatterns
import NIOCore
import Testing

@testable import SluiceWire

/// Whatever bytes a peer sends, the reader answers with messages or a `WireError`: never a
/// trap, never a hang. Random bytes and mutations of real frames, from a fixed seed.
@Suite struct WireFuzzTests {
    /// 100,000 inputs: `make test` and `make check` run them all (a few seconds).
    static let inputs = 100_000

    @Test func theReaderSurvivesRandomAndMutatedFrames() {
        var random = SplitMix64(seed: 0x5_1c_e)
        let valid: [[UInt8]] = Self.validViewerFrames + Self.validAgentFrames
        var decoded = 0
        var refused = 0
        for i in 0..<Self.inputs {
            var bytes: [UInt8]
            if i % 4 == 0 {
                bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = valid[Int(random.next() % UInt64(valid.count))]
                Self.mutate(&bytes, &random)
            }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                while let payload = try Frame.next(from: &buffer, limit: Frame.viewerLimit) {
                    if (try? WireCoding.decode(ViewerMessage.self, from: payload)) != nil { decoded += 1 }
                    if (try? WireCoding.decodeAgentMessage(from: payload)) != nil { decoded += 1 }
                }
            } catch {
                refused += 1
            }
        }
        // Both outcomes happened: the fuzzer reached the decoder and the refusals.
        #expect(decoded > 1_000)
        #expect(refused > 1_000)
    }

    @Test func validFramesRoundTrip() throws {
        for message in Self.viewerMessages {
            var buffer = ByteBuffer(bytes: frame(WireCoding.encode(message)))
            let payload = try #require(Frame.next(from: &buffer, limit: Frame.viewerLimit))
            #expect(try WireCoding.decode(ViewerMessage.self, from: payload) == message)
        }
        for message in Self.agentMessages {
            var buffer = ByteBuffer(bytes: frame(WireCoding.encode(message)))
            let payload = try #require(Frame.next(from: &buffer, limit: Frame.agentLimit))
            #expect(try WireCoding.decodeAgentMessage(from: payload) == message)
        }
    }

    @Test func aFrameInPiecesWaitsForTheRest() throws {
        let whole = frame(WireCoding.encode(ViewerMessage.bye))
        var buffer = ByteBuffer(bytes: whole.prefix(3))
        #expect(try Frame.next(from: &buffer, limit: Frame.viewerLimit) == nil)
        buffer.writeBytes(whole.dropFirst(3).dropLast())
        #expect(try Frame.next(from: &buffer, limit: Frame.viewerLimit) == nil)
        buffer.writeBytes(whole.suffix(1))
        #expect(try Frame.next(from: &buffer, limit: Frame.viewerLimit) != nil)
    }

    static let viewerMessages: [ViewerMessage] = [
        .hello(versions: [2], client: "sluice"), .watch(snapshotsPerSecond: 10, events: .all),
        .setKnob(id: 7, name: "workers", value: 3), .bye,
        .show(actors: ActorQuery(order: .deadLetters, first: 96, everyUpTo: 1000, named: ["a", "b"])), .show(actors: nil),
    ]

    static var agentMessages: [AgentMessage] {
        var snapshot = Snapshot()
        snapshot.queues = [QueueSnapshot(name: "jobs")]
        snapshot.queues[0].putPerSecond = 2.5e6
        return [
            .hello(
                version: 2, program: ProgramInfo(name: "p", pid: 1, startedAt: 2, patterns: 3, viewers: 0, maxViewers: 4),
                knobs: [WireKnob(KnobSpec("workers", range: 1...8, step: 1, default: 2, "tasks"))]),
            .snapshot(snapshot: snapshot, knobs: ["workers": 2], dropped: 0),
            .screen(snapshot: snapshot, actors: ActorTotals(of: [ActorSnapshot(name: "a")]), knobs: ["workers": 2], dropped: 1),
            .events(
                events: [.health(.note(text: "hi"), source: PatternID(.health, "program"), at: MonotonicInstant(nanoseconds: 5))], missed: 1
            ),
            .knobAnswer(id: 1, name: "workers", applied: 2, refused: nil), .goodbye(reason: "bye"),
        ]
    }

    static let validViewerFrames = viewerMessages.map { frame(WireCoding.encode($0)) }
    static let validAgentFrames = agentMessages.map { frame(WireCoding.encode($0)) }

    /// Flips, drops, repeats, truncates or rewrites the length of a frame.
    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        for _ in 0...(random.next() % 4) {
            guard !bytes.isEmpty else { return }
            let at = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 6 {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            case 3: bytes = Array(bytes.prefix(at))
            case 4: bytes[Int(random.next() % 4) % bytes.count] = UInt8(truncatingIfNeeded: random.next())
            default: bytes += bytes.prefix(at)
            }
        }
    }
}

/// Values no program could send are refused where they are decoded, with the reason: a
/// `sluice ps` trapped on a hello's `startedAt: -1e308`, `attach` on a snapshot's
/// `elapsedSeconds: -1e308`, and headless attach printed "9223372036854775807 operations".
@Suite struct HostileValueTests {
    func hello(startedAt: String, pid: Int = 42) -> ByteBuffer {
        ByteBuffer(
            string: #"{"hello":{"version":1,"program":{"name":"x","pid":\#(pid),"startedAt":\#(startedAt),"patterns":0,"viewers":0,"#
                + #""maxViewers":4},"knobs":[]}}"#)
    }

    @Test func aHelloWithAnImpossibleStartTimeIsRefused() throws {
        #expect(throws: Never.self) { try WireCoding.decodeAgentMessage(from: hello(startedAt: "1795816800.5")) }
        for bad in ["-1e308", "1e308", "-1"] {
            do {
                let error = try #require(throws: (any Error).self) { try WireCoding.decodeAgentMessage(from: hello(startedAt: bad)) }
                #expect("\(error)".contains("impossible startedAt"), "\(bad): \(error)")
            }
        }
        #expect(throws: (any Error).self) { try WireCoding.decodeAgentMessage(from: hello(startedAt: "1795816800.5", pid: -3)) }
    }

    @Test func aSnapshotWithImpossibleNumbersIsRefused() throws {
        func decode(_ change: (inout Snapshot) -> Void) throws {
            var s = Snapshot()
            s.queues = [QueueSnapshot(name: "q")]
            change(&s)
            _ = try SnapshotLayout.decode(SnapshotLayout.encode(snapshot: s, knobs: ["k": 1], dropped: 0))
        }
        #expect(throws: Never.self) { try decode { $0.elapsedSeconds = 12.5 } }
        let cases: [(String, (inout Snapshot) -> Void)] = [
            ("elapsed -1e308", { $0.elapsedSeconds = -1e308 }),
            ("operations Int.max", { $0.operations = .max }),
            ("put Int.max", { $0.queues[0].put = .max }),
            ("depth Int.min", { $0.queues[0].depth = .min }),
        ]
        for (name, change) in cases {
            #expect(throws: (any Error).self, "\(name)") { try decode(change) }
        }
        // A rate over an instant may come out infinite: clamped, NaN read as 0.
        var s = Snapshot()
        s.operationsPerSecond = .infinity
        s.queues = [QueueSnapshot(name: "q")]
        s.queues[0].putPerSecond = .nan
        guard case .snapshot(let read, _, _) = try SnapshotLayout.decode(SnapshotLayout.encode(snapshot: s, knobs: [:], dropped: 0)) else {
            Issue.record("not a snapshot")
            return
        }
        #expect(read.operationsPerSecond == 1e15)
        #expect(read.queues[0].putPerSecond == 0)
    }
}

/// `payload` as one frame, as the agent and the viewer write it.
func frame(_ payload: [UInt8]) -> [UInt8] {
    var buffer = ByteBuffer()
    Frame.encode(payload, into: &buffer)
    return Array(buffer.readableBytesView)
}

import AsyncPatterns
import NIOCore
import Testing

@testable import SluiceWire

/// Protocol version 3: a viewer's `show` (which actors it lists) and the agent's `screen`
/// (those actors and the totals of all), each read by the one validating reader.
@Suite struct ActorQueryWireTests {
    func show(_ query: String) -> ByteBuffer { ByteBuffer(string: #"{"show":{"actors":\#(query)}}"#) }

    @Test func aShowSaysItsQueryInWords() throws {
        let query = ActorQuery(order: .p99, first: 64, everyUpTo: 1000, named: ["driver"])
        let json = String(decoding: WireCoding.encode(ViewerMessage.show(actors: query)), as: UTF8.self)
        #expect(json.contains(#""order":"p99""#) && json.contains(#""first":64"#), "\(json)")
        #expect(try WireCoding.decode(ViewerMessage.self, from: ByteBuffer(string: json)) == .show(actors: query))
        #expect(try WireCoding.decode(ViewerMessage.self, from: ByteBuffer(string: #"{"show":{}}"#)) == .show(actors: nil))
        // A window down the list says where it starts; without `offset`, it starts at the top.
        let deep = ActorQuery(order: .name, first: 96, offset: 99_904, everyUpTo: 1000)
        let deepJSON = String(decoding: WireCoding.encode(ViewerMessage.show(actors: deep)), as: UTF8.self)
        #expect(deepJSON.contains(#""offset":99904"#), "\(deepJSON)")
        #expect(try WireCoding.decode(ViewerMessage.self, from: ByteBuffer(string: deepJSON)) == .show(actors: deep))
        #expect(
            try WireCoding.decode(ViewerMessage.self, from: show(#"{"order":"name","first":5,"everyUpTo":0,"named":[]}"#))
                == .show(actors: ActorQuery(order: .name, first: 5)))
        for order in ActorOrder.allCases {
            let q = ActorQuery(order: order, first: 1)
            #expect(
                try WireCoding.decode(ViewerMessage.self, from: ByteBuffer(bytes: WireCoding.encode(.show(actors: q)))) == .show(actors: q))
        }
    }

    /// Huge, negative or fractional row counts, a column that is none, too many or too long
    /// names: refused where they are read, each with its reason.
    @Test func aHostileQueryIsRefusedWithItsReason() {
        let named = (0..<17).map { "\"a\($0)\"" }.joined(separator: ",")
        let long = String(repeating: "x", count: 1025)
        let cases: [(String, String)] = [
            (
                #"{"order":"name","first":-1,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: first -1 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":1e30,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: first 1e+30 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":1048577,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: first 1048577 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":2.5,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: first 2.5 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":5,"offset":-1,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: offset -1 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":5,"offset":1048577,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: offset 1048577 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":5,"offset":3.5,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: offset 3.5 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"name","first":5,"offset":1e300,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: offset 1e+300 is not a row count in 0...1048576"
            ),
            (#"{"order":"name","first":5,"offset":"9","everyUpTo":0,"named":[]}"#, "wrong type at 'show.actors.offset'"),
            (
                #"{"order":"name","first":5,"everyUpTo":-3,"named":[]}"#,
                "impossible actor query: everyUpTo -3 is not a row count in 0...1048576"
            ),
            (
                #"{"order":"colour","first":5,"everyUpTo":0,"named":[]}"#,
                "impossible actor query: no column 'colour' (the columns: name, mailbox, processed, rate, p99, deadLetters)"
            ),
            (#"{"order":"name","first":5,"everyUpTo":0,"named":[\#(named)]}"#, "impossible actor query: 17 names, at most 16"),
            (
                #"{"order":"name","first":5,"everyUpTo":0,"named":["\#(long)"]}"#,
                "impossible actor query: a name of 1025 bytes, at most 1024"
            ),
            (#"{"order":"name","first":5,"everyUpTo":0}"#, "missing field 'named'"),
            (#"{"order":3,"first":5,"everyUpTo":0,"named":[]}"#, "wrong type at 'show.actors.order'"),
        ]
        for (query, reason) in cases {
            do {
                let error = try #require(throws: WireError.self) { try WireCoding.decode(ViewerMessage.self, from: show(query)) }
                #expect(error.reason == reason, "\(query.prefix(80))")
            } catch {
                Issue.record("\(query.prefix(80)): \(error)")
            }
        }
    }

    /// What a viewer sends is within what an agent reads, whatever the screen asked.
    @Test func aViewerClampsItsQueryToWhatAnAgentReads() throws {
        let names = (0..<40).map { "n\($0)" } + [String(repeating: "y", count: 2000)]
        let clamped = ActorQuery(order: .rate, first: .max, offset: .max, everyUpTo: .max, named: names).withinWireLimits
        #expect(clamped.first == ActorQuery.largestRows && clamped.everyUpTo == ActorQuery.largestRows)
        #expect(clamped.offset == ActorQuery.largestRows)
        #expect(clamped.named == Array(names.prefix(16)))
        let message = ViewerMessage.show(actors: clamped)
        #expect(try WireCoding.decode(ViewerMessage.self, from: ByteBuffer(bytes: WireCoding.encode(message))) == message)
    }

    static func screen() -> (Snapshot, ActorTotals) {
        var s = Snapshot()
        s.actors = [ActorSnapshot(name: "busy"), ActorSnapshot(name: "slow")]
        s.actors[0].processed = 40
        s.actors[1].deadLetters = 2
        s.queues = [QueueSnapshot(name: "jobs")]
        var totals = ActorTotals()
        (totals.count, totals.processed, totals.failed, totals.deadLetters) = (100_000, 123_456, 7, 9)
        (totals.offset, totals.listedBefore) = (99_940, 1)
        return (s, totals)
    }

    @Test func aScreenRoundTripsInBinary() throws {
        let (s, totals) = Self.screen()
        let message = AgentMessage.screen(snapshot: s, actors: totals, knobs: ["workers": 4], dropped: 2)
        let bytes = WireCoding.encode(message)
        #expect(bytes.first == SnapshotLayout.screenMarker)
        #expect(try WireCoding.decodeAgentMessage(from: ByteBuffer(bytes: bytes)) == message)
        // The agent's path: a body shared by the viewers of one query, then each one's header.
        let body = SnapshotLayout.body(screen: s, actors: totals, knobs: ["workers": 4])
        #expect(SnapshotLayout.encode(body: body, dropped: 2, marker: SnapshotLayout.screenMarker) == bytes)
        // In JSON it is refused, as a snapshot is: only the binary reader range-checks.
        let json = WireCoding.encodeJSON(message)
        let error = try #require(throws: (any Error).self) { try WireCoding.decodeAgentMessage(from: ByteBuffer(bytes: json)) }
        #expect("\(error)" == "bad message: a snapshot or events in JSON: version 2 sends them binary")
    }

    /// Totals no program has, or fewer actors than the rows sent: refused where read.
    @Test func aScreenWithImpossibleTotalsIsRefused() throws {
        let (s, good) = Self.screen()
        func decode(_ totals: ActorTotals) throws -> AgentMessage {
            try SnapshotLayout.decode(SnapshotLayout.encode(screen: s, actors: totals, knobs: [:], dropped: 0))
        }
        var negative = good
        negative.failed = -1
        var few = good
        few.count = 1
        var huge = good
        huge.processed = 1 << 60
        var past = good
        past.offset = 100_001
        var before = good
        before.listedBefore = 3
        var negativeOffset = good
        negativeOffset.offset = -5
        let cases: [(ActorTotals, String)] = [
            (negative, "bad message: negative actor totals (100000, 123456, -1, 9, 99940, 1)"),
            (negativeOffset, "bad message: negative actor totals (100000, 123456, 7, 9, -5, 1)"),
            (past, "bad message: a screen of 2 of 100000 actors from place 100001, 1 listed before"),
            (before, "bad message: a screen of 2 of 100000 actors from place 99940, 3 listed before"),
            (few, "bad message: a screen of 2 actors that says there are 1"),
            (huge, "bad message: 1152921504606846976 is beyond any count a program reaches"),
        ]
        for (totals, reason) in cases {
            let error = try #require(throws: (any Error).self) { try decode(totals) }
            #expect("\(error)" == reason)
        }
        let bytes = SnapshotLayout.encode(screen: s, actors: good, knobs: ["k": 1], dropped: 0)
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self, "cut at \(cut)") { try SnapshotLayout.decode(bytes.prefix(cut)) }
        }
        let error = try #require(throws: (any Error).self) { try SnapshotLayout.decode([SnapshotLayout.screenMarker, 9]) }
        #expect("\(error)" == "protocol version mismatch: a screen in layout 9; this sluice reads layout \(SnapshotLayout.version)")
    }
}

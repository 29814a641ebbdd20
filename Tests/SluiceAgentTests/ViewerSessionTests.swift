import AsyncPatterns
import XCTest

@testable import SluiceAgent
@testable import SluiceWire

final class ViewerSessionTests: XCTestCase {
    func testHelloThenWatchThenKnob() {
        var session = ViewerSession()
        XCTAssertEqual(session.receive(.hello(versions: [2], client: "t"), watching: 0, maxViewers: 4), .sayHello(version: 2))
        XCTAssertEqual(
            session.receive(.watch(snapshotsPerSecond: 10, events: .notable), watching: 0, maxViewers: 4),
            .startWatching(every: .milliseconds(100), events: .notable))
        XCTAssertEqual(
            session.receive(.watch(snapshotsPerSecond: 2, events: .all), watching: 1, maxViewers: 4),
            .changeWatching(every: .milliseconds(500), events: .all))
        XCTAssertEqual(
            session.receive(.setKnob(id: 3, name: "workers", value: 5), watching: 1, maxViewers: 4),
            .setKnob(id: 3, name: "workers", value: 5))
        XCTAssertEqual(session.receive(.bye, watching: 1, maxViewers: 4), .close(reason: nil))
        XCTAssertEqual(session.state, .closed)
    }

    func testAnythingBeforeHelloIsRefused() {
        var session = ViewerSession()
        guard case .close(let reason?) = session.receive(.setKnob(id: 1, name: "x", value: 1), watching: 0, maxViewers: 4)
        else { return XCTFail("not closed") }
        XCTAssertEqual(reason, "the first message must be hello")
    }

    func testVersionMismatchSaysBothVersions() {
        var session = ViewerSession()
        guard case .close(let reason?) = session.receive(.hello(versions: [3, 4], client: "t"), watching: 0, maxViewers: 4)
        else { return XCTFail("not closed") }
        XCTAssertEqual(reason, "protocol version mismatch: this side speaks version 2, the other side 3, 4")
    }

    func testTooManyViewersAndBadRatesAreRefused() {
        var full = ViewerSession()
        _ = full.receive(.hello(versions: [2], client: "t"), watching: 4, maxViewers: 4)
        XCTAssertEqual(
            full.receive(.watch(snapshotsPerSecond: 10, events: .none), watching: 4, maxViewers: 4),
            .close(reason: "this program already has 4 viewers, the most it allows"))
        for rate in [0, -1, .nan, .infinity, 51] as [Double] {
            var session = ViewerSession()
            _ = session.receive(.hello(versions: [2], client: "t"), watching: 0, maxViewers: 4)
            guard case .close = session.receive(.watch(snapshotsPerSecond: rate, events: .none), watching: 0, maxViewers: 4)
            else { return XCTFail("rate \(rate) accepted") }
        }
    }

    func testOnlyTheOwnerIsServed() {
        XCTAssertEqual(PeerCredentials.verdict(peerUID: 1000, ownUID: 1000), .allowed)
        XCTAssertEqual(
            PeerCredentials.verdict(peerUID: 0, ownUID: 1000),
            .refused("this program's agent serves only its owner (uid 1000); you are uid 0"))
        guard case .refused = PeerCredentials.verdict(peerUID: nil, ownUID: 1000) else { return XCTFail("no uid, served") }
    }

    /// A viewer talks to its own user's programs, or root's, and to no one else's.
    func testAViewerTrustsOnlyItsOwnUserOrRoot() {
        XCTAssertEqual(PeerCredentials.agentVerdict(peerUID: 1000, ownUID: 1000), .allowed)
        XCTAssertEqual(PeerCredentials.agentVerdict(peerUID: 0, ownUID: 1000), .allowed)
        XCTAssertEqual(
            PeerCredentials.agentVerdict(peerUID: 1001, ownUID: 1000),
            .refused("the program listening there runs as uid 1001, not as you (uid 1000) or root: refusing to talk to it"))
        guard case .refused = PeerCredentials.agentVerdict(peerUID: nil, ownUID: 1000) else { return XCTFail("no uid, trusted") }
    }
}

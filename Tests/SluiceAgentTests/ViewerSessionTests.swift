import AsyncPatterns
import Testing

@testable import SluiceAgent
@testable import SluiceWire

@Suite struct ViewerSessionTests {
    @Test func helloThenWatchThenKnob() {
        var session = ViewerSession()
        #expect(session.receive(.hello(versions: [2], client: "t"), watching: 0, maxViewers: 4) == .sayHello(version: 2))
        #expect(
            session.receive(.watch(snapshotsPerSecond: 10, events: .notable), watching: 0, maxViewers: 4)
                == .startWatching(every: .milliseconds(100), events: .notable))
        #expect(
            session.receive(.watch(snapshotsPerSecond: 2, events: .all), watching: 1, maxViewers: 4)
                == .changeWatching(every: .milliseconds(500), events: .all))
        #expect(
            session.receive(.setKnob(id: 3, name: "workers", value: 5), watching: 1, maxViewers: 4)
                == .setKnob(id: 3, name: "workers", value: 5))
        #expect(session.receive(.bye, watching: 1, maxViewers: 4) == .close(reason: nil))
        #expect(session.state == .closed)
    }

    @Test func anythingBeforeHelloIsRefused() {
        var session = ViewerSession()
        guard case .close(let reason?) = session.receive(.setKnob(id: 1, name: "x", value: 1), watching: 0, maxViewers: 4)
        else {
            Issue.record("not closed")
            return
        }
        #expect(reason == "the first message must be hello")
    }

    @Test func versionMismatchSaysBothVersions() {
        var session = ViewerSession()
        guard case .close(let reason?) = session.receive(.hello(versions: [4, 5], client: "t"), watching: 0, maxViewers: 4)
        else {
            Issue.record("not closed")
            return
        }
        #expect(reason == "protocol version mismatch: this side speaks version 2, 3, the other side 4, 5")
    }

    /// Version 3: which actors to show, before or while watching, changed at will; nil is
    /// every actor again.
    @Test func aViewerOfVersion3ShowsWhichActors() {
        var session = ViewerSession()
        #expect(session.receive(.hello(versions: [2, 3], client: "t"), watching: 0, maxViewers: 4) == .sayHello(version: 3))
        let query = ActorQuery(order: .mailbox, first: 64, everyUpTo: 1000, named: ["x"])
        #expect(session.receive(.show(actors: query), watching: 0, maxViewers: 4) == .show(actors: query))
        _ = session.receive(.watch(snapshotsPerSecond: 10, events: .none), watching: 0, maxViewers: 4)
        let other = ActorQuery(order: .name, first: 32)
        #expect(session.receive(.show(actors: other), watching: 1, maxViewers: 4) == .show(actors: other))
        #expect(session.receive(.show(actors: nil), watching: 1, maxViewers: 4) == .show(actors: nil))
    }

    /// A connection that chose version 2 (an old viewer, or an agent that speaks only 2)
    /// has no `show`: asked anyway, it is refused with the reason. An agent of version 2
    /// answers a viewer that offers 2 and 3 with 2.
    @Test func showBelowVersion3IsRefused() {
        var old = ViewerSession(versions: [2])
        #expect(old.receive(.hello(versions: [2, 3], client: "t"), watching: 0, maxViewers: 4) == .sayHello(version: 2))
        var session = ViewerSession()
        #expect(session.receive(.hello(versions: [2], client: "t"), watching: 0, maxViewers: 4) == .sayHello(version: 2))
        #expect(
            session.receive(.show(actors: ActorQuery(order: .name, first: 5)), watching: 0, maxViewers: 4)
                == .close(reason: "show needs protocol version 3; this connection speaks version 2"))
        #expect(session.state == .closed)
        var early = ViewerSession()
        #expect(early.receive(.show(actors: nil), watching: 0, maxViewers: 4) == .close(reason: "the first message must be hello"))
    }

    @Test func tooManyViewersAndBadRatesAreRefused() {
        var full = ViewerSession()
        _ = full.receive(.hello(versions: [2], client: "t"), watching: 4, maxViewers: 4)
        #expect(
            full.receive(.watch(snapshotsPerSecond: 10, events: .none), watching: 4, maxViewers: 4)
                == .close(reason: "this program already has 4 viewers, the most it allows"))
        for rate in [0, -1, .nan, .infinity, 51] as [Double] {
            var session = ViewerSession()
            _ = session.receive(.hello(versions: [2], client: "t"), watching: 0, maxViewers: 4)
            guard case .close = session.receive(.watch(snapshotsPerSecond: rate, events: .none), watching: 0, maxViewers: 4)
            else {
                Issue.record("rate \(rate) accepted")
                return
            }
        }
    }

    @Test func onlyTheOwnerIsServed() {
        #expect(PeerCredentials.verdict(peerUID: 1000, ownUID: 1000) == .allowed)
        #expect(
            PeerCredentials.verdict(peerUID: 0, ownUID: 1000)
                == .refused("this program's agent serves only its owner (uid 1000); you are uid 0"))
        guard case .refused = PeerCredentials.verdict(peerUID: nil, ownUID: 1000) else {
            Issue.record("no uid, served")
            return
        }
    }

    /// A viewer talks to its own user's programs, or root's, and to no one else's.
    @Test func aViewerTrustsOnlyItsOwnUserOrRoot() {
        #expect(PeerCredentials.agentVerdict(peerUID: 1000, ownUID: 1000) == .allowed)
        #expect(PeerCredentials.agentVerdict(peerUID: 0, ownUID: 1000) == .allowed)
        #expect(
            PeerCredentials.agentVerdict(peerUID: 1001, ownUID: 1000)
                == (.refused("the program listening there runs as uid 1001, not as you (uid 1000) or root: refusing to talk to it")))
        guard case .refused = PeerCredentials.agentVerdict(peerUID: nil, ownUID: 1000) else {
            Issue.record("no uid, trusted")
            return
        }
    }
}

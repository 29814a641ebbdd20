#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Who is on the other end of a Unix socket, as the kernel tells it (SO_PEERCRED): the
/// agent serves its own user alone, and a viewer talks only to an agent of its own user
/// (or root's). The socket's folder already keeps others out; this holds even when the
/// folder's mode is wrong.
package enum PeerCredentials {
    /// Linux's `struct ucred` and `SO_PEERCRED`, which Glibc's module hides behind
    /// `_GNU_SOURCE`; the layout is the kernel's ABI.
    struct PeerCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }
    static let soPeerCred: Int32 = 17

    package enum Verdict: Equatable, Sendable {
        case allowed
        case refused(String)
    }

    /// The rule itself: the same user, and no one else (root included: a viewer as root
    /// is a mistake worth a message, not a privilege worth a hole).
    package static func verdict(peerUID: UInt32?, ownUID: UInt32) -> Verdict {
        guard let peerUID else { return .refused("the peer's user cannot be told (no credentials on the socket)") }
        guard peerUID == ownUID else {
            return .refused("this program's agent serves only its owner (uid \(ownUID)); you are uid \(peerUID)")
        }
        return .allowed
    }

    /// The verdict, and the peer's pid when the kernel told it.
    package static func check(_ channel: any Channel) -> EventLoopFuture<(verdict: Verdict, pid: Int32?)> {
        let own = getuid()
        return peer(of: channel).map { (verdict(peerUID: $0?.uid, ownUID: own), $0?.pid) }
    }

    /// A viewer's rule for the agent it reached: the same user, or root (whose programs a
    /// user may watch, and who could read the user's files anyway); anyone else may have
    /// planted the socket to be told what the viewer sends.
    package static func agentVerdict(peerUID: UInt32?, ownUID: UInt32) -> Verdict {
        guard let peerUID else { return .refused("the program's user cannot be told (no credentials on the socket)") }
        guard peerUID == ownUID || peerUID == 0 else {
            return .refused(
                "the program listening there runs as uid \(peerUID), not as you (uid \(ownUID)) or root: refusing to talk to it")
        }
        return .allowed
    }

    /// The viewer's check of the agent it connected to.
    package static func checkAgent(_ channel: any Channel) -> EventLoopFuture<Verdict> {
        let own = getuid()
        return peer(of: channel).map { agentVerdict(peerUID: $0?.uid, ownUID: own) }
    }

    /// Not public and not inlinable: NIO asks that libc types cross modules only so.
    private static func peer(of channel: any Channel) -> EventLoopFuture<PeerCred?> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<PeerCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(soPeerCred))
        return future.map { Optional($0) }.recover { _ -> PeerCred? in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }
}

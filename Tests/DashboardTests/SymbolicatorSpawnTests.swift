import AsyncPatterns
import Patience
import Testing

@testable import Dashboard

#if canImport(Glibc)
import Glibc
#endif

/// `llvm-symbolizer` starts as from a shell, whatever sluice ignores or blocks: ignored
/// signals stay ignored across exec, and a blocked mask is inherited.
@Suite struct SymbolicatorSpawnTests {
    #if os(Linux)
    @Test func theToolStartsWithSIGPIPEAtItsDefaultAndNothingBlocked() async throws {
        // sluice ignores SIGPIPE (so does swift-nio); the spawning thread here blocks SIGUSR2.
        signal(SIGPIPE, SIG_IGN)
        let status: String? = await withCheckedContinuation { continuation in
            let started = startDetachedThread {
                var blocked = sigset_t()
                sigemptyset(&blocked)
                sigaddset(&blocked, SIGUSR2)
                pthread_sigmask(SIG_BLOCK, &blocked, nil)
                continuation.resume(
                    returning: Symbolicator.spawnAndRead(
                        "/bin/grep", arguments: ["-E", "^Sig(Ign|Blk)", "/proc/self/status"], input: "",
                        deadline: .now + patience))
            }
            precondition(started, "could not start a thread")
        }
        let lines = try #require(status).split(separator: "\n")
        func mask(_ name: String) throws -> UInt64 {
            let line = try #require(lines.first { $0.hasPrefix(name + ":") })
            return try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16))
        }
        #expect(try mask("SigIgn") & (1 << (UInt64(SIGPIPE) - 1)) == 0)
        #expect(try mask("SigBlk") == 0)
    }
    #endif
}

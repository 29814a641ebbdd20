#if canImport(Glibc)
import Glibc
#endif
import TUI
import Testing
@testable import Terminal

/// ncurses for real, drawing into /dev/null: init, colours, a frame, a diff, key timeout, close.
@Suite(.serialized) struct BackendSmokeTests {
    @MainActor
    @Test func drawsFramesAndRestores() throws {
        setenv("TERM", "xterm-256color", 1)
        let backend = try NCursesBackend(testingOn: "/dev/null")
        defer { backend.close() }
        var buffer = Buffer(width: 20, height: 3)
        buffer.put("sluice 日本 ■", x: 0, y: 0, style: Style(fg: .cyan, bold: true))
        buffer.put("dim", x: 0, y: 1, style: Style(fg: .brightRed, bg: .blue, dim: true, reverse: true))
        backend.draw(buffer)
        backend.draw(buffer)  // unchanged: nothing to send
        buffer.put("x", x: 19, y: 2)
        backend.draw(buffer)
        #expect(backend.readKey(timeoutMilliseconds: 1) == nil)  // /dev/null gives no keys
        backend.close()
        backend.close()  // closing twice is harmless
    }

    @Test func preflightRejectsANonTerminal() {
        // `swift test` runs with stdout redirected or piped in CI; where it is a terminal,
        // the check passes and there is nothing to assert.
        if isatty(1) == 0 || isatty(0) == 0 {
            #expect(throws: TerminalError.self) { try TerminalCheck.preflight() }
        }
        #expect(TerminalError.notATTY.description.contains("--headless"))
        #expect(TerminalError.unknownTerm("bogus").description.contains("TERM=bogus"))
    }
}

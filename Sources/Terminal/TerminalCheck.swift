#if canImport(Glibc)
import Glibc
#endif

/// Why the dashboard cannot open a terminal; each says what to do instead.
public enum TerminalError: Error, CustomStringConvertible {
    case notATTY
    case noTerm
    case unknownTerm(String)
    /// A known type that cannot move the cursor (`dumb`, a printing terminal).
    case cannotAddressCursor(String)

    public var description: String {
        switch self {
        case .notATTY:
            "sluice: the dashboard needs a terminal, but stdin or stdout is not a TTY.\n"
                + "Run a scenario without one: sluice run NAME --headless [--json]   (sluice list shows the names)"
        case .noTerm:
            "sluice: TERM is not set, so the terminal type is unknown. Try: TERM=xterm-256color sluice"
        case .unknownTerm(let term):
            "sluice: this system does not know the terminal type TERM=\(term). Try: TERM=xterm-256color sluice"
        case .cannotAddressCursor(let term):
            "sluice: the terminal type TERM=\(term) cannot move the cursor, which the dashboard needs. "
                + "Try: TERM=xterm-256color sluice, or without a screen: sluice run NAME --headless"
        }
    }

    /// The exit status for these errors.
    public static let exitStatus: Int32 = 2
}

/// Checks made before touching the terminal.
public enum TerminalCheck {
    /// Both stdin and stdout must be terminals; TERM must be set.
    public static func preflight() throws {
        guard isatty(0) == 1, isatty(1) == 1 else { throw TerminalError.notATTY }
        guard let term = getenv("TERM").map({ String(cString: $0) }), !term.isEmpty else { throw TerminalError.noTerm }
    }

    /// True when the locale can show UTF-8 (else the dashboard draws with ASCII glyphs).
    public static func localeIsUTF8() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }
}

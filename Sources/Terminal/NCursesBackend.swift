#if canImport(Glibc)
import Glibc
#endif
import CNCurses
import TUI

/// The dashboard's terminal: ncursesw through the shim. Sends only the cells that changed
/// since the last frame, maps styles to colour pairs (256 colours when the terminal has
/// them, 8 otherwise, none with `NO_COLOR` or `--no-color`), decodes keys, and always
/// restores the terminal in `close()`.
///
/// Every ncurses call happens on the main thread, inside this type.
@MainActor
public final class NCursesBackend: Backend {
    private var screen: OpaquePointer?
    private var previous: Buffer?
    private var pairs: [Int: Int16] = [:]
    private let useColor: Bool
    private let colors256: Bool
    public let glyphs: Glyphs

    /// Opens the terminal: checks it first, and fails with a clear `TerminalError` instead
    /// of letting ncurses exit the process.
    public convenience init(noColor: Bool) throws {
        try TerminalCheck.preflight()
        try self.init(screen: sluice_newterm(), noColor: noColor)
    }

    /// Opens ncurses on a file instead of the terminal (for smoke tests: `/dev/null`).
    convenience init(testingOn path: String) throws {
        guard let output = fopen(path, "w"), let input = fopen(path, "r") else { throw TerminalError.notATTY }
        try self.init(screen: newterm(nil, output, input), noColor: false)
    }

    private init(screen: OpaquePointer?, noColor: Bool) throws {
        setlocale(LC_ALL, "")
        guard let screen else {
            throw TerminalError.unknownTerm(getenv("TERM").map { String(cString: $0) } ?? "")
        }
        set_term(screen)
        guard sluice_can_address_cursor() != 0 else {
            endwin()
            delscreen(screen)
            throw TerminalError.cannotAddressCursor(getenv("TERM").map { String(cString: $0) } ?? "")
        }
        self.screen = screen
        glyphs = TerminalCheck.localeIsUTF8() ? .unicode : .ascii
        cbreak()
        noecho()
        nonl()
        keypad(sluice_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        sluice_enable_wheel()
        let wantsColor = !noColor && getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true
        if wantsColor, has_colors() {
            start_color()
            use_default_colors()
            useColor = true
            colors256 = sluice_colors() >= 256
        } else {
            useColor = false
            colors256 = false
        }
    }

    /// Restores the terminal. Safe to call more than once.
    public func close() {
        guard let screen else { return }
        self.screen = nil
        curs_set(1)
        endwin()
        delscreen(screen)
    }

    public var size: (width: Int, height: Int) {
        (Int(getmaxx(sluice_stdscr())), Int(getmaxy(sluice_stdscr())))
    }

    public func draw(_ buffer: Buffer) {
        guard screen != nil else { return }
        if let previous, previous.width != buffer.width || previous.height != buffer.height {
            self.previous = nil
            erase()
        }
        for change in buffer.diff(from: previous) {
            put(change.cell, x: change.x, y: change.y)
        }
        previous = buffer
        refresh()
    }

    private func put(_ cell: Cell, x: Int, y: Int) {
        var text = cell.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        if text.isEmpty { text = [wchar_t(32)] }
        text.append(0)
        var attrs = sluice_a_normal()
        if cell.style.bold { attrs |= sluice_a_bold() }
        if cell.style.dim { attrs |= sluice_a_dim() }
        if cell.style.reverse { attrs |= sluice_a_reverse() }
        var pair: Int16 = 0
        if useColor {
            var fg = cell.style.fg.index
            let bg = cell.style.bg.index
            if !colors256, fg >= 8 {
                fg -= 8
                attrs |= sluice_a_bold()  // bright colours on an 8-colour terminal
            }
            pair = colorPair(fg: fg, bg: colors256 || bg < 8 ? bg : bg - 8)
        }
        // The bottom-right cell scrolls some terminals when written; ncurses reports ERR there, harmlessly.
        _ = sluice_put_cell(Int32(y), Int32(x), text, attrs, pair)
    }

    private func colorPair(fg: Int, bg: Int) -> Int16 {
        if fg == -1, bg == -1 { return 0 }
        let key = (fg + 1) * 512 + (bg + 1)
        if let pair = pairs[key] { return pair }
        let next = pairs.count + 1
        guard next < Int(sluice_color_pairs()), next < Int(Int16.max) else { return 0 }
        init_pair(Int16(next), Int16(fg), Int16(bg))
        pairs[key] = Int16(next)
        return Int16(next)
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        guard screen != nil else { return nil }
        wtimeout(sluice_stdscr(), Int32(timeoutMilliseconds))
        var code: Int32 = 0
        let rc = sluice_get_wch(&code)
        if rc == ERR { return nil }
        if rc == KEY_CODE_YES { return functionKey(code) }
        switch code {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        case 3: return .char("q")  // Ctrl-C when the terminal delivers it as a key
        default:
            guard let scalar = Unicode.Scalar(UInt32(bitPattern: code)) else { return nil }
            return .char(Character(scalar))
        }
    }

    private func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_SLEFT: return .shiftLeft
        case KEY_SRIGHT: return .shiftRight
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_BTAB: return .backTab
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_RESIZE:
            previous = nil
            return .resize
        case KEY_MOUSE:
            switch sluice_read_wheel() {
            case -1: return .wheelUp
            case 1: return .wheelDown
            default: return nil
            }
        default:
            for n in 1...12 where code == sluice_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }
}

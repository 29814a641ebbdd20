/// A key press or terminal event, decoded by the backend.
public enum Key: Sendable, Hashable {
    case char(Character)
    case up, down, left, right
    /// Shift with left / right arrow.
    case shiftLeft, shiftRight
    case enter, escape, tab, backTab, backspace
    case pageUp, pageDown, home, end
    case function(Int)
    /// The terminal changed size.
    case resize
    case wheelUp, wheelDown
}

/// What the dashboard draws on: a terminal (`NCursesBackend`) or a test double.
@MainActor
public protocol Backend: AnyObject {
    /// Columns and rows available now.
    var size: (width: Int, height: Int) { get }
    /// Unicode box drawing and blocks, or the ASCII fallback.
    var glyphs: Glyphs { get }
    /// Shows `buffer`, sending only what changed since the last frame.
    func draw(_ buffer: Buffer)
    /// The next key, waiting at most `timeoutMilliseconds`; nil when none came.
    func readKey(timeoutMilliseconds: Int) -> Key?
}

/// A backend for tests: a fixed (changeable) size, scripted keys, every frame kept.
@MainActor
public final class TestBackend: Backend {
    public var size: (width: Int, height: Int)
    public var glyphs: Glyphs
    public private(set) var frames: [Buffer] = []
    /// Cells sent per frame (what a terminal would have had to redraw).
    public private(set) var cellsSent: [Int] = []
    public var keys: [Key]

    public init(width: Int, height: Int, keys: [Key] = [], glyphs: Glyphs = .unicode) {
        size = (width, height)
        self.keys = keys
        self.glyphs = glyphs
    }

    public var lastFrame: Buffer? { frames.last }

    public func draw(_ buffer: Buffer) {
        cellsSent.append(buffer.diff(from: frames.last).count)
        frames.append(buffer)
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        keys.isEmpty ? nil : keys.removeFirst()
    }
}

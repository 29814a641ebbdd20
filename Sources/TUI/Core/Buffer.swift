/// One terminal cell: a grapheme and how it looks. A wide grapheme occupies its cell and a
/// continuation cell after it (`text` empty, `width` 0).
public struct Cell: Sendable, Hashable {
    public var text: String
    public var width: UInt8
    public var style: Style

    public init(_ text: String = " ", width: UInt8 = 1, style: Style = .plain) {
        self.text = text
        self.width = width
        self.style = style
    }

    public static let blank = Cell()
    static let continuation = Cell("", width: 0)
}

/// A grid of cells that widgets render into; the backend draws it, sending only the cells
/// that differ from the last frame (ratatui's `Buffer`, in small). Every write is clipped.
public struct Buffer: Sendable, Equatable {
    public private(set) var width: Int
    public private(set) var height: Int
    private var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var area: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, y >= 0, x < width, y < height else { return .blank }
        return cells[y * width + x]
    }

    /// Fills `rect` with `character` in `style`.
    public mutating func fill(_ rect: Rect, _ character: Character = " ", style: Style = .plain) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.bottom {
            var x = r.x
            while x < r.right {
                x += max(1, put(String(character), x: x, y: y, style: style, clip: r))
            }
        }
    }

    /// Writes `text` from (x, y), one grapheme per cell (two for wide ones), clipped to
    /// `clip` (default: the whole buffer). A wide grapheme that does not fit is replaced
    /// by a space. Returns the number of columns written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let bounds = (clip ?? area).intersection(area)
        guard y >= bounds.y, y < bounds.bottom else { return 0 }
        var col = x
        for character in text.terminalSafe() {
            let w = CellWidth.of(character)
            if w == 0 { continue }
            if col + w > bounds.right {
                if col < bounds.right, col >= bounds.x { set(col, y, Cell(" ", width: 1, style: style)) }
                break
            }
            if col >= bounds.x {
                set(col, y, Cell(String(character), width: UInt8(w), style: style))
                if w == 2 { set(col + 1, y, Cell("", width: 0, style: style)) }
            }
            col += w
        }
        return max(0, col - x)
    }

    /// Sets one cell, repairing any wide grapheme it cuts in half.
    private mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        let i = y * width + x
        let old = cells[i]
        if old.width == 0, x > 0, cell.width != 0 {
            cells[i - 1] = Cell(" ", width: 1, style: cells[i - 1].style)  // overwrote the right half
        }
        if old.width == 2, x + 1 < width, cell.width != 2 {
            cells[i + 1] = Cell(" ", width: 1, style: cells[i + 1].style)  // overwrote the left half
        }
        cells[i] = cell
    }

    /// The text of each row, trailing spaces removed (for snapshot tests).
    public var lines: [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width {
                let cell = cells[y * width + x]
                if cell.width > 0 { line += cell.text }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// The cells that differ from `previous` (all of them when the size changed), in
    /// drawing order. Continuation cells are skipped: drawing a wide grapheme covers them.
    public func diff(from previous: Buffer?) -> [(x: Int, y: Int, cell: Cell)] {
        var changes: [(x: Int, y: Int, cell: Cell)] = []
        let sameSize = previous.map { $0.width == width && $0.height == height } ?? false
        for i in cells.indices {
            let cell = cells[i]
            if sameSize, previous!.cells[i] == cell { continue }
            if cell.width == 0 {
                // A changed continuation means its wide grapheme changed too; make sure it is sent.
                if i > 0, cells[i - 1].width == 2, !(changes.last.map { $0.y * width + $0.x == i - 1 } ?? false) {
                    changes.append((x: (i - 1) % width, y: (i - 1) / width, cell: cells[i - 1]))
                }
                continue
            }
            changes.append((x: i % width, y: i / width, cell: cell))
        }
        return changes
    }
}

/// Anything that draws itself into an area of a buffer.
public protocol Widget {
    func render(in area: Rect, into buffer: inout Buffer)
}

extension Widget {
    /// Renders into a fresh buffer of the given size (handy for tests).
    public func rendered(width: Int, height: Int) -> Buffer {
        var buffer = Buffer(width: width, height: height)
        render(in: buffer.area, into: &buffer)
        return buffer
    }
}

extension Buffer {
    /// The rows with their colours as ANSI SGR escapes (`cat` shows them as on screen);
    /// every row ends with a reset, trailing blanks dropped.
    public var ansiLines: [String] {
        (0..<height).map { y in
            var last =
                (0..<width).last { x in
                    let cell = self[x, y]
                    return cell.text != " " || cell.style.bg != .default || cell.style.reverse
                } ?? -1
            if last >= 0, self[last, y].width == 0 { last -= 1 }
            var line = ""
            var current = Style.plain
            for x in 0...max(0, last) where last >= 0 {
                let cell = self[x, y]
                guard cell.width > 0 else { continue }
                if cell.style != current {
                    line += Self.sgr(cell.style)
                    current = cell.style
                }
                line += cell.text
            }
            return current == .plain ? line : line + "\u{1B}[0m"
        }
    }

    /// The escape that sets `style` from scratch.
    static func sgr(_ style: Style) -> String {
        var codes = ["0"]
        if style.bold { codes.append("1") }
        if style.dim { codes.append("2") }
        if style.reverse { codes.append("7") }
        func color(_ c: Color, base: Int) {
            let i = c.index
            if i < 0 { return }
            if i < 8 {
                codes.append(String(base + i))
            } else if i < 16 {
                codes.append(String(base + 60 + i - 8))
            } else {
                codes.append("\(base + 8);5;\(i)")
            }
        }
        color(style.fg, base: 30)
        color(style.bg, base: 40)
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}

/// A rectangle of cells: `x`, `y` from the top-left, `width` columns, `height` rows.
public struct Rect: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public static let zero = Rect(x: 0, y: 0, width: 0, height: 0)

    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var right: Int { x + width }
    public var bottom: Int { y + height }
    public var description: String { "\(width)x\(height)@\(x),\(y)" }

    /// The rectangle shrunk by `margin` on every side.
    public func inset(_ margin: Int) -> Rect {
        Rect(x: x + margin, y: y + margin, width: width - 2 * margin, height: height - 2 * margin)
    }

    /// The part of `self` that is also inside `other`.
    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(right, other.right), y1 = min(bottom, other.bottom)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// A centred rectangle of at most the given size.
    public func centered(width w: Int, height h: Int) -> Rect {
        let w = min(w, width), h = min(h, height)
        return Rect(x: x + (width - w) / 2, y: y + (height - h) / 2, width: w, height: h)
    }

    /// The row `i` (0-based) as a one-line rectangle.
    public func row(_ i: Int) -> Rect { Rect(x: x, y: y + i, width: width, height: i < height ? 1 : 0) }
}

/// How much of a split one part takes.
public enum Constraint: Sendable, Hashable {
    /// Exactly n cells (less if there is not enough room).
    case fixed(Int)
    /// A percentage of the whole.
    case percent(Int)
    /// At least n cells, then a share of what is left, with the other `fill`s.
    case fill(min: Int = 0)
}

/// Splits an area into rows or columns (ratatui's `Layout`, in small).
public enum Layout {
    /// Splits `area` top to bottom.
    public static func rows(_ area: Rect, _ constraints: [Constraint]) -> [Rect] {
        sizes(total: area.height, constraints).reduce(into: (rects: [Rect](), at: area.y)) { acc, size in
            acc.rects.append(Rect(x: area.x, y: acc.at, width: area.width, height: size))
            acc.at += size
        }.rects
    }

    /// Splits `area` left to right.
    public static func columns(_ area: Rect, _ constraints: [Constraint]) -> [Rect] {
        sizes(total: area.width, constraints).reduce(into: (rects: [Rect](), at: area.x)) { acc, size in
            acc.rects.append(Rect(x: acc.at, y: area.y, width: size, height: area.height))
            acc.at += size
        }.rects
    }

    /// Fixed and percentage parts first, in order, while room lasts; fills share the rest.
    static func sizes(total: Int, _ constraints: [Constraint]) -> [Int] {
        var left = max(0, total)
        var sizes = constraints.map { c -> Int in
            let want: Int
            switch c {
            case .fixed(let n): want = n
            case .percent(let p): want = total * p / 100
            case .fill(let minimum): want = minimum
            }
            let given = min(max(0, want), left)
            left -= given
            return given
        }
        let fills = constraints.indices.filter { if case .fill = constraints[$0] { true } else { false } }
        if !fills.isEmpty {
            for (k, i) in fills.enumerated() {
                let share = left / fills.count + (k < left % fills.count ? 1 : 0)
                sizes[i] += share
            }
        }
        return sizes
    }
}

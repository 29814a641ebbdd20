/// A terminal colour: the 16 named ones or an index into the 256-colour palette.
public enum Color: Sendable, Hashable {
    case `default`
    case black, red, green, yellow, blue, magenta, cyan, white
    case brightBlack, brightRed, brightGreen, brightYellow, brightBlue, brightMagenta, brightCyan, brightWhite
    case indexed(UInt8)

    /// The palette index (0...255), or -1 for the terminal's default.
    public var index: Int {
        switch self {
        case .default: -1
        case .black: 0
        case .red: 1
        case .green: 2
        case .yellow: 3
        case .blue: 4
        case .magenta: 5
        case .cyan: 6
        case .white: 7
        case .brightBlack: 8
        case .brightRed: 9
        case .brightGreen: 10
        case .brightYellow: 11
        case .brightBlue: 12
        case .brightMagenta: 13
        case .brightCyan: 14
        case .brightWhite: 15
        case .indexed(let i): Int(i)
        }
    }
}

/// How a cell looks: colours and attributes.
public struct Style: Sendable, Hashable {
    public var fg: Color = .default
    public var bg: Color = .default
    public var bold = false
    public var dim = false
    public var reverse = false

    public init(fg: Color = .default, bg: Color = .default, bold: Bool = false, dim: Bool = false, reverse: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
    }

    public static let plain = Style()
    public func bolded() -> Style {
        var s = self
        s.bold = true
        return s
    }
    public func reversed() -> Style {
        var s = self
        s.reverse = true
        return s
    }
}

/// The dashboard's palette, in one place.
public enum Theme {
    public static let title = Style(fg: .cyan, bold: true)
    public static let border = Style(fg: .brightBlack)
    public static let focusedBorder = Style(fg: .cyan)
    public static let label = Style(fg: .brightBlack)
    public static let value = Style(bold: true)
    public static let good = Style(fg: .green)
    public static let warn = Style(fg: .yellow, bold: true)
    public static let bad = Style(fg: .red, bold: true)
    public static let accent = Style(fg: .magenta)
    public static let selected = Style(reverse: true)
    public static let key = Style(fg: .black, bg: .cyan)
    public static let dim = Style(dim: true)
}

extension String {
    /// The text with every control character (C0, DEL, C1) shown as a visible escape
    /// (`\x1B`), so text from outside (a program's or a recording's names, titles, notes)
    /// can never move the cursor, retitle the window or recolour the terminal.
    /// `keepingNewlines` leaves `\n` alone, for text of several lines that we made.
    public func terminalSafe(keepingNewlines: Bool = false) -> String {
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return self }
        var out = ""
        out.unicodeScalars.reserveCapacity(unicodeScalars.count)
        for scalar in unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v), !(keepingNewlines && scalar == "\n") {
                let hex = String(v, radix: 16, uppercase: true)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension Int {
    /// `value` rounded toward zero, held to what an Int can be (NaN is 0): a number from
    /// outside (a recording's 1e308) draws as the largest, never traps.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.2e18 {
            self = .max
        } else if value <= -9.2e18 {
            self = .min
        } else {
            self = Int(value)
        }
    }
}

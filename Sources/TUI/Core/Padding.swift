extension String {
    /// The string followed by spaces up to `width` characters; a longer string is returned
    /// whole (never cut). For plain-text columns: counts characters, not terminal cells.
    public func padded(toAtLeast width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, width - count))
    }
}

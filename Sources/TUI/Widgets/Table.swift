/// A table with a header row, aligned and truncated columns and an optional selected row.
public struct Table: Widget {
    public struct Column: Sendable {
        public var title: String
        /// Fixed width; nil shares what is left with the other flexible columns.
        public var width: Int?
        public var rightAligned: Bool
        public init(_ title: String, width: Int? = nil, right: Bool = false) {
            self.title = title
            self.width = width
            self.rightAligned = right
        }
    }

    public var columns: [Column]
    public var rows: [[String]]
    public var rowStyles: [Style]
    public var selected: Int?
    /// Index of the column the rows are sorted by (its title gets an arrow).
    public var sortColumn: Int?
    public var glyphs: Glyphs

    public init(columns: [Column], rows: [[String]], rowStyles: [Style] = [], selected: Int? = nil, sortColumn: Int? = nil, glyphs: Glyphs)
    {
        self.columns = columns
        self.rows = rows
        self.rowStyles = rowStyles
        self.selected = selected
        self.sortColumn = sortColumn
        self.glyphs = glyphs
    }

    /// Column widths for a total width: fixed ones first, flexible ones share the rest;
    /// one space between columns.
    public func widths(for total: Int) -> [Int] {
        let gaps = max(0, columns.count - 1)
        let fixed = columns.compactMap(\.width).reduce(0, +)
        let flexible = columns.filter { $0.width == nil }.count
        let left = max(0, total - gaps - fixed)
        var remaining = total - gaps
        return columns.enumerated().map { i, column in
            let w =
                column.width ?? (flexible > 0 ? left / flexible + (i == columns.lastIndex { $0.width == nil } ? left % flexible : 0) : 0)
            let given = max(0, min(w, remaining))
            remaining -= given
            return given
        }
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        let widths = widths(for: area.width)
        func line(_ cells: [String], y: Int, style: Style) {
            var x = area.x
            for (i, column) in columns.enumerated() where widths[i] > 0 {
                buffer.put(
                    pad(i < cells.count ? cells[i] : "", to: widths[i], right: column.rightAligned, glyphs: glyphs),
                    x: x, y: y, style: style, clip: area)
                x += widths[i] + 1
            }
        }
        let titles = columns.enumerated().map { i, c in i == sortColumn ? c.title + glyphs.arrowDown : c.title }
        line(titles, y: area.y, style: Theme.label.bolded())
        for (i, row) in rows.prefix(area.height - 1).enumerated() {
            let y = area.y + 1 + i
            var style = i < rowStyles.count ? rowStyles[i] : .plain
            if i == selected {
                style.reverse = true
                buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), style: style)
            }
            line(row, y: y, style: style)
        }
    }
}

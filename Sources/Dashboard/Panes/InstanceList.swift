import TUI

/// The top of a pane that shows several patterns of one kind: a row each (scrolled to keep
/// the selected one in view, highlighted), above the selected one's detail.
struct InstanceList {
    let columns: [Table.Column]
    let rows: [[String]]
    let styles: [Style]
    let selected: Int
    let glyphs: Glyphs

    /// Renders the list at the top of `area`, at most half of it (and no less than a header
    /// and two rows); returns what is left below for the detail.
    func render(taking area: Rect, into buffer: inout Buffer) -> Rect {
        let height = min(area.height, max(3, min(rows.count + 1, area.height / 2)))
        let visible = max(1, height - 1)
        let start = min(max(0, selected - visible + 1), max(0, rows.count - visible))
        let window = start..<min(rows.count, start + visible)
        Table(
            columns: columns, rows: Array(rows[window]), rowStyles: Array(styles[window]), selected: selected - start,
            glyphs: glyphs
        )
        .render(in: Rect(x: area.x, y: area.y, width: area.width, height: height), into: &buffer)
        return Rect(x: area.x, y: area.y + height, width: area.width, height: max(0, area.height - height))
    }
}

import Scenarios
import TUI

/// The first screen: every scenario with its summary, and the selected one explained.
public struct PickerView: Widget {
    public var scenarios: [any Scenario]
    public var selected: Int
    public var glyphs: Glyphs

    public init(scenarios: [any Scenario], selected: Int, glyphs: Glyphs) {
        self.scenarios = scenarios
        self.selected = selected
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let parts = Layout.rows(area, [.fixed(1), .fill(), .fixed(1)])
        buffer.fill(parts[0], style: Style(bg: .blue))
        buffer.put(" sluice  pick a scenario to watch and steer", x: parts[0].x, y: parts[0].y, style: Style(fg: .brightWhite, bg: .blue, bold: true), clip: parts[0])
        let listHeight = min(parts[1].height / 2, scenarios.count + 2)
        let body = Layout.rows(parts[1], [.fixed(listHeight), .fill()])
        Panel("Scenarios", focused: true, glyphs: glyphs).render(in: body[0], into: &buffer)
        let list = Panel.inner(body[0])
        let nameWidth = (scenarios.map { CellWidth.of($0.name) }.max() ?? 0) + 2
        let first = max(0, selected - list.height + 1)
        for (row, i) in (first..<scenarios.count).prefix(list.height).enumerated() {
            let s = scenarios[i]
            let line = (i == selected ? glyphs.pointer + " " : "  ") + pad(s.name, to: nameWidth, glyphs: glyphs) + s.summary
            let y = list.y + row
            if i == selected { buffer.fill(list.row(row), style: Theme.selected) }
            buffer.put(truncate(line, to: list.width, glyphs: glyphs), x: list.x, y: y, style: i == selected ? Theme.selected : .plain, clip: list)
        }
        if scenarios.indices.contains(selected) {
            let s = scenarios[selected]
            Panel(s.name, glyphs: glyphs).render(in: body[1], into: &buffer)
            let inner = Panel.inner(body[1])
            var lines = wrap(s.explanation, width: inner.width - 1)
            lines.append("")
            lines.append("knobs: " + s.knobs.map { "\($0.name) \($0.format($0.defaultValue))" }.joined(separator: ", "))
            for (i, line) in wrapLines(lines, width: inner.width - 1).prefix(inner.height).enumerated() {
                buffer.put(line, x: inner.x + 1, y: inner.y + i, style: line.hasPrefix("knobs:") ? Theme.label : .plain, clip: inner)
            }
        }
        KeyHints([("↑↓/jk", "move"), ("Enter", "start"), ("?", "help"), ("q", "quit")].map { (glyphs.levels[0] == "_" && $0.0 == "↑↓/jk" ? "j/k" : $0.0, $0.1) })
            .render(in: parts[2], into: &buffer)
    }
}

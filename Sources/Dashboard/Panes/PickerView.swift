import TUI

/// The first screen: every choice with its summary, and the selected one explained.
public struct PickerView: Widget {
    public var choices: [SourceChoice]
    public var selected: Int
    public var glyphs: Glyphs
    /// The footer's keys (from the key map).
    public var hints: [(key: String, action: String)]
    /// What the entries are: the header's words and the list's title.
    public var words: PickerWords
    /// Why the last entry could not be opened, if it could not.
    public var note: String?

    public init(
        choices: [SourceChoice], selected: Int, glyphs: Glyphs, hints: [(key: String, action: String)],
        words: PickerWords = .scenarios, note: String? = nil
    ) {
        self.words = words
        self.note = note
        self.choices = choices
        self.selected = selected
        self.glyphs = glyphs
        self.hints = hints
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        let parts = Layout.rows(area, [.fixed(1), .fill(), .fixed(1)])
        buffer.fill(parts[0], style: Style(bg: .blue))
        buffer.put(
            " sluice  " + words.heading, x: parts[0].x, y: parts[0].y,
            style: Style(fg: .brightWhite, bg: .blue, bold: true), clip: parts[0])
        let listHeight = min(parts[1].height / 2, max(1, choices.count) + 2)  // an empty list has a line saying so
        let body = Layout.rows(parts[1], [.fixed(listHeight), .fill()])
        Panel(words.list, focused: true, glyphs: glyphs).render(in: body[0], into: &buffer)
        let list = Panel.inner(body[0])
        let nameWidth = (choices.map { CellWidth.of($0.name) }.max() ?? 0) + 2
        let first = min(max(0, selected - list.height + 1), choices.count)
        for (row, i) in (first..<choices.count).prefix(list.height).enumerated() {
            let s = choices[i]
            let line = (i == selected ? glyphs.pointer + " " : "  ") + pad(s.name, to: nameWidth, glyphs: glyphs) + s.summary
            let y = list.y + row
            if i == selected { buffer.fill(list.row(row), style: Theme.selected) }
            buffer.put(
                truncate(line, to: list.width, glyphs: glyphs), x: list.x, y: y, style: i == selected ? Theme.selected : .plain, clip: list)
        }
        if choices.isEmpty {
            buffer.put("  " + words.none, x: list.x, y: list.y, style: Theme.label, clip: list)
        }
        if choices.indices.contains(selected) {
            let s = choices[selected]
            Panel(s.name, glyphs: glyphs).render(in: body[1], into: &buffer)
            let inner = Panel.inner(body[1])
            let noteLines = note.map { wrap($0, width: inner.width - 1) + [""] } ?? []
            var lines = noteLines + wrap(s.explanation, width: inner.width - 1)
            lines.append("")
            lines.append("knobs: " + s.knobs.map { "\($0.name) \($0.format($0.defaultValue))" }.joined(separator: ", "))
            for (i, line) in wrapLines(lines, width: inner.width - 1).prefix(inner.height).enumerated() {
                let style = i < noteLines.count ? Theme.warn : line.hasPrefix("knobs:") ? Theme.label : .plain
                buffer.put(line, x: inner.x + 1, y: inner.y + i, style: style, clip: inner)
            }
        }
        KeyHints(hints)
            .render(in: parts[2], into: &buffer)
    }
}

/// How the picker speaks of its entries.
public struct PickerWords: Sendable {
    public var heading: String
    public var list: String
    /// What the list says when it is empty.
    public var none: String
    public init(heading: String, list: String, none: String = "nothing to pick") {
        self.heading = heading
        self.list = list
        self.none = none
    }
    public static let scenarios = PickerWords(heading: "pick a scenario to watch and steer", list: "Scenarios")
    public static let programs = PickerWords(
        heading: "pick a running program to watch and steer", list: "Programs",
        none: "no program with a Sluice agent is running now (q quits)")
}

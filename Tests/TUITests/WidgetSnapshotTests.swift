import Testing
@testable import TUI

/// Widgets rendered to text lines at several sizes, including areas too small for them.
@Suite struct WidgetSnapshotTests {
    let u = Glyphs.unicode
    let a = Glyphs.ascii

    @Test func panelWithTitle() {
        #expect(
            Panel("Queue", glyphs: u).rendered(width: 12, height: 3).lines == [
                "┌ Queue ───┐",
                "│          │",
                "└──────────┘",
            ])
        #expect(
            Panel("A long title", glyphs: a).rendered(width: 10, height: 3).lines == [
                "+ A long~+",
                "|        |",
                "+--------+",
            ])
        #expect(Panel("x", glyphs: u).rendered(width: 1, height: 1).lines == [""])  // too small: blank, no crash
    }

    @Test func gaugeShowsDepthAgainstCapacity() {
        #expect(
            Gauge("depth", value: 37, maximum: 64, glyphs: u).rendered(width: 30, height: 1).lines == ["depth ██████████▍░░░░░░░ 37/64"])
        #expect(Gauge("depth", value: 64, maximum: 64, glyphs: a).rendered(width: 24, height: 1).lines == ["depth ############ 64/64"])
        // No room for a bar:
        #expect(Gauge("depth", value: 1, maximum: 64, glyphs: a).rendered(width: 12, height: 1).lines == ["depth 1/64"])
        #expect(Gauge("d", value: 0, maximum: 0, glyphs: a).rendered(width: 14, height: 1).lines == ["d ........ 0/0"])
    }

    /// Any fraction draws: below 0 (a hostile agent's mailbox depth of -1 trapped the
    /// actors pane), not a number or infinite, past 1.
    @Test func aBarDrawsAnyFraction() {
        for glyphs in [u, a] {
            for fraction in [-1, -1e308, .nan, .infinity, -.infinity, 2, 0.5] as [Double] {
                var buffer = Buffer(width: 8, height: 1)
                #expect(
                    Bar(fraction: fraction, glyphs: glyphs, style: .plain).draw(x: 0, y: 0, width: 8, into: &buffer, clip: buffer.area) == 8
                )
                #expect(buffer.lines[0].count == 8, "\(fraction)")
            }
        }
    }

    @Test func sparklineScalesAndKeepsTheNewestAtTheRight() {
        #expect(Sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8], glyphs: u).rendered(width: 9, height: 1).lines == [" ▁▂▃▄▅▆▇█"])
        #expect(Sparkline([8, 8, 0, 4], maximum: 8, glyphs: a).rendered(width: 6, height: 1).lines == ["  @@ ="])
        #expect(Sparkline(Array(repeating: 1, count: 50), glyphs: u).rendered(width: 5, height: 1).lines == ["█████"])
        #expect(Sparkline([], glyphs: u).rendered(width: 5, height: 1).lines == [""])
    }

    @Test func tableAlignsTruncatesAndSelects() {
        let table = Table(
            columns: [Table.Column("name", width: 8), Table.Column("n", width: 4, right: true), Table.Column("note")],
            rows: [["actor-1", "12", "fine"], ["a-very-long-name", "3", "truncated text here"]],
            selected: 1, sortColumn: 1, glyphs: u)
        let buffer = table.rendered(width: 24, height: 3)
        #expect(
            buffer.lines == [
                "name       n▼ note",
                "actor-1    12 fine",
                "a-very-…    3 truncated…",
            ])
        #expect(buffer[0, 2].style.reverse && !buffer[0, 1].style.reverse)
        #expect(table.rendered(width: 24, height: 1).lines == ["name       n▼ note"])  // header only
        #expect(table.rendered(width: 3, height: 2).lines == ["…", "…"])  // one column of one cell: all ellipsis
    }

    @Test func slotGridShowsBusyFreeAndWaiting() {
        #expect(
            SlotGrid(limit: 5, inUse: 3, waiting: 4, glyphs: u).rendered(width: 16, height: 2).lines == [
                "■■■□□",
                "waiting 4 ····",
            ])
        #expect(
            SlotGrid(limit: 2, inUse: 4, waiting: 0, glyphs: a).rendered(width: 12, height: 2).lines == [
                "####",  // a lowered limit: in use above it, shown busy
                "waiting 0",
            ])
        #expect(
            SlotGrid(limit: 40, inUse: 1, waiting: 0, glyphs: a).rendered(width: 5, height: 3).lines == [
                "#oooo", "oooo~", "waiti",
            ])
        #expect(SlotGrid(limit: 0, inUse: 0, waiting: 2, glyphs: u).rendered(width: 20, height: 2).lines == ["no permits", "waiting 2 ··"])
    }

    @Test func progressBarShowsRateAndETA() {
        #expect(
            ProgressBar("data", done: 45, total: 100, ratePerSecond: 12, etaSeconds: 4.58, finished: false, glyphs: a)
                .rendered(width: 40, height: 1).lines == ["data #####....... 45/100  12/s  eta 4.6s"])
        #expect(
            ProgressBar("d", done: 5, total: 5, ratePerSecond: 0, etaSeconds: nil, finished: true, glyphs: a)
                .rendered(width: 20, height: 1).lines == ["d ######## 5/5  done"])
        #expect(
            ProgressBar("gen", done: 7, total: nil, ratePerSecond: 2, etaSeconds: nil, finished: false, glyphs: a)
                .rendered(width: 30, height: 1).lines == ["gen open-ended          7  2/s"])
        #expect(
            ProgressBar("data", done: 1, total: 2, ratePerSecond: 1, etaSeconds: 1, finished: false, glyphs: a)
                .rendered(width: 12, height: 1).lines == ["data 1/2  1/"])  // no room for a bar: numbers, clipped
    }

    @Test func logViewShowsNewestLastAndCountsTheRest() {
        let lines = (1...6).map { (text: "line \($0)", style: Style.plain) }
        #expect(
            LogView(lines: lines, glyphs: a).rendered(width: 30, height: 3).lines == [
                "^ 4 earlier events not shown", "line 5", "line 6",
            ])
        #expect(
            LogView(lines: lines, scrolledBack: 2, glyphs: a).rendered(width: 30, height: 3).lines == [
                "^ 2 earlier events not shown", "line 3", "line 4",
            ])
        #expect(
            LogView(lines: Array(lines.prefix(2)), dropped: 0, glyphs: a).rendered(width: 10, height: 3).lines == ["line 1", "line 2", ""])
    }

    @Test func keyHintsAndHelpOverlay() {
        #expect(KeyHints([("q", "quit"), ("?", "help"), ("space", "pause")]).rendered(width: 20, height: 1).lines == [" q  quit  ?  help"])
        // Too narrow for all: `?` stays, a long hint is left out whole and a shorter later one still fits (#25).
        let hints = KeyHints([("q", "quit"), ("space", "pause"), ("Tab", "focus everything"), ("e", "all"), ("?", "help")])
        #expect(hints.rendered(width: 36, height: 1).lines == [" q  quit  space  pause  ?  help"])
        #expect(hints.rendered(width: 28, height: 1).lines == [" q  quit  e  all  ?  help"])
        let help = HelpOverlay(title: "Keys", lines: ["q  quit"], glyphs: a).rendered(width: 40, height: 8)
        #expect(help.lines.contains { $0.contains("+ Keys ") })
        #expect(help.lines.contains { $0.contains("q  quit") })
        #expect(HelpOverlay(title: "Keys", lines: ["x"], glyphs: a).rendered(width: 3, height: 2).lines == ["", ""])
    }

    @Test func wideCharactersTakeTwoCellsAndAreClipped() {
        var buffer = Buffer(width: 6, height: 1)
        #expect(buffer.put("日本x", x: 0, y: 0) == 5)
        #expect(buffer.lines == ["日本x"])
        #expect(buffer[1, 0].width == 0)
        buffer.put("ab", x: 1, y: 0)  // cuts 日 in half: its left half becomes a space
        #expect(buffer.lines == [" ab x"])  // ...and b cut 本: its right half is blanked too
        var narrow = Buffer(width: 3, height: 1)
        narrow.put("a日本", x: 0, y: 0)  // 本 does not fit: a space instead of half a glyph
        #expect(narrow.lines == ["a日"])
        #expect(CellWidth.of("🚀") == 2 && CellWidth.of("é") == 1 && CellWidth.of("a\u{301}") == 1)
    }

    @Test func diffSendsOnlyChangedCells() {
        var a = Buffer(width: 10, height: 2)
        a.put("hello", x: 0, y: 0)
        var b = a
        b.put("J", x: 0, y: 1)
        #expect(b.diff(from: a).map { "\($0.x),\($0.y)" } == ["0,1"])
        #expect(a.diff(from: a).isEmpty)
        #expect(a.diff(from: nil).count == 20)
        #expect(a.diff(from: Buffer(width: 5, height: 2)).count == 20)  // a resize redraws everything
    }

    @Test func layoutSplitsByConstraints() {
        let area = Rect(x: 0, y: 0, width: 100, height: 10)
        #expect(Layout.columns(area, [.fixed(30), .fill(), .percent(20)]).map(\.width) == [30, 50, 20])
        #expect(Layout.rows(area, [.fixed(1), .fill(), .fill(), .fixed(1)]).map(\.height) == [1, 4, 4, 1])
        #expect(Layout.rows(Rect(x: 0, y: 0, width: 5, height: 3), [.fixed(2), .fixed(2), .fill()]).map(\.height) == [2, 1, 0])
    }
}

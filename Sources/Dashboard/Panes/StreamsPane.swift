import AsyncPatterns
import TUI

/// Streams and generators: one progress bar each, newest at the bottom.
public struct StreamsPane: Widget {
    public var streams: [StreamSnapshot]
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String? = nil
    public var glyphs: Glyphs

    public init(streams: [StreamSnapshot], focused: Bool = false, note: String? = nil, glyphs: Glyphs) {
        self.note = note
        self.streams = streams
        self.focused = focused
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel("Streams (\(streams.count))" + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        if streams.isEmpty {
            buffer.put("no streams yet", x: inner.x, y: inner.y, style: Theme.label, clip: inner)
            return
        }
        let shown = streams.suffix(inner.height)
        for (i, s) in shown.enumerated() {
            ProgressBar(
                s.name, done: s.produced, total: s.total, ratePerSecond: s.producedPerSecond,
                etaSeconds: s.etaSeconds, finished: s.isFinished, glyphs: glyphs
            )
            .render(in: inner.row(i), into: &buffer)
        }
    }
}

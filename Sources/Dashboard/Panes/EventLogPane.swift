import AsyncPatterns
import TUI

/// The most recent events, newest last, with a count of those not shown.
public struct EventLogPane: Widget {
    public var events: [PatternEvent]
    public var dropped: Int
    public var scrolledBack: Int
    public var focused: Bool
    /// Every event, or only the notable ones (the title says which).
    public var allEvents: Bool
    public var glyphs: Glyphs
    /// The filter in words (the title shows it), if one is on.
    public var filter: String?
    /// Lines containing this (any case) are highlighted.
    public var highlight: String?

    public init(
        events: [PatternEvent], dropped: Int, scrolledBack: Int = 0, focused: Bool = false, allEvents: Bool = true, glyphs: Glyphs,
        filter: String? = nil, highlight: String? = nil
    ) {
        self.events = events
        self.dropped = dropped
        self.scrolledBack = scrolledBack
        self.focused = focused
        self.allEvents = allEvents
        self.glyphs = glyphs
        self.filter = filter
        self.highlight = highlight
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel(
            "Events (\(allEvents ? "all" : "notable"))\(filter.map { " filtered: \($0)" } ?? "")"
                + "\(highlight.map { " search: /\($0)" } ?? "")\(scrolledBack > 0 ? " scrolled back \(scrolledBack)" : "")",
            focused: focused,
            glyphs: glyphs
        ).render(in: area, into: &buffer)
        let needle = highlight?.lowercased()
        let lines = events.map { event -> (text: String, style: Style) in
            let text = describe(event)
            if let needle, !needle.isEmpty, text.lowercased().contains(needle) { return (text, Theme.selected) }
            switch event {
            case .actor(.deadLetter, _, _): return (text, Theme.bad)
            case .queue(.producerBlocked, _, _), .semaphore(.waiting, _, _): return (text, Theme.warn)
            case .health(.note, _, _): return (text, Theme.accent)
            default: return (text, .plain)
            }
        }
        LogView(lines: lines, scrolledBack: scrolledBack, dropped: dropped, glyphs: glyphs).render(in: Panel.inner(area), into: &buffer)
    }
}

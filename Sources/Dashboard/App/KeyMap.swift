import TUI

/// What a key does. The one table below maps keys to these; dispatch, the help overlay
/// and the footer all read it, so they cannot drift apart.
public enum KeyAction: Sendable, Equatable {
    case quit, help
    case up, down, pageUp, pageDown, top, bottom
    case select, back
    case pause, restart, slower, faster
    case knobUp, knobDown
    case focusNext, focusPrevious
    case sortActors, toggleEvents
    /// A replay's cursor: one event, a time, a warning.
    case stepForward, stepBack, seekTime, nextWarning, previousWarning
    /// The event log's filter and search.
    case filterKind, filterName, search, nextMatch, previousMatch, clearFilter
    /// Keep what is on screen: text and ANSI colours, to files.
    case saveScreen
    /// A knob by ten steps.
    case knobUpTen, knobDownTen
}

/// One row of the key map.
public struct KeyBinding: Sendable {
    public enum Screen: Sendable { case picker, source }

    public let keys: [Key]
    /// How the keys are written in help and footer, e.g. `space`, `[ / ]`.
    public let label: String
    public let action: KeyAction
    /// Where it works.
    public let screens: Set<Screen>
    /// The help line; nil: covered by a neighbour's line (e.g. down by up's).
    public let help: String?
    /// The footer's word for it; nil: not in the footer.
    public let footer: String?
    /// Footer label when it differs from `label` (the footer is short).
    public let footerLabel: String?
    /// What the source must be able to do for it to work.
    public let needs: SourceCapability?

    init(
        _ keys: [Key], _ label: String, _ action: KeyAction, on screens: Set<Screen>, help: String?, footer: String? = nil,
        footerLabel: String? = nil, needs: SourceCapability? = nil
    ) {
        self.keys = keys
        self.label = label
        self.action = action
        self.screens = screens
        self.help = help
        self.footer = footer
        self.footerLabel = footerLabel
        self.needs = needs
    }
}

public enum KeyMap {
    /// Every key, in the order help and footer show them.
    public static let bindings: [KeyBinding] = [
        KeyBinding(
            [.up, .char("k"), .wheelUp], "up/down or j/k", .up, on: [.picker], help: "choose a scenario", footer: "move",
            footerLabel: "↑↓/jk"),
        KeyBinding([.down, .char("j"), .wheelDown], "", .down, on: [.picker], help: nil),
        KeyBinding([.home], "Home", .top, on: [.picker], help: nil),
        KeyBinding([.end], "End", .bottom, on: [.picker], help: nil),
        KeyBinding([.enter, .right, .char("l")], "Enter", .select, on: [.picker], help: "start it", footer: "start"),
        KeyBinding(
            [.up, .char("k"), .wheelUp], "up/down, j/k", .up, on: [.source],
            help: "select a knob (or a row in the focused list)"),
        KeyBinding([.down, .char("j"), .wheelDown], "", .down, on: [.source], help: nil),
        KeyBinding(
            [.char("+"), .char("="), .right, .char("l")], "+/- or left/right", .knobUp, on: [.source],
            help: "change the selected knob", footer: "knob", footerLabel: "+/-"),
        KeyBinding([.char("-"), .char("_"), .left, .char("h")], "", .knobDown, on: [.source], help: nil),
        KeyBinding(
            [.shiftRight], "Shift-left/right", .knobUpTen, on: [.source],
            help: "change the selected knob by ten steps (PgUp/PgDn too, knobs focused)"),
        KeyBinding([.shiftLeft], "", .knobDownTen, on: [.source], help: nil),
        KeyBinding(
            [.char(" ")], "space", .pause, on: [.source], help: "pause / resume the scenario (its clock stops)",
            footer: "pause", needs: .pause),
        KeyBinding(
            [.char("r")], "r", .restart, on: [.source], help: "restart with the current knobs", footer: "restart",
            needs: .restart),
        KeyBinding(
            [.char("["), .char("{")], "[ / ]", .slower, on: [.source], help: "slower / faster (speed halves / doubles)",
            footer: "speed", footerLabel: "[ ]", needs: .speed),
        KeyBinding([.char("]"), .char("}")], "", .faster, on: [.source], help: nil, needs: .speed),
        KeyBinding(
            [.char("."), .char(">")], ". / ,", .stepForward, on: [.source], help: "step one event forward / back (pauses)",
            footer: "step", footerLabel: ", .", needs: .step),
        KeyBinding([.char(","), .char("<")], "", .stepBack, on: [.source], help: nil, needs: .step),
        KeyBinding([.char("g")], "g", .seekTime, on: [.source], help: "go to a time (seconds, or m:ss)", footer: "go to", needs: .seek),
        KeyBinding(
            [.char("w")], "w / W", .nextWarning, on: [.source], help: "next / previous warning (where one starts)", footer: "warning",
            footerLabel: "w W", needs: .seek),
        KeyBinding([.char("W")], "", .previousWarning, on: [.source], help: nil, needs: .seek),
        KeyBinding(
            [.tab], "Tab / Shift-Tab", .focusNext, on: [.source], help: "move focus between panels", footer: "focus",
            footerLabel: "Tab"),
        KeyBinding([.backTab], "", .focusPrevious, on: [.source], help: nil),
        KeyBinding([.enter], "Enter", .select, on: [.source], help: "open the selected actor (Actors panel focused)"),
        KeyBinding([.char("s")], "s", .sortActors, on: [.source], help: "sort the actors by the next column"),
        KeyBinding(
            [.char("e")], "e", .toggleEvents, on: [.source], help: "event log: notable events / every event",
            footer: "all events"),
        KeyBinding(
            [.char("f")], "f", .filterKind, on: [.source], help: "event log: show one kind of pattern (queue, actor, ...)",
            footer: "filter"),
        KeyBinding([.char("F")], "F", .filterName, on: [.source], help: "event log: show patterns whose name contains ..."),
        KeyBinding([.char("/")], "/", .search, on: [.source], help: "event log: search text", footer: "search"),
        KeyBinding([.char("n")], "n / N", .nextMatch, on: [.source], help: "next / previous match (older / newer)"),
        KeyBinding([.char("N")], "", .previousMatch, on: [.source], help: nil),
        KeyBinding([.char("c")], "c", .clearFilter, on: [.source], help: "event log: clear the filter and the search"),
        KeyBinding(
            [.pageUp], "PgUp/Dn, Home/End", .pageUp, on: [.source], help: "scroll the focused list (wheel too); first / last row"),
        KeyBinding([.pageDown], "", .pageDown, on: [.source], help: nil),
        KeyBinding([.home], "", .top, on: [.source], help: nil),
        KeyBinding([.end], "", .bottom, on: [.source], help: nil),
        KeyBinding(
            [.char("p")], "p", .saveScreen, on: [.source], help: "save the screen to a file (text, and one with ANSI colours)",
            footer: "save"),
        KeyBinding([.escape, .backspace], "Esc", .back, on: [.source], help: "back (detail, then the picker)", footer: "back"),
        KeyBinding([.char("?"), .function(1)], "?", .help, on: [.picker, .source], help: "this help", footer: "help"),
        KeyBinding([.char("q")], "q", .quit, on: [.picker, .source], help: "quit", footer: "quit"),
    ]

    /// The action of `key` on `screen`, if any.
    public static func action(for key: Key, on screen: KeyBinding.Screen) -> KeyBinding? {
        bindings.first { $0.screens.contains(screen) && $0.keys.contains(key) }
    }

    /// The help overlay's lines; keys the source cannot serve say so.
    public static func helpLines(on screen: KeyBinding.Screen, capabilities: Set<SourceCapability>) -> [String] {
        bindings.filter { $0.screens.contains(screen) }.compactMap { b in
            guard let help = b.help else { return nil }
            let label = b.label.padded(toAtLeast: 17) + " "
            if let needs = b.needs, !capabilities.contains(needs) { return label + "not available for this source" }
            return label + help
        }
    }

    /// What every scenario run can do: a source without it names it in the footer (a
    /// program runs on its own time). Stepping and seeking belong to recordings; a live
    /// source lacks them without saying so in the footer (the help overlay does).
    static let namedWhenMissing: Set<SourceCapability> = [.pause, .restart, .speed]

    /// The footer's order, most useful first: a narrow footer keeps the front of it (and
    /// `?`, always, which lists the rest).
    static let footerPriority: [KeyAction] = [
        .quit, .help, .knobUp, .pause, .focusNext, .back, .stepForward, .seekTime, .nextWarning, .slower, .restart,
        .toggleEvents, .filterKind, .search, .saveScreen,
    ]

    /// The footer: `q quit  ? help ...`, in `footerPriority` order; `word` may replace a word
    /// (pause shows `resume` while paused). What the source cannot do is named last, once:
    /// `n/a pause restart speed`, after the knob keys.
    public static func hints(
        on screen: KeyBinding.Screen, capabilities: Set<SourceCapability>, glyphs: Glyphs,
        word: (KeyAction) -> String? = { _ in nil }
    ) -> [(key: String, action: String)] {
        let shown = bindings.filter { b in
            b.screens.contains(screen) && b.footer != nil && b.needs.map { capabilities.contains($0) } != false
        }
        func rank(_ b: KeyBinding) -> Int { footerPriority.firstIndex(of: b.action) ?? footerPriority.count }
        let ordered = shown.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        let hints = ordered.map { b in
            var label = b.footerLabel ?? b.label
            if label == "↑↓/jk", glyphs.levels[0] == "_" { label = "j/k" }  // ASCII glyphs: no arrows
            return (key: label, action: word(b.action) ?? b.footer ?? "")
        }
        let unavailable = bindings.filter { b in
            guard let needs = b.needs, Self.namedWhenMissing.contains(needs) else { return false }
            return b.screens.contains(screen) && b.footer != nil && !capabilities.contains(needs)
        }.compactMap(\.footer)
        guard !unavailable.isEmpty else { return hints }
        // Where pause would be: why space does nothing matters more than the later keys.
        let at = min(hints.count, 3)
        return Array(hints[..<at]) + [(key: "n/a", action: unavailable.joined(separator: " "))] + hints[at...]
    }
}

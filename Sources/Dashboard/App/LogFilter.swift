import AsyncPatterns
import TUI

/// The event log's filter and search, and the line typed in the footer (a search, a name
/// to filter by, a time to go to): pure state, tested without a terminal.
extension AppState {
    /// A line typed in the footer; Enter takes it, Esc drops it.
    public struct Prompt: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case search, name, time }
        public var kind: Kind
        public var text = ""

        public var label: String {
            switch kind {
            case .search: "search the log: /"
            case .name: "show patterns named: "
            case .time: "go to time (s): "
            }
        }
    }

    /// A key while a prompt is open: typing, Enter, Esc.
    mutating func typed(_ key: Key, _ source: SourceFacts) -> AppCommand {
        guard var p = prompt else { return .none }
        switch key {
        case .escape:
            prompt = nil
        case .backspace:
            if p.text.isEmpty {
                prompt = nil
            } else {
                p.text.removeLast()
                prompt = p
            }
        case .char(let c):
            p.text.append(c)
            prompt = p
        case .enter:
            prompt = nil
            let text = p.text.trimmingSpaces
            switch p.kind {
            case .search:
                search = text.isEmpty ? nil : text
                if search != nil {
                    focus = .log
                    findMatch(older: true, from: source.logLines.count, source)
                }
            case .name:
                logName = text.isEmpty ? nil : text
                logScroll = 0
                lastChange = "event log: " + (logName.map { "patterns named *\($0)*" } ?? "every name")
            case .time:
                guard let seconds = parseTime(text) else {
                    lastChange = "not a time: '\(text)' (use seconds, e.g. 12.5, or m:ss)"
                    return .none
                }
                lastChange = "went to \(formatDecimal(seconds)) s"
                history = DashboardHistory()  // the sparklines start again where the cursor lands
                return .seek(seconds)
            }
        default:
            break
        }
        return .none
    }

    /// Scrolls the log to the next match older (or newer) than line `from`.
    mutating func findMatch(older: Bool, from line: Int, _ source: SourceFacts) {
        guard let search, !search.isEmpty else {
            lastChange = "no search: / starts one"
            return
        }
        let lines = source.logLines
        let needle = search.lowercased()
        let candidates = older ? Array(stride(from: min(line, lines.count) - 1, through: 0, by: -1)) : Array(max(0, line + 1)..<lines.count)
        guard let hit = candidates.first(where: { lines[$0].lowercased().contains(needle) }) else {
            lastChange = "'\(search)': no \(older ? "older" : "newer") match in the log"
            return
        }
        logScroll = lines.count - 1 - hit
        let total = lines.filter { $0.lowercased().contains(needle) }.count
        lastChange = "'\(search)': match \(lines[...hit].filter { $0.lowercased().contains(needle) }.count) of \(total)"
    }

    /// The events the log shows: notable or all, then the filter.
    public func shownEvents(_ snapshot: Snapshot) -> [PatternEvent] {
        let events = allEvents ? snapshot.recentEvents : snapshot.notableEvents
        guard logKind != nil || logName != nil else { return events }
        let name = logName?.lowercased()
        return events.filter { e in
            (logKind == nil || e.source.kind == logKind) && (name == nil || e.source.name.lowercased().contains(name!))
        }
    }

    /// The log title's words for the filter alone: a search finds lines (and highlights
    /// them), it does not hide any, so the title does not call it a filter.
    public var logFilterText: String? {
        var parts: [String] = []
        if let logKind { parts.append("kind \(logKind.rawValue)") }
        if let logName { parts.append("name *\(logName)*") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// The footer's words for the filter and search, when one is on.
    public var filterText: String? {
        var parts: [String] = []
        if let logKind { parts.append("kind \(logKind.rawValue)") }
        if let logName { parts.append("name *\(logName)*") }
        if let search { parts.append("/\(search)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// `12`, `12.5`, `12s`, `1:30` (minutes and seconds).
    func parseTime(_ text: String) -> Double? {
        var t = text
        if t.hasSuffix("s") { t.removeLast() }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let numbers = parts.map { Double($0) }
        guard numbers.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }) else { return nil }
        return numbers.count == 2 ? numbers[0]! * 60 + numbers[1]! : numbers[0]!
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

import AsyncPatterns
import TUI

/// The top line: what is watched and how it runs, elapsed scenario time, speed, status and event rate.
public struct HeaderBar: Widget {
    public var title: String
    public var mode: String
    public var elapsedSeconds: Double
    /// nil for a source that runs on its own time (no speed shown).
    public var speed: Double?
    public var status: SourceStatus
    public var operationsPerSecond: Double
    /// A replay's position: drawn as a second line, a bar with the cursor and the warnings.
    public var timeline: Timeline?
    public var glyphs: Glyphs

    public init(
        title: String, mode: String, elapsedSeconds: Double, speed: Double?, status: SourceStatus, operationsPerSecond: Double,
        timeline: Timeline? = nil, glyphs: Glyphs = .ascii
    ) {
        self.title = title
        self.mode = mode
        self.elapsedSeconds = elapsedSeconds
        self.speed = speed
        self.status = status
        self.operationsPerSecond = operationsPerSecond
        self.timeline = timeline
        self.glyphs = glyphs
    }

    public var statusText: String {
        switch status {
        case .running: "RUNNING"
        case .paused: "PAUSED"
        case .done: "DONE"
        case .failed: "FAILED"
        case .detached: "DETACHED"
        }
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        buffer.fill(area.row(0), style: Style(bg: .blue))
        let base = Style(fg: .brightWhite, bg: .blue)
        var x = area.x
        x += buffer.put(" sluice ", x: x, y: area.y, style: base.bolded(), clip: area)
        x += buffer.put("\(title) (\(mode))  ", x: x, y: area.y, style: base.bolded(), clip: area)
        let speedText = speed.map { "speed \(formatDecimal($0))x  " } ?? ""
        // One clock: a replay's is its timeline (the recorded snapshot's time may be another
        // program's uptime, which is not where the replay is).
        let clock = timeline == nil ? "t=\(formatOne(elapsedSeconds))s  " : ""
        x += buffer.put(clock + speedText, x: x, y: area.y, style: base, clip: area)
        let statusStyle: Style =
            switch status {
            case .running: Style(fg: .black, bg: .green, bold: true)
            case .paused: Style(fg: .black, bg: .yellow, bold: true)
            case .done: Style(fg: .black, bg: .cyan, bold: true)
            case .failed, .detached: Style(fg: .brightWhite, bg: .red, bold: true)
            }
        x += buffer.put(" \(statusText) ", x: x, y: area.y, style: statusStyle, clip: area)
        // Detached, the rate is history: the reason takes its place.
        if case .detached(let why) = status {
            buffer.put(truncate("  detached: " + why, to: area.right - x, glyphs: .ascii), x: x, y: area.y, style: base, clip: area)
            return
        }
        buffer.put("  \(formatCount(operationsPerSecond)) ops/s", x: x, y: area.y, style: base, clip: area)
        if case .failed(let why) = status {
            buffer.put(truncate("  " + why, to: area.right - x - 20, glyphs: .ascii), x: x + 20, y: area.y, style: base, clip: area)
        }
        if let timeline, area.height > 1 {
            TimelineBar(timeline: timeline, glyphs: glyphs).render(
                in: Rect(x: area.x, y: area.y + 1, width: area.width, height: 1), into: &buffer)
        }
    }
}

/// A replay's timeline: `at 12.3s of 45.6s  event 1,234 of 99,999  [=====|....!...]`; `!`
/// marks where a warning starts (w and W jump there), `|` is the cursor.
public struct TimelineBar: Widget {
    public var timeline: Timeline
    public var glyphs: Glyphs

    public init(timeline: Timeline, glyphs: Glyphs) {
        self.timeline = timeline
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        buffer.fill(area.row(0))
        let t = timeline
        let label =
            " at \(formatFixed(t.positionSeconds, places: 2))s of \(formatFixed(t.durationSeconds, places: 2))s  event \(t.eventIndex) of \(t.eventCount)  "
        var x = area.x + buffer.put(label, x: area.x, y: area.y, style: Theme.value, clip: area)
        let width = area.right - x - 2
        guard width >= 10 else { return }
        x += buffer.put("[", x: x, y: area.y, style: Theme.label, clip: area)
        let fraction = t.durationSeconds > 0 ? min(1, max(0, t.positionSeconds / t.durationSeconds)) : 0
        let cursor = min(width - 1, Int(saturating: fraction * Double(width)))
        var marks = [Bool](repeating: false, count: width)
        for w in t.warnings { marks[min(width - 1, max(0, Int(saturating: w * Double(width))))] = true }
        for i in 0..<width {
            let (text, style): (String, Style) =
                if i == cursor { ("|", Theme.title) } else if marks[i] { ("!", Theme.warn) } else if i < cursor {
                    (glyphs.barFull, Theme.good)
                } else { (glyphs.horizontal, Theme.label) }
            buffer.put(text, x: x + i, y: area.y, style: style, clip: area)
        }
        buffer.put("]", x: x + width, y: area.y, style: Theme.label, clip: area)
    }
}

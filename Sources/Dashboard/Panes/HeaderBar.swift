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

    public init(title: String, mode: String, elapsedSeconds: Double, speed: Double?, status: SourceStatus, operationsPerSecond: Double) {
        self.title = title
        self.mode = mode
        self.elapsedSeconds = elapsedSeconds
        self.speed = speed
        self.status = status
        self.operationsPerSecond = operationsPerSecond
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
        x += buffer.put("t=\(formatOne(elapsedSeconds))s  \(speedText)", x: x, y: area.y, style: base, clip: area)
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
    }
}

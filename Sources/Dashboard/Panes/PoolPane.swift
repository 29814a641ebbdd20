import AsyncPatterns
import TUI

/// The cooperative pool: how late the doctor's heartbeat runs, jobs enqueued, stalls, and
/// the top blockers (the program's code that held the pool's threads at stalls), most time
/// stalled first; the selected one opens its whole stack with Enter. The Health pane's
/// warnings follow when there is room. Shown in place of the Health pane when the source
/// has a pool doctor.
public struct PoolPane: Widget {
    /// The figures shown.
    public var pool: PoolSnapshot
    /// The heartbeat's delay, in milliseconds, oldest first (the sparkline).
    public var delayHistory: [Double]
    /// The Health pane's findings, shown under the blockers when there is room.
    public var warnings: [Warning]
    /// The selected blocker (highlighted while the pane has the focus).
    public var selected: Int
    /// Whether the pane has the focus.
    public var focused: Bool
    /// The last knob change that affects this pane, shown in its title.
    public var note: String?
    /// The characters drawn with.
    public var glyphs: Glyphs

    /// A pane over `pool`.
    public init(
        pool: PoolSnapshot, delayHistory: [Double], warnings: [Warning], selected: Int = 0, focused: Bool = false, note: String? = nil,
        glyphs: Glyphs
    ) {
        self.pool = pool
        self.delayHistory = delayHistory
        self.warnings = warnings
        self.selected = selected
        self.focused = focused
        self.note = note
        self.glyphs = glyphs
    }

    /// Draws the pane into `area`.
    public func render(in area: Rect, into buffer: inout Buffer) {
        let p = pool
        Panel("Pool" + titleNote(note), focused: focused, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        var y = inner.y
        func line(_ text: String, _ style: Style) {
            guard y < inner.bottom else { return }
            buffer.put(truncate(text, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: style, clip: inner)
            y += 1
        }
        let stalled = p.stalledNowNanos > 0
        let lastMs = Double(p.delayLastNanos) / 1e6
        Gauge(
            "delay", value: min(lastMs, 200), maximum: 200,
            text: "p50 \(formatNanos(p.delayP50Nanos)) p99 \(formatNanos(p.delayP99Nanos)) max \(formatNanos(p.delayMaxNanos))",
            glyphs: glyphs
        )
        .render(in: inner.row(0), into: &buffer)
        y += 1
        if y < inner.bottom {
            Sparkline(delayHistory, maximum: 200, style: lastMs >= 100 ? Theme.bad : Theme.accent, glyphs: glyphs)
                .render(in: inner.row(1), into: &buffer)
            y += 1
        }
        let jobs = p.jobsPerSecond.map { "\(formatCount($0))/s" } ?? "not counted"
        let busy = p.busyAtLastCapture > 0 ? "   \(p.busyAtLastCapture) busy at the last stall" : ""
        line("jobs \(jobs)   threads \(p.threads)   stalls \(p.stalls) (\(formatNanos(p.stalledNanos)))\(busy)", Theme.value)
        if stalled {
            line("STALLED for \(formatNanos(p.stalledNowNanos))", Theme.bad)
        }
        if !p.captureOn {
            line("culprit unknown: capture \(p.capture)", Theme.warn)
        }
        if !p.blockers.isEmpty, y < inner.bottom {
            line("top blockers (threshold \(formatNanos(p.thresholdNanos)))  Enter: stack", Theme.label.bolded())
            for (i, b) in p.blockers.enumerated() where y < inner.bottom {
                let row =
                    "\(pad(String(b.stalls), to: 4, glyphs: glyphs)) \(pad(formatNanos(b.totalNanos), to: 8, glyphs: glyphs)) \(PoolPane.place(b))"
                let style = focused && i == selected ? Theme.selected : (p.stalls > 0 ? Theme.bad : Theme.value)
                line(row, style)
            }
            if p.otherStalls > 0 { line("     + \(p.otherStalls) stalls elsewhere", Theme.label) }
        } else if p.stalls == 0, warnings.isEmpty {
            line("all clear: no stall of \(formatNanos(p.thresholdNanos)) or more", Theme.good)
        }
        for w in warnings where y < inner.bottom {
            line((w.level == .info ? "i " : "! ") + w.text, w.level == .bad ? Theme.bad : w.level == .warn ? Theme.warn : Theme.label)
        }
        for n in p.notes.suffix(2) { line("i " + n, Theme.label) }
    }

    /// A blocker in one short line: file:line first (the line a reader looks for), then the
    /// function without its signature.
    public static func place(_ b: PoolBlocker) -> String {
        let at = b.culprit.flatMap { f in f.file.map { "\($0.split(separator: "/").last.map(String.init) ?? $0):\(f.line ?? 0) " } } ?? ""
        return at + shortFunction(b.location)
    }

    /// `closure #1 in BlockingScenario.run(...)` from the demangler's long form.
    public static func shortFunction(_ name: String) -> String {
        var s = Substring(name)
        for prefix in ["merged ", "partial apply for ", "specialized "] where s.hasPrefix(prefix) { s = s.dropFirst(prefix.count) }
        if s.hasPrefix("("), let close = s.firstIndex(of: ")") { s = s[s.index(after: close)...].drop { $0 == " " } }
        for prefix in ["suspend resume partial function for ", "await resume partial function for "] where s.hasPrefix(prefix) {
            s = s.dropFirst(prefix.count)
        }
        // Each part of "closure #1 ... in Type.function(...)": its name, without signature or module.
        let parts = s.split(separator: " in ", omittingEmptySubsequences: true).map { part -> String in
            if part.hasPrefix("closure #") { return part.split(separator: " ").prefix(2).joined(separator: " ") }
            let name = part.prefix { $0 != "(" }
            let dotted = name.split(separator: ".")
            return dotted.count > 2 ? dotted.suffix(2).joined(separator: ".") : String(name)
        }
        return parts.joined(separator: " in ")
    }
}

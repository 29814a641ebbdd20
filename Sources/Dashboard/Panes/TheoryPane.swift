import AsyncPatterns
import TUI

/// Queueing theory beside the measurement: for each queue a run models, the measured
/// arrival rate λ, service rate μ, servers c and utilization ρ, the measured mean wait and
/// depth next to what the model predicts, and Little's law (λ·Wq) as a check on the depth.
public struct TheoryPane: Widget {
    public var models: [QueueModelSnapshot]
    public var glyphs: Glyphs

    public init(models: [QueueModelSnapshot], glyphs: Glyphs) {
        self.models = models
        self.glyphs = glyphs
    }

    /// Rows it needs: a border, a header, a row per queue and a line for the model names.
    public static func height(for models: [QueueModelSnapshot]) -> Int { models.count + 4 }

    public func render(in area: Rect, into buffer: inout Buffer) {
        Panel("Theory beside the measurement", glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        let columns = [
            Table.Column("queue", width: max(5, min(16, models.map(\.name.count).max() ?? 5))), Table.Column("λ/s", width: 7, right: true),
            Table.Column("μ/s", width: 7, right: true),
            Table.Column("c", width: 4, right: true), Table.Column("ρ", width: 5, right: true),
            Table.Column("wait", width: 8, right: true), Table.Column("theory", width: 8, right: true),
            Table.Column("depth", width: 7, right: true), Table.Column("theory", width: 7, right: true),
            Table.Column("λ·W", width: 7, right: true), Table.Column("model"),
        ]
        let rows = models.map { m -> [String] in
            [
                m.name, formatOne(m.arrivalRate), formatOne(m.serviceRate), String(m.servers), formatFixed(m.utilization, places: 2),
                formatShortSeconds(m.measuredWaitSeconds), m.predictedWaitSeconds.map(formatShortSeconds) ?? "∞",
                formatOne(m.measuredDepth),
                m.predictedDepth.map(formatOne) ?? "∞", formatOne(m.littleDepth), m.model,
            ]
        }
        let styles = models.map { $0.isUnstable ? Theme.bad : $0.utilization >= 0.85 ? Theme.warn : Style.plain }
        Table(columns: columns, rows: rows, rowStyles: styles, glyphs: glyphs)
            .render(in: Rect(x: inner.x, y: inner.y, width: inner.width, height: max(0, inner.height - 1)), into: &buffer)
        guard inner.height > models.count + 1 else { return }
        buffer.put(
            truncate(
                "wait, depth: measured; theory: M/M/c (Erlang C) or G/G/c (Allen-Cunneen); λ·W: Little's law; ∞: ρ ≥ 1, no steady state",
                to: inner.width, glyphs: glyphs), x: inner.x,
            y: inner.bottom - 1, style: Theme.label, clip: inner)
    }
}

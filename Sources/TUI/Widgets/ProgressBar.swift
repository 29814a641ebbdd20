/// A stream's progress: name, bar, items, rate and ETA on one line:
/// `data #1 [████▌    ] 45/100  12.0/s  eta 4.6s`.
public struct ProgressBar: Widget {
    public var label: String
    public var done: Int
    public var total: Int?
    public var ratePerSecond: Double
    public var etaSeconds: Double?
    public var finished: Bool
    public var glyphs: Glyphs

    public init(_ label: String, done: Int, total: Int?, ratePerSecond: Double, etaSeconds: Double?, finished: Bool, glyphs: Glyphs) {
        self.label = label
        self.done = done
        self.total = total
        self.ratePerSecond = ratePerSecond
        self.etaSeconds = etaSeconds
        self.finished = finished
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        let count = total.map { "\(formatCount(Double(done)))/\(formatCount(Double($0)))" } ?? formatCount(Double(done))
        let tail: String
        if finished {
            tail = "\(count)  done"
        } else if let eta = etaSeconds {
            tail = "\(count)  \(formatOne(ratePerSecond))/s  eta \(formatOne(eta))s"
        } else {
            tail = "\(count)  \(formatOne(ratePerSecond))/s"
        }
        let labelWidth = min(CellWidth.of(label), max(0, area.width / 3))
        var x = area.x + buffer.put(pad(label, to: labelWidth, glyphs: glyphs), x: area.x, y: area.y, style: Theme.label, clip: area) + 1
        let barWidth = area.right - x - CellWidth.of(tail) - 1
        if barWidth >= 3 {
            let fraction = total.map { $0 > 0 ? min(1, Double(done) / Double($0)) : 1 } ?? 0
            if total != nil {
                Bar(fraction: fraction, glyphs: glyphs, style: finished ? Theme.good : Theme.accent)
                    .draw(x: x, y: area.y, width: barWidth, into: &buffer, clip: area)
            } else {
                buffer.put(pad("open-ended", to: barWidth, glyphs: glyphs), x: x, y: area.y, style: Theme.dim, clip: area)
            }
            x += barWidth + 1
        }
        buffer.put(tail, x: x, y: area.y, style: Theme.value, clip: area)
    }
}

/// Semaphore permits as a grid of slots, busy ■ and free □, then the waiting line:
/// `■■■□  waiting ····· 12`.
public struct SlotGrid: Widget {
    public var limit: Int
    public var inUse: Int
    public var waiting: Int
    public var glyphs: Glyphs

    public init(limit: Int, inUse: Int, waiting: Int, glyphs: Glyphs) {
        self.limit = limit
        self.inUse = inUse
        self.waiting = waiting
        self.glyphs = glyphs
    }

    public func render(in area: Rect, into buffer: inout Buffer) {
        guard !area.isEmpty else { return }
        // Any numbers render (a recording's may be hostile): none below zero, and no more
        // slots than the area could show.
        let (limit, inUse, waiting) = (max(0, limit), max(0, inUse), max(0, waiting))
        let perRow = max(1, area.width)
        // In use can exceed the limit right after it was lowered: those slots show as busy, in red.
        let slots = min(max(limit, inUse), perRow * area.height + 1)
        let rowsForSlots = max(1, (slots + perRow - 1) / perRow)
        let slotRows = min(area.height - (area.height > 1 ? 1 : 0), rowsForSlots)
        var shown = 0
        outer: for r in 0..<max(1, slotRows) {
            for c in 0..<perRow {
                let i = r * perRow + c
                if i >= slots { break outer }
                if r == slotRows - 1, c == perRow - 1, i < slots - 1 {
                    buffer.put(glyphs.ellipsis, x: area.x + c, y: area.y + r, style: Theme.label, clip: area)
                    break outer
                }
                let busy = i < inUse
                let style = i >= limit ? Theme.bad : busy ? Theme.warn : Theme.good
                buffer.put(busy ? glyphs.slotBusy : glyphs.slotFree, x: area.x + c, y: area.y + r, style: style, clip: area)
                shown += 1
            }
        }
        if slots == 0 {
            buffer.put("no permits", x: area.x, y: area.y, style: Theme.bad, clip: area)
        }
        let lineY = area.height > 1 ? area.y + max(1, slotRows) : area.y
        let label = "waiting \(waiting) "
        let x = area.height > 1 ? area.x : area.x + min(area.width, slots + 1)
        let used = buffer.put(label, x: x, y: lineY, style: waiting > 0 ? Theme.warn : Theme.label, clip: area)
        let dots = min(waiting, max(0, area.right - x - used))
        buffer.put(String(repeating: glyphs.slotWaiting, count: dots), x: x + used, y: lineY, style: Theme.warn, clip: area)
    }
}

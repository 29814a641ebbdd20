import AsyncPatterns
import TUI

/// One top blocker up close: its figures and the whole stack captured there, innermost
/// first; frames of the runtime, libdispatch and libc dimmed (folded in the list view).
public struct PoolBlockerPane: Widget {
    /// The place shown, with its last stack.
    public var blocker: PoolBlocker
    /// The characters drawn with.
    public var glyphs: Glyphs

    /// A pane over `blocker`.
    public init(blocker: PoolBlocker, glyphs: Glyphs) {
        self.blocker = blocker
        self.glyphs = glyphs
    }

    /// Draws the pane into `area`.
    public func render(in area: Rect, into buffer: inout Buffer) {
        let b = blocker
        Panel("Blocker \(PoolPane.place(b))  Esc: back", focused: true, glyphs: glyphs).render(in: area, into: &buffer)
        let inner = Panel.inner(area)
        guard !inner.isEmpty else { return }
        var y = inner.y
        func line(_ text: String, _ style: Style) {
            guard y < inner.bottom else { return }
            buffer.put(truncate(text, to: inner.width, glyphs: glyphs), x: inner.x, y: y, style: style, clip: inner)
            y += 1
        }
        line(
            "\(b.stalls) stalls, \(formatNanos(b.totalNanos)) stalled, the longest \(formatNanos(b.longestNanos)); last seen at \(formatOne(b.lastSeenSeconds)) s",
            Theme.value)
        line(b.location, Theme.label)
        line("stack, innermost first (dim: runtime, libdispatch, libc)", Theme.label.bolded())
        for (i, f) in b.frames.enumerated() {
            let module = f.module.split(separator: "/").last.map(String.init) ?? f.module
            let name = f.symbol ?? "\(module)+0x\(String(f.offset, radix: 16))"
            let at = f.file.map { "\($0.split(separator: "/").last.map(String.init) ?? $0):\(f.line ?? 0)  " } ?? ""
            line("\(pad(String(i), to: 3, glyphs: glyphs)) \(at)\(name)  [\(module)]", f.folded ? Theme.dim : Theme.value)
        }
    }
}

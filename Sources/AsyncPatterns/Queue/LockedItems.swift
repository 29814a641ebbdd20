/// The items of a LIFO or priority `BoundedQueue`, kept under the queue's lock (a FIFO
/// queue keeps them in its `QueueRing`): a stack, or a binary min-heap by the queue's
/// ordering with ties broken by the order of the puts.
///
/// Hand-written rather than swift-collections' `Heap`: that one needs `Comparable`
/// elements, and an ordering given as a closure would have to travel inside every element
/// (and be retained and released with each move).
@usableFromInline struct LockedItems<Element> {
    @usableFromInline struct Entry {
        @usableFromInline var element: Element
        /// The put's position: the tie-break that keeps equal items in put order.
        @usableFromInline var sequence: Int
        /// When it went in, if sampled for the wait-time distribution (0: not sampled).
        @usableFromInline var stamp: UInt64
        @inlinable init(element: Element, sequence: Int, stamp: UInt64) {
            self.element = element
            self.sequence = sequence
            self.stamp = stamp
        }
    }

    /// nil: LIFO.
    @usableFromInline let areInIncreasingOrder: (@Sendable (Element, Element) -> Bool)?
    @usableFromInline var entries: [Entry] = []

    @inlinable init(areInIncreasingOrder: (@Sendable (Element, Element) -> Bool)?) {
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    @inlinable var count: Int { entries.count }

    @inlinable mutating func insert(_ entry: Entry) {
        entries.append(entry)
        guard let before = areInIncreasingOrder else { return }
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entries[child], entries[parent], before) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// The last put (LIFO), or the smallest, first put among equals (priority).
    @inlinable mutating func removeNext() -> Entry? {
        guard let before = areInIncreasingOrder, entries.count > 1 else { return entries.popLast() }
        entries.swapAt(0, entries.count - 1)
        let next = entries.removeLast()
        var parent = 0
        while true {
            var first = parent
            let left = 2 * parent + 1
            if left < entries.count, Self.precedes(entries[left], entries[first], before) { first = left }
            if left + 1 < entries.count, Self.precedes(entries[left + 1], entries[first], before) { first = left + 1 }
            if first == parent { return next }
            entries.swapAt(parent, first)
            parent = first
        }
    }

    /// Every item, in no particular order (they are being discarded).
    @inlinable mutating func removeAll() -> [Element] {
        defer { entries = [] }
        return entries.map(\.element)
    }

    @inlinable static func precedes(_ a: Entry, _ b: Entry, _ before: (Element, Element) -> Bool) -> Bool {
        if before(a.element, b.element) { return true }
        if before(b.element, a.element) { return false }
        return a.sequence < b.sequence
    }
}

extension LockedItems: Sendable where Element: Sendable {}
extension LockedItems.Entry: Sendable where Element: Sendable {}

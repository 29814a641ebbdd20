/// The order in which a `BoundedQueue` hands out its items, chosen when it is created:
/// first in first out (asyncio's `Queue`), last in first out (`LifoQueue`), or smallest
/// first (`PriorityQueue`).
///
/// Only the order of the items differs. Waiting, back-pressure, the low-water mark,
/// `close`, `join` and what the queue counts and emits are the same in every order, and
/// waiting producers and consumers are always served first come, first served.
///
/// A FIFO queue keeps its items in a lock-free ring (a `put` with room and a `get` with
/// items take no lock). A LIFO or priority queue keeps them in a stack or a binary heap
/// under the queue's lock: every `put` and `get` takes the lock once.
public struct QueueOrder<Element>: Sendable {
    @usableFromInline enum Kind: Sendable {
        case fifo
        case lifo
        case priority(@Sendable (Element, Element) -> Bool)
    }

    @usableFromInline let kind: Kind

    @inlinable init(_ kind: Kind) { self.kind = kind }

    /// First in, first out (the default; asyncio's `Queue`).
    public static var fifo: QueueOrder { QueueOrder(.fifo) }

    /// Last in, first out: `get` takes the item put last (asyncio's `LifoQueue`).
    public static var lifo: QueueOrder { QueueOrder(.lifo) }

    /// Smallest first (asyncio's `PriorityQueue`): `get` takes an item that no other item
    /// in the queue comes before, by `areInIncreasingOrder` (a strict weak ordering, as
    /// `sort(by:)` takes). Items that compare equal come out in the order they were put
    /// (stable; asyncio's heap makes no such promise, so its users put `(priority, count,
    /// item)` tuples to get it).
    ///
    /// `areInIncreasingOrder` is called under the queue's lock, O(log n) times a `put` or
    /// `get`: it must be quick and must not use the queue (that would deadlock).
    public static func priority(by areInIncreasingOrder: @escaping @Sendable (Element, Element) -> Bool) -> QueueOrder {
        QueueOrder(.priority(areInIncreasingOrder))
    }

    /// Whether this is `.fifo`.
    @inlinable var isFIFO: Bool {
        if case .fifo = kind { return true }
        return false
    }
}

extension QueueOrder where Element: Comparable & Sendable {
    /// Smallest first by `<` (asyncio's `PriorityQueue`); equal items in the order they were
    /// put. See `priority(by:)`.
    public static var priority: QueueOrder { .priority(by: { $0 < $1 }) }
}

extension QueueOrder: CustomStringConvertible {
    /// `fifo`, `lifo` or `priority`.
    public var description: String {
        switch kind {
        case .fifo: "fifo"
        case .lifo: "lifo"
        case .priority: "priority"
        }
    }
}

import DequeModule
import Synchronization

/// Where a line of waiters announces how long it is to code that runs without the lock.
@usableFromInline
protocol AnnouncedCount {
    /// Adds `delta` (a read-modify-write, sequentially consistent).
    func add(_ delta: Int)
    /// Sets the count (sequentially consistent).
    func set(_ value: Int)
}

/// A line of waiters, in order, together with the count of them that the lock-free paths
/// read: the one place that changes both, so whenever the lock is free the announced count
/// is the line's length.
///
/// Why the announcement cannot lose a wake-up: a waiter joins the line (the count goes up
/// with a sequentially consistent read-modify-write) and THEN, still under the lock, looks
/// for what it waits for; the other side changes what is waited for (a sequentially
/// consistent compare-and-swap on the ring, or on `done`) and THEN reads the count,
/// sequentially consistent. In the single order of those operations one of the two comes
/// first, so either the waiter sees the change or the other side sees the waiter and takes
/// the lock to wake it.
@usableFromInline
struct WaiterLine<Waiter, Count: AnnouncedCount> {
    @usableFromInline private(set) var waiters: Deque<Waiter> = []
    @usableFromInline let announced: Count

    @inlinable init(announcing announced: Count) {
        self.announced = announced
    }

    @inlinable var isEmpty: Bool { waiters.isEmpty }
    @inlinable var count: Int { waiters.count }
    @inlinable var first: Waiter? { waiters.first }

    /// Joins the line at the back; announced before the caller looks for what it waits for.
    @inlinable mutating func append(_ waiter: Waiter) {
        waiters.append(waiter)
        announced.add(1)
    }

    /// Takes the front waiter out; the line must not be empty.
    @inlinable @discardableResult mutating func removeFirst() -> Waiter {
        let waiter = waiters.removeFirst()
        announced.add(-1)
        return waiter
    }

    /// Takes out the first waiter that matches, if any (a cancelled or timed-out wait).
    @inlinable mutating func remove(where matches: (Waiter) -> Bool) -> Waiter? {
        guard let index = waiters.firstIndex(where: matches) else { return nil }
        let waiter = waiters.remove(at: index)
        announced.add(-1)
        return waiter
    }

    /// Takes every waiter out, in order.
    @inlinable mutating func removeAll() -> Deque<Waiter> {
        let all = waiters
        waiters.removeAll(keepingCapacity: true)
        announced.set(0)
        return all
    }
}

extension WaiterLine: Sequence {
    @inlinable func makeIterator() -> Deque<Waiter>.Iterator { waiters.makeIterator() }
}

extension WaiterLine: Sendable where Waiter: Sendable, Count: Sendable {}

extension QueueRing {
    /// The ring's counts of waiters, each announced by one line of the queue's state machine.
    @usableFromInline enum Line: Sendable {
        case waitingConsumers, pendingProducers, admittedProducers
    }

    /// One of the ring's counts, as a line announces it.
    @usableFromInline struct Announced: AnnouncedCount, Sendable {
        @usableFromInline let ring: QueueRing
        @usableFromInline let line: Line

        @inlinable init(_ ring: QueueRing, _ line: Line) {
            self.ring = ring
            self.line = line
        }

        @inlinable func add(_ delta: Int) {
            switch line {
            case .waitingConsumers: ring.waitingConsumers.wrappingAdd(delta, ordering: .sequentiallyConsistent)
            case .pendingProducers: ring.pendingProducers.wrappingAdd(delta, ordering: .sequentiallyConsistent)
            case .admittedProducers: ring.admittedProducers.wrappingAdd(delta, ordering: .sequentiallyConsistent)
            }
        }

        @inlinable func set(_ value: Int) {
            switch line {
            case .waitingConsumers: ring.waitingConsumers.store(value, ordering: .sequentiallyConsistent)
            case .pendingProducers: ring.pendingProducers.store(value, ordering: .sequentiallyConsistent)
            case .admittedProducers: ring.admittedProducers.store(value, ordering: .sequentiallyConsistent)
            }
        }
    }
}

extension QueueCompletion: AnnouncedCount {
    @inlinable func add(_ delta: Int) { joinersWaiting.wrappingAdd(delta, ordering: .sequentiallyConsistent) }
    @inlinable func set(_ value: Int) { joinersWaiting.store(value, ordering: .sequentiallyConsistent) }
}

import Synchronization

/// The semaphore's atomic word: the permits in use while acquire and release may change
/// them without the lock, and a slow flag that sends both to the lock.
///
/// Bits, high to low: slow (1) | fast grants (21) | ceiling (21) | in use (21). One word,
/// so a single compare-and-swap both decides that the fast path applies and takes it: a
/// fast acquire or release can never slip in between the lock's reading of the word and
/// its setting the slow flag (the flag is set with an atomic read-modify-write).
///
/// - `ceiling`: the fast path grants only while `inUse < ceiling`. It is the least of the
///   limit and `maxInUse`, so the lock sees every grant that raises `maxInUse` (and
///   `maxInUse` stays exact without a second atomic).
/// - `fastGrants`: permits granted without the lock since the lock last counted them, so
///   `acquired` (and with it `released`, which is `acquired - inUse`) stays exact.
/// - `slow`: set while waiters are in line, while the lock decides anything (so a release
///   cannot bypass a waiter that is about to queue), and while someone subscribes to every
///   event. While it is set, the lock's state machine holds the numbers and the word's
///   other bits mean nothing.
@usableFromInline struct PermitWord: Hashable, Sendable {
    @usableFromInline var raw: UInt64

    @usableFromInline static let fieldBits: UInt64 = 21
    /// The largest in-use count, ceiling and fast-grant count the word holds; beyond it
    /// (a limit above two million permits held) the semaphore stays on the lock.
    @usableFromInline static let fieldMax = (1 << 21) - 1
    @usableFromInline static let fieldMask = UInt64(fieldMax)
    @usableFromInline static let slowBit: UInt64 = 1 << 63
    @usableFromInline static let oneGrant: UInt64 = 1 << (2 * fieldBits)

    /// The word while the lock holds the numbers.
    @usableFromInline static let slow = PermitWord(raw: slowBit)

    @inlinable init(raw: UInt64) { self.raw = raw }

    @inlinable init(inUse: Int, ceiling: Int, fastGrants: Int = 0) {
        assert((0...Self.fieldMax).contains(inUse) && (0...Self.fieldMax).contains(ceiling))
        assert((0...Self.fieldMax).contains(fastGrants))
        raw = UInt64(inUse) | UInt64(ceiling) << Self.fieldBits | UInt64(fastGrants) << (2 * Self.fieldBits)
    }

    @inlinable var isSlow: Bool { raw & Self.slowBit != 0 }
    @inlinable var inUse: Int { Int(raw & Self.fieldMask) }
    @inlinable var ceiling: Int { Int(raw >> Self.fieldBits & Self.fieldMask) }
    @inlinable var fastGrants: Int { Int(raw >> (2 * Self.fieldBits) & Self.fieldMask) }

    /// The word after one more permit is granted without the lock; nil: the lock decides
    /// (slow, at the ceiling, or the grant count is full and must be counted first).
    @inlinable func acquiring() -> PermitWord? {
        guard !isSlow, inUse < ceiling, fastGrants < Self.fieldMax else { return nil }
        return PermitWord(raw: raw &+ 1 &+ Self.oneGrant)
    }

    @usableFromInline enum Releasing: Hashable {
        case released(PermitWord)
        /// Exact: while the word is not slow, its in-use count is the semaphore's.
        case notHeld
        case slow
    }

    /// The word after one permit is returned without the lock.
    @inlinable func releasing() -> Releasing {
        if isSlow { return .slow }
        guard inUse > 0 else { return .notHeld }
        return .released(PermitWord(raw: raw &- 1))
    }

    /// The same word with its fast grants counted (zeroed).
    @inlinable var withoutFastGrants: PermitWord {
        PermitWord(raw: raw & ~(Self.fieldMask << (2 * Self.fieldBits)))
    }
}

/// The atomic permit word, in an object of its own so the registry's probe can count the
/// fast path's grants without holding the semaphore.
@usableFromInline
final class PermitCounter: Sendable {
    /// A `PermitWord`'s raw value; starts slow (the machine holds the numbers) until the
    /// first operation under the lock publishes it.
    @usableFromInline let word = Atomic<UInt64>(PermitWord.slow.raw)

    @usableFromInline init() {}

    /// Relaxed: a first guess for a compare-and-swap, which reads the word again and orders
    /// (acquire and release) what it changes.
    @inlinable func load() -> PermitWord { PermitWord(raw: word.load(ordering: .relaxed)) }

    /// Takes a free permit with one compare-and-swap, if the word allows it.
    /// - Returns: false when the lock must decide (slow, at the ceiling, grants to count).
    @inlinable func tryAcquire() -> Bool {
        var current = load()
        while let next = current.acquiring() {
            let (exchanged, seen) = word.compareExchange(
                expected: current.raw, desired: next.raw, successOrdering: .acquiringAndReleasing, failureOrdering: .relaxed)
            if exchanged { return true }
            current = PermitWord(raw: seen)
        }
        return false
    }

    /// Returns a permit with one compare-and-swap while the word holds the numbers.
    /// - Returns: false when the lock must decide (the word is slow).
    /// - Throws: `ReleaseWithoutAcquire` when the word says no permit is held.
    @inlinable func tryRelease() throws(ReleaseWithoutAcquire) -> Bool {
        var current = load()
        while true {
            switch current.releasing() {
            case .slow:
                return false
            case .notHeld:
                throw ReleaseWithoutAcquire()
            case .released(let next):
                let (exchanged, seen) = word.compareExchange(
                    expected: current.raw, desired: next.raw, successOrdering: .acquiringAndReleasing, failureOrdering: .relaxed)
                if exchanged { return true }
                current = PermitWord(raw: seen)
            }
        }
    }

    /// Sets the slow flag; returns the word as it was. Under the lock, while published.
    @inlinable func freeze() -> PermitWord {
        PermitWord(raw: word.bitwiseOr(PermitWord.slowBit, ordering: .acquiringAndReleasing).oldValue)
    }

    /// Publishes `new` in place of the frozen word. Under the lock: only the lock changes a
    /// slow word, so a plain store cannot overwrite a fast operation.
    @inlinable func publish(_ new: PermitWord) {
        assert(PermitWord(raw: word.load(ordering: .relaxed)).isSlow, "published a word that was not frozen")
        word.store(new.raw, ordering: .releasing)
    }

    /// Brings `machine`'s numbers up to date with the fast path's (under the lock): counts
    /// the grants made without the lock since last time, once each.
    @inlinable func count<Waiter>(into machine: inout AsyncSemaphoreStateMachine<Waiter>) {
        guard machine.isFast else { return }
        var current = word.load(ordering: .acquiring)
        while PermitWord(raw: current).fastGrants > 0 {
            let next = PermitWord(raw: current).withoutFastGrants.raw
            let (exchanged, seen) = word.compareExchange(
                expected: current, desired: next, successOrdering: .acquiringAndReleasing, failureOrdering: .relaxed)
            if exchanged { break }
            current = seen
        }
        machine.observe(PermitWord(raw: current))
    }
}

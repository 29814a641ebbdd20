#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import CMonotonicClock

/// Nanoseconds on CLOCK_MONOTONIC: about 20 ns through the vDSO, no allocation. What the
/// engine measures durations with (a wait, a hold, a message's processing): ordered across
/// threads, so a later read on any thread is never earlier.
@usableFromInline
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Nanoseconds on CLOCK_MONOTONIC as the events' clock keeps it: about 10 ns where the
/// kernel reads that clock from the TSC (see CMonotonicClock.h). Never back on one thread;
/// across threads within a few hundred nanoseconds, which events, ordered by their numbers,
/// can afford and durations cannot. Inlined into every event's building.
@inlinable
func eventNanoseconds() -> UInt64 {
    sluice_clock_now()
}

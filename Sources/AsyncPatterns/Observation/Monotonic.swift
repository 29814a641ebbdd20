internal import CMonotonicClock

/// Nanoseconds on CLOCK_MONOTONIC, no allocation: about 10 ns where the kernel reads that
/// clock from the TSC (read here the same way, see CMonotonicClock.h), else the vDSO's 20.
@usableFromInline
func monotonicNanoseconds() -> UInt64 {
    sluice_clock_now()
}

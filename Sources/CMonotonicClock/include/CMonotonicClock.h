#ifndef SLUICE_CMONOTONICCLOCK_H
#define SLUICE_CMONOTONICCLOCK_H

// CLOCK_MONOTONIC for every event and wait time, read through the CPU's time-stamp counter
// where the kernel itself reads CLOCK_MONOTONIC from it (issue #23: the vDSO's ordered read
// and its bookkeeping cost 23 ns here, a plain `rdtsc` 10).
//
// The kernel's CLOCK_MONOTONIC is the TSC scaled. This clock scales it too, with a rate it
// measures against CLOCK_MONOTONIC and an anchor it renews at least once a second, so it
// stays within a few microseconds of CLOCK_MONOTONIC and never goes back. Where the kernel
// does not trust the TSC, or where it is not x86-64, every read is CLOCK_MONOTONIC; where
// the TSC is found unsteady (its rate moved by 0.1%, or it ran 1 ms ahead), every read
// after is CLOCK_MONOTONIC, never below what the TSC's mapping had handed out.

#include <stdatomic.h>
#include <stdint.h>

/// A mapping from TSC ticks to nanoseconds: `nanoseconds + ((tsc - anchor) * scale >> 32)`
/// for `tsc - anchor < horizon`. `scale` 0: no mapping.
typedef struct {
    uint64_t tsc;
    uint64_t nanoseconds;
    uint64_t scale;
    uint64_t horizon;
} sluice_clock_anchor;

/// What the clock knows: the mapping it hands out, the raw reading its rate was last
/// measured from (or, before the first mapping, the best first reading), and whether the TSC
/// is out of use.
typedef struct {
    sluice_clock_anchor anchor;
    uint64_t lastTsc;
    uint64_t lastNanoseconds;
    uint64_t lastWidth;
    int off;
} sluice_clock_state;

/// The next state after a raw reading: CLOCK_MONOTONIC's `nanoseconds`, and `tsc` known to
/// within `width` ticks (the ordered reads either side of it). Pure: the whole policy, and
/// what the tests drive with made-up counters.
sluice_clock_state sluice_clock_step(sluice_clock_state state, uint64_t tsc, uint64_t nanoseconds, uint64_t width);

/// The most a mapping can have handed out by the time the TSC reads `tsc`: its value there,
/// or at the end of its horizon.
uint64_t sluice_clock_reached(sluice_clock_anchor anchor, uint64_t tsc);

/// What the clock answers for `tsc` with `anchor` published, CLOCK_MONOTONIC then reading
/// `nanoseconds`: the mapping's value, or for a stale mapping not renewed (its readings too
/// loose) CLOCK_MONOTONIC but never below what the mapping reached.
uint64_t sluice_clock_answer(sluice_clock_anchor anchor, uint64_t tsc, uint64_t nanoseconds);

/// The published mapping, behind a sequence number (a seqlock: odd while being written,
/// 0 before the first mapping). Every field atomic, so readers race with nothing.
typedef struct {
    _Atomic(uint64_t) sequence;
    _Atomic(uint64_t) tsc;
    _Atomic(uint64_t) nanoseconds;
    _Atomic(uint64_t) scale;
    _Atomic(uint64_t) horizon;
} sluice_clock_published;

extern sluice_clock_published sluice_clock_shared;

/// The read when the mapping cannot answer: the first ones, a stale mapping, a writer at work.
uint64_t sluice_clock_slow(void);

/// 0 while the clock is still measuring the TSC's rate, 1 while it reads the TSC, 2 when it
/// reads CLOCK_MONOTONIC for good (no trusted TSC here).
int sluice_clock_mode(void);

/// The published mapping's answer for now, if it has one: 1 and `*nanoseconds` set, or 0.
static inline int sluice_clock_mapped(uint64_t *nanoseconds) {
#if defined(__x86_64__)
    uint64_t sequence = atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire);
    if (sequence == 0 || (sequence & 1) != 0) return 0;
    uint64_t tsc = __builtin_ia32_rdtsc();
    uint64_t anchor = atomic_load_explicit(&sluice_clock_shared.tsc, memory_order_relaxed);
    uint64_t base = atomic_load_explicit(&sluice_clock_shared.nanoseconds, memory_order_relaxed);
    uint64_t scale = atomic_load_explicit(&sluice_clock_shared.scale, memory_order_relaxed);
    uint64_t horizon = atomic_load_explicit(&sluice_clock_shared.horizon, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    uint64_t ticks = tsc - anchor;
    if (atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_relaxed) != sequence || ticks >= horizon)
        return 0;
    *nanoseconds = base + (uint64_t)(((unsigned __int128)ticks * scale) >> 32);
    return 1;
#else
    (void)nanoseconds;
    return 0;
#endif
}

/// Nanoseconds on CLOCK_MONOTONIC (as this clock keeps it).
static inline uint64_t sluice_clock_now(void) {
    uint64_t nanoseconds;
    if (sluice_clock_mapped(&nanoseconds)) return nanoseconds;
    return sluice_clock_slow();
}

#endif

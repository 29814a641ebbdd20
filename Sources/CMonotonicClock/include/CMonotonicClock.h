#ifndef SLUICE_CMONOTONICCLOCK_H
#define SLUICE_CMONOTONICCLOCK_H

// The timestamp of every event: CLOCK_MONOTONIC read through the CPU's time-stamp counter
// where the kernel itself reads CLOCK_MONOTONIC from it (issue #23: the vDSO's ordered read
// and its bookkeeping cost 23 ns here, a plain `rdtsc` 10).
//
// The kernel's CLOCK_MONOTONIC is the TSC scaled. This clock scales it too, with a rate it
// measures against CLOCK_MONOTONIC and an anchor it renews at least once a second. It stays
// within a millisecond of CLOCK_MONOTONIC (microseconds while the kernel does not slew its
// clock), and a thread never sees it go back. Across threads it is as ordered as the
// counter read without a fence: a thread may read a time a few hundred nanoseconds before
// one another thread read just before (events are ordered by their numbers, not by their
// times). Where the kernel does not read the TSC, where it is not x86-64 with an invariant
// TSC, in a process's first 10 ms, and for good once the TSC is found unsteady (its rate
// moved by 0.1%, or it ran 1 ms ahead), a read is CLOCK_MONOTONIC, never below what the
// TSC's mapping handed out. Durations the engine measures read CLOCK_MONOTONIC itself.

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
    /// The rate last measured (the mapping's `scale` may be slowed a little to catch up).
    uint64_t measuredScale;
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

/// One published copy of a mapping. Every field atomic, so readers race with nothing.
typedef struct {
    _Atomic(uint64_t) tsc;
    _Atomic(uint64_t) nanoseconds;
    _Atomic(uint64_t) scale;
    _Atomic(uint64_t) horizon;
} sluice_clock_copy;

/// The published mapping as a latch (the kernel's `seqcount_latch`): two copies, the
/// current one `copies[sequence & 1]`; a writer fills the other and then counts the
/// publication, so a reader never waits for a writer, and retries only if a publication
/// came while it read. `sequence` 0: no mapping.
typedef struct {
    _Atomic(uint64_t) sequence;
    sluice_clock_copy copies[2];
} sluice_clock_published;

extern sluice_clock_published sluice_clock_shared;

/// The current mapping, read whole: 1 and `*anchor` set, or 0 (none, or a publication came
/// while it was read).
static inline int sluice_clock_load(sluice_clock_anchor *anchor) {
    uint64_t sequence = atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire);
    if (sequence == 0) return 0;
    sluice_clock_copy *copy = &sluice_clock_shared.copies[sequence & 1];
    anchor->tsc = atomic_load_explicit(&copy->tsc, memory_order_relaxed);
    anchor->nanoseconds = atomic_load_explicit(&copy->nanoseconds, memory_order_relaxed);
    anchor->scale = atomic_load_explicit(&copy->scale, memory_order_relaxed);
    anchor->horizon = atomic_load_explicit(&copy->horizon, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_relaxed) == sequence;
}

/// The read when the mapping cannot answer: the first ones, a stale mapping.
uint64_t sluice_clock_slow(void);

/// 0 while the clock is still measuring the TSC's rate, 1 while it reads the TSC, 2 when it
/// reads CLOCK_MONOTONIC for good (no trusted TSC here).
int sluice_clock_mode(void);

/// The published mapping's answer for now, if it has one and it is fresh: 1 and
/// `*nanoseconds` set, or 0.
static inline int sluice_clock_mapped(uint64_t *nanoseconds) {
#if defined(__x86_64__)
    sluice_clock_anchor a;
    uint64_t tsc = __builtin_ia32_rdtsc();
    if (!sluice_clock_load(&a)) return 0;
    uint64_t ticks = tsc - a.tsc;
    if (ticks >= a.horizon) return 0;
    *nanoseconds = a.nanoseconds + (uint64_t)(((unsigned __int128)ticks * a.scale) >> 32);
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

#include "CMonotonicClock.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// How long the first rate is measured over; how long a mapping is trusted before it is
// measured again; how far apart two rates may be before the TSC is judged unsteady; how far
// ahead of CLOCK_MONOTONIC the clock may have run before it is judged broken.
#define CALIBRATION_NS 10000000ull
#define HORIZON_NS 1000000000ull
#define RATE_TOLERANCE_PPM 1000ull
#define MOST_AHEAD_NS 1000000ull
// TSC readings that came back by less than this are cores' counters a little apart: the
// clock keeps its mapping and answers its anchor. More than this, and the TSC is not steady.
#define SKEW_TICKS 100000ull

sluice_clock_published sluice_clock_shared;

static uint64_t map(uint64_t ticks, uint64_t scale) {
    return (uint64_t)(((unsigned __int128)ticks * scale) >> 32);
}

static uint64_t rate(uint64_t nanoseconds, uint64_t ticks) {
    return (uint64_t)(((unsigned __int128)nanoseconds << 32) / ticks);
}

static uint64_t horizon(uint64_t scale) {
    return (uint64_t)(((unsigned __int128)HORIZON_NS << 32) / scale);
}

// Between 100 MHz and 20 GHz: anything else is not a TSC.
static int plausible(uint64_t scale) {
    return scale >= (1ull << 32) / 20 && scale <= (1ull << 32) * 10;
}

sluice_clock_state sluice_clock_step(sluice_clock_state s, uint64_t tsc, uint64_t nanoseconds) {
    if (s.off) return s;
    if (s.lastTsc == 0 && s.lastNanoseconds == 0) {
        s.lastTsc = tsc;
        s.lastNanoseconds = nanoseconds;
        return s;
    }
    if (tsc <= s.lastTsc) {
        if (s.lastTsc - tsc > SKEW_TICKS) s.off = 1;
        return s;
    }
    if (nanoseconds < s.lastNanoseconds) return s;
    uint64_t ticks = tsc - s.lastTsc;
    uint64_t elapsed = nanoseconds - s.lastNanoseconds;
    sluice_clock_anchor a = s.anchor;
    if (a.scale == 0) {
        if (elapsed < CALIBRATION_NS) return s;
        uint64_t measured = rate(elapsed, ticks);
        if (!plausible(measured)) {
            s.off = 1;
            return s;
        }
        s.anchor = (sluice_clock_anchor){tsc, nanoseconds, measured, horizon(measured)};
        s.lastTsc = tsc;
        s.lastNanoseconds = nanoseconds;
        return s;
    }
    // A rate measured over less than half a horizon is too coarse to renew with; the mapping
    // stays (the caller asked because of a skewed read or a race with another writer).
    if (ticks < a.horizon / 2) return s;
    uint64_t measured = rate(elapsed, ticks);
    uint64_t previous = s.anchor.scale;
    uint64_t apart = measured > previous ? measured - previous : previous - measured;
    if (!plausible(measured) || (unsigned __int128)apart * 1000000 > (unsigned __int128)previous * RATE_TOLERANCE_PPM) {
        s.off = 1;
        return s;
    }
    // The most the old mapping handed out: the new one starts there or later, so the clock
    // never goes back. Where CLOCK_MONOTONIC is ahead, it jumps to it; where the clock ran
    // ahead, it slows by as much as it is ahead over the next horizon.
    uint64_t ceiling = a.nanoseconds + map(a.horizon, a.scale);
    uint64_t next = horizon(measured);
    if (nanoseconds >= ceiling) {
        s.anchor = (sluice_clock_anchor){tsc, nanoseconds, measured, next};
    } else {
        uint64_t ahead = ceiling - nanoseconds;
        if (ahead > MOST_AHEAD_NS) {
            s.off = 1;
            return s;
        }
        uint64_t slower = measured - rate(ahead, next);
        s.anchor = (sluice_clock_anchor){tsc, ceiling, slower, next};
    }
    s.lastTsc = tsc;
    s.lastNanoseconds = nanoseconds;
    return s;
}

static uint64_t monotonic(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

#if defined(__x86_64__)
enum { UNDECIDED = 0, TRUSTED = 1, REFUSED = 2 };
static _Atomic(int) trust;
// Written only by the thread that holds the odd sequence number.
static sluice_clock_state state;

// The kernel's own judgement: it reads CLOCK_MONOTONIC from the TSC only where the TSC is
// invariant and in step across CPUs.
static int kernelReadsTheTSC(void) {
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char name[16] = {0};
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    return n >= 3 && memcmp(name, "tsc", 3) == 0 && (n == 3 || name[3] == '\n');
}

static int trusted(void) {
    int t = atomic_load_explicit(&trust, memory_order_relaxed);
    if (t == UNDECIDED) {
        int decided = kernelReadsTheTSC() ? TRUSTED : REFUSED;
        atomic_compare_exchange_strong(&trust, &t, decided);
        t = atomic_load_explicit(&trust, memory_order_relaxed);
    }
    return t == TRUSTED;
}

// CLOCK_MONOTONIC and the TSC at (nearly) the same instant: ordered reads either side,
// the middle taken, a read that was interrupted taken again.
static void readPair(uint64_t *tsc, uint64_t *nanoseconds) {
    unsigned int cpu;
    for (int attempt = 0;; attempt++) {
        uint64_t before = __builtin_ia32_rdtscp(&cpu);
        *nanoseconds = monotonic();
        uint64_t after = __builtin_ia32_rdtscp(&cpu);
        *tsc = before + (after - before) / 2;
        if (after - before < 20000 || attempt == 3) return;
    }
}

static void publish(uint64_t sequence, sluice_clock_anchor a) {
    atomic_store_explicit(&sluice_clock_shared.tsc, a.tsc, memory_order_relaxed);
    atomic_store_explicit(&sluice_clock_shared.nanoseconds, a.nanoseconds, memory_order_relaxed);
    atomic_store_explicit(&sluice_clock_shared.scale, a.scale, memory_order_relaxed);
    atomic_store_explicit(&sluice_clock_shared.horizon, a.horizon, memory_order_relaxed);
    atomic_store_explicit(&sluice_clock_shared.sequence, sequence, memory_order_release);
}
#endif

uint64_t sluice_clock_slow(void) {
#if defined(__x86_64__)
    if (!trusted()) return monotonic();
    // A writer holds the sequence for four stores; one preempted there is waited for only
    // briefly, then CLOCK_MONOTONIC answers.
    for (int spin = 0; spin < 256; spin++) {
        uint64_t sequence = atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire);
        if (sequence & 1) {
            __builtin_ia32_pause();
            continue;
        }
        // Another writer may have renewed the mapping while this one waited.
        uint64_t answer;
        if (sluice_clock_mapped(&answer)) return answer;
        if (!atomic_compare_exchange_strong_explicit(&sluice_clock_shared.sequence, &sequence, sequence | 1,
                                                     memory_order_acquire, memory_order_relaxed))
            continue;
        if (atomic_load_explicit(&trust, memory_order_relaxed) != TRUSTED) {
            atomic_store_explicit(&sluice_clock_shared.sequence, 0, memory_order_release);
            return monotonic();
        }
        uint64_t tsc, nanoseconds;
        readPair(&tsc, &nanoseconds);
        state = sluice_clock_step(state, tsc, nanoseconds);
        if (state.off) {
            atomic_store_explicit(&trust, REFUSED, memory_order_relaxed);
            atomic_store_explicit(&sluice_clock_shared.sequence, 0, memory_order_release);
            return nanoseconds;
        }
        sluice_clock_anchor a = state.anchor;
        if (a.scale == 0) {
            atomic_store_explicit(&sluice_clock_shared.sequence, 0, memory_order_release);
            return nanoseconds;
        }
        publish((sequence | 1) + 1, a);
        if (tsc < a.tsc) return a.nanoseconds;
        return a.nanoseconds + map(tsc - a.tsc, a.scale);
    }
#endif
    return monotonic();
}

int sluice_clock_mode(void) {
#if defined(__x86_64__)
    if (atomic_load_explicit(&trust, memory_order_relaxed) == REFUSED) return 2;
    return atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire) >= 2 ? 1 : 0;
#else
    return 2;
#endif
}

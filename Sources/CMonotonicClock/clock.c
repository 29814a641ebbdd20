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
// How precisely two readings must pin a rate down (their brackets against the ticks between
// them) before it is used: 10 ppm, 10 µs a second.
#define PRECISION_PPM 10ull
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

sluice_clock_state sluice_clock_step(sluice_clock_state s, uint64_t tsc, uint64_t nanoseconds, uint64_t width) {
    if (s.off) return s;
    if (s.lastTsc == 0 && s.lastNanoseconds == 0) {
        s.lastTsc = tsc;
        s.lastNanoseconds = nanoseconds;
        s.lastWidth = width;
        return s;
    }
    if (tsc <= s.lastTsc) {
        if (s.lastTsc - tsc > SKEW_TICKS) s.off = 1;
        return s;
    }
    if (nanoseconds < s.lastNanoseconds) return s;
    uint64_t ticks = tsc - s.lastTsc;
    uint64_t elapsed = nanoseconds - s.lastNanoseconds;
    // How sure a rate over these two readings is: each reading's TSC is known to within its
    // bracket (the ordered reads either side of CLOCK_MONOTONIC's).
    int precise = ((unsigned __int128)s.lastWidth + width) * 1000000 <= (unsigned __int128)ticks * PRECISION_PPM;
    sluice_clock_anchor a = s.anchor;
    if (a.scale == 0) {
        if (elapsed < CALIBRATION_NS || !precise) {
            // A reading bracketed more tightly than the first is a better start.
            if (width < s.lastWidth) {
                s.lastTsc = tsc;
                s.lastNanoseconds = nanoseconds;
                s.lastWidth = width;
            }
            return s;
        }
        uint64_t measured = rate(elapsed, ticks);
        if (!plausible(measured)) {
            s.off = 1;
            return s;
        }
        s.anchor = (sluice_clock_anchor){tsc, nanoseconds, measured, horizon(measured)};
        s.measuredScale = measured;
        s.lastTsc = tsc;
        s.lastNanoseconds = nanoseconds;
        s.lastWidth = width;
        return s;
    }
    // A rate measured over less than half a horizon, or from readings too loosely bracketed
    // (a thread preempted between them), is not one to renew with: the mapping stays, and
    // the next reading tries again.
    if (ticks < a.horizon / 2 || !precise) return s;
    uint64_t measured = rate(elapsed, ticks);
    uint64_t previous = s.measuredScale;
    uint64_t apart = measured > previous ? measured - previous : previous - measured;
    if (!plausible(measured) || (unsigned __int128)apart * 1000000 > (unsigned __int128)previous * RATE_TOLERANCE_PPM) {
        s.off = 1;
        return s;
    }
    // The most the old mapping can have handed out by now: the new one starts there or
    // later, so the clock never goes back. Where CLOCK_MONOTONIC is ahead, it jumps to it;
    // where the clock ran ahead, it slows by as much as it is ahead over the next horizon.
    uint64_t reached = sluice_clock_reached(a, tsc);
    uint64_t next = horizon(measured);
    if (nanoseconds >= reached) {
        s.anchor = (sluice_clock_anchor){tsc, nanoseconds, measured, next};
    } else {
        uint64_t ahead = reached - nanoseconds;
        if (ahead > MOST_AHEAD_NS) {
            s.off = 1;
            return s;
        }
        uint64_t slower = measured - rate(ahead, next);
        s.anchor = (sluice_clock_anchor){tsc, reached, slower, next};
    }
    s.measuredScale = measured;
    s.lastTsc = tsc;
    s.lastNanoseconds = nanoseconds;
    s.lastWidth = width;
    return s;
}

uint64_t sluice_clock_reached(sluice_clock_anchor a, uint64_t tsc) {
    if (a.scale == 0 || tsc <= a.tsc) return a.nanoseconds;
    uint64_t ticks = tsc - a.tsc;
    return a.nanoseconds + map(ticks < a.horizon ? ticks : a.horizon, a.scale);
}

uint64_t sluice_clock_answer(sluice_clock_anchor a, uint64_t tsc, uint64_t nanoseconds) {
    if (a.scale == 0) return nanoseconds;
    if (tsc <= a.tsc) return a.nanoseconds;
    uint64_t reached = sluice_clock_reached(a, tsc);
    if (tsc - a.tsc < a.horizon) return reached;
    // Stale, and not renewed yet: never below what the mapping handed out.
    return nanoseconds > reached ? nanoseconds : reached;
}

static uint64_t monotonic(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <pthread.h>

enum { UNDECIDED = 0, TRUSTED = 1, REFUSED = 2 };
static _Atomic(int) trust;
// 1 while a thread renews the mapping (the others answer from it as it stands meanwhile).
static _Atomic(int) writing;
// Written only by the thread that holds `writing`.
static sluice_clock_state state;
// When the TSC was found unsteady: the most its mapping had handed out, below which
// CLOCK_MONOTONIC's answers are not given (the clock may have run ahead of it, a little).
static _Atomic(uint64_t) floorWhenRefused;

// The CPU's word (an invariant TSC, and `rdtscp`) and the kernel's (it reads
// CLOCK_MONOTONIC from the TSC only where the TSC is in step across CPUs).
static int tscIsUsable(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 27))) return 0;
    if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 8))) return 0;
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char name[16] = {0};
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    return n >= 3 && memcmp(name, "tsc", 3) == 0 && (n == 3 || name[3] == '\n');
}

// A child forked while a thread of its parent renewed the mapping has no such thread: the
// published copy is whole (a writer fills the other one), the private state may not be.
static void afterForkInChild(void) {
    if (!atomic_load_explicit(&writing, memory_order_relaxed)) return;
    sluice_clock_anchor a;
    if (sluice_clock_load(&a)) {
        state = (sluice_clock_state){a, a.tsc, a.nanoseconds, 0, a.scale, 0};
    } else {
        state = (sluice_clock_state){{0, 0, 0, 0}, 0, 0, 0, 0, 0};
    }
    atomic_store_explicit(&writing, 0, memory_order_release);
}

static int trusted(void) {
    int t = atomic_load_explicit(&trust, memory_order_acquire);
    if (t == UNDECIDED) {
        int decided = tscIsUsable() ? TRUSTED : REFUSED;
        if (atomic_compare_exchange_strong(&trust, &t, decided) && decided == TRUSTED) {
            pthread_atfork(NULL, NULL, afterForkInChild);
        }
        t = atomic_load_explicit(&trust, memory_order_acquire);
    }
    return t == TRUSTED;
}

// CLOCK_MONOTONIC and the TSC at (nearly) the same instant: ordered reads either side, the
// middle taken; the narrowest bracket of four tries (a try a thread was preempted in is
// wide). Returns the bracket's width in ticks.
static uint64_t readPair(uint64_t *tsc, uint64_t *nanoseconds) {
    unsigned int cpu;
    uint64_t best = UINT64_MAX;
    for (int attempt = 0; attempt < 4 && best > 2000; attempt++) {
        uint64_t before = __builtin_ia32_rdtscp(&cpu);
        uint64_t read = monotonic();
        uint64_t after = __builtin_ia32_rdtscp(&cpu);
        if (after < before || after - before >= best) continue;
        best = after - before;
        *tsc = before + best / 2;
        *nanoseconds = read;
    }
    if (best == UINT64_MAX) {
        *tsc = __builtin_ia32_rdtscp(&cpu);
        *nanoseconds = monotonic();
    }
    return best;
}

static void publish(sluice_clock_anchor a) {
    uint64_t next = atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_relaxed) + 1;
    sluice_clock_copy *copy = &sluice_clock_shared.copies[next & 1];
    // Readers of this copy (one publication back) must not see these stores before the
    // publication that took them off it.
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&copy->tsc, a.tsc, memory_order_relaxed);
    atomic_store_explicit(&copy->nanoseconds, a.nanoseconds, memory_order_relaxed);
    atomic_store_explicit(&copy->scale, a.scale, memory_order_relaxed);
    atomic_store_explicit(&copy->horizon, a.horizon, memory_order_relaxed);
    atomic_store_explicit(&sluice_clock_shared.sequence, next, memory_order_release);
}

// CLOCK_MONOTONIC, once the TSC is refused: never below what its mapping handed out.
static uint64_t refusedAnswer(void) {
    uint64_t now = monotonic();
    uint64_t floor = atomic_load_explicit(&floorWhenRefused, memory_order_relaxed);
    return now > floor ? now : floor;
}

// While another thread renews: the mapping as it stands (never below what it handed out),
// or CLOCK_MONOTONIC before there is one.
static uint64_t answerMeanwhile(void) {
    sluice_clock_anchor a;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t tsc = __builtin_ia32_rdtsc();
        if (sluice_clock_load(&a)) return sluice_clock_answer(a, tsc, monotonic());
        if (atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire) == 0) break;
    }
    // No mapping yet, or refused meanwhile (or four publications in a row: a thread that
    // was away that long reads a time after everything handed out before).
    return refusedAnswer();
}
#endif

uint64_t sluice_clock_slow(void) {
#if defined(__x86_64__)
    if (!trusted()) return refusedAnswer();
    int idle = 0;
    if (!atomic_compare_exchange_strong_explicit(&writing, &idle, 1, memory_order_acquire, memory_order_relaxed))
        return answerMeanwhile();
    uint64_t answer;
    if (atomic_load_explicit(&trust, memory_order_acquire) != TRUSTED) {
        answer = refusedAnswer();
    } else if (sluice_clock_mapped(&answer)) {
        // Renewed by the thread that held `writing` before.
    } else {
        uint64_t tsc, nanoseconds;
        uint64_t width = readPair(&tsc, &nanoseconds);
        sluice_clock_anchor before = state.anchor;
        state = sluice_clock_step(state, tsc, nanoseconds, width);
        if (state.off) {
            uint64_t floor = before.scale == 0 ? 0 : sluice_clock_reached(before, tsc);
            atomic_store_explicit(&floorWhenRefused, floor, memory_order_relaxed);
            atomic_store_explicit(&trust, REFUSED, memory_order_release);
            atomic_store_explicit(&sluice_clock_shared.sequence, 0, memory_order_release);
            answer = refusedAnswer();
        } else {
            sluice_clock_anchor a = state.anchor;
            if (a.scale != 0 && (a.tsc != before.tsc || a.scale != before.scale)) publish(a);
            answer = sluice_clock_answer(a, tsc, nanoseconds);
        }
    }
    atomic_store_explicit(&writing, 0, memory_order_release);
    return answer;
#else
    return monotonic();
#endif
}

int sluice_clock_mode(void) {
#if defined(__x86_64__)
    if (atomic_load_explicit(&trust, memory_order_relaxed) == REFUSED) return 2;
    return atomic_load_explicit(&sluice_clock_shared.sequence, memory_order_acquire) >= 1 ? 1 : 0;
#else
    return 2;
#endif
}

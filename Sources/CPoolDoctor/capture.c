// The only code of the doctor that runs inside a signal handler, and the runtime hook.
// Written in C so that what runs in the handler is plainly async-signal-safe: atomics on
// preallocated slots, `syscall(SYS_gettid)` and glibc's `backtrace` (after a first call
// outside the handler has loaded libgcc_s; on glibc 2.35+ libgcc finds unwind tables with
// `_dl_find_object`, which takes no lock).
#define _GNU_SOURCE
#include "CPoolDoctor.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct slot {
    _Atomic int state;
    _Atomic int tid;
    _Atomic int count;
    _Atomic uint64_t at;
    void *frames[SLUICE_CAPTURE_FRAMES];
};

static struct slot slots[SLUICE_CAPTURE_SLOTS];
static _Atomic int installed;

int sluice_gettid(void) { return (int)syscall(SYS_gettid); }

void sluice_name_this_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

static void on_sigprof(int signo, siginfo_t *info, void *context) {
    (void)signo;
    (void)info;
    (void)context;
    int saved = errno;
    int tid = (int)syscall(SYS_gettid);
    for (int i = 0; i < SLUICE_CAPTURE_SLOTS; i++) {
        struct slot *s = &slots[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLUICE_SLOT_ARMED) continue;
        if (atomic_load_explicit(&s->tid, memory_order_relaxed) != tid) continue;
        int expected = SLUICE_SLOT_ARMED;
        if (!atomic_compare_exchange_strong_explicit(
                &s->state, &expected, SLUICE_SLOT_WRITING, memory_order_acq_rel, memory_order_relaxed))
            continue;
        // When, so the watchdog can tell a stack taken during the stall from one taken after.
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        atomic_store_explicit(&s->at, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, memory_order_relaxed);
        int n = backtrace(s->frames, SLUICE_CAPTURE_FRAMES);
        atomic_store_explicit(&s->count, n < 0 ? 0 : n, memory_order_relaxed);
        atomic_store_explicit(&s->state, SLUICE_SLOT_FILLED, memory_order_release);
        break;
    }
    errno = saved;
}

int sluice_capture_handler_is_ours(void) {
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0) return 0;
    return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigprof;
}

int sluice_capture_handler_is_free(void) {
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0) return 0;
    if (current.sa_flags & SA_SIGINFO) return 0;
    return current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN;
}

int sluice_capture_prepare(void) {
    if (atomic_load(&installed) && sluice_capture_handler_is_ours()) return SLUICE_PREPARE_OK;
    void *warm[4];
    (void)backtrace(warm, 4);
    if (!sluice_capture_handler_is_free()) return SLUICE_PREPARE_TAKEN;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigprof;
    // SA_RESTART: calls the kernel restarts (read, write, futex…) carry on unnoticed.
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    if (sigaction(SIGPROF, &action, NULL) != 0) return SLUICE_PREPARE_FAILED;
    atomic_store(&installed, 1);
    return SLUICE_PREPARE_OK;
}

int sluice_capture_arm(int slot, int tid) {
    if (slot < 0 || slot >= SLUICE_CAPTURE_SLOTS) return -1;
    struct slot *s = &slots[slot];
    // Claimed first, so two capturers (two doctors) never arm one slot.
    int expected = SLUICE_SLOT_FREE;
    if (!atomic_compare_exchange_strong_explicit(
            &s->state, &expected, SLUICE_SLOT_CLAIMED, memory_order_acq_rel, memory_order_relaxed))
        return -1;
    atomic_store_explicit(&s->tid, tid, memory_order_relaxed);
    atomic_store_explicit(&s->count, 0, memory_order_relaxed);
    atomic_store_explicit(&s->at, 0, memory_order_relaxed);
    atomic_store_explicit(&s->state, SLUICE_SLOT_ARMED, memory_order_release);
    return 0;
}

int sluice_capture_signal(int tid) {
    if (syscall(SYS_tgkill, getpid(), tid, SIGPROF) != 0) return errno;
    return 0;
}

int sluice_capture_state(int slot) {
    if (slot < 0 || slot >= SLUICE_CAPTURE_SLOTS) return SLUICE_SLOT_FREE;
    return atomic_load_explicit(&slots[slot].state, memory_order_acquire);
}

int sluice_capture_read(int slot, uintptr_t *frames, int max) {
    if (slot < 0 || slot >= SLUICE_CAPTURE_SLOTS) return 0;
    struct slot *s = &slots[slot];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != SLUICE_SLOT_FILLED) return 0;
    int n = atomic_load_explicit(&s->count, memory_order_relaxed);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) frames[i] = (uintptr_t)s->frames[i];
    return n;
}

uint64_t sluice_capture_time(int slot) {
    if (slot < 0 || slot >= SLUICE_CAPTURE_SLOTS) return 0;
    struct slot *s = &slots[slot];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != SLUICE_SLOT_FILLED) return 0;
    return atomic_load_explicit(&s->at, memory_order_relaxed);
}

int sluice_capture_release(int slot) {
    if (slot < 0 || slot >= SLUICE_CAPTURE_SLOTS) return 0;
    struct slot *s = &slots[slot];
    int expected = SLUICE_SLOT_ARMED;
    if (atomic_compare_exchange_strong(&s->state, &expected, SLUICE_SLOT_FREE)) return 0;
    if (expected == SLUICE_SLOT_WRITING) return -1;
    if (expected == SLUICE_SLOT_FILLED) atomic_store(&s->state, SLUICE_SLOT_FREE);
    return 0;
}

// MARK: - The global-enqueue hook

typedef void (*sluice_original_t)(void *job) __attribute__((swiftcall));
typedef void (*sluice_hook_t)(void *job, sluice_original_t original) __attribute__((swiftcall));

static _Atomic(sluice_hook_t) previous_hook;
static _Atomic int hook_state;

// Jobs counted per thread, each thread in a cache line of its own that only it writes (a
// load and a store, no locked instruction: the hook runs for every job of the program).
// The first 64 threads to enqueue get a line each; later ones share one atomic counter.
#define SLUICE_COUNTER_LINES 64
struct counter_line {
    _Atomic uint64_t count;
    char pad[64 - sizeof(uint64_t)];
};
static struct counter_line counter_lines[SLUICE_COUNTER_LINES] __attribute__((aligned(64)));
static _Atomic unsigned counter_lines_taken;
static _Atomic uint64_t shared_count;
static __thread struct counter_line *my_line;
static __thread int my_line_tried;

static inline void count_job(void) {
    struct counter_line *line = my_line;
    if (__builtin_expect(line == NULL, 0)) {
        if (!my_line_tried) {
            my_line_tried = 1;
            unsigned i = atomic_fetch_add_explicit(&counter_lines_taken, 1, memory_order_relaxed);
            if (i < SLUICE_COUNTER_LINES) my_line = line = &counter_lines[i];
        }
        if (line == NULL) {
            atomic_fetch_add_explicit(&shared_count, 1, memory_order_relaxed);
            return;
        }
    }
    uint64_t n = atomic_load_explicit(&line->count, memory_order_relaxed);
    atomic_store_explicit(&line->count, n + 1, memory_order_relaxed);
}
static sluice_hook_t *hook_variable(void) {
    return (sluice_hook_t *)dlsym(RTLD_DEFAULT, "swift_task_enqueueGlobal_hook");
}

__attribute__((swiftcall)) static void counting_hook(void *job, sluice_original_t original) {
    count_job();
    sluice_hook_t before = atomic_load_explicit(&previous_hook, memory_order_relaxed);
    if (before)
        before(job, original);
    else
        original(job);
}

int sluice_hook_install(void) {
    sluice_hook_t *variable = hook_variable();
    if (!variable) {
        atomic_store(&hook_state, SLUICE_HOOK_UNAVAILABLE);
        return SLUICE_HOOK_UNAVAILABLE;
    }
    sluice_hook_t current = __atomic_load_n(variable, __ATOMIC_ACQUIRE);
    if (current == counting_hook) return atomic_load(&hook_state);
    atomic_store(&previous_hook, current);
    __atomic_store_n(variable, counting_hook, __ATOMIC_RELEASE);
    int state = current ? SLUICE_HOOK_CHAINED : SLUICE_HOOK_ALONE;
    atomic_store(&hook_state, state);
    return state;
}

void sluice_hook_uninstall(void) {
    sluice_hook_t *variable = hook_variable();
    if (!variable) return;
    sluice_hook_t ours = counting_hook;
    // Only if ours is still on top: a hook installed over ours may be calling it.
    if (__atomic_compare_exchange_n(
            variable, &ours, atomic_load(&previous_hook), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        atomic_store(&hook_state, SLUICE_HOOK_OFF);
}

int sluice_hook_state(void) {
    int state = atomic_load(&hook_state);
    if (state != SLUICE_HOOK_ALONE && state != SLUICE_HOOK_CHAINED) return state;
    sluice_hook_t *variable = hook_variable();
    if (variable && __atomic_load_n(variable, __ATOMIC_ACQUIRE) != counting_hook) return SLUICE_HOOK_REPLACED;
    return state;
}

int sluice_hook_foreign(void) {
    sluice_hook_t *variable = hook_variable();
    if (!variable) return 0;
    sluice_hook_t current = __atomic_load_n(variable, __ATOMIC_ACQUIRE);
    if (current == counting_hook) return atomic_load(&previous_hook) != NULL;
    return current != NULL;
}

uint64_t sluice_hook_enqueued(void) {
    uint64_t total = atomic_load_explicit(&shared_count, memory_order_relaxed);
    for (int i = 0; i < SLUICE_COUNTER_LINES; i++) total += atomic_load_explicit(&counter_lines[i].count, memory_order_relaxed);
    return total;
}

// MARK: - Loaded files

struct segments_context {
    void (*segment)(const char *, uintptr_t, uintptr_t, uintptr_t, void *);
    void *context;
};

static int each_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct segments_context *c = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        c->segment(info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr, start, start + info->dlpi_phdr[i].p_memsz, c->context);
    }
    return 0;
}

void sluice_iterate_segments(
    void (*segment)(const char *name, uintptr_t base, uintptr_t start, uintptr_t end, void *context), void *context) {
    struct segments_context c = {segment, context};
    dl_iterate_phdr(each_module, &c);
}

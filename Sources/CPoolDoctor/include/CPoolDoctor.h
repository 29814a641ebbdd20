#ifndef SLUICE_CPOOLDOCTOR_H
#define SLUICE_CPOOLDOCTOR_H

#include <stdint.h>

/// Capture slots: each holds one thread's stack from one capture. A slot is FREE, then
/// ARMED by the watchdog with a thread id, then WRITING and FILLED by that thread's SIGPROF
/// handler, then read and freed by the watchdog. Only atomics: the handler takes no lock.
#define SLUICE_CAPTURE_SLOTS 64
#define SLUICE_CAPTURE_FRAMES 64

enum {
    SLUICE_SLOT_FREE = 0,
    SLUICE_SLOT_ARMED = 1,
    SLUICE_SLOT_WRITING = 2,
    SLUICE_SLOT_FILLED = 3,
    /// Taken by a capturer that is writing the thread id (the handler ignores it).
    SLUICE_SLOT_CLAIMED = 4,
};

enum {
    SLUICE_PREPARE_OK = 0,
    /// The program has a SIGPROF handler of its own: we leave it alone.
    SLUICE_PREPARE_TAKEN = 1,
    /// sigaction failed.
    SLUICE_PREPARE_FAILED = 2,
};

/// Loads the unwinder (glibc's first `backtrace` call opens libgcc_s, which is not
/// signal-safe) and installs our SIGPROF handler unless the program has one. Idempotent.
int sluice_capture_prepare(void);
/// 1 while the process's SIGPROF handler is ours (a program may replace it later).
int sluice_capture_handler_is_ours(void);
/// 1 when the SIGPROF disposition is the default (terminate) or ignore.
int sluice_capture_handler_is_free(void);
/// Arms a slot for a thread: 0 on success, -1 if the slot is not free.
int sluice_capture_arm(int slot, int tid);
/// Sends SIGPROF to a thread of this process: 0, or the errno (ESRCH: the thread is gone).
int sluice_capture_signal(int tid);
/// A slot's state (SLUICE_SLOT_…).
int sluice_capture_state(int slot);
/// Copies a FILLED slot's frames (at most `max`) and returns how many there were.
int sluice_capture_read(int slot, uintptr_t *frames, int max);
/// When a FILLED slot's stack was taken (CLOCK_MONOTONIC, nanoseconds; 0 if not filled).
uint64_t sluice_capture_time(int slot);
/// Frees a slot: FILLED → FREE, or ARMED → FREE (the handler never came). Returns 0, or -1
/// while the handler is writing (call again).
int sluice_capture_release(int slot);
/// This thread's kernel id.
int sluice_gettid(void);
/// Names the calling thread (at most 15 bytes are kept).
void sluice_name_this_thread(const char *name);

enum {
    SLUICE_HOOK_OFF = 0,
    /// Ours, with no hook before it.
    SLUICE_HOOK_ALONE = 1,
    /// Ours, calling the hook that was there before (SwiftNIO's, when NIO took over).
    SLUICE_HOOK_CHAINED = 2,
    /// The runtime has no `swift_task_enqueueGlobal_hook`.
    SLUICE_HOOK_UNAVAILABLE = 3,
    /// Someone replaced ours after we installed it.
    SLUICE_HOOK_REPLACED = 4,
};

/// Installs the global-enqueue hook (counting jobs), chaining to the one there before.
int sluice_hook_install(void);
/// Restores the hook there before, if ours is still the one installed.
void sluice_hook_uninstall(void);
/// Where the hook stands now (SLUICE_HOOK_…).
int sluice_hook_state(void);
/// 1 when the global executor's enqueue hook is someone else's (SwiftNIO's, when NIO took
/// over): installed now and not ours, or ours chained to one that was there before.
int sluice_hook_foreign(void);
/// Jobs enqueued on the global executor since the hook was installed.
uint64_t sluice_hook_enqueued(void);


/// Calls `segment` for each loaded segment of each loaded file (dl_iterate_phdr): the
/// file's name ("" for the executable), its load address, and the segment's range.
void sluice_iterate_segments(
    void (*segment)(const char *name, uintptr_t base, uintptr_t start, uintptr_t end, void *context), void *context);

#endif

#define _GNU_SOURCE
#include "CCallgrind.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

// Valgrind 3.19 dies ("Valgrind received a signal 11") in every Swift program with an async
// main: the main thread parks in libdispatch's dispatch_main, which calls sigsuspend with a
// `static const sigset_t` in read-only memory, and valgrind's rt_sigsuspend wrapper writes
// into the caller's set (it removes its own VG_SIGVGKILL from it). This definition takes the
// place of libc's for libdispatch (the executable's symbols come first) and passes the
// kernel a writable copy: the same call, which valgrind then survives.
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, (size_t)(_NSIG / 8));
}

// Without valgrind's headers the requests do nothing and sluice-bench still builds: its
// callgrind column then says valgrind is missing.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

int sluice_running_on_valgrind(void) { return RUNNING_ON_VALGRIND; }

// Instrumentation, not collection, is switched: CALLGRIND_TOGGLE_COLLECT changes only the
// calling thread's state, and the workloads run on the cooperative pool's threads.
void sluice_callgrind_start(void) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
}

void sluice_callgrind_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
#else
int sluice_running_on_valgrind(void) { return 0; }
void sluice_callgrind_start(void) {}
void sluice_callgrind_stop(void) {}
#endif

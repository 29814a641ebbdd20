// sched_getaffinity and CPU_COUNT are GNU extensions (Swift's Glibc module leaves them out).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "CSpinHint.h"
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

int sluice_available_processors(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count >= 1) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online >= 1 ? (int)online : 1;
}

// What one clock read costs on this machine (issue #23, "every event at 30 ns"): every
// event reads CLOCK_MONOTONIC. Not part of the package; build and run pinned:
//   cc -O2 -o /tmp/clock-cost Benchmarks/clock-cost.c && taskset -c 0 /tmp/clock-cost
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
    const int n = 10000000;
    struct timespec t;
    volatile uint64_t sink = 0;
    unsigned aux;
    for (int round = 0; round < 3; round++) {
        double a = now();
        for (int i = 0; i < n; i++) { clock_gettime(CLOCK_MONOTONIC, &t); sink += t.tv_nsec; }
        double b = now();
        for (int i = 0; i < n; i++) { clock_gettime(CLOCK_MONOTONIC_COARSE, &t); sink += t.tv_nsec; }
        double c = now();
        for (int i = 0; i < n; i++) sink += __rdtsc();
        double d = now();
        for (int i = 0; i < n; i++) sink += __rdtscp(&aux);
        double e = now();
        printf("ns a call: CLOCK_MONOTONIC %.1f, CLOCK_MONOTONIC_COARSE %.1f, rdtsc %.1f, rdtscp %.1f\n",
               (b - a) / n, (c - b) / n, (d - c) / n, (e - d) / n);
    }
    clock_getres(CLOCK_MONOTONIC_COARSE, &t);
    printf("CLOCK_MONOTONIC_COARSE resolution: %ld ns\n", t.tv_nsec);
    return 0;
}

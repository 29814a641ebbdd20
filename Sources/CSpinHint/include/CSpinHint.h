#ifndef SLUICE_CSPINHINT_H
#define SLUICE_CSPINHINT_H

/// Tells the processor that this thread is spinning, waiting for another one to write: x86's
/// `pause`, ARM's `yield`. It slows the loop a little, so the spinner reads the shared line
/// less often, and spares the pipeline flush when the line finally changes. Swift has no
/// public spelling of it.
static inline void sluice_spin_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/// How many processors this process may run on: the calling thread's affinity mask
/// (`taskset -c 0` makes it 1) where the system has one, else the processors online; at
/// least 1.
int sluice_available_processors(void);

#endif

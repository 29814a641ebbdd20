// Valgrind's client requests are macros of inline assembly, which Swift cannot import:
// these functions wrap the few sluice-bench uses to count one workload's instructions.
#ifndef SLUICE_CCALLGRIND_H
#define SLUICE_CCALLGRIND_H

/// Nonzero when the process runs under valgrind (any tool).
int sluice_running_on_valgrind(void);

/// Starts callgrind's instrumentation (run with --instr-atstart=no): from here on every
/// thread's instructions count, until sluice_callgrind_stop.
void sluice_callgrind_start(void);

/// Stops the instrumentation; the counts are written when the process exits.
void sluice_callgrind_stop(void);

#endif

#!/usr/bin/env bash
# Queue 4/4 on two cores against the actor queue, RUNS times (20), each run a process of its
# own (five timings of each, the medians compared, as in make bench). With several binaries
# (LABEL=PATH, e.g. before=/tmp/sluice-bench-old after=Benchmarks/.build/release/sluice-bench)
# the runs alternate, so that a busy machine slows them alike. Prints one line per run, then
# per binary how many runs were >= 2x the actor queue (issue #23's target: 18 of 20) and the
# spread. PREFIX runs each under a command (PREFIX="chrt -f 1": ahead of every other process,
# as on a quiet machine; it needs root and holds both cores for a few seconds a run).
# Not in CI: the rate of this workload depends on the machine's state (BENCHMARKS.md).
set -u
runs=${RUNS:-20}
case "$runs" in '' | *[!0-9]* | 0) echo "queue-modes: RUNS must be a whole number above 0, not '$runs'" >&2 && exit 64 ;; esac
[ $# -ge 1 ] || set -- "now=Benchmarks/.build/release/sluice-bench"
for pair in "$@"; do
    bin=${pair#*=}
    [ -x "$bin" ] || { echo "queue-modes: $bin is not an executable sluice-bench (build it: make bench)" >&2 && exit 66; }
done
out=$(mktemp "${TMPDIR:-/tmp}/queue-modes.XXXXXX")
trap 'rm -f "$out"' EXIT
printf 'label\trun\tqueue 4/4 M/s\tactor queue M/s\tratio\tload\n'
for i in $(seq 1 "$runs"); do
    for pair in "$@"; do
        label=${pair%%=*}
        bin=${pair#*=}
        # shellcheck disable=SC2086 # PREFIX is a command and its arguments
        rates=$(${PREFIX:-} "$bin" --engine-rates --only "queue 4/4" --peers "actor queue" --no-pinned)
        echo "$rates" | awk -F'\t' -v label="$label" -v run="$i" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
            $1 == "rate" && $3 == "Sluice" { s = $4 }
            $1 == "rate" && $3 == "actor queue" { a = $4 }
            END { if (s > 0 && a > 0) printf "%s\t%d\t%.2f\t%.2f\t%.2f\t%s\n", label, run, s / 1e6, a / 1e6, s / a, load
                  else printf "%s\t%d\tfailed\n", label, run }' | tee -a "$out"
    done
done
echo
for pair in "$@"; do
    label=${pair%%=*}
    awk -F'\t' -v label="$label" '$1 == label && $3 != "failed" { n++; if ($5 >= 2) met++; if ($3 < 10) slow++; r[n] = $3 }
        END {
            for (i = 2; i <= n; i++) { v = r[i]; for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v }
            printf "%s: %d of %d runs >= 2x the actor queue; %d below 10M/s; queue 4/4 %.1f / %.1f / %.1f M/s (slowest / median / fastest)\n",
                label, met, n, slow, r[1], r[int((n + 1) / 2)], r[n]
        }' "$out"
done

#!/usr/bin/env bash
# make test RUNS times (5) in a row from a clean clone of what is committed, with one core
# kept busy by another process all along: a test that blocks the shared cooperative pool, or
# leaves a run behind, shows here as a hang (turned into a failure by the stage limits) or a
# run far slower than the others. Not in CI: it takes about half an hour.
set -u
runs=${RUNS:-5}
case "$runs" in '' | *[!0-9]* | 0) echo "test-under-load: RUNS must be a whole number above 0, not '$runs'" >&2 && exit 64 ;; esac
top=$(git rev-parse --show-toplevel) || exit 69
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-under-load.XXXXXX")
git clone -q "$top" "$work/clone" || exit 69
echo "clean clone of $(git -C "$work/clone" rev-parse --short HEAD) in $work/clone; logs in $work"

# The other process: a busy loop on one core for as long as the runs take.
bash -c 'while :; do :; done' &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT INT TERM

failed=0
times=()
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    (cd "$work/clone" && CI=true make test >"$work/run-$i.log" 2>&1 </dev/null)
    rc=$?
    took=$(($(date +%s) - start))
    times+=("$took")
    summary=$(grep -E "Test run with [0-9]+ tests.*(passed|failed)" "$work/run-$i.log" | tail -1 | sed 's/^[^T]*//')
    if [ $rc -eq 0 ]; then status=passed; else status="FAILED (exit $rc)" && failed=$((failed + 1)); fi
    printf 'run %d of %d: %s in %d s%s\n' "$i" "$runs" "$status" "$took" "${summary:+ ($summary)}"
done
echo "times (s): ${times[*]}; the first includes the clean build"
if [ $failed -gt 0 ]; then
    echo "test-under-load: $failed of $runs runs failed; see $work/run-N.log" >&2
    exit 1
fi
echo "test-under-load: $runs of $runs passed"

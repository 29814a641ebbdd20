#!/usr/bin/env bash
# make soak: every scenario in the live preset at heavy knobs, headless, for SOAK_SECONDS
# (default 600) at once; resident memory and event rates sampled every second. Memory must
# stay flat: the last minute's average may not exceed the second minute's by more than 20%.
# Not part of make test or CI.
set -u
bin=${1:-.build/release/sluice}
seconds=${SOAK_SECONDS:-600}
out=${SOAK_DIR:-soak-results}
mkdir -p "$out"
declare -A knobs=(
    [producer-consumer]="--producers 16 --consumers 64 --capacity 1000 --interval 1 --service 1"
    [actors]="--actors 2000 --rate 20000 --processing 0 --mailbox 1000"
    [semaphore]="--permits 256 --rate 5000 --hold 50"
    [streams]="--items 1000000 --delay 0 --step 0"
    [resources]="--workers 256 --open 0 --hold 0 --close 0 --failure 50"
    [pipeline]="--rate 2000 --capacity 1000 --workers 64 --permits 64 --service 1 --failure 50"
    [blocking]="--blocking 16 --awaiting 64 --block 1 --offload 1"
)
echo "soak: ${#knobs[@]} scenarios at once for ${seconds}s"
for name in "${!knobs[@]}"; do
    # shellcheck disable=SC2086
    "$bin" run "$name" --headless --progress --duration "${seconds}s" ${knobs[$name]} > "$out/$name.json" 2> "$out/$name.progress" &
done
wait
status=0
printf '%-18s %10s %10s %10s %12s\n' scenario "rss@1min" "rss@end" "max rss" "events/s"
for name in "${!knobs[@]}"; do
    f="$out/$name.progress"
    early=$(grep -o 'rss_kb=[0-9]*' "$f" | sed -n '60,120p' | cut -d= -f2 | awk '{s+=$1; n++} END {if (n) print int(s/n); else print 0}')
    late=$(grep -o 'rss_kb=[0-9]*' "$f" | tail -60 | cut -d= -f2 | awk '{s+=$1; n++} END {if (n) print int(s/n); else print 0}')
    peak=$(grep -o 'rss_kb=[0-9]*' "$f" | cut -d= -f2 | sort -n | tail -1)
    rate=$(grep -o 'rate=[0-9]*' "$f" | cut -d= -f2 | awk '{s+=$1; n++} END {if (n) print int(s/n); else print 0}')
    printf '%-18s %9sk %9sk %9sk %12s\n' "$name" "$early" "$late" "$peak" "$rate"
    if [ "${early:-0}" -gt 0 ] && [ "$late" -gt $((early * 120 / 100)) ]; then
        echo "  $name: memory grew more than 20% between the second and the last minute"
        status=1
    fi
done
exit $status

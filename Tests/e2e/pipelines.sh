#!/usr/bin/env bash
# Pipeline files end to end: every example checks, runs headless to completion (text and
# JSON), records and replays; every broken file is refused by `check` and `run` with status
# 65 and file:line:column; `plan` finds workers; the dashboard shows a file's theory pane.
# Usage: pipelines.sh path/to/sluice
set -u
name=pipelines
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap '$T kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
expect() { if eval "$2"; then ok "$1"; else failed=$((failed + 1)); echo "  FAIL $1"; return 1; fi; }

echo "pipeline files"
for file in "$root"/Examples/Pipelines/*.toml; do
    base=$(basename "$file")
    expect "check $base" '"$bin" check "$file" >/dev/null'
    out=$(timeout 60 "$bin" run "$file" --headless --preset seed --speed 50 2>&1)
    status=$?
    expect "$base runs headless to completion" '[ $status -eq 0 ] && printf "%s" "$out" | grep -q "(seed): finished after" && printf "%s" "$out" | grep -q "theory "'
    expect "$base: no item lost" 'printf "%s" "$out" | grep -Eq "^\[[0-9.]+s\] [0-9]+ items: [0-9]+ completed" && ! printf "%s" "$out" | grep -q "in hand at stop"'
    json=$(timeout 60 "$bin" run "$file" --headless --json --duration 1s --speed 5 2>"$tmp/json-err.txt")
    status=$?
    expect "$base --json has the theory" 'printf "%s" "$json" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"queue_models\"] and all(\"utilization\" in m for m in d[\"queue_models\"])"' ||
        echo "       (status $status, stderr: $(head -c 300 "$tmp/json-err.txt"), stdout: $(printf "%s" "$json" | head -c 600))"
done

rec="$tmp/chat.rec"
timeout 60 "$bin" run "$root/Examples/Pipelines/chat.toml" --headless --duration 1s --speed 5 --record "$rec" >"$tmp/run.txt" 2>/dev/null
"$bin" replay "$rec" --headless >"$tmp/replay.txt" 2>/dev/null
expect "a recorded file run replays with the summary it printed" 'diff -q "$tmp/run.txt" "$tmp/replay.txt" >/dev/null && grep -q "theory to-index" "$tmp/replay.txt"'

count=0
while read -r broken position; do
    file="$root/Tests/e2e/broken-pipelines/$broken.toml"
    err=$("$bin" check "$file" 2>&1 >/dev/null)
    status=$?
    if [ $status -ne 65 ] || ! printf '%s' "$err" | head -1 | grep -q "^$file:$position: "; then
        failed=$((failed + 1))
        echo "  FAIL check $broken: status $status, stderr: $(printf '%s' "$err" | head -1)"
        continue
    fi
    err=$("$bin" run "$file" --headless 2>&1 >/dev/null)
    status=$?
    if [ $status -ne 65 ] || ! printf '%s' "$err" | head -1 | grep -q "^$file:$position: "; then
        failed=$((failed + 1))
        echo "  FAIL run $broken: status $status, stderr: $(printf '%s' "$err" | head -1)"
        continue
    fi
    count=$((count + 1))
done <"$root/Tests/e2e/broken-pipelines/expected.txt"
expect "$count broken files refused by check and run with 65 and file:line:column" '[ $count -ge 50 ]'
"$bin" check "$tmp/missing.toml" 2>"$tmp/err.txt" >/dev/null
expect "a missing file: 65 and why" '[ $? -eq 65 ] && grep -q "missing.toml:1:1: cannot read" "$tmp/err.txt"'

out=$(timeout 120 "$bin" plan "$root/Examples/Pipelines/chat.toml" --target-p99 200ms --duration 20s)
status=$?
expect "plan finds workers and prints what it tried" '[ $status -eq 0 ] && printf "%s" "$out" | grep -q "^try 2: " && printf "%s" "$out" | grep -q "^fewest found: "'
again=$(timeout 120 "$bin" plan "$root/Examples/Pipelines/chat.toml" --target-p99 200ms --duration 20s)
expect "plan: the same seed, the same tries" '[ "$out" = "$again" ]'
out=$(timeout 60 "$bin" plan "$root/Examples/Pipelines/chat.toml" --target-p99 1us --duration 5s)
expect "plan: an impossible target exits 1 after the ceiling" '[ $? -eq 1 ] && printf "%s" "$out" | grep -q "no setting"'
printf '[[source]]\nname = "s"\nrate = 5\nto = "q"\n[[queue]]\nname = "q"\ncapacity = 5\n[[pool]]\nname = "p"\nfrom = "q"\nworkers = 1\nservice = "1ms"\n' >"$tmp/noknobs.toml"
"$bin" plan "$tmp/noknobs.toml" --target-p99 1s 2>"$tmp/err.txt" >/dev/null
expect "plan without worker knobs: 65 and what to add" '[ $? -eq 65 ] && grep -q "no worker knobs" "$tmp/err.txt"'
"$bin" plan "$tmp/noknobs.toml" --target-p99 soon >/dev/null 2>&1
expect "plan with a bad target: 64" '[ $? -eq 64 ]'

new_shell
keys "$bin run $root/Examples/Pipelines/chat.toml --speed 5 --index.workers 1" Enter
check "the dashboard shows a file's theory pane" "Theory beside the measurement" 15
check "its queues are listed with a model" "to-index .*(G/G/c|M/M/c)" 15
check "Health says the slow queue grows without bound" "to-index grows without bound" 30
keys Down
keys "+"
keys "+"
check "a knob of the file turns live" "index.workers +3" 10
keys q
prompt_back "quit" 0

echo "pipelines: $passed passed, $failed failed"
[ $failed -eq 0 ]

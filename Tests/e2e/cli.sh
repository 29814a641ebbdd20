#!/usr/bin/env bash
# Hostile command lines: every option and knob with missing, malformed, negative, huge and
# non-numeric values must give a clear error and exit status 64, never a crash; a headless
# run whose stdout is closed must end quietly. Usage: cli.sh path/to/sluice
set -u
bin=$1
passed=0
failed=0
fail() { failed=$((failed + 1)); echo "  FAIL $*"; }

# expect_usage_error ARGS...: exit status 64 and an "Error:" line on stderr.
expect_usage_error() {
    local err status
    err=$("$bin" "$@" 2>&1 >/dev/null)
    status=$?
    if [ $status -eq 64 ] && printf '%s' "$err" | grep -q "Error:"; then
        passed=$((passed + 1))
    else
        fail "sluice $* -> status $status, stderr: $(printf '%s' "$err" | head -2)"
    fi
}

echo "CLI hostile-input tests"
bad_numbers=("" "abc" "1x" "-5" "-0.5" "1e309" "99999999999999999999999" "nan" "inf" "-inf" "1,5" " 3")
for value in "${bad_numbers[@]}"; do
    expect_usage_error run semaphore --headless --speed "$value"
    expect_usage_error run semaphore --headless --duration "$value"
done
for value in "" "abc" "-5" "99999999999999999999999" "1.5" "nan"; do
    expect_usage_error run semaphore --headless --seed "$value"
done
expect_usage_error run semaphore --headless --speed 0
expect_usage_error run semaphore --headless --speed 1001
expect_usage_error run semaphore --headless --duration 0s
expect_usage_error run semaphore --headless --duration 25h
expect_usage_error run semaphore --headless --preset nonsense
expect_usage_error run semaphore --headless --preset
expect_usage_error run semaphore --speed
expect_usage_error run semaphore --json
expect_usage_error run
expect_usage_error run nosuch
expect_usage_error run semaphore --nosuchknob 3
expect_usage_error run semaphore --headless extra-argument
expect_usage_error nosuchcommand

# Every knob of every scenario: missing, non-numeric, out of range both ways, fractional counts.
while read -r name; do
    while read -r knob range; do
        lo=${range%%...*}
        hi=${range##*...}
        expect_usage_error run "$name" --headless "--$knob"
        expect_usage_error run "$name" --headless "--$knob" abc
        expect_usage_error run "$name" --headless "--$knob" nan
        expect_usage_error run "$name" --headless "--$knob" "$(awk "BEGIN { print $lo - 1 }")"
        expect_usage_error run "$name" --headless "--$knob" "$(awk "BEGIN { print $hi * 10 + 1 }")"
        expect_usage_error run "$name" --headless "--$knob=1e400"
    done < <("$bin" list --knobs | awk -v n="$name" '$0 !~ /^ / { cur = $1 } $0 ~ /^    --/ && cur == n { sub("--", "", $1); print $1, $2 }')
done < <("$bin" list | awk '{ print $1 }')

# A good command still works, with knobs in both spellings.
if "$bin" run semaphore --preset seed --headless --speed 50 --permits=2 --jobs 4 >/dev/null; then passed=$((passed + 1)); else fail "a valid command failed"; fi

# stdout closed, or closed early by the reader: no crash, no signal death.
"$bin" run producer-consumer --headless --json --duration 200ms >&- 2>/dev/null
status=$?
if [ $status -lt 128 ]; then passed=$((passed + 1)); else fail "stdout closed: died with status $status"; fi
"$bin" run producer-consumer --headless --json --duration 200ms 2>/dev/null | head -c 10 >/dev/null
status=${PIPESTATUS[0]}
if [ $status -lt 128 ]; then passed=$((passed + 1)); else fail "stdout closed early: died with status $status"; fi
"$bin" run semaphore --preset seed --headless --speed 20 2>/dev/null | head -n 1 >/dev/null
status=${PIPESTATUS[0]}
if [ $status -lt 128 ]; then passed=$((passed + 1)); else fail "transcript reader gone: died with status $status"; fi
# A reader gone before the first byte, for every command: the run's transcript is written
# before its headless watch starts, `list` and `--help` at once.
for args in "run semaphore --preset seed --headless --speed 50" "list" "--help" "ps"; do
    # shellcheck disable=SC2086
    status=$(python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
try:
    print(subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL, timeout=60).returncode)
except subprocess.TimeoutExpired:
    print("hung")' "$bin" $args)
    if [ "$status" -ge 0 ] 2>/dev/null; then passed=$((passed + 1)); else fail "sluice $args with its reader gone: status $status (negative: killed by that signal; hung: still running after 60 s)"; fi
done

# Issue 12's defects. Times are wall-clock milliseconds; "on time" means within a second of
# the deadline or signal, whatever the scenario's sleepers and blocking calls are doing.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
expect_usage_error run semaphore --headless --duration 0.0001s
for refused in "producer-consumer --consumers 0" "semaphore --permits 0" "pipeline --workers 0" "pipeline --permits 0"; do
    # shellcheck disable=SC2086
    expect_usage_error run $refused --preset seed --headless
done
# on_time LIMIT_MS ARGS...: a headless run ends (status 0) within LIMIT_MS.
on_time() {
    local limit=$1 start took status
    shift
    start=$(now_ms)
    "$bin" "$@" >/dev/null 2>&1
    status=$?
    took=$(( $(now_ms) - start ))
    if [ $status -eq 0 ] && [ $took -lt "$limit" ]; then passed=$((passed + 1)); else fail "sluice $* -> status $status after ${took}ms (limit ${limit}ms)"; fi
}
on_time 2000 run semaphore --headless --hold 60000 --duration 1s
on_time 2000 run blocking --headless --blocking 16 --awaiting 64 --block 5000 --offload 0 --duration 1s
on_time 30000 run producer-consumer --preset seed --headless --interval 5000 --speed 10
# One producer: every gap between items is longer than the consumers' 1 s idle timeout.
if "$bin" run producer-consumer --preset seed --headless --producers 1 --interval 5000 --speed 10 | grep -q "every consumer gave up"; then
    passed=$((passed + 1)); else fail "a seed run whose consumers gave up says so"; fi
for sig in INT TERM; do
    "$bin" run semaphore --headless --hold 60000 --duration 60s >/dev/null 2>&1 &
    pid=$!
    sleep 1
    start=$(now_ms)
    kill -$sig $pid
    wait $pid
    status=$?
    took=$(( $(now_ms) - start ))
    want=$([ $sig = INT ] && echo 130 || echo 143)
    if [ $status -eq "$want" ] && [ $took -lt 1000 ]; then passed=$((passed + 1)); else fail "SIG$sig on a headless run: status $status after ${took}ms"; fi
done
summary=$("$bin" run actors --preset seed --headless)
if printf '%s' "$summary" | grep -q "actor counter2: processed 1," && printf '%s' "$summary" | grep -q "actor logger: processed 1,"; then
    passed=$((passed + 1)); else fail "actors seed: counter2 and logger processed 1 each"; fi

# Recording and replay: a seed run's replay prints the summary the run printed; bad files
# exit with status 65 and say why.
dir=$(mktemp -d)
for scenario in semaphore producer-consumer; do
    "$bin" run $scenario --preset seed --headless --json --speed 20 --record "$dir/$scenario.rec" >"$dir/run.json"
    if "$bin" replay "$dir/$scenario.rec" --headless --json >"$dir/replay.json" && cmp -s "$dir/run.json" "$dir/replay.json"; then
        passed=$((passed + 1)); else fail "$scenario: replay --headless --json differs from the run's summary"; fi
done
expect_data_error() {
    local label=$1 pattern=$2 err status
    shift 2
    err=$("$bin" replay "$@" --headless 2>&1 >/dev/null)
    status=$?
    if [ $status -eq 65 ] && printf '%s' "$err" | grep -Eq "$pattern"; then passed=$((passed + 1)); else fail "replay of $label: status $status, stderr: $err"; fi
}
: >"$dir/empty.rec"
expect_data_error "an empty file" "empty" "$dir/empty.rec"
echo '{"not": "a recording"}' >"$dir/json.rec"
expect_data_error "a JSON file" "not a sluice recording" "$dir/json.rec"
expect_data_error "a missing file" "No such file" "$dir/missing.rec"
good="$dir/semaphore.rec"
size=$(stat -c %s "$good")
head -c $((size - 7)) "$good" >"$dir/cut.rec"
# A file cut short (a killed recorder) is good up to its last record: a warning, status 0.
err=$("$bin" replay "$dir/cut.rec" --headless 2>&1 >/dev/null); status=$?
if [ $status -eq 0 ] && printf '%s' "$err" | grep -q "warning: .*truncated"; then
    passed=$((passed + 1)); else fail "replay of a truncated file: status $status (want 0), stderr: $err"; fi
if "$bin" replay "$dir/cut.rec" --headless --json 2>/dev/null | grep -q '"scenario":"semaphore"'; then
    passed=$((passed + 1)); else fail "a truncated file still prints its summary"; fi
cp "$good" "$dir/bad.rec"
printf '\xff\xff\xff' | dd of="$dir/bad.rec" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_data_error "a file corrupted in the middle" "corrupted at byte" "$dir/bad.rec"
{ head -c 8 "$good"; printf '\x09\x00\x00\x00'; tail -c +13 "$good"; } >"$dir/newer.rec"
expect_data_error "a newer version" "format version 9" "$dir/newer.rec"
# A block of events damaged with its checksum made right again: headless replay decodes
# every block and keyframe as the dashboard would, so it fails here too (it used to exit 0).
python3 - "$good" "$dir/damaged.rec" <<'PY'
import sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
off = 12
while off + 9 <= len(b):
    kind, n = b[off], int.from_bytes(b[off + 1:off + 5], "little")
    if kind == 3:  # a block of events: all but its first 40 bytes set to 0xFF
        end = off + 5 + n
        b[off + 45:end] = b"\xff" * (end - off - 45)
        b[end:end + 4] = (zlib.crc32(bytes(b[off:end])) & 0xFFFFFFFF).to_bytes(4, "little")
        break
    off += 5 + n + 4
open(sys.argv[2], "wb").write(b)
PY
expect_data_error "a block of events damaged under a valid checksum" "corrupted" "$dir/damaged.rec"
# Files that never end or are large: refused at once, with little memory (it once read
# /dev/zero at 500 MB/s until killed, and all of a 600 MB file failing at byte 12).
expect_data_error "/dev/zero" "not a regular file" /dev/zero
{ head -c 16 "$good"; head -c 629145600 /dev/zero; } >"$dir/big.rec"
start_ms=$(date +%s%3N)
if [ -x /usr/bin/time ]; then
    err=$(/usr/bin/time -f "rss %M" "$bin" replay "$dir/big.rec" --headless 2>&1 >/dev/null); status=$?
    rss=$(printf '%s' "$err" | sed -n 's/^rss //p')
else
    err=$("$bin" replay "$dir/big.rec" --headless 2>&1 >/dev/null); status=$?; rss=0
fi
took=$(($(date +%s%3N) - start_ms))
rm -f "$dir/big.rec"
if [ $status -eq 65 ] && printf '%s' "$err" | grep -q "corrupted at byte 12" && [ "${rss:-0}" -lt 65536 ] && [ $took -lt 1000 ]; then
    passed=$((passed + 1)); else fail "a 600 MB file failing at byte 12: status $status in $took ms, rss ${rss:-?} KB: $err"; fi
# A valid 100 MB recording: replay reads it in pieces and keeps an index, never the file
# (it once read every file whole). Four seconds are enough to have read it all (the index
# pass reads the whole file first); a debug build needs longer to decode every event, so the
# run may end at the time limit: what counts is its memory.
python3 "$(dirname "$0")/bigrec.py" "$good" "$dir/big.rec" 100000000
if [ -x /usr/bin/time ]; then
    err=$(/usr/bin/time -f "rss %M" timeout 4 "$bin" replay "$dir/big.rec" --headless 2>&1 >/dev/null); status=$?
    rss=$(printf '%s' "$err" | sed -n 's/^rss //p')
    if { [ $status -eq 0 ] || [ $status -eq 124 ]; } && [ "${rss:-99999999}" -lt 65536 ]; then
        passed=$((passed + 1)); else fail "a valid 100 MB recording: status $status, rss ${rss:-?} KB: $err"; fi
fi
rm -f "$dir/big.rec"
expect_usage_error run semaphore --headless --record-limit 10MB
expect_usage_error run semaphore --headless --record "$dir/x.rec" --record-limit 10
expect_usage_error replay "$good" --json
err=$("$bin" run semaphore --headless --duration 1s --record "$dir/nodir/x.rec" 2>&1 >/dev/null)
status=$?
if [ $status -eq 73 ] && printf '%s' "$err" | grep -q "cannot write the recording to $dir/nodir/x.rec: no such folder"; then
    passed=$((passed + 1)); else fail "--record into a missing directory: status $status (want 73), stderr: $err"; fi

# --record makes its file safely (#22 item 7, #25): never through a planted symlink, never
# into a file already there unless --force, mode 0600.
echo "precious" >"$dir/victim"
chmod 600 "$dir/victim"
ln -s "$dir/victim" "$dir/planted.rec"
err=$("$bin" run semaphore --headless --duration 100ms --record "$dir/planted.rec" 2>&1 >/dev/null); status=$?
if [ $status -eq 73 ] && [ "$(cat "$dir/victim")" = precious ] && printf '%s' "$err" | grep -q "cannot write the recording"; then
    passed=$((passed + 1)); else fail "--record onto a planted symlink: status $status, victim '$(head -c 20 "$dir/victim")', $err"; fi
err=$("$bin" run semaphore --headless --duration 100ms --record "$dir/planted.rec" --force 2>&1 >/dev/null); status=$?
if [ $status -eq 0 ] && [ "$(cat "$dir/victim")" = precious ] && [ ! -L "$dir/planted.rec" ] && [ "$(stat -c %a "$dir/planted.rec")" = 600 ]; then
    passed=$((passed + 1)); else fail "--record --force over a symlink: status $status, victim '$(head -c 20 "$dir/victim")', $err"; fi
echo "mine" >"$dir/existing.rec"
err=$("$bin" run semaphore --headless --duration 100ms --record "$dir/existing.rec" 2>&1 >/dev/null); status=$?
if [ $status -eq 73 ] && [ "$(cat "$dir/existing.rec")" = mine ] && printf '%s' "$err" | grep -q "a file is already there (--force replaces it)"; then
    passed=$((passed + 1)); else fail "--record onto an existing file: status $status, $err"; fi
if "$bin" run semaphore --headless --duration 100ms --record "$dir/existing.rec" --force >/dev/null 2>&1 \
    && "$bin" replay "$dir/existing.rec" --headless >/dev/null 2>&1; then
    passed=$((passed + 1)); else fail "--record --force replaces an existing file"; fi
expect_usage_error run semaphore --headless --force
rm -rf "$dir"

# Messages that name the real mistake (#25): a knob before the name, a negative duration,
# an unknown command.
expect_message() {
    local pattern=$1 err status
    shift
    err=$("$bin" "$@" 2>&1 >/dev/null); status=$?
    if [ $status -eq 64 ] && printf '%s' "$err" | grep -q -- "$pattern" && ! printf '%s' "$err" | grep -q "Usage: sluice pick"; then
        passed=$((passed + 1)); else fail "sluice $* -> status $status, want /$pattern/: $(printf '%s' "$err" | head -2)"; fi
}
expect_message "the scenario's name comes first: sluice run NAME --permits 3" run --permits 3
expect_message "the scenario's name comes first" run --permits 3 --headless
expect_message "--duration '-1s' is not a duration" run semaphore --headless --duration -1s
expect_message "--speed -1.0 is out of range" run semaphore --headless --speed -1
expect_message "--duration '-1s' is not a duration" attach --headless --duration -1s
expect_message "--rate -1.0 is out of range" attach --rate -1
expect_message "--record-limit '-1' is not a size" run semaphore --headless --record x.rec --record-limit -1
expect_message "unknown command 'bogus'. Commands: list, run, replay, ps, attach" bogus
expect_message "'semaphore' is a scenario, not a command: sluice run semaphore" semaphore
expect_message "unknown option '--bogus'" --bogus

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

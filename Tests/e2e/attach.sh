#!/usr/bin/env bash
# `sluice ps` and `sluice attach` against the example program, for real: its queue and
# actor on screen with moving numbers, a knob turned and seen in the program's own output,
# a viewer killed and another attached, another user refused, stale sockets and nothing
# to attach to (exit 69).
# usage: attach.sh path/to/sluice path/to/sluice-indexer
set -u
name=attach
source "$(dirname "$0")/lib.sh"
indexer=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d /tmp/sluice-attach.XXXXXX)
chmod 755 "$work"
export SLUICE_DIR=$work/sockets
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; $T kill-server 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A tree of 600 small files: each pass takes a moment, passes go on until killed.
mkdir -p "$work/tree"
for d in $(seq 1 20); do
    mkdir -p "$work/tree/d$d"
    for f in $(seq 1 30); do echo "file $d $f $RANDOM" > "$work/tree/d$d/f$f.txt"; done
done

echo "attach: nothing to attach to"
out=$("$bin" attach 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "nothing to attach to" && ok "no program: exit 69, says so" || bad "no program: $status $out"
out=$("$bin" attach no-such-program 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "no program 'no-such-program'" && ok "unknown name: exit 69" || bad "unknown name: $status $out"
out=$("$bin" attach /nonexistent/x.sock 2>&1); status=$?
[ $status = 69 ] && ok "missing socket path: exit 69" || bad "missing socket path: $status $out"
out=$("$bin" ps 2>&1); status=$?
[ $status = 0 ] && echo "$out" | grep -q "no attachable programs" && ok "ps with nothing: says so" || bad "ps empty: $status $out"
out=$("$bin" attach --rate 0 2>&1); status=$?
[ $status = 64 ] && echo "$out" | grep -q "rate 0.0 is out of range: use 0.1...50" && ok "--rate 0: exit 64" || bad "--rate 0: $status $out"
out=$("$bin" attach --json 2>&1); status=$?
[ $status = 64 ] && echo "$out" | grep -q "go with --headless" && ok "--json without --headless: exit 64" || bad "--json: $status $out"

echo "attach: the example program"
"$indexer" "$work/tree" --pause 2 > "$work/indexer.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do grep -q "socket" "$work/indexer.log" 2>/dev/null && break; sleep 0.1; done
head -1 "$work/indexer.log" | grep -q "sluice-indexer pid $pid, socket $SLUICE_DIR/sluice-indexer.$pid.sock" \
    && ok "the example prints its pid and socket first" || bad "example's first line: $(head -1 "$work/indexer.log")"
sock=$SLUICE_DIR/sluice-indexer.$pid.sock
[ "$(stat -c %a "$SLUICE_DIR")" = 700 ] && [ "$(stat -c %a "$sock")" = 600 ] \
    && ok "socket folder 0700, socket 0600" || bad "modes: $(stat -c %a "$SLUICE_DIR") $(stat -c %a "$sock")"

out=$("$bin" ps)
echo "$out" | grep -Eq "^$pid +sluice-indexer +[0-9]+s +3 +0/4 " && ok "ps lists it: pid, name, uptime, patterns, viewers" \
    || bad "ps: $out"
"$bin" ps --json | grep -q "\"pid\":$pid,\"name\":\"sluice-indexer\"" && ok "ps --json" || bad "ps --json: $("$bin" ps --json)"

out=$("$bin" attach "$pid" --headless --duration 1s --json); status=$?
[ $status = 0 ] && echo "$out" | grep -q "\"program\":\"sluice-indexer\",\"pid\":$pid" \
    && echo "$out" | grep -q '"knobs":{"capacity":64,"hash-on-pool":0,"open-files":8,"pause":2,"pool-threshold":100,"workers":4}' \
    && ok "attach --headless --json: program, pid, knobs" || bad "headless json: $status $out"

"$bin" attach "$pid" --headless --duration 1s --json --record "$work/attach.rec" > "$work/attach.json" 2> "$work/attach.err"
status=$?
"$bin" replay "$work/attach.rec" --headless --json > "$work/replay.json"
[ $status = 0 ] && grep -q "recorded [0-9]* events to $work/attach.rec" "$work/attach.err" \
    && cmp -s "$work/attach.json" "$work/replay.json" && ok "attach --record: its replay prints the same summary" \
    || bad "attach --record: $status $(cat "$work/attach.err") $(diff "$work/attach.json" "$work/replay.json" | head -5)"

new_shell
keys "SLUICE_DIR=$SLUICE_DIR $bin attach sluice-indexer" Enter
check "the dashboard shows the program" "sluice-indexer \(attached, pid $pid\)"
check "its queue" "Queue paths"
# Four panes (the Pool pane too) in two columns: the name may be cut to "aggrega…".
check "its actor" "aggrega"
check "unavailable actions are named" "n/a +pause restart speed"
first=$(screen | grep -o 'put [0-9.k]*  got' | head -1)
sleep 1.5
second=$(screen | grep -o 'put [0-9.k]*  got' | head -1)
[ -n "$first" ] && [ "$first" != "$second" ] && ok "numbers move ($first -> $second)" || bad "numbers still: '$first' '$second'"
keys " "
check "pause says it is not available" "pause: not available"
keys "+"
check "the knob moves in the dashboard" "workers 4 -> 5"
for _ in $(seq 1 30); do tail -1 "$work/indexer.log" | grep -q "workers 5" && break; sleep 0.2; done
tail -1 "$work/indexer.log" | grep -q "workers 5" && ok "the program runs with 5 workers (its own output)" \
    || bad "program output: $(tail -1 "$work/indexer.log")"

viewer=$($T list-panes -t e2e -F '#{pane_pid}')
viewer=$(pgrep -P "$viewer" -f "attach sluice-indexer" | head -1)
kill -9 "$viewer"
before=$(wc -l < "$work/indexer.log")
sleep 1.5
after=$(wc -l < "$work/indexer.log")
kill -0 "$pid" 2>/dev/null && [ "$after" -gt "$before" ] && ok "viewer killed: the program runs on" || bad "program after viewer kill"
out=$("$bin" attach "$pid" --headless --duration 500ms); status=$?
[ $status = 0 ] && echo "$out" | grep -q "knobs: capacity 64, hash-on-pool 0, open-files 8, pause 2, pool-threshold 100, workers 5" \
    && ok "a new viewer attaches and sees the knob" || bad "reattach: $status $out"

echo "attach: another user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # The other user runs a copy in the test's folder (755): the clone may sit where only
    # its owner can reach (a mktemp -d parent).
    other_bin=$work/sluice-for-another-user
    cp "$bin" "$other_bin" && chmod 755 "$other_bin"
    # Open the folder and socket on purpose: the kernel's peer credentials must still refuse.
    chmod 711 "$SLUICE_DIR"; chmod 666 "$sock"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SLUICE_DIR="$SLUICE_DIR" "$other_bin" attach "$sock" --headless --duration 500ms 2>&1)
    status=$?
    chmod 700 "$SLUICE_DIR"; chmod 600 "$sock"
    [ $status = 69 ] && echo "$out" | grep -q "serves only its owner (uid 0); you are uid 65534" \
        && ok "another uid is refused by peer credentials, exit 69" || bad "other uid: $status $out"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SLUICE_DIR="$SLUICE_DIR" "$other_bin" attach "$sock" 2>&1); status=$?
    [ $status = 69 ] && ok "another uid cannot even reach the closed folder, exit 69" || bad "closed folder: $status $out"
else
    echo "  (not root: the credential check is covered by the unit tests)"
fi

echo "attach: the program goes away"
new_shell
keys "SLUICE_DIR=$SLUICE_DIR $bin attach $pid" Enter
check "attached again" "sluice-indexer \(attached"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
check "detached: NAME exited" "DETACHED +detached: sluice-indexer exited"
keys Escape
check "Esc goes back to the programs" "Programs"
keys q
prompt_back "q after detaching" 0

out=$("$bin" attach 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "1 stale sockets" && ok "only a stale socket: exit 69, says so" || bad "stale: $status $out"
out=$("$bin" attach "$sock" 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "stale socket" && ok "a stale socket path: exit 69, says so" || bad "stale path: $status $out"
"$bin" ps | grep -q "stale (pid" && ok "ps marks the stale socket" || bad "ps stale: $("$bin" ps)"

echo "attach: $passed passed, $failed failed"
[ $failed = 0 ]

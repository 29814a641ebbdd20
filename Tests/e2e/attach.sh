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
last_line_has() { tail -1 "$work/indexer.log" | grep -q "$1"; }

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
wait_until 30 grep -q "socket" "$work/indexer.log"
head -1 "$work/indexer.log" | grep -q "sluice-indexer pid $pid, socket $SLUICE_DIR/sluice-indexer.$pid.sock" \
    && ok "the example prints its pid and socket first" || bad "example's first line: $(head -1 "$work/indexer.log")"
sock=$SLUICE_DIR/sluice-indexer.$pid.sock
# The hint must be a command that runs here: sluice is not on a newcomer's PATH (#25).
hint=$(sed -n 2p "$work/indexer.log" | sed -nE "s/.*attach with: (.*) attach $pid\$/\1/p")
{ [ -x "$hint" ] || command -v "$hint" >/dev/null; } && ok "the example's attach hint is a command that runs here ($hint)" \
    || bad "attach hint: $(sed -n 2p "$work/indexer.log")"
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

# What happened while watching, and separately the totals since the program started (#25:
# it said "watched for 2 s, 650737 operations" of a program doing 18k a second).
out=$("$bin" attach "$pid" --headless --duration 1s); status=$?
watched=$(printf '%s' "$out" | sed -nE '1s/.*: ([0-9]+) operations while watched.*/\1/p')
total=$(printf '%s' "$out" | sed -nE 's/^  totals since the program started: ([0-9]+) operations$/\1/p')
[ $status = 0 ] && [ -n "$watched" ] && [ -n "$total" ] && [ "$watched" -lt "$total" ] \
    && ok "attach --headless: $watched operations while watched, $total since the program started" || bad "watched/total: $status $out"

"$bin" attach "$pid" --headless --duration 1s --json --record "$work/attach.rec" > "$work/attach.json" 2> "$work/attach.err"
status=$?
"$bin" replay "$work/attach.rec" --headless --json > "$work/replay.json"
[ $status = 0 ] && grep -q "recorded [0-9]* events to $work/attach.rec" "$work/attach.err" \
    && cmp -s "$work/attach.json" "$work/replay.json" && ok "attach --record: its replay prints the same summary" \
    || bad "attach --record: $status $(cat "$work/attach.err") $(diff "$work/attach.json" "$work/replay.json" | head -5)"

# A replay of an attached recording has one clock, its timeline (#25: the header showed
# the program's uptime too).
new_shell
keys "$bin replay $work/attach.rec" Enter
check "the replay of an attached recording opens" "sluice-indexer \(replay\)"
check "... with its timeline" "at [0-9.]+s of [0-9.]+s"
if screen | head -1 | grep -q "t=[0-9]"; then bad "a second clock in the replay's header: $(screen | head -1)"; else ok "... and no second clock in the header"; fi
keys q
prompt_back "q quits the replay" 0

echo "attach --set: knobs from a script"
out=$("$bin" attach "$pid" --set pause=3 --set capacity=100000 2>&1); status=$?
[ $status = 0 ] && echo "$out" | grep -qx "pause = 3" && echo "$out" | grep -qx "capacity = 4096" \
    && ok "--set applies and prints the values read back (capacity clamped to its range): exit 0" || bad "--set: $status $out"
out=$("$bin" attach "$pid" --headless --duration 300ms); status=$?
echo "$out" | grep -q "knobs: capacity 4096, hash-on-pool 0, open-files 8, pause 3, pool-threshold 100, workers 4" && ok "--set: a later viewer sees them" \
    || bad "--set then headless: $status $out"
out=$("$bin" attach "$pid" --set pause=2 --set nosuch=1 --set capacity=64 2>&1); status=$?
[ $status = 1 ] && echo "$out" | grep -qx "pause = 2" && echo "$out" | grep -q "^nosuch: refused: sluice-indexer has no knob 'nosuch'" \
    && echo "$out" | grep -qx "capacity = 64" && ok "--set with an unknown knob: its refusal printed, the others applied, exit 1" \
    || bad "--set refused: $status $out"
for bad_setting in "pause" "=3" "pause=fast" "pause=nan" "pause=inf"; do
    out=$("$bin" attach "$pid" --set "$bad_setting" 2>&1); status=$?
    [ $status = 64 ] && echo "$out" | grep -q -- "--set '$bad_setting'" && ok "--set '$bad_setting': exit 64, names it" \
        || bad "--set '$bad_setting': $status $out"
done
out=$("$bin" attach no-such-program --set pause=1 2>&1); status=$?
[ $status = 69 ] && ok "--set with nothing to attach to: exit 69" || bad "--set no program: $status $out"
out=$("$bin" attach "$pid" --set workers=4 --headless --duration 300ms 2>&1); status=$?
[ $status = 0 ] && echo "$out" | grep -qx "workers = 4" && echo "$out" | grep -q "workers 4" \
    && ok "--set with --headless: applied, then watched" || bad "--set --headless: $status $out"

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
wait_until 30 last_line_has "workers 5" && ok "the program runs with 5 workers (its own output)" \
    || bad "program output: $(tail -1 "$work/indexer.log")"
# Three presses in one burst (#25): each must count, not start again from a snapshot that
# has not caught up yet.
keys + + +
check "three quick presses: the dashboard ends at 8" "workers 7 -> 8"
wait_until 30 last_line_has "workers 8" && ok "three quick presses: the program runs with 8 workers" \
    || bad "three quick presses, program output: $(tail -1 "$work/indexer.log")"

viewer=$($T list-panes -t e2e -F '#{pane_pid}')
viewer=$(pgrep -P "$viewer" -f "attach sluice-indexer" | head -1)
kill -9 "$viewer"
before=$(wc -l < "$work/indexer.log")
sleep 1.5
after=$(wc -l < "$work/indexer.log")
kill -0 "$pid" 2>/dev/null && [ "$after" -gt "$before" ] && ok "viewer killed: the program runs on" || bad "program after viewer kill"
out=$("$bin" attach "$pid" --headless --duration 500ms); status=$?
[ $status = 0 ] && echo "$out" | grep -q "knobs: capacity 64, hash-on-pool 0, open-files 8, pause 2, pool-threshold 100, workers 8" \
    && ok "a new viewer attaches and sees the knob" || bad "reattach: $status $out"

echo "attach: another user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # The other user runs a copy in the test's folder (755): the clone may sit where only
    # its owner can reach (a mktemp -d parent).
    other_bin=$work/sluice-for-another-user
    cp "$bin" "$other_bin" && chmod 755 "$other_bin"
    # Open the folder and socket on purpose: the kernel's peer credentials must still refuse
    # (a raw client that only listens: sluice itself would refuse the folder first, as the
    # next check shows; the agent says goodbye before it reads a byte).
    chmod 711 "$SLUICE_DIR"; chmod 666 "$sock"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
data = b""
while True:
    part = s.recv(65536)
    if not part:
        break
    data += part
print(data[4:].decode(errors="replace"))
' "$sock" 2>&1)
    status=$?
    out2=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SLUICE_DIR="$SLUICE_DIR" "$other_bin" attach "$sock" --headless --duration 500ms 2>&1)
    status2=$?
    chmod 700 "$SLUICE_DIR"; chmod 600 "$sock"
    [ $status = 0 ] && echo "$out" | grep -q "serves only its owner (uid 0); you are uid 65534" \
        && ok "another uid is refused by the agent's peer credentials" || bad "other uid: $status $out"
    [ $status2 = 69 ] && echo "$out2" | grep -q "belongs to uid 0, not to you (uid 65534)" \
        && ok "and its sluice refuses a folder that is not its own, exit 69" || bad "other uid's sluice: $status2 $out2"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env SLUICE_DIR="$SLUICE_DIR" "$other_bin" attach "$sock" 2>&1); status=$?
    [ $status = 69 ] && ok "another uid cannot even reach the closed folder, exit 69" || bad "closed folder: $status $out"
else
    echo "  (not root: the credential check is covered by the unit tests)"
fi

echo "attach: the picker follows the programs (#25)"
"$indexer" "$work/tree" --pause 2 > "$work/indexer2.log" 2>&1 &
pid2=$!
wait_until 30 grep -q "socket" "$work/indexer2.log"
out=$("$bin" attach sluice-indexer --headless 2>&1); status=$?
[ $status = 64 ] && echo "$out" | grep -q "several programs are named 'sluice-indexer'" && ! echo "$out" | grep -q "Usage:" \
    && ok "two programs with one name: says so, exit 64, no usage line" || bad "two of one name: $status $out"
new_shell
keys "SLUICE_DIR=$SLUICE_DIR $bin attach" Enter
check "two programs: the picker lists both" "sluice-indexer \(pid $pid2\)"
kill -9 "$pid2"; wait "$pid2" 2>/dev/null
gone=no
for _ in $(seq 1 25); do screen | grep -q "(pid $pid2)" || { gone=yes; break; }; sleep 0.2; done
[ $gone = yes ] && ok "a program that exited leaves the picker" || bad "the exited program $pid2 stays in the picker"
check "... the one still running stays" "sluice-indexer \(pid $pid\)"
keys q
prompt_back "q quits the picker" 0
rm -f "$SLUICE_DIR/sluice-indexer.$pid2.sock"

echo "attach: the program exits during a headless watch"
"$indexer" "$work/tree" --pause 2 > "$work/short.log" 2>&1 &
short=$!
wait_until 30 grep -q "socket" "$work/short.log"
( sleep 1; kill -TERM "$short" 2>/dev/null ) &
killer=$!
out=$("$bin" attach "$short" --headless --duration 30s 2>&1); status=$?
wait "$killer" 2>/dev/null; wait "$short" 2>/dev/null
[ $status = 0 ] && echo "$out" | grep -q "sluice-indexer (pid $short): watched for" \
    && echo "$out" | grep -q "note: sluice-indexer (pid $short) went away after" \
    && ok "the program exits mid-watch: summary, a note saying so, exit 0" || bad "exit mid-watch: $status $out"

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
[ $status = 69 ] && echo "$out" | grep -q "1 stale socket" && ok "only a stale socket: exit 69, says so" || bad "stale: $status $out"
out=$("$bin" attach "$sock" 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "stale socket" && ok "a stale socket path: exit 69, says so" || bad "stale path: $status $out"
"$bin" ps | grep -q "stale (pid" && ok "ps marks the stale socket" || bad "ps stale: $("$bin" ps)"
out=$("$bin" attach 2>&1)
echo "$out" | grep -q "1 stale socket there: sluice ps --clean removes them" && ok "attach points at ps --clean" || bad "attach stale hint: $out"
out=$("$bin" ps --clean 2>&1); status=$?
[ $status = 0 ] && echo "$out" | grep -q "removed the stale socket $sock" && [ ! -e "$sock" ] \
    && echo "$out" | grep -q "no attachable programs" && ok "ps --clean removes the stale socket" || bad "ps --clean: $status $out"

echo "attach: a folder or a program that is not yours"
open_dir=$work/open
mkdir -p "$open_dir" && chmod 777 "$open_dir"
out=$(SLUICE_DIR=$open_dir "$bin" ps 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "others can enter it (mode 777)" && ok "ps refuses a folder others can enter: exit 69" || bad "ps open folder: $status $out"
out=$(SLUICE_DIR=$open_dir "$bin" attach 2>&1); status=$?
[ $status = 69 ] && echo "$out" | grep -q "others can enter it" && ok "attach refuses it too" || bad "attach open folder: $status $out"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
    theirs=$work/theirs
    mkdir -p "$theirs" && chmod 700 "$theirs" && chown 65534 "$theirs"
    out=$(SLUICE_DIR=$theirs "$bin" ps 2>&1); status=$?
    [ $status = 69 ] && echo "$out" | grep -q "belongs to uid 65534" && ok "ps refuses another user's folder" || bad "ps foreign folder: $status $out"
    # Another user's fake agent, its socket moved into our own folder: refused before a word is said.
    fake=$work/fake
    mkdir -p "$fake" && chmod 777 "$fake"
    setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import os, socket, sys
folder = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(os.path.join(folder, "evil.%d.sock" % os.getpid()))
s.listen(4)
s.settimeout(30)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.settimeout(5)
    heard = b""
    try:
        while True:
            part = c.recv(65536)
            if not part:
                break
            heard += part
    except OSError:
        pass
    c.close()
    with open(os.path.join(folder, "heard"), "ab") as f:
        f.write(b"connection %d bytes\n" % len(heard))
' "$fake" &
    fake_pid=$!
    wait_until 30 test -S "$fake/evil.$fake_pid.sock"
    mv "$fake/evil.$fake_pid.sock" "$SLUICE_DIR/"
    out=$("$bin" attach evil --headless --duration 1s 2>&1); status=$?
    [ $status = 69 ] && echo "$out" | grep -q "runs as uid 65534, not as you" && ok "attach refuses another user's program: exit 69" || bad "fake agent: $status $out"
    wait_until 30 test -s "$fake/heard"
    [ "$(cat "$fake/heard" 2>/dev/null)" = "connection 0 bytes" ] && ok "it was told nothing" || bad "the fake agent heard: $(cat "$fake/heard" 2>/dev/null)"
    "$bin" ps 2>&1 | grep "evil" | grep -q "runs as uid 65534" && ok "ps names it as not yours" || bad "ps fake: $("$bin" ps 2>&1)"
    kill "$fake_pid" 2>/dev/null
    rm -f "$SLUICE_DIR/evil.$fake_pid.sock"
else
    echo "  (skipped: another user's folder and program need root, setpriv and /usr/bin/python3)"
fi

echo "attach: $passed passed, $failed failed"
[ $failed = 0 ]

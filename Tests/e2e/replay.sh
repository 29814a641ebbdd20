#!/usr/bin/env bash
# End-to-end tests of recording and replay in a real terminal (tmux): record a live run,
# play it back, pause, step forward and back, go to a time and to a warning, filter and
# search the event log, restart, quit; a truncated recording says so. Usage: replay.sh path/to/sluice
set -u
name=replay
source "$(dirname "$0")/lib.sh"
value_of() { screen | sed -nE "s|.*$1.*|\1|p" | head -1; }
dir=$(mktemp -d)
trap '$T kill-server 2>/dev/null; rm -rf "$dir"' EXIT

echo "Replay end-to-end tests (tmux, 120x40)"

new_shell
keys "$bin run producer-consumer --record $dir/pc.rec" Enter
check "run --record opens the dashboard, recording" "producer-consumer \(live, rec\).*RUNNING"
if wait_for "depth .* 50/50" 20; then ok "the queue fills while it records"; else bad "the queue fills while it records"; fi
sleep 2  # producers block on the full queue for a while: the warnings to find
keys q
prompt_back "q ends the recording" 0
check "... and says what it recorded" "recorded [0-9]+ events to $dir/pc.rec"

keys clear Enter
keys "$bin replay $dir/pc.rec" Enter
check "replay opens the recording" "producer-consumer \(replay\).*RUNNING"
check "the header shows a timeline" "at [0-9.]+s of [0-9.]+s +event [0-9]+ of [0-9]+ +\["
check "the knobs show the values recorded" "consumers +2"
keys Space
check "space pauses" "PAUSED"
i1=$(value_of 'event ([0-9]+) of')
sleep 1
i2=$(value_of 'event ([0-9]+) of')
if [ -n "$i1" ] && [ "$i1" = "$i2" ]; then ok "paused, the cursor holds still (event $i1)"; else bad "paused cursor moved ($i1 -> $i2)"; fi
keys .
check ". steps one event forward" "event $((i1 + 1)) of"
keys , ,
check ", steps back" "event $((i1 - 1)) of"
keys g
check "g asks for a time" "go to time \(s\):"
keys 3 Enter
check "... and goes there" "at 3.00s of"
put_at_3=$(value_of 'total +put ([0-9]+)')
keys g 1 Enter
check "going back in time" "at 1.00s of"
put_at_1=$(value_of 'total +put ([0-9]+)')
if [ -n "$put_at_1" ] && [ -n "$put_at_3" ] && [ "$put_at_1" -lt "$put_at_3" ]; then ok "the panes show the state at the cursor (put $put_at_1 at 1 s, $put_at_3 at 3 s)"; else
    bad "the panes show the state at the cursor (put $put_at_1 at 1 s, $put_at_3 at 3 s)"; fi
keys g 0 Enter w
check "w jumps to the next warning" "next warning"
check "... the queue is full there" "producer blocked, queue full"
check "... and it is the last event applied" "depth .* 50/50"
keys +
check "knobs cannot be turned in a replay" "cannot be turned"
keys e f
check "f filters the log by kind, and the footer says so" "FILTER +kind queue"
check "... the log's title too" "Events \(all\) filtered: kind queue"
keys /
check "/ asks for a search" "search the log: /"
keys g o t Enter
check "the search finds a match" "'got': match [0-9]+ of [0-9]+"
keys n
check "n goes to an older match" "'got': match [0-9]+ of [0-9]+"
keys c
check "c clears the filter" "event log: no filter"
keys r
check "r restarts from the beginning" "RUNNING"
keys ']'
check "] doubles the speed" "speed 2x"
keys q
prompt_back "q quits the replay" 0

# A recording cut short (a killed recorder) replays up to its last whole record and says so.
size=$(stat -c %s "$dir/pc.rec")
head -c $((size - 100)) "$dir/pc.rec" >"$dir/cut.rec"
new_shell
keys "$bin replay $dir/cut.rec" Enter
check "a truncated recording replays, with a warning" "truncated"
keys q
prompt_back "q quits it" 0

# A recorder killed with kill -9 (#25): the file holds every keyframe written up to then,
# and replays what it has with a warning, exit 0 (it used to stay at its first 2 KB).
"$bin" run producer-consumer --headless --duration 60s --record "$dir/killed.rec" >/dev/null 2>&1 &
rec_pid=$!
sleep 3.5
kill -9 $rec_pid
wait $rec_pid 2>/dev/null
out=$("$bin" replay "$dir/killed.rec" --headless 2>"$dir/killed.err"); status=$?
secs=$(printf '%s' "$out" | sed -nE '1s/.* ([0-9.]+) s, ([0-9]+) operations.*/\1/p')
ops=$(printf '%s' "$out" | sed -nE '1s/.* ([0-9.]+) s, ([0-9]+) operations.*/\2/p')
if [ $status = 0 ] && grep -q "warning: .*did not end cleanly" "$dir/killed.err" && [ "${ops:-0}" -gt 0 ] \
    && awk "BEGIN { exit !(${secs:-0} >= 2) }"; then
    ok "a headless recorder killed after 3.5 s: replays ${secs} s, $ops operations, a warning, exit 0"
else bad "killed headless recorder: status $status, '$out', $(cat "$dir/killed.err")"; fi

new_shell
keys "$bin run producer-consumer --record $dir/killed-tui.rec" Enter
check "a dashboard recording runs" "producer-consumer \(live, rec\).*t=3"
rec_pid=$(pgrep -f "record $dir/killed-tui.rec" | head -1)
kill -9 "$rec_pid"
keys reset Enter clear Enter
keys "$bin replay $dir/killed-tui.rec" Enter
check "a dashboard recording killed at 3 s replays" "producer-consumer \(replay\)"
check "... up to its last keyframe" "of [2-9][0-9.]*s +event [0-9]+ of [1-9][0-9]*"
check "... and says it did not end cleanly" "the recording did not end"
keys q
prompt_back "q quits it" 0

# Quitting cancels the consumers' waiting gets: that is the run ending, not a warning (#25:
# `w` jumped to "a waiting get gave up" at the end of every recorded live run).
"$bin" run producer-consumer --producers 0 --headless --duration 1s --record "$dir/idle.rec" >/dev/null 2>&1
new_shell
keys "$bin replay $dir/idle.rec" Enter
check "a recording of idle consumers" "producer-consumer \(replay\)"
keys g 0 Enter w
check "w finds no warning: quitting is not one" "no later warning"
keys q
prompt_back "q quits it" 0

# At 80x24 the knob panel of a pipeline replay is full: a long answer to `g` used to lose
# its last lines (#25). The message takes the bottom rows first.
"$bin" run pipeline --headless --duration 1s --record "$dir/pipeline.rec" >/dev/null 2>&1
new_shell
$T resize-window -t e2e -x 80 -y 24
keys "$bin replay $dir/pipeline.rec" Enter
check "a pipeline replay at 80x24" "pipeline \(replay\)"
keys g 1 : 2 : 3 : 4 : 5 : 6 : 7 : 8 : 9 : 1 0 : 1 1 : 1 2 : 1 3 : 1 4 Enter
check "g's error is shown whole in the knob panel" "m:ss\)"
keys q
prompt_back "q quits it" 0

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

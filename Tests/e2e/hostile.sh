#!/usr/bin/env bash
# Hostile terminal input: 10,000 random keystrokes and 100 random resizes (down to 1x1)
# into the running dashboard, then signals at random moments. sluice must not crash, must
# restore the terminal, and q must still quit. Seeded: HOSTILE_SEED=N replays the keys.
# Usage: hostile.sh path/to/sluice
set -u
name=hostile
source "$(dirname "$0")/lib.sh"
seed=${HOSTILE_SEED:-$RANDOM}
RANDOM=$seed
echo "hostile TUI tests (seed $seed; replay with HOSTILE_SEED=$seed)"

# Everything but q (and Ctrl-C): the point is that nothing else can break it.
specials=(Up Down Left Right Enter Escape Tab BTab PageUp PageDown Home End Space BSpace F1 F5 F12)
printables='abcdefghijklmnoprstuvwxyz0123456789+-=_[]{}?/<>!@#$%^&*()., éü日本🚀'

# In a folder of its own: `p` saves the screen to a file in the current folder.
shots=$(mktemp -d)
trap '$T kill-server 2>/dev/null; rm -rf "$shots"' EXIT
new_shell
$T send-keys -t e2e "cd $shots && $bin" Enter
wait_for "pick a scenario" 10 || bad "the picker did not open"
# The sluice this test started: the child of the pane's shell (not any process of that name).
pid=$(pgrep -P "$($T display-message -p -t e2e '#{pane_pid}')" -x sluice | head -1)
[ -n "$pid" ] || bad "no sluice under the pane's shell"
keys=0
resizes=0
while [ $keys -lt 10000 ]; do
    for _ in $(seq 1 25); do
        if [ $((RANDOM % 3)) -eq 0 ]; then
            $T send-keys -t e2e "${specials[$((RANDOM % ${#specials[@]}))]}"
        else
            i=$((RANDOM % ${#printables}))
            $T send-keys -t e2e -l "${printables:$i:1}"
        fi
        keys=$((keys + 1))
    done
    if [ $((keys % 100)) -eq 0 ] && [ $resizes -lt 100 ]; then
        if [ $resizes -eq 50 ]; then w=1; h=1; else w=$((1 + RANDOM % 200)); h=$((1 + RANDOM % 60)); fi
        $T resize-window -t e2e -x $w -y $h
        resizes=$((resizes + 1))
    fi
done
$T resize-window -t e2e -x 120 -y 40
sleep 1
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(ps -o comm= -p "$pid")" = sluice ]; then ok "alive after $keys random keys and $resizes resizes (one to 1x1)"; else bad "sluice died under random input"; fi
$T send-keys -t e2e Escape Escape Escape
sleep 0.3
$T send-keys -t e2e q
prompt_back "q still quits after random input" 0 30

# Signals at random moments, against random scenarios.
scenarios=(producer-consumer actors semaphore streams resources pipeline blocking)
signals=(INT TERM HUP)
codes=(130 143 129)
for round in $(seq 1 12); do
    new_shell
    s=${scenarios[$((RANDOM % ${#scenarios[@]}))]}
    k=$((RANDOM % 3))
    delay=$(awk "BEGIN { print $((RANDOM % 1500)) / 1000 }")
    $T send-keys -t e2e "$bin run $s & sleep $delay; kill -${signals[$k]} %1; wait %1; echo EXIT=\$? ok-\$((40+2))" Enter
    if wait_for "EXIT=${codes[$k]} ok-42" 15 && ! screen | grep -q "core dumped"; then
        ok "SIG${signals[$k]} after ${delay}s in $s: status ${codes[$k]}, terminal restored"
    else
        bad "SIG${signals[$k]} after ${delay}s in $s"
    fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

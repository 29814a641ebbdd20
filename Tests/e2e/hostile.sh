#!/usr/bin/env bash
# Hostile terminal input: 10,000 random keystrokes and 100 random resizes (down to 1x1)
# into the running dashboard, then signals at random moments. sluice must not crash, must
# restore the terminal, and q must still quit. Seeded: HOSTILE_SEED=N replays the keys.
# Usage: hostile.sh path/to/sluice
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if ! command -v tmux >/dev/null 2>&1; then
    echo "SKIPPED: tmux is not installed, so the hostile-input TUI tests did not run"
    exit 0
fi
seed=${HOSTILE_SEED:-$RANDOM}
RANDOM=$seed
echo "hostile TUI tests (seed $seed; replay with HOSTILE_SEED=$seed)"
T="tmux -L sluice-hostile-$$"
trap '$T kill-server 2>/dev/null' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   $1"; }
bad() { failed=$((failed + 1)); echo "  FAIL $1"; $T capture-pane -t h -p 2>/dev/null | sed 's/^/  | /' | tail -15; }
screen() { $T capture-pane -t h -p; }
wait_for() {
    local deadline=$((SECONDS + ${2:-10}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
new_shell() {
    $T kill-server 2>/dev/null
    while $T ls >/dev/null 2>&1; do sleep 0.1; done
    $T new-session -d -x 120 -y 40 -s h "env -i HOME=$HOME PATH=$PATH TERM=xterm-256color LANG=C.UTF-8 PS1='prompt\$ ' bash --norc --noprofile"
    wait_for 'prompt\$' 5 || true
}
wait_prompt() {
    local deadline=$((SECONDS + ${1:-10}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -v '^ *$' | tail -1 | grep -Eq '^prompt\$ *$' && return 0
        sleep 0.2
    done
    return 1
}

# Everything but q (and Ctrl-C): the point is that nothing else can break it.
specials=(Up Down Left Right Enter Escape Tab BTab PageUp PageDown Home End Space BSpace F1 F5 F12)
printables='abcdefghijklmnoprstuvwxyz0123456789+-=_[]{}?/<>!@#$%^&*()., éü日本🚀'

new_shell
$T send-keys -t h "$bin" Enter
wait_for "pick a scenario" 10 || bad "the picker did not open"
keys=0
resizes=0
while [ $keys -lt 10000 ]; do
    for _ in $(seq 1 25); do
        if [ $((RANDOM % 3)) -eq 0 ]; then
            $T send-keys -t h "${specials[$((RANDOM % ${#specials[@]}))]}"
        else
            i=$((RANDOM % ${#printables}))
            $T send-keys -t h -l "${printables:$i:1}"
        fi
        keys=$((keys + 1))
    done
    if [ $((keys % 100)) -eq 0 ] && [ $resizes -lt 100 ]; then
        if [ $resizes -eq 50 ]; then w=1; h=1; else w=$((1 + RANDOM % 200)); h=$((1 + RANDOM % 60)); fi
        $T resize-window -t h -x $w -y $h
        resizes=$((resizes + 1))
    fi
done
$T resize-window -t h -x 120 -y 40
sleep 1
if pgrep -x sluice >/dev/null; then ok "alive after $keys random keys and $resizes resizes (one to 1x1)"; else bad "sluice died under random input"; fi
$T send-keys -t h Escape Escape Escape
sleep 0.3
$T send-keys -t h q
if wait_prompt 30; then ok "q still quits"; else bad "q did not quit"; fi
$T send-keys -t h "echo EXIT=\$? ok-\$((40+2))" Enter
if wait_for "EXIT=0 ok-42" 5; then ok "exit status 0 and a usable prompt"; else bad "exit status or prompt after random input"; fi

# Signals at random moments, against random scenarios.
scenarios=(producer-consumer actors semaphore streams resources pipeline blocking)
signals=(INT TERM HUP)
codes=(130 143 129)
for round in $(seq 1 12); do
    new_shell
    s=${scenarios[$((RANDOM % ${#scenarios[@]}))]}
    k=$((RANDOM % 3))
    delay=$(awk "BEGIN { print $((RANDOM % 1500)) / 1000 }")
    $T send-keys -t h "$bin run $s & sleep $delay; kill -${signals[$k]} %1; wait %1; echo EXIT=\$? ok-\$((40+2))" Enter
    if wait_for "EXIT=${codes[$k]} ok-42" 15 && ! screen | grep -q "core dumped"; then
        ok "SIG${signals[$k]} after ${delay}s in $s: status ${codes[$k]}, terminal restored"
    else
        bad "SIG${signals[$k]} after ${delay}s in $s"
    fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

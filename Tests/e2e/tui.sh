#!/usr/bin/env bash
# End-to-end tests of the real `sluice` binary in a real terminal (tmux), as a user would
# drive it: picker, resize, a live scenario steered with keys, pause, help, other
# scenarios, quitting, signals and bad terminals. Usage: tui.sh path/to/sluice
set -u
name=e2e
source "$(dirname "$0")/lib.sh"
# A number from the screen: value_of REGEX-WITH-ONE-GROUP
value_of() { screen | sed -nE "s|.*$1.*|\1|p" | head -1; }

echo "TUI end-to-end tests (tmux, 120x40)"

new_shell
keys "$bin" Enter
check "the picker opens" "pick a scenario"
check "it lists every scenario" "blocking +Blocking calls"
keys j
check "j moves the selection" "▶ actors"
keys k
check "k moves it back" "▶ producer-consumer"
$T resize-window -t e2e -x 60 -y 20
check "a 60x20 terminal gets a clear message" "terminal too small: need 80x24, have 60x20"
$T resize-window -t e2e -x 120 -y 40
check "growing back restores the picker" "▶ producer-consumer"
keys '?'
check "? opens help" "choose a scenario"
keys x
check "any key closes help" "▶ producer-consumer"

keys Enter
check "Enter starts producer-consumer" "producer-consumer \(live\).*RUNNING"
check "the queue pane shows depth" "depth .*[0-9]+/50"
if wait_for "depth .* (4[0-9]|50)/50" 20; then ok "the queue fills while producers outrun consumers"; else bad "the queue fills"; fi
before=$(value_of 'depth .* ([0-9]+)/50')
keys j
check "j selects the consumers knob" "▶ consumers +2"
for _ in 1 2 3 4 5 6; do keys +; done
check "+ raises consumers (shown in the knob panel)" "▶ consumers +8"
check "the change is logged" "knob consumers = 8"
check "the queue pane's header shows it" "Queue queue · consumers 8"
drained=no
for _ in $(seq 1 60); do
    now=$(value_of 'depth .* ([0-9]+)/50')
    if [ -n "$now" ] && [ -n "$before" ] && [ "$now" -lt $((before - 10)) ]; then drained=yes; break; fi
    sleep 0.25
done
if [ $drained = yes ]; then ok "more consumers drain the queue (depth $before -> $now)"; else bad "more consumers drain the queue (depth stayed at ${now:-?}, was $before)"; fi

keys Space
check "space pauses" "PAUSED"
sleep 0.3
a=$(screen | grep -E '^.*total +put' | head -1)
t1=$(value_of 't=([0-9.]+)s')
sleep 1.5
b=$(screen | grep -E '^.*total +put' | head -1)
t2=$(value_of 't=([0-9.]+)s')
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$t1" = "$t2" ]; then ok "paused numbers and time hold still"; else bad "paused numbers hold still ('$a' vs '$b', t $t1 vs $t2)"; fi
keys Space
check "space resumes" "RUNNING"
keys '?'
check "? opens the scenario help" "pause / resume the scenario"
keys Escape
check "a key closes it" "Knobs"

keys Escape
check "Esc goes back to the picker" "pick a scenario"
keys j Enter
check "actors starts" "actors \(live\).*RUNNING"
check "the actors pane lists actors with live numbers" "actor-[0-9]+ +[0-9]+ .* [1-9][0-9]* "
check "dead letters are reported" "dead letters"
keys Tab
check "Tab focuses the actors pane" "Actors \([0-9]+\)  sort"
keys Down Enter
check "Enter on the focused actors pane opens an actor" "Actor actor-[0-9]+"
keys Escape Escape
check "Esc, Esc: back to the picker" "pick a scenario"
keys j Enter
check "semaphore starts" "semaphore \(live\).*RUNNING"
check "the semaphore pane shows permits in use" "Semaphore permits +[0-9]/3 in use"
check "acquires are counted" "acquired [1-9]"
keys q
prompt_back "q quits" 0

new_shell
keys "$bin run pipeline --speed 2" Enter
check "sluice run NAME opens the scenario directly" "pipeline \(live\).*RUNNING"
check "pipeline shows all its panes" "Resources"
$T resize-window -t e2e -x 80 -y 24
check "80x24 still lays out the pipeline" "Queue queue"
$T resize-window -t e2e -x 120 -y 40
keys C-c
prompt_back "Ctrl-C restores the terminal" 130

new_shell
keys "$bin run semaphore & sleep 2; kill -TERM %1; wait %1" Enter
keys "echo EXIT=\$? ok-\$((40+2))" Enter
check "SIGTERM restores the terminal: status 143" "EXIT=143 ok-42" 10

new_shell
keys "$bin run actors & sleep 2; kill -HUP %1; wait %1" Enter
keys "echo EXIT=\$? ok-\$((40+2))" Enter
check "SIGHUP: status 129" "EXIT=129 ok-42" 10

# Quitting never needs the cooperative pool: with every pool thread stuck in a 5 s blocking
# call, q and a closed terminal (SIGHUP) still end the process within a second.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
block="run blocking --blocking 16 --awaiting 8 --offload 0 --block 5000"
new_shell
keys "$bin $block; echo EXIT=\$? AT=\$(( \$(date +%s%N) / 1000000 ))" Enter
check "blocking work fills the pool" "blocking \(live\).*RUNNING"
sleep 1  # 16 workers on a 2-thread pool: both threads are in usleep by now
start=$(now_ms)
keys q
if wait_for "EXIT=0 AT=[0-9]+" 10; then
    took=$(( $(screen | sed -nE 's/.*EXIT=0 AT=([0-9]+).*/\1/p' | tail -1) - start ))
    if [ "$took" -lt 1000 ]; then ok "q with a blocked pool exits within a second (${took}ms)"; else bad "q with a blocked pool took ${took}ms"; fi
else
    bad "q with a blocked pool: the process did not exit"
fi
keys "echo ok-\$((40+2))" Enter
check "... and the terminal is restored" "^ok-42"

new_shell
pidfile=/tmp/sluice-e2e-pid.$$
keys "echo \$\$ > $pidfile; exec $bin $block" Enter
check "blocking work fills the pool (for SIGHUP)" "blocking \(live\).*RUNNING"
sleep 1  # 16 workers on a 2-thread pool: both threads are in usleep by now
pid=$(cat $pidfile)
rm -f $pidfile
start=$(now_ms)
$T kill-server
# Gone: no such process, or a zombie that tmux has not reaped yet (it has exited).
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
while alive "$pid" && [ $(( $(now_ms) - start )) -lt 3000 ]; do sleep 0.05; done
took=$(( $(now_ms) - start ))
if ! alive "$pid" && [ $took -lt 1000 ]; then ok "closing the terminal (SIGHUP) with a blocked pool: gone in ${took}ms"; else
    bad "closing the terminal with a blocked pool: still there after ${took}ms"; kill -KILL "$pid" 2>/dev/null; fi

new_shell
keys "TERM=bogus $bin; echo EXIT=\$?" Enter
check "an unknown TERM gets a clear message and status 2" "does not know the terminal type TERM=bogus"
check "... with status 2" "EXIT=2"
keys "$bin < /dev/null > /tmp/sluice-e2e-out.txt; echo EXIT=\$?" Enter
check "no TTY: a clear message and status 2" "stdin or stdout is not a TTY"
keys "$bin run nosuch; echo EXIT=\$?" Enter
check "an unknown scenario: status 64" "unknown scenario 'nosuch'.*"
check "... exit 64" "EXIT=64"

echo "What a newcomer hits first (#25)"
shots=$(mktemp -d)
new_shell
$T resize-window -t e2e -x 80 -y 24
keys "cd $shots && $bin run producer-consumer" Enter
check "producer-consumer at 80x24" "producer-consumer \(live\).*RUNNING"
check "the footer fits 80 columns and keeps ? and Esc" "\?  help .*Esc  back"
keys '?'
check "? opens help" "press any key to close"
keys q
check "q in help closes the help" "Events \(notable\)"
if screen | grep -q "press any key" || ! screen | grep -q "RUNNING"; then bad "q in help quit the program"; else ok "... and the program runs on"; fi
keys j j
check "j j selects capacity" "▶ capacity +50 items"
keys S-Right
check "Shift-right: ten steps at once" "capacity +60 items"
keys PPage
check "PgUp with the knobs focused: ten steps too" "capacity +70 items"
keys j j j
check "a seed-only knob is marked in the list" "▶ items \(seed\) +5"
check "... and explained under it" "│  seed preset only"
keys +
check "... and turning it says so" "items 5 -> 6 \(seed"
keys e f
check "f: the first kind this run has" "FILTER +kind queue"
keys f
check "f: then the next kind it has (health), not actors" "FILTER +kind health"
keys f c / p u t Enter
check "/ is called a search in the log's title" "Events \(all\) search: /put"
keys p
check "p saves the screen and says where" "screen saved to"
shot=$(ls "$shots"/sluice-screen-*.txt 2>/dev/null | head -1)
if [ -n "$shot" ] && grep -q "producer-consumer (live)" "$shot" && grep -q $'\e\[' "${shot%.txt}.ans" \
    && [ "$(stat -c %a "$shot")" = 600 ]; then ok "the text file has the screen, the .ans file its colours (mode 0600)"; else
    bad "saved screen: '$shot' $(ls -l "$shots")"; fi
keys q
prompt_back "q quits" 0
rm -rf "$shots"

new_shell
keys "$bin run semaphore --preset seed --speed 10" Enter
check "a seed run ends: DONE" "semaphore \(seed\).*DONE" 20
t1=$(value_of 't=([0-9.]+)s')
sleep 1.5
t2=$(value_of 't=([0-9.]+)s')
if [ -n "$t1" ] && [ "$t1" = "$t2" ]; then ok "after DONE its clock stands still (t=${t1}s)"; else bad "after DONE the clock runs on ($t1 -> $t2)"; fi
keys q
prompt_back "q quits" 0

new_shell
keys "$bin run semaphore --permits 0" Enter
check "0 permits and jobs waiting: Health says nothing can run" "nothing can run: permits has 0 permits"
keys q
prompt_back "q quits" 0

new_shell
keys "TERM=dumb $bin; echo EXIT=\$?" Enter
check "TERM=dumb is refused with a clear message" "TERM=dumb cannot move the cursor"
check "... and status 2" "EXIT=2"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]

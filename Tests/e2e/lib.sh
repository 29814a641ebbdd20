# Shared by the tmux end-to-end scripts: a private tmux server with one session `e2e`
# running a clean bash, and helpers to type, read the screen and wait for it.
# Source it after setting `name` (a short label for the tmux socket).
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if ! command -v tmux >/dev/null 2>&1; then
    echo "SKIPPED: tmux is not installed, so the $name tests did not run (apt-get install tmux)"
    exit 0
fi
# Each shell gets a tmux server of its own (see new_shell); T names the current one.
shells=0
T="tmux -L sluice-$name-$$-$shells"
passed=0
failed=0
trap '$T kill-server 2>/dev/null' EXIT

ok() { passed=$((passed + 1)); echo "  ok   $1"; }
bad() {
    failed=$((failed + 1))
    echo "  FAIL $1"
    echo "----- screen -----"
    screen | sed 's/^/  | /'
    # What a text capture cannot show: the reversed text (a focused panel's title, a
    # selected row), which says where the keys went.
    echo "----- reversed: $($T capture-pane -t e2e -p -e | grep -oE $'\e\\[([0-9]*;)*7(;[0-9]*)*m[^\e]*' | tr -d '\033' | head -4 | tr '\n' '|')"
}
screen() { $T capture-pane -t e2e -p; }
keys() { $T send-keys -t e2e "$@"; }
# wait_for PATTERN SECONDS: true once the screen matches the (extended) regex.
wait_for() {
    local deadline=$((SECONDS + ${2:-10}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
# wait_until SECONDS COMMAND...: true once COMMAND succeeds (tried every 0.1 s). For what
# a program does at its own pace (starting, printing a line): a loaded machine can take
# seconds, so the limit is generous and only ends a wait that would never end.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}
check() { if wait_for "$2" "${3:-20}"; then ok "$1"; else bad "$1 (expected /$2/)"; fi; }
# focused TITLE: the panel titled TITLE is focused (its title drawn reversed).
focused() { $T capture-pane -t e2e -p -e | grep -qE $'\e\\[([0-9]*;)*7(;[0-9]*)*m '"$1 "; }
check_focus() { if wait_until "${2:-20}" focused "$1"; then ok "the $1 panel is focused"; else bad "the $1 panel is not focused"; fi; }
# A fresh 120x40 terminal with a bare prompt, `prompt$ `, on a tmux server of its own:
# kill-server returns before the old server has gone, and a session started on the same
# socket meanwhile can go with it.
new_shell() {
    $T kill-server 2>/dev/null
    shells=$((shells + 1))
    T="tmux -L sluice-$name-$$-$shells"
    local why
    why=$($T new-session -d -x 120 -y 40 -s e2e "env -i HOME=$HOME PATH=$PATH TERM=xterm-256color LANG=C.UTF-8 PS1='prompt\$ ' bash --norc --noprofile" 2>&1) \
        || echo "  new_shell: tmux could not start a session: $why"
    wait_for 'prompt\$' 5 || echo "  new_shell: no prompt within 5 s"
}
# wait_prompt SECONDS: the last non-empty line is a bare prompt (the program has exited).
wait_prompt() {
    local deadline=$((SECONDS + ${1:-10}))
    while [ $SECONDS -lt $deadline ]; do
        screen | grep -v '^ *$' | tail -1 | grep -Eq '^prompt\$ *$' && return 0
        sleep 0.2
    done
    return 1
}
# prompt_back LABEL STATUS: the program exited with STATUS and the shell is usable.
prompt_back() {
    wait_prompt "${3:-10}"
    keys "echo EXIT=\$? ok-\$((40+2))" Enter
    check "$1: exit status $2 and a usable prompt" "EXIT=$2 ok-42" 10
}

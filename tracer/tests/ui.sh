#!/usr/bin/env bash
# ui.sh ROOT BIN_DIR [WRAPPER...]
# The ncurses viewer, driven in a private tmux server at 80x24: open a trace, step
# forward and back, jump to the ends, focus a lane, hide one, search, zoom into time
# slices, the help and the task table, play, a resize, ASCII in a non-UTF-8 locale, a
# million events, `asynctrace PROGRAM` on a terminal, and q. Assertions read the screen
# (capture-pane). WRAPPER (valgrind ...) runs asynctrace under it.
set -u
root=$1 bin=$2
shift 2
wrapper=("$@")
tmp=$(mktemp -d)
# Each session gets a server of its own: a server being killed cannot take the next one.
session=0
tmx() { tmux -S "$tmp/tmux.$session" -f /dev/null "$@"; }
trap 'tmx kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- the screen:"; tmx capture-pane -p -t ui 2>/dev/null; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE TMUX
wait_s=${UI_WAIT:-20}

# start LANG ARGS...: runs asynctrace ARGS in a fresh 80x24 session; waits for its title.
start() {
    local lang=$1
    shift
    tmx kill-server 2>/dev/null
    session=$((session + 1))
    tmx new-session -d -s ui -x 80 -y 24 \
        "env LANG=$lang LC_ALL=$lang TERM=screen ${wrapper[*]} $bin/asynctrace $* ; echo \"exit status \$?\"; sleep 60"
    see " asynctrace "
}

# see TEXT: waits until the screen shows TEXT.
see() {
    local i
    for ((i = 0; i < wait_s * 20; i++)); do
        tmx capture-pane -p -t ui 2>/dev/null | grep -qF -- "$1" && return 0
        sleep 0.05
    done
    fail "the screen never showed '$1'"
}

# gone TEXT: waits until the screen no longer shows TEXT.
gone() {
    local i
    for ((i = 0; i < wait_s * 20; i++)); do
        tmx capture-pane -p -t ui 2>/dev/null | grep -qF -- "$1" || return 0
        sleep 0.05
    done
    fail "the screen still shows '$1'"
}

keys() { tmx send-keys -t ui "$@"; }

"$bin/03_v1_global_gen" --speed 200 --trace "$tmp/t" >/dev/null || fail "03_v1_global_gen exited $?"
n=$(($(wc -l <"$tmp/t") - 1))
# The event number of the first event whose line matches a pattern.
event_of() { awk -F '\t' -v want="$1" 'NR > 1 && index($0, want) { print NR - 1; exit }' "$tmp/t"; }

start C.UTF-8 view --no-color "$tmp/t"
see "03_v1_global_gen  en  speed 200  threads gil"
see " time │ main     req_a    io       │ what happens"
see "│ ●                          │ main starts"
see "event 1/$n "
see "space play"

# Step forward and back, and jump to the ends.
keys Right Right Right
see "event 4/$n "
see "req_a: \"Start handling request req_a\""
keys Left
see "event 3/$n "
see "req_a is running"
keys End
see "event $n/$n "
see "main: main ends"
keys Home
see "event 1/$n "

# Focus the lane of the current event (req_a starts at event 3), then all again.
keys Right Right
see "event 3/$n "
keys f
see "focus: req_a"
keys f
see "focus: all lanes"

# Search: the line io prints when its I/O is done.
keys / "I/O done" Enter
see "event $(event_of "I/O done")/$n "
see "/I/O done: event"
keys n
see "(wrapped)"

# Hide the current lane (io printed that line), then show every lane again.
keys Home
see "event 1/$n "
keys / "Start the I/O" Enter
see "event $(event_of "Start the I/O")/$n "
keys h
see "hidden: io (H shows every lane)"
see " time │ main     req_a    │ what happens"
keys H
see " time │ main     req_a    io       │ what happens"

# The help, the task table.
keys '?'
see "asynctrace: keys"
see "f          focus the current event's lane"
keys x
gone "asynctrace: keys"
keys t
see "lane         kind      thread        at the end"
see "req_a        generator main→io       done"
keys t
gone "at the end"

# Zoom: rows become time slices, then events again.
keys +
see "rows: slices of"
keys -
see "a row is"
keys s
see "rows: events"

# Play until the end.
keys Home space
see "[playing]"
keys End
see "the end of the trace"
gone "[playing]"

# A resize redraws at the new size.
tmx resize-window -t ui -x 100 -y 30
see "\"I/O done, send the result to wake the suspended request\""
see "event $n/$n "
keys q
see "exit status 0"

# No UTF-8 locale: ASCII glyphs only.
start C view --no-color "$tmp/t"
see " time | main     req_a    io       | what happens"
see "| o                          | main starts"
keys q
see "exit status 0"

# Colour (the default) draws the same text.
start C.UTF-8 view "$tmp/t"
see "│ ●                          │ main starts"
keys q
see "exit status 0"

# A million events: the end is one key away, and a page up another. (Not under a
# wrapper: valgrind would take a minute to load them.)
if ((${#wrapper[@]} == 0)); then
    "$root/tracer/tests/gen-trace" 1000000 >"$tmp/big"
    start C.UTF-8 view --no-color "$tmp/big"
    see "event 1/1000000 "
    keys End
    see "event 1000000/1000000 "
    keys PPage
    see "event 9999"
    keys q
    see "exit status 0"
fi

# asynctrace PROGRAM on a terminal: the program runs, then the viewer opens on its trace.
start C.UTF-8 01_sync --speed 200
see "01_sync  en  speed 200  threads none"
see "\"Finish handling request req_b\""
keys q
see "exit status 0"
echo "the viewer behaves"

#!/usr/bin/env bash
# valgrind.sh ROOT BIN_DIR
# asynctrace under valgrind: no invalid access, no use of uninitialised memory, no leak,
# whether it draws, tables or exports a good trace, a lesson-04 one, a cut one or
# garbage, and while the viewer is driven in tmux (ui.sh, wrapped).
set -u
root=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)

"$bin/03_two_requests" --speed 200 --trace "$tmp/good" >/dev/null || fail "03_two_requests exited $?"
head -c 900 "$tmp/good" >"$tmp/cut"
head -c 5000 "$bin/asynctrace" >"$tmp/garbage"
for trace in "$tmp/good" "$root/tracer/tests/traces/loop04.trace" "$tmp/cut" "$tmp/garbage"; do
    for cmd in "text" "text --logical-time --ascii" "tasks" "export --chrome $tmp/json"; do
        "${vg[@]}" "$bin/asynctrace" $cmd "$trace" >/dev/null 2>"$tmp/err"
        status=$?
        [[ $status != 99 ]] || fail "valgrind: asynctrace $cmd $(basename "$trace"): $(cat "$tmp/err")"
    done
done
"${vg[@]}" "$bin/asynctrace" record -o "$tmp/rec" -- 01_sync --speed 200 >/dev/null 2>"$tmp/err" ||
    fail "valgrind: record: $(cat "$tmp/err")"

# The viewer: every key of ui.sh, each session ending with valgrind's status.
UI_WAIT=60 "$root/tracer/tests/ui.sh" "$root" "$bin" "${vg[@]}" --log-file="$tmp/vg.%p" >"$tmp/ui" 2>&1 ||
    fail "the viewer under valgrind: $(cat "$tmp/ui") $(cat "$tmp"/vg.* 2>/dev/null)"
for log in "$tmp"/vg.*; do
    [[ ! -s $log ]] || fail "valgrind: the viewer: $(cat "$log")"
done
echo "asynctrace is valgrind-clean"

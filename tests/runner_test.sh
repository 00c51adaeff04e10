#!/usr/bin/env bash
# runner_test.sh ROOT BIN_DIR
# lessons/run: the tour, one lesson, one program, --list, --check against a changed
# transcript, a failing program, and its errors.
set -u
root=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE
run=("$root/lessons/run" --bin "$bin")

# run ARGS...: sets $status and $out (stdout and stderr).
run() {
    out=$("${run[@]}" "$@" 2>&1)
    status=$?
}

mapfile -t catalogue < <(grep -v '^#' "$root/lessons/catalogue")

run --list
[[ $status == 0 ]] || fail "--list: $status"
[[ $(printf '%s\n' "$out" | awk '{ print $1 }') == "$(printf '%s\n' "${catalogue[@]}")" ]] ||
    fail "--list is not the catalogue in order: $out"
[[ $out == *"02_callback_thread     the slow call moves to a thread"* ]] || fail "--list lacks descriptions"

# The tour: every program in order, each matching, with a summary; status 0 with --check.
run --check --speed 200 --lang zh
[[ $status == 0 ]] || fail "the tour --check: status $status: $out"
order=$(printf '%s\n' "$out" | sed -n 's/^━━ \([0-9a-z_]*\) .*/\1/p')
[[ $order == "$(printf '%s\n' "${catalogue[@]}")" ]] || fail "the tour's order: $order"
(($(grep -c '✓ same as lessons/expected/' <<<"$out") == ${#catalogue[@]})) || fail "not every program matched"
[[ $out == *"│ 开始处理请求req_a"* ]] || fail "the output is not shown"
[[ $out == *"program"*"time"*"transcript"* ]] || fail "no summary table"
# Each line shows the document time it came at: the line after 5 s of I/O, at least 5.0 s
# (a sleep never ends early; how much later depends on the machine, so no upper bound).
io_done=$(sed -n 's/^ *\([0-9]*\.[0-9]\) s │ 完成IO操作$/\1/p' <<<"$out")
[[ -n $io_done ]] && awk -v t="$io_done" 'BEGIN { exit !(t >= 5.0) }' ||
    fail "document times are not shown: '$io_done'"

# One lesson, one program, several.
run 02 --speed 200
[[ $status == 0 && $(grep -c '^━━' <<<"$out") == 1 && $out == *"━━ 02_callback_thread"* ]] ||
    fail "lesson 02: $out"
run 03 --speed 200
[[ $(grep -c '^━━' <<<"$out") == 4 ]] || fail "lesson 03 has four programs: $out"
run 03_v2_decorator 01 --speed 200
[[ $(sed -n 's/^━━ \([0-9a-z_]*\) .*/\1/p' <<<"$out" | tr '\n' ' ') == "03_v2_decorator 01_sync 01_blocking_io " ]] ||
    fail "programs run in the order asked: $out"

# --check fails on a changed transcript, and shows the difference.
cp -r "$root/lessons/expected" "$tmp/expected"
sed -i 's/ret: io result/ret: something else/' "$tmp/expected/02_callback_thread.en.txt"
run 02 --check --speed 200 --expected "$tmp/expected"
[[ $status == 1 && $out == *"✗ differs from"* && $out == *"-ret: something else"* && $out == *"+ret: io result"* ]] ||
    fail "--check on a changed transcript: status $status: $out"
run 02 --speed 200 --expected "$tmp/expected"
[[ $status == 0 && $out == *"✗ differs from"* ]] || fail "without --check a difference is shown, status 0: $out"
rm "$tmp/expected/01_sync.en.txt"
run 01_sync --expected "$tmp/expected"
[[ $status == 1 && $out == *"no transcript"* ]] || fail "a missing transcript: $status: $out"

# Arguments after -- reach the programs; a program that fails makes the status 1.
run 01_sync -- --lang fr
[[ $status == 1 && $out == *"--lang must be en or zh"* && $out == *"exited with status 2"* ]] ||
    fail "a failing program: $status: $out"
run 02 --speed 200 -- --free-threads
[[ $status == 0 ]] || fail "-- --free-threads: $status: $out"

# --trace: after each program, the tracer's picture of its trace (this is no terminal).
run 02 --trace --check --speed 200
[[ $status == 0 && $out == *"✓ same as"* && $out == *"02_callback_thread · en · speed 200"* &&
    $out == *"io calls back on_finish"* && $out == *"lane         kind"* ]] || fail "--trace: $status: $out"

# The runner's own errors: status 2 and a reason.
for args in "99" "nope" "--speed 0" "--lang fr" "--bogus" "--speed"; do
    run $args
    [[ $status == 2 && $out == "lessons/run: "* ]] || fail "lessons/run $args: $status: $out"
done
run --bin "$tmp/nowhere" 01
[[ $status == 2 && $out == *"no directory"* ]] || fail "--bin to nowhere: $out"
run --help
[[ $status == 0 && $out == Usage:* ]] || fail "--help"
echo "the runner behaves"

#!/usr/bin/env bash
# cli.sh ROOT BIN_DIR
# asynctrace's command line: record (beside asynctrace, or on PATH), a program traced and
# shown, text in real and logical time, ASCII, tasks, and a clear refusal (status 2) of
# anything wrong.
set -u
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE
a=$bin/asynctrace

# run ARGS...: sets $status, $out, $err.
run() {
    "$a" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    out=$(<"$tmp/out")
    err=$(<"$tmp/err")
}

run --help
[[ $status == 0 && $out == Usage:* && $out == *"export --chrome"* ]] || fail "--help: $status $out"

# Refusals: status 2, a reason, the hint.
for args in "" "--bogus" "text" "text a b" "text --width 5 x" "text --width" "export x" \
    "record -- 01_sync" "record -o $tmp/x" "tasks --block-ms no x"; do
    run $args
    [[ $status == 2 && $err == "asynctrace: "* && $err == *"Try 'asynctrace --help'."* ]] ||
        fail "asynctrace $args: status $status, stderr '$err'"
done
run text "$tmp/missing"
[[ $status == 1 && $err == *"missing: No such file or directory"* ]] || fail "a missing file: $status $err"

# record finds the program beside asynctrace even off PATH, and keeps its status.
PATH=/usr/bin:/bin run record -o "$tmp/t" -- 03_v1_global_gen --speed 200
[[ $status == 0 && $out == *"Start handling request req_a"* ]] || fail "record: $status $err"
[[ $(head -n 1 "$tmp/t") == "#asynctrace 1 program=03_v1_global_gen lang=en speed=200 threads=gil" ]] ||
    fail "record wrote no trace: $(head -n 1 "$tmp/t")"
run record -o "$tmp/t2" -- "$bin/01_sync" --lang fr
[[ $status == 2 ]] || fail "record keeps the program's status: $status"
run record -o "$tmp/t3" -- no_such_program_here
[[ $status == 1 && $err == *"cannot run no_such_program_here"* ]] || fail "record of nothing: $status $err"

# text: logical time numbers the events; real time shows document seconds.
run text --logical-time "$tmp/t"
[[ $status == 0 && -z $err ]] || fail "text: $status $err"
[[ $out == *"03_v1_global_gen · en · speed 200 · threads gil · 23 events · logical time"* ]] || fail "title: $out"
[[ $out == *"  17 │ ·        ┃◀───────│        │ io resumes req_a (send)"* ]] || fail "the resume arrow: $out"
[[ $out == *"req_a        generator main→io"* ]] || fail "the task table: $out"
run text "$tmp/t"
[[ $status == 0 && $out == *" time │ main"* && $out == *"document seconds"* ]] || fail "real time: $out"
# io's sleep of 5 document seconds shows as at least 5 s between its rows (a sleep never
# ends early; how much later depends on the machine).
awk '/io sleeps 5 s/ { a = $1 + 0 } /io wakes up after 5 s/ { b = $1 + 0 } END { exit !(b - a >= 4.99) }' \
    "$tmp/out" || fail "io's sleep does not take 5 document seconds: $out"
run text --ascii --logical-time --width 60 "$tmp/t"
[[ $status == 0 ]] || fail "--ascii: $status"
LC_ALL=C grep -q '[^ -~]' "$tmp/out" && fail "--ascii printed non-ASCII: $out"
awk 'length($0) > 60 { exit 1 }' "$tmp/out" || fail "--width 60 is exceeded: $out"
[[ $out == *"   2 | :---->|"* ]] || fail "ASCII arrows: $out"
run tasks --logical-time "$tmp/t"
[[ $status == 0 && $out == "lane "* && $(wc -l <"$tmp/out") == 4 ]] || fail "tasks: $out"

# A program instead of a command: traced, then shown (as text: this is no terminal),
# and the temporary trace removed.
mkdir "$tmp/tmpdir"
TMPDIR=$tmp/tmpdir run 02_callback_thread --speed 200
[[ $status == 0 && $out == *"Start handling request req_a"* && $out == *"02_callback_thread · en"* &&
    $out == *"io calls back on_finish"* ]] || fail "asynctrace PROGRAM: $status $out $err"
[[ -z $(ls -A "$tmp/tmpdir") ]] || fail "the temporary trace is left: $(ls "$tmp/tmpdir")"
TMPDIR=$tmp/tmpdir run 01_sync --lang fr
[[ $status == 2 ]] || fail "asynctrace PROGRAM keeps a failing program's status: $status"

# view needs a terminal, and says so rather than waiting.
timeout 20 "$a" view "$tmp/t" </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
[[ $status == 1 && $(<"$tmp/err") == *"view needs a terminal"* ]] || fail "view without a terminal: $status"
echo "the command line behaves"

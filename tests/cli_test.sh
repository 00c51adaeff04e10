#!/usr/bin/env bash
# cli_test.sh BIN_DIR
# The flags every lesson program shares (lessons/lesson.h): values, environment
# variables, --help, and a clear error with status 2 for anything wrong.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE

# run PROGRAM ARGS...: sets $status, $out, $err.
run() {
    "$bin/$1" "${@:2}" >"$tmp/out" 2>"$tmp/err"
    status=$?
    out=$(<"$tmp/out")
    err=$(<"$tmp/err")
}

# refused MESSAGE-PART PROGRAM ARGS...: exit 2, the message on stderr, nothing on stdout.
refused() {
    local want=$1
    shift
    run "$@"
    [[ $status == 2 && -z $out && $err == *"$want"* && $err == *"Try '$1 --help'."* ]] ||
        fail "$* gave status $status, stderr '$err', stdout '$out'"
}

run 02_callback_thread --help
[[ $status == 0 && $out == "02_callback_thread: the slow call moves to a thread"* ]] || fail "--help: $out"
for flag in --lang --speed --trace --free-threads --help LESSON_LANG LESSON_SPEED LESSON_TRACE; do
    [[ $out == *"$flag"* ]] || fail "--help does not mention $flag"
done
run 01_sync --help
[[ $status == 0 && $out != *--free-threads* ]] || fail "01_sync --help offers --free-threads"

refused "--lang must be en or zh, not 'fr'" 01_sync --lang fr
refused "--lang must be en or zh, not 'ZH'" 01_sync --lang=ZH
for bad in 0 -1 abc 1e9 nan inf 5x ''; do
    refused "--speed must be a number above 0 and at most 1000000, not '$bad'" 01_sync --speed "$bad"
done
refused "--speed needs a value" 01_sync --speed
refused "unknown option '--fast'" 01_sync --fast
refused "unknown option '-x'" 01_sync -x
refused "unexpected argument 'extra'" 01_sync extra
refused "--free-threads: this program starts no threads" 01_blocking_io --free-threads
refused "cannot write the trace file '/nonexistent/t': No such file or directory" 01_sync --trace /nonexistent/t
LESSON_SPEED=fast refused "LESSON_SPEED must be a number above 0 and at most 1000000, not 'fast'" 01_sync
LESSON_LANG=de refused "LESSON_LANG must be en or zh, not 'de'" 01_sync
LESSON_LANG=de run 01_sync --lang en
[[ $status == 0 ]] || fail "--lang en does not override a bad LESSON_LANG"

# Environment variables, and flags over them; an empty variable counts as unset.
zh=$(printf '开始处理请求req_a\n完成处理请求req_a\n开始处理请求req_b\n完成处理请求req_b')
en=$(printf 'Start handling request req_a\nFinish handling request req_a\nStart handling request req_b\nFinish handling request req_b')
LESSON_LANG=zh run 01_sync
[[ $status == 0 && $out == "$zh" ]] || fail "LESSON_LANG=zh: $out"
LESSON_LANG=zh run 01_sync --lang en
[[ $out == "$en" ]] || fail "--lang en does not win over LESSON_LANG=zh"
LESSON_LANG= run 01_sync
[[ $out == "$en" ]] || fail "empty LESSON_LANG is not English"
run 01_sync --lang=zh
[[ $out == "$zh" ]] || fail "--lang=zh: $out"

# Speeds: decimals and the equals form; LESSON_SPEED, and the flag over it.
for speed in 2.5e2 1000000 200; do
    run 01_blocking_io --speed="$speed"
    [[ $status == 0 && $out == "$(<"$(dirname "$0")/../lessons/expected/01_blocking_io.en.txt")" ]] ||
        fail "--speed=$speed"
done
LESSON_SPEED=500 run 01_blocking_io --trace "$tmp/speed.trace"
[[ $status == 0 ]] && grep -q ' speed=500 ' "$tmp/speed.trace" || fail "LESSON_SPEED=500 was not applied"
LESSON_SPEED=500 run 01_blocking_io --speed 400 --trace "$tmp/speed.trace"
grep -q ' speed=400 ' "$tmp/speed.trace" || fail "--speed does not win over LESSON_SPEED"

# Traces: the flag, the variable, the flag over the variable.
LESSON_TRACE=$tmp/env.trace run 01_sync
grep -q '^#asynctrace 1 program=01_sync lang=en speed=1 threads=none$' "$tmp/env.trace" ||
    fail "LESSON_TRACE: $(head -1 "$tmp/env.trace")"
LESSON_TRACE=$tmp/unused.trace run 02_callback_thread --trace "$tmp/flag.trace" --speed 100 --free-threads
[[ -f $tmp/flag.trace && ! -e $tmp/unused.trace ]] || fail "--trace does not win over LESSON_TRACE"
grep -q 'threads=free$' "$tmp/flag.trace" || fail "the header does not say free threads"

# Write errors are reported, with status 1, and the other stream keeps its bytes.
run 01_sync --trace /dev/full
[[ $status == 2 && $err == *"No space left on device"* ]] || fail "--trace /dev/full: $status $err"
"$bin/01_sync" >/dev/full 2>"$tmp/err"
status=$?
[[ $status == 1 && $(<"$tmp/err") == *"cannot write the output"* ]] || fail "stdout on /dev/full: $status"
echo "the shared flags behave"

#!/usr/bin/env bash
# robust.sh ROOT BIN_DIR
# What asynctrace makes of traces that are not what they should be: cut short, garbage,
# empty, of a newer version, with unknown kinds and keys, with huge lines, with thousands
# of lanes, and with a million events. It draws what it can and says what it skipped, or
# refuses with a reason; it never crashes or hangs.
set -u
root=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE
a=$bin/asynctrace

# run ARGS...: sets $status, $out, $err.
run() {
    timeout 120 "$a" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    out=$(<"$tmp/out")
    err=$(<"$tmp/err")
}

# every_command FILE STATUS: text, tasks and export all end with STATUS.
every_command() {
    local cmd
    for cmd in "text" "text --logical-time" "tasks" "export --chrome $tmp/json"; do
        run $cmd "$1"
        [[ $status == "$2" ]] || fail "$cmd on $(basename "$1"): status $status, want $2: $err"
    done
}

"$bin/03_v1_global_gen" --speed 200 --trace "$tmp/good" >/dev/null || fail "03_v1_global_gen exited $?"

# Cut short in the middle of a line: the events before it are drawn, and it is said.
head -c $(($(wc -c <"$tmp/good") * 2 / 3)) "$tmp/good" >"$tmp/cut"
every_command "$tmp/cut" 0
run text --logical-time "$tmp/cut"
[[ $err == *"cut short"* && $out == *"main starts"* && $out != *"main ends"* ]] || fail "a cut trace: $err"

# Garbage: refused, with a reason.
head -c 20000 "$bin/asynctrace" >"$tmp/binary"
printf 'hello\nworld\n' >"$tmp/words"
: >"$tmp/empty"
printf '#asynctrace 2 program=future\n1\tmain\tmain\tlane_start\t-\tmain\n' >"$tmp/v2"
for f in binary words empty v2; do
    every_command "$tmp/$f" 1
    [[ $err == "asynctrace: $tmp/$f: "* ]] || fail "$f: $err"
done
[[ $err == *"format version 2"* ]] || fail "a newer version: $err"
run text "$tmp"
[[ $status == 1 ]] || fail "a directory: $status"

# Garbage after a good header: skipped and counted; the good events still drawn.
{ head -n 5 "$tmp/good"; head -c 3000 "$bin/asynctrace" | tr '\0' 'x'; printf '\n'; tail -n 3 "$tmp/good"; } >"$tmp/mixed"
every_command "$tmp/mixed" 0
run text --logical-time "$tmp/mixed"
[[ $err == *"malformed line"* && $out == *"main ends"* ]] || fail "garbage inside: $err"

# What a newer lesson may add (kinds, header keys) is skipped without a word.
{ sed 's/$/ novel=1/;q' "$tmp/good"; tail -n +2 "$tmp/good" | sed '3a 99\tmain\tmain\tteleport\t-\tfar'; } >"$tmp/newer"
run text --logical-time "$tmp/newer"
[[ $status == 0 && -z $err ]] || fail "unknown kinds and keys: $err"
run text --logical-time "$tmp/good"
[[ $out == "$(cd "$tmp" && "$a" text --logical-time newer)" ]] || fail "unknown kinds change the picture"

# A huge line, escapes and terminal control sequences: cut to fit, nothing raw.
{ head -n 2 "$tmp/good"; printf '40\tmain\tmain\tprint\t-\t%s\\033[2J\n' "$(head -c 100000 /dev/zero | tr '\0' 'y')"; } >"$tmp/huge"
run text --logical-time "$tmp/huge"
[[ $status == 0 ]] || fail "a huge line: $status"
awk 'length($0) > 400 { exit 1 }' "$tmp/out" || fail "a huge line is not cut"
LC_ALL=C grep -q $'\e' "$tmp/out" && fail "an escape reached the output"
{ head -n 2 "$tmp/good"; printf '41\tmain\tmain\tprint\t-\t\033[31mred\n'; } >"$tmp/esc"
run text --logical-time "$tmp/esc"
LC_ALL=C grep -q $'\e' "$tmp/out" && fail "a raw escape reached the output"

# Thousands of lanes: as many as fit, and how many did not.
"$root/tracer/tests/gen-trace" 30000 3000 >"$tmp/lanes"
every_command "$tmp/lanes" 0
run text --logical-time "$tmp/lanes"
[[ $(head -n 2 "$tmp/out" | tail -n 1) == *"lanes not shown)"* ]] || fail "many lanes: $(head -n 2 "$tmp/out")"
awk 'length($0) > 320 { exit 1 }' "$tmp/out" || fail "many lanes overflow the width"

# A million events: loaded, drawn and tabled (the timing is bench/tracer's business).
"$root/tracer/tests/gen-trace" 1000000 >"$tmp/big"
run tasks "$tmp/big"
[[ $status == 0 && $out == *"c7           coroutine main"* ]] || fail "a million events, tasks: $status $err"
timeout 120 "$a" text --logical-time "$tmp/big" | grep -c -e '^ *[0-9]* │ ' >"$tmp/out"
[[ ${PIPESTATUS[0]} == 0 && $(<"$tmp/out") == 1000000 ]] || fail "a million events, text: $(<"$tmp/out") rows"
echo "asynctrace copes with broken, strange and big traces"

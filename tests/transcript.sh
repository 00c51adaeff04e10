#!/usr/bin/env bash
# transcript.sh PROGRAM LANG SPEED REPEATS EXPECTED
# The program's output equals its golden transcript REPEATS times in a row, each run
# exiting 0 with nothing on stderr, but for one line: AddressSanitizer announces, once
# per process, that it only partly supports swapcontext. gen.c tells ASan about every
# switch it makes (__sanitizer_start_switch_fiber), so the notice is expected.
set -u
prog=$1 lang=$2 speed=$3 repeats=$4 want=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for ((i = 1; i <= repeats; i++)); do
    "$prog" --lang "$lang" --speed "$speed" >"$tmp/out" 2>"$tmp/all-err"
    status=$?
    grep -v "^==[0-9]*==WARNING: ASan doesn't fully support makecontext/swapcontext" \
        "$tmp/all-err" >"$tmp/err"
    if ((status != 0)) || [[ -s $tmp/err ]] || ! cmp -s "$want" "$tmp/out"; then
        echo "run $i of $repeats of $prog --lang $lang --speed $speed: status $status"
        cat "$tmp/err"
        diff -u --label expected --label "run $i" "$want" "$tmp/out"
        exit 1
    fi
done
echo "$repeats runs of $(basename "$prog") --lang $lang --speed $speed: all equal to $(basename "$want")"

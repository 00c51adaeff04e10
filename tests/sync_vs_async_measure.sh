#!/usr/bin/env bash
# sync_vs_async_measure.sh PROGRAM
# 05_sync_vs_async's real numbers (--measure) keep the lesson's order: the coroutine
# route serves at least 10 times as many requests per second as the blocking one (about
# 50 times in theory) and the executor at least 3 times as many (10 times in theory).
# At speed 2 the back-end's 0.1 s per answer dwarfs every overhead, so the margins stay
# wide on a loaded machine and under a sanitizer; the run takes about 6 s.
set -u
prog=$1
out=$("$prog" --lang en --speed 2 --measure) || { echo "$prog exited $?"; exit 1; }
read -r blocking coroutine executor < <(awk '$1 == "measured" { printf "%s ", $2 } END { print "" }' <<<"$out")
echo "$out"
awk -v b="${blocking:-0}" -v c="${coroutine:-0}" -v e="${executor:-0}" 'BEGIN {
    if (b <= 0 || c < 10 * b || e < 3 * b) { print "FAIL: requests/s measured " b ", " c ", " e; exit 1 }
    printf "coroutine %.0fx, executor %.0fx the blocking route'"'"'s requests/s\n", c / b, e / b
}'

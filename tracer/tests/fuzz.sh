#!/usr/bin/env bash
# fuzz.sh ROOT BIN_DIR RUNS
# Builds tracer/tests/fuzz_trace.c with clang's libFuzzer, ASan and UBSan, and feeds it
# RUNS inputs grown from real traces: three lesson programs (threads under the GIL, the
# loop, a thread pool) recorded now, and the hand-made traces in tests/traces/.
# A crash, leak or sanitizer report fails the test; libFuzzer prints the input.
set -u
root=$1 bin=$2 runs=$3
clang=$(command -v clang-14 || command -v clang) || { echo "no clang: install clang"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$root/tracer
"$clang" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I"$src" -o "$tmp/fuzz" "$src/tests/fuzz_trace.c" \
    "$src"/{utf8,tracefile,model,diagram,tasks,text,chrome}.c -lm || exit 1
mkdir "$tmp/corpus"
cp "$src"/tests/traces/* "$tmp/corpus/"
for p in 03_v1_global_gen 04_queue 04_executor; do
    "$bin/$p" --speed 200 --trace "$tmp/corpus/$p" >/dev/null || exit 1
done
# A fixed seed: the same inputs on every run, so a failure can be reproduced.
"$tmp/fuzz" -seed=1 -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
    "$tmp/corpus" >"$tmp/log" 2>&1
status=$?
if ((status != 0)); then
    tail -40 "$tmp/log"
    exit 1
fi
tail -1 "$tmp/log"
echo "fuzzed the trace reader with $runs inputs: no crash, leak or sanitizer report"

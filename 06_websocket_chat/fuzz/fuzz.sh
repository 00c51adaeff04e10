#!/usr/bin/env bash
# fuzz.sh ROOT TARGET SECONDS
# Builds 06_websocket_chat/fuzz/fuzz_TARGET.c (TARGET: frame or handshake) with clang's
# libFuzzer, ASan and UBSan (handshake: on lesson 05's http1 and url and OpenSSL's
# libcrypto), and runs it for SECONDS from the seed corpus kept in
# 06_websocket_chat/fuzz/corpus/TARGET/, as 05_httpclient/fuzz/fuzz.sh does for the HTTP
# parsers. The harnesses check their own invariants and abort when one breaks. A crash,
# leak, timeout or sanitizer report fails the test; the log shows the input that caused it.
set -u
root=$1 target=$2 seconds=$3
clang=$(command -v clang-14 || command -v clang) || { echo "no clang: install clang"; exit 1; }
src=$root/06_websocket_chat http=$root/05_httpclient
case $target in
frame) sources=("$src/wsframe.c") ;;
handshake) sources=("$src/wshandshake.c" "$http/http1.c" "$http/url.c" -lcrypto) ;;
*) echo "no such fuzz target: $target"; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$clang" -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -I"$src" -I"$http" -o "$tmp/fuzz" "$src/fuzz/fuzz_$target.c" \
    "${sources[@]}" || exit 1
# New inputs go to a scratch copy: the corpus in the repository stays small and fixed.
mkdir "$tmp/corpus"
cp "$src/fuzz/corpus/$target"/* "$tmp/corpus/"
# A fixed seed: the same inputs on every run, so a failure can be reproduced.
"$tmp/fuzz" -seed=1 -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$tmp/" "$tmp/corpus" >"$tmp/log" 2>&1
status=$?
if ((status != 0)); then
    grep -v "^#[0-9]" "$tmp/log" | tail -60
    exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/log")
echo "fuzzed $target for $seconds s: ${runs:-?} inputs, no crash, leak or sanitizer report"

#!/usr/bin/env bash
# chaos_proxy_cli.sh PROXY ORIGIN
# build/bin/05_chaos_proxy as a user meets it: bad flags are one line and status 2;
# in front of 05_hello_server it answers curl as a forward proxy (curl -x) and as a
# reverse one (--upstream) with the latency asked, refuses what it cannot route, keeps
# answering under wrk's load, and exits 0 on SIGTERM after printing what it did.
# (Its timing and probabilities are measured in tests/chaos_test.c.)
set -u
proxy=$1 origin=$2
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    cat "$tmp"/*.err 2>/dev/null
    exit 1
}

# usage ARGS... : a usage error, status 2, one line naming the problem.
usage() {
    "$proxy" "$@" >"$tmp/out" 2>"$tmp/usage"
    local status=$?
    ((status == 2)) || fail "$* exited $status, not 2"
    grep -q "^05_chaos_proxy: " "$tmp/usage" || fail "$*: no reason given: $(<"$tmp/usage")"
}
usage --bogus
usage --latency
usage --latency abc
usage --speed 0
usage --jitter-prob 1.5
usage --reset-prob 0.5
usage --latency 5 --latency-min 3
usage --latency-min 9 --latency-max 3
usage --speed-min 100
usage --upstream ftp://example.com
usage extra
"$proxy" --help | head -1 | grep -q "chaos proxy" || fail "--help"

# start NAME PROGRAM ARGS...: runs it on a free port; its URL in $url.
start() {
    local name=$1
    shift
    "$@" --port 0 >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [[ -s $tmp/$name.out ]] && break
        sleep 0.05
    done
    url=$(sed -n 's|^listening on \(http://.*\)/$|\1|p' "$tmp/$name.out")
    [[ -n $url ]] || fail "$name did not say where it listens"
}
start origin "$origin"
origin_url=$url
start proxy "$proxy" --latency 100 --upstream "$origin_url"
proxy_url=$url
proxy_pid=${pids[-1]}

curl -sS -i --max-time 5 -x "$proxy_url" "$origin_url/" >"$tmp/fwd" || fail "curl -x"
grep -q "^X-Chaos-Latency: 100" "$tmp/fwd" || fail "no X-Chaos-Latency: $(<"$tmp/fwd")"
[[ $(tail -c 12 "$tmp/fwd") == "Hello, world" ]] || fail "forward body: $(<"$tmp/fwd")"
t=$(curl -sS -o "$tmp/rev" -w '%{time_starttransfer}' --max-time 5 "$proxy_url/") || fail "reverse"
[[ $(<"$tmp/rev") == "Hello, world" ]] || fail "reverse body: $(<"$tmp/rev")"
awk -v t="$t" 'BEGIN { exit !(t >= 0.1) }' || fail "first byte after $t s, before the latency"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -x "$proxy_url" http://127.0.0.1:1/)
[[ $code == 502 ]] || fail "a refused upstream gave $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -x "$proxy_url" http://example.invalid/)
[[ $code == 502 ]] || fail "a named host gave $code"

kill "$proxy_pid"
wait "$proxy_pid"
status=$?
((status == 0)) || fail "the proxy exited $status on SIGTERM"
grep -q "4 requests, 0 resets, 2 responses, 4 pieces, 0 jitters, 2 errors" "$tmp/proxy.err" || fail "stats: $(<"$tmp/proxy.err")"

# Under load, with no chaos: every request answered.
start loaded "$proxy" --upstream "$origin_url"
wrk -t1 -c20 -d1 "$url/" >"$tmp/wrk" 2>&1 ||
    fail "wrk: $(<"$tmp/wrk")"
grep -q "Socket errors\|Non-2xx" "$tmp/wrk" && fail "errors under load: $(<"$tmp/wrk")"
echo "ok"

#!/usr/bin/env bash
# httpserver_wrk.sh DEMO
# A load smoke test: wrk, one thread and 20 keep-alive connections for a second, against
# the demo (tests/httpserver_demo.c). wrk must see no socket error and no answer but
# 2xx, and the server must answer afterwards and exit 0 on SIGTERM.
set -u
demo=$1
. "$(dirname "$0")/httpserver_lib.sh"
command -v wrk >/dev/null || fail "wrk is not installed"

start_demo main
url=http://127.0.0.1:$port
for path in / /user/7; do
    timeout 20 wrk -t1 -c20 -d1s "$url$path" >"$tmp/wrk" 2>&1 || fail "wrk: $(<"$tmp/wrk")"
    requests=$(awk '/requests in/ {print $1}' "$tmp/wrk")
    [[ $requests -gt 0 ]] || fail "no requests: $(<"$tmp/wrk")"
    ! grep -q "Socket errors" "$tmp/wrk" || fail "socket errors: $(<"$tmp/wrk")"
    ! grep -q "Non-2xx" "$tmp/wrk" || fail "non-2xx answers: $(<"$tmp/wrk")"
done
[[ $(curl -sS --max-time 5 "$url/") == "Hello, world" ]] || fail "no answer after the load"
stop_demo "$pid" main
echo "ok ($requests requests in the last second)"

#!/usr/bin/env bash
# hello_server_wrk.sh SERVER
# build/bin/05_hello_server under load: wrk (-t1 -c50, one second) with keep-alive, then
# with "Connection: close" (a new connection per request). Every request must be
# answered with a 200 and no socket error; afterwards the server must still answer curl
# and exit 0 on SIGTERM. The same again with --processes 2 (fork mode): two children
# share the socket, and SIGTERM to the parent ends all three. Only that is asserted,
# never a speed (bench/run-http-bench measures it).
set -u
server=$1
tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- server stderr:"
    cat "$tmp/err"
    exit 1
}

# run CHILDREN [SERVER-ARGS...]: start the server, load it, check it and its number of
# child processes, stop it.
run() {
    local want=$1
    shift
    : >"$tmp/out" # now, not in the background: the wait below must not read the last run's
    "$server" --port 0 "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 100); do
        [[ -s $tmp/out ]] && break
        sleep 0.05
    done
    url=$(sed -n 's|^listening on \(http://.*/\)$|\1|p' "$tmp/out")
    [[ -n $url ]] || fail "the server did not say where it listens: $(<"$tmp/out")"
    load
    load -H "Connection: close"
    [[ $(curl -sS --max-time 5 "$url") == "Hello, world" ]] || fail "curl after the load"
    local children
    children=$(pgrep -P "$pid" | wc -l)
    ((children == want)) || fail "$children child processes, not $want"
    kill -TERM "$pid"
    timeout 10 tail --pid="$pid" -f /dev/null || fail "no exit 10 s after SIGTERM"
    wait "$pid"
    local status=$?
    pgrep -P "$pid" >/dev/null && fail "children left after SIGTERM"
    pid=
    ((status == 0)) || fail "exit status $status after SIGTERM"
    echo "$* $children children: ok"
}

# load [WRK-ARGS...]: one second of wrk; its report must show requests and no errors.
load() {
    timeout 20 wrk -t1 -c50 -d1s "$@" "$url" >"$tmp/wrk" 2>&1 || fail "wrk $*: $(<"$tmp/wrk")"
    local n
    n=$(awk '/requests in/ {print $1}' "$tmp/wrk")
    ((${n:-0} > 0)) || fail "wrk $*: no requests: $(<"$tmp/wrk")"
    grep -q "Socket errors" "$tmp/wrk" && fail "wrk $*: $(<"$tmp/wrk")"
    grep -q "Non-2xx" "$tmp/wrk" && fail "wrk $*: $(<"$tmp/wrk")"
    echo "wrk $*: $n requests"
}

run 0
run 2 --processes 2
[[ $(grep -c "closing" "$tmp/err") == 2 ]] || fail "both children must say they close"
echo PASS

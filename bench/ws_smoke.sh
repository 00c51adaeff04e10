#!/usr/bin/env bash
# ws_smoke.sh WS_BENCH PYTHON ECHO_SERVER_PY CHAT_SERVER_PY
# build/bin/06_ws_bench works: against bench/ws_echo_tornado.py (an independent
# WebSocket implementation) it counts echoes and no errors, in text and binary, with
# messages in flight and two threads, and closes cleanly (status 0). A usage error is
# status 2; a port nobody listens on is status 1 with the reason. Against
# bench/chat_tornado.py (the documents' chat on Tornado), its fanout mode hears every
# line, in English and in Chinese, closed and open loop, and its idle mode holds
# connections. A correctness check, not a measurement: no rate is asserted
# (bench/run-ws-bench and run-chat-bench measure).
set -u
bench=$1 python=$2 echo_server=$3 chat_server=$4
tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    echo "--- server stderr:"
    cat "$tmp/server.err"
    exit 1
}

# start SERVER_PY ARGS...: runs it on a free port; sets pid and where (host:port).
start() {
    "$python" -E -B "$@" --port 0 >"$tmp/server.out" 2>"$tmp/server.err" &
    pid=$!
    # Up to 60 s: Python importing Tornado on a machine the other tests load (under
    # ThreadSanitizer, beside transcripts_under_load) has taken over 10.
    where=
    for _ in $(seq 1200); do
        where=$(sed -n 's|^listening on [a-z]*://\([^/]*\)/$|\1|p' "$tmp/server.out")
        [[ -n $where ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            fail "$1 ended (status $?) before it listened; its stdout: $(<"$tmp/server.out")"
        fi
        sleep 0.05
    done
    [[ -n $where ]] || fail "$1 did not say where it listens within 60 s: $(<"$tmp/server.out")"
}
# stop: SIGTERM, and the server must exit 0.
stop() {
    kill -TERM "$pid"
    timeout 10 tail --pid="$pid" -f /dev/null || fail "the Tornado server did not exit on SIGTERM"
    wait "$pid"
    local status=$?
    pid=
    ((status == 0)) || fail "the Tornado server exited $status after SIGTERM"
}

start "$echo_server"
url=ws://$where/

# load ARGS...: one short run; status 0, a bench= line with messages > 0 and errors=0.
load() {
    timeout 30 "$bench" --url "$url" -c 4 -d 1 --warmup 0 "$@" >"$tmp/out" 2>"$tmp/err"
    local status=$?
    ((status == 0)) || fail "06_ws_bench $* exited $status: $(<"$tmp/err")"
    local line
    line=$(grep '^bench=ws ' "$tmp/out") || fail "06_ws_bench $*: no bench= line: $(<"$tmp/out")"
    [[ $line =~ \ (messages|others)=([0-9]+)\  ]] || fail "no messages= in: $line"
    local n=${BASH_REMATCH[2]}
    ((n > 0)) || fail "06_ws_bench $*: no messages: $line"
    [[ $line == *" errors=0 "* ]] || fail "06_ws_bench $*: errors: $line"
    echo "06_ws_bench $*: $n messages, 0 errors"
}
load
load -s 16384 --binary --pipeline 2 --threads 2

"$bench" --bogus >/dev/null 2>"$tmp/err"
(($? == 2)) || fail "--bogus is not status 2"
grep -q "^06_ws_bench: unknown option" "$tmp/err" || fail "--bogus: $(<"$tmp/err")"

stop

# Its port is free now: nobody listens there.
timeout 30 "$bench" --url "$url" -c 2 -d 1 --warmup 0 >/dev/null 2>"$tmp/err"
status=$?
((status == 1)) || fail "a refused connect exited $status, not 1"
grep -q "Connection refused" "$tmp/err" || fail "a refused connect: $(<"$tmp/err")"

for lang in en zh; do
    start "$chat_server" --lang "$lang"
    url=ws://$where/chat
    load --mode fanout -c 20 --senders 2 --pipeline 2 -s 200
    load --mode fanout -c 20 --senders 3 --rate 50 --threads 2
    stop
done
start "$chat_server"
url=ws://$where/chat
load --mode idle -c 20
stop
"$bench" --mode echo --slow 1 >/dev/null 2>"$tmp/err"
(($? == 2)) || fail "--slow without --mode fanout is not status 2"
echo PASS

#!/usr/bin/env bash
# httpserver_curl.sh DEMO
# The server of 05_httpclient/httpserver against a real client: runs the demo program
# (tests/httpserver_demo.c) on a free port and talks to it with curl, and with bash's
# /dev/tcp for what curl will not send (a malformed request, a pipeline). Every step is
# bounded by a timeout; the server is stopped with SIGTERM at the end and must exit 0.
set -u
demo=$1
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

"$demo" 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
    [[ -s $tmp/out ]] && break
    sleep 0.05
done
port=$(awk '/^port/ {print $2}' "$tmp/out")
[[ -n $port ]] || fail "the demo did not say its port"
url=http://127.0.0.1:$port
c() { curl -sS --max-time 5 "$@"; }

# Hello, and keep-alive: the second request rides the first one's connection.
c -v "$url/" "$url/user/42" >"$tmp/body" 2>"$tmp/verbose" || fail "keep-alive curl"
[[ $(<"$tmp/body") == "Hello, worlduser 42" ]] || fail "bodies: $(<"$tmp/body")"
grep -q "Re-using existing connection" "$tmp/verbose" || fail "no connection reuse: $(<"$tmp/verbose")"
grep -q "< Content-Length: 12" "$tmp/verbose" || fail "no Content-Length"
grep -q "< Date: " "$tmp/verbose" || fail "no Date"
grep -q "< Server: " "$tmp/verbose" || fail "no Server"

# Bodies: Content-Length and a chunked upload, echoed.
[[ $(c --data-binary hello "$url/echo") == hello ]] || fail "POST echo"
seq 1 20000 >"$tmp/upload"
c -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/upload" "$url/echo" >"$tmp/echoed" ||
    fail "chunked upload"
cmp -s "$tmp/upload" "$tmp/echoed" || fail "chunked upload echoed differently"

# A chunked response from flush, a coroutine handler, an asynchronous one.
c -i "$url/chunks" >"$tmp/chunks" || fail "chunks"
grep -qi "^Transfer-Encoding: chunked" "$tmp/chunks" || fail "not chunked: $(<"$tmp/chunks")"
[[ $(tail -n1 "$tmp/chunks") == "first second last" ]] || fail "chunks body: $(<"$tmp/chunks")"
[[ $(c "$url/slow") == slow ]] || fail "slow"
[[ $(c "$url/later") == later ]] || fail "later"

# HEAD: the headers of a GET, no body.
c -I "$url/" >"$tmp/head" || fail "HEAD"
grep -q "^HTTP/1.1 200 OK" "$tmp/head" && grep -q "Content-Length: 12" "$tmp/head" ||
    fail "HEAD: $(<"$tmp/head")"

# 404, 405 with Allow.
[[ $(c -o /dev/null -w '%{http_code}' "$url/nothing/here") == 404 ]] || fail 404
c -i -X DELETE "$url/echo" >"$tmp/405" || fail "405 request"
grep -q "^HTTP/1.1 405 Method Not Allowed" "$tmp/405" && grep -q "^Allow: POST" "$tmp/405" ||
    fail "405: $(<"$tmp/405")"

# A malformed request: 400, then the server closes (cat ends by itself).
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "connect"
printf 'GET / HTTP/1.1\r\nBad Header\r\n\r\n' >&3
timeout 5 cat <&3 >"$tmp/bad" || fail "no close after 400"
exec 3<&-
grep -q "^HTTP/1.1 400 Bad Request" "$tmp/bad" || fail "400: $(<"$tmp/bad")"

# Two pipelined requests in one write: two answers, in order, then the close.
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "connect"
printf 'GET /user/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /user/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
timeout 5 cat <&3 >"$tmp/pipe" || fail "pipeline did not end"
exec 3<&-
[[ $(grep -o "HTTP/1.1 200" "$tmp/pipe" | wc -l) == 2 ]] && grep -q "user 1HTTP.*user 2$" <(tr -d '\r\n' <"$tmp/pipe") ||
    fail "pipeline: $(<"$tmp/pipe")"

# A body over the demo's 1 MiB limit: 413.
head -c 2000000 /dev/zero >"$tmp/big"
[[ $(c -o /dev/null -w '%{http_code}' -H 'Expect:' --data-binary @"$tmp/big" "$url/echo") == 413 ]] ||
    fail 413

kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[[ $status == 0 ]] || fail "the demo exited with $status"
# (ASan's note on swapcontext is no complaint of ours)
grep -v "ASan doesn't fully support makecontext" "$tmp/err" >"$tmp/err2"
[[ ! -s $tmp/err2 ]] || fail "the demo wrote to stderr"
echo "ok"

#!/usr/bin/env bash
# httpserver_curl.sh DEMO
# The server of 05_httpclient/httpserver against a real client: runs the demo program
# (tests/httpserver_demo.c) on a free port and talks to it with curl, and with bash's
# /dev/tcp for what curl will not send (a malformed request, a pipeline); then a second
# demo in fork mode (--processes 2 --xheaders). Every step is bounded by a timeout; the
# servers are stopped with SIGTERM at the end and must exit 0.
set -u
demo=$1
. "$(dirname "$0")/httpserver_lib.sh"

mkdir "$tmp/www"
head -c 300000 /dev/urandom >"$tmp/www/data.bin"
printf 'body { color: red }\n' >"$tmp/www/site.css"
start_demo main --static "$tmp/www"
main_pid=$pid
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
c -X POST -H 'Transfer-Encoding: chunked' -T - "$url/echo" <"$tmp/upload" >"$tmp/echoed" ||
    fail "chunked upload from stdin"
cmp -s "$tmp/upload" "$tmp/echoed" || fail "chunked upload from stdin echoed differently"

# Expect: 100-continue: the 100 comes (curl would wait a second, then send anyway)...
head -c 500000 /dev/urandom >"$tmp/large"
c -v -H 'Expect: 100-continue' --data-binary @"$tmp/large" "$url/echo" >"$tmp/echoed" 2>"$tmp/verbose" ||
    fail "100-continue POST"
cmp -s "$tmp/large" "$tmp/echoed" || fail "100-continue POST echoed differently"
grep -q "^< HTTP/1.1 100 (Continue)" "$tmp/verbose" || fail "no 100: $(<"$tmp/verbose")"
# ...but not before a refusal: 413 at once, and curl never sends the 2 MB.
head -c 2000000 /dev/zero >"$tmp/big"
c -v -o /dev/null -H 'Expect: 100-continue' --data-binary @"$tmp/big" "$url/echo" 2>"$tmp/verbose"
grep -q "^< HTTP/1.1 413" "$tmp/verbose" && ! grep -q "^< HTTP/1.1 100" "$tmp/verbose" ||
    fail "413 with Expect: $(<"$tmp/verbose")"

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

# Static files: types, HEAD, ranges, the ETag round trip, Last-Modified, traversal.
c -o "$tmp/got" "$url/static/data.bin" || fail "static GET"
cmp -s "$tmp/www/data.bin" "$tmp/got" || fail "static file differs"
c -I "$url/static/site.css" >"$tmp/head" || fail "static HEAD"
grep -q "^Content-Type: text/css" "$tmp/head" && grep -q "^Content-Length: 20" "$tmp/head" ||
    fail "static HEAD: $(<"$tmp/head")"
c -D "$tmp/head" -r 0-99 -o "$tmp/got" "$url/static/data.bin" || fail "range"
grep -q "^HTTP/1.1 206" "$tmp/head" && grep -q "^Content-Range: bytes 0-99/300000" "$tmp/head" ||
    fail "range: $(<"$tmp/head")"
cmp -s <(head -c 100 "$tmp/www/data.bin") "$tmp/got" || fail "range bytes differ"
c -r -1000 -o "$tmp/got" "$url/static/data.bin" || fail "suffix range"
cmp -s <(tail -c 1000 "$tmp/www/data.bin") "$tmp/got" || fail "suffix range bytes differ"
[[ $(c -o /dev/null -w '%{http_code}' -r 400000- "$url/static/data.bin") == 416 ]] || fail 416
etag=$(tr -d '\r' <"$tmp/head" | awk -F': ' 'tolower($1) == "etag" {print $2}')
modified=$(tr -d '\r' <"$tmp/head" | awk -F': ' 'tolower($1) == "last-modified" {print $2}')
[[ -n $etag && -n $modified ]] || fail "no ETag or Last-Modified: $(<"$tmp/head")"
[[ $(c -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url/static/data.bin") == 304 ]] ||
    fail "If-None-Match"
[[ $(c -o /dev/null -w '%{http_code}' -H "If-None-Match: \"x\", $etag" "$url/static/data.bin") == 304 ]] ||
    fail "If-None-Match list"
[[ $(c -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $modified" "$url/static/data.bin") == 304 ]] ||
    fail "If-Modified-Since"
[[ $(c -o /dev/null -w '%{http_code}' -z "$tmp/www/data.bin" "$url/static/data.bin") == 304 ]] ||
    fail "curl -z"
for bad in ../err.main %2e%2e/err.main ..%2ferr.main %2fetc%2fpasswd; do
    [[ $(c --path-as-is -o /dev/null -w '%{http_code}' "$url/static/$bad") == 403 ]] || fail "traversal $bad"
done
[[ $(c -o /dev/null -w '%{http_code}' "$url/static/") == 403 ]] || fail "directory"
[[ $(c -o /dev/null -w '%{http_code}' "$url/static/nothing") == 404 ]] || fail "missing file"

# xheaders are off here: the client's word is ignored.
[[ $(c -H 'X-Real-IP: 10.1.2.3' "$url/who") == "127.0.0.1 http" ]] || fail "xheaders off"

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
[[ $(c -o /dev/null -w '%{http_code}' -H 'Expect:' --data-binary @"$tmp/big" "$url/echo") == 413 ]] ||
    fail 413
stop_demo "$main_pid" main

# Fork mode: two processes on one listening socket, behind a "proxy" (xheaders).
start_demo forked --processes 2 --xheaders
url=http://127.0.0.1:$port
[[ $(c -H 'X-Real-IP: 10.1.2.3' -H 'X-Scheme: https' "$url/who") == "10.1.2.3 https" ]] ||
    fail "xheaders"
[[ $(c -H 'X-Forwarded-For: 10.0.0.1, 10.0.0.2' "$url/who") == "10.0.0.2 http" ]] ||
    fail "X-Forwarded-For"
[[ $(c -H 'X-Real-IP: 10.0.0.300' "$url/who") == "127.0.0.1 http" ]] || fail "invalid X-Real-IP"
# While one process is blocked, the other answers: two pids. (A few tries: on a busy
# machine the first request may not be accepted before the second.)
for _ in 1 2 3 4 5; do
    c "$url/pid/block" >"$tmp/pid1" &
    blocked=$!
    sleep 0.2
    c "$url/pid" >"$tmp/pid2" || fail "/pid"
    wait "$blocked" || fail "/pid/block"
    [[ -n $(<"$tmp/pid1") && -n $(<"$tmp/pid2") && $(<"$tmp/pid1") != $(<"$tmp/pid2") ]] && break
done
[[ $(<"$tmp/pid1") != $(<"$tmp/pid2") ]] || fail "one process answered both: $(<"$tmp/pid1")"
children=$(pgrep -P "$pid" | sort)
[[ $(wc -w <<<"$children") == 2 ]] || fail "children: $children"
# A child killed is restarted.
kill -KILL "$(<"$tmp/pid2")"
for _ in $(seq 100); do
    now=$(pgrep -P "$pid" | sort)
    [[ $(wc -w <<<"$now") == 2 && $now != "$children" ]] && break
    sleep 0.05
done
[[ $(wc -w <<<"$now") == 2 && $now != "$children" ]] || fail "no restart: $children -> $now"
[[ $(c "$url/") == "Hello, world" ]] || fail "after the restart"
stop_demo "$pid" forked
for child in $now; do
    ! kill -0 "$child" 2>/dev/null || fail "child $child left behind"
done
echo "ok"

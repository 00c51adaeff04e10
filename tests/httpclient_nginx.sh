#!/usr/bin/env bash
# httpclient_nginx.sh FETCH NGINX
# Lesson 05's client against a real server: build/bin/05_fetch (FETCH) talks to an nginx
# that tests/nginx_peer.sh starts on a free port of 127.0.0.1, from a temp prefix, and
# stops again on exit whatever happens. Checks keep-alive reuse (nginx's $connection and
# $connection_requests), gzip and chunked bodies, redirects and their method rules,
# many fetches in parallel, a 4 MiB body byte for byte, errors and exit statuses, and
# the same over HTTPS (a self-signed certificate: --cacert trusts it, --insecure skips it).
set -u
fetch=$1
export NGINX_BIN=$2
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
cleanup() {
    "$here/nginx_peer.sh" stop "$tmp/nginx"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- 05_fetch stderr:"
    cat "$tmp/err" 2>/dev/null
    exit 1
}

mkdir "$tmp/nginx"
"$here/nginx_peer.sh" start "$tmp/nginx" || fail "nginx did not start"
www=$tmp/nginx/www
url=http://127.0.0.1:$(<"$tmp/nginx/port")

# f ARGS...: 05_fetch, bounded in time; stdout in $tmp/out, stderr in $tmp/err.
f() {
    timeout 30 "$fetch" "$@" >"$tmp/out" 2>"$tmp/err"
}
out() { cat "$tmp/out"; }

# ---- keep-alive: one connection, its request count rising; without: one per request
f -r 5 "$url/connection" || fail "repeat /connection"
c=$(awk 'NR == 1 {print $1}' "$tmp/out")
[[ $(out) == "$(printf "$c %s\n" 1 2 3 4 5)" ]] || fail "no reuse: $(out)"
f -r 5 --no-keep-alive "$url/connection" || fail "--no-keep-alive"
[[ $(awk '{print $1}' "$tmp/out" | sort -u | wc -l) == 5 ]] || fail "reused: $(out)"
[[ $(awk '{print $2}' "$tmp/out" | sort -u) == 1 ]] || fail "not fresh: $(out)"
# 12 fetches, 3 at once: at most three connections (the first one ready may serve most
# of them while the others connect), each counting its requests 1, 2, 3... (printed in
# the order the workers see them, which need not be the order nginx served them).
f -P 3 -r 12 "$url/connection" || fail "-P 3 -r 12"
(($(awk '{print $1}' "$tmp/out" | sort -u | wc -l) <= 3)) || fail "-P 3: $(out)"
sort -k1,1n -k2,2n "$tmp/out" | awk '{ if ($2 != ++n[$1]) bad = 1 } END { exit bad }' ||
    fail "-P 3 counts: $(out)"
[[ $(wc -l <"$tmp/out") == 12 ]] || fail "-P 3 answers: $(out)"

# ---- gzip (nginx compresses on the fly and sends it chunked), and without
f -i "$url/static/text.txt" || fail "gzip text"
grep -qi "^Content-Encoding: gzip" "$tmp/out" || fail "not gzipped: $(head -c 400 "$tmp/out")"
grep -qi "^Transfer-Encoding: chunked" "$tmp/out" || fail "not chunked: $(head -c 400 "$tmp/out")"
f "$url/static/text.txt" "$url/static/data.json" || fail "gzip bodies"
cat "$www/static/text.txt" "$www/static/data.json" | cmp -s - "$tmp/out" || fail "inflated body differs"
[[ $(grep -c " gzip " "$tmp/err") == 2 ]] || fail "timing lines do not say gzip"
f --no-compressed -i "$url/static/text.txt" || fail "--no-compressed"
grep -qi "^Content-Length: $(stat -c %s "$www/static/text.txt")" "$tmp/out" || fail "no-compressed head"
grep -qi "^Content-Encoding" "$tmp/out" && fail "--no-compressed got gzip"

# ---- chunked without gzip (the echo module flushes three pieces)
f --no-compressed -i "$url/chunked" || fail "chunked"
grep -qi "^Transfer-Encoding: chunked" "$tmp/out" || fail "chunked head: $(out)"
[[ $(sed '1,/^\r$/d' "$tmp/out") == "$(printf 'first\nsecond\nlast')" ]] || fail "chunked body: $(out)"

# ---- redirects: the final URL, and Tornado's method rules
f "$url/chain/a" || fail "chain"
[[ $(out) == "GET []" ]] || fail "chain body: $(out)"
grep -q "$url/chain/a -> $url/method\$" "$tmp/err" || fail "chain final URL"
for rule in "301 GET []" "302 GET []" "303 GET []" "307 POST [x]" "308 POST [x]"; do
    set -- $rule
    f -d x "$url/to/$1" || fail "POST to $1"
    [[ $(out) == "$2 $3" ]] || fail "POST through $1 arrived as $(out)"
done
f -X PUT -d x "$url/to/301" && [[ $(out) == "PUT [x]" ]] || fail "PUT through 301: $(out)"
f -X HEAD --head-only "$url/to/303" && grep -q "^HTTP/1.1 200" "$tmp/out" || fail "HEAD via 303"
f --no-redirect "$url/to/302" || fail "a 3xx is success"
grep -q "^302 Moved Temporarily .* $url/to/302\$" "$tmp/err" || fail "--no-redirect line"
f --max-redirects 2 "$url/chain/a" || fail "--max-redirects"
grep -q "^303 See Other .* -> $url/chain/c\$" "$tmp/err" || fail "--max-redirects 2 stop"

# ---- many URLs, 8 at once: every answer, whatever order they finish in
urls=()
for i in $(seq 1 40); do urls+=("$url/n/$i"); done
f -P 8 "${urls[@]}" || fail "-P 8"
[[ $(sort -t= -k2 -n "$tmp/out") == "$(seq 1 40 | sed 's/^/n=/')" ]] || fail "-P 8 bodies: $(out)"
grep -q "^40 fetches in .* 0 failed, 8 at once" "$tmp/err" || fail "summary line"

# ---- a big body, byte for byte, alone and four at once
f "$url/static/big.bin" || fail "big"
[[ $(sha256sum <"$tmp/out") == $(sha256sum <"$www/static/big.bin") ]] || fail "big body differs"
f -P 4 -r 4 "$url/static/big.bin" || fail "big x4"
[[ $(stat -c %s "$tmp/out") == $((16 << 20)) ]] || fail "big x4 size"
[[ $(sha256sum <"$tmp/out") == $(cat "$www"/static/big.bin{,,,} | sha256sum) ]] || fail "big x4 differs"

# ---- request headers, basic auth, -i
f -i -u user:pass -H "X-Test: yes" "$url/headers" || fail "headers"
[[ $(head -n1 "$tmp/out") == $'HTTP/1.1 200 OK\r' ]] || fail "status line: $(out)"
[[ $(tail -n1 "$tmp/out") == "Tornado-C/0.5|Basic dXNlcjpwYXNz|yes" ]] || fail "sent headers: $(out)"

# ---- errors: status 1 with the reason on stderr; bad usage: status 2
f "$url/status/404" "$url/"
[[ $? == 1 ]] || fail "404 must give status 1"
grep -q "^404 Not Found" "$tmp/err" && grep -q "^200 OK" "$tmp/err" || fail "404 lines"
# A 0.3 s deadline against a 1 s answer. Which phase it names depends on the machine:
# starved of CPU (the sanitizers' runs, under load), even a loopback connect can take
# the whole 0.3 s and be "Timeout while connecting"; either way it is a timeout.
f --timeout 0.3 "$url/slow"
[[ $? == 1 ]] && grep -Eq "no response: Timeout (during request|while connecting)" "$tmp/err" ||
    fail "timeout"
f "http://127.0.0.1:1/" # tcpmux: nothing listens there
[[ $? == 1 ]] && grep -q "no response: connect to 127.0.0.1:1: Connection refused" "$tmp/err" ||
    fail "a closed port"
for bad in "" "-P 0" "--timeout x" "-H nocolon $url/" "not-a-url" "--frobnicate $url/"; do
    # shellcheck disable=SC2086
    f $bad
    [[ $? == 2 ]] || fail "'$bad' must be a usage error"
done

# ---- HTTPS -------------------------------------------------------------------------
# nginx listens with TLS on tls_port, on the self-signed $tmp/nginx/cert.pem (SAN
# DNS:localhost, IP:127.0.0.1).
tls=https://localhost:$(<"$tmp/nginx/tls_port")
f --cacert "$tmp/nginx/cert.pem" -r 3 "$tls/connection" || fail "https"
c=$(awk 'NR == 1 {print $1}' "$tmp/out")
[[ $(out) == "$(printf "$c %s\n" 1 2 3)" ]] || fail "https reuse: $(out)"
f "$tls/"
[[ $? == 1 ]] && grep -q "no response: SSL handshake failed: certificate verify failed (self-signed certificate)" \
    "$tmp/err" || fail "an unknown CA must fail: $(cat "$tmp/err")"
f --insecure "$tls/" || fail "--insecure"
f -k "https://127.0.0.1:$(<"$tmp/nginx/tls_port")/" || fail "-k by address"
f --cacert "$tmp/nginx/cert.pem" "https://127.0.0.1:$(<"$tmp/nginx/tls_port")/" ||
    fail "the certificate names 127.0.0.1 too"
f --cacert "$tmp/nginx/cert.pem" "$tls/static/big.bin" || fail "https big"
[[ $(sha256sum <"$tmp/out") == $(sha256sum <"$www/static/big.bin") ]] || fail "https big differs"
f --cacert "$tmp/nginx/cert.pem" "$tls/static/text.txt" || fail "https gzip"
cmp -s "$tmp/out" "$www/static/text.txt" && grep -q " gzip " "$tmp/err" || fail "https gzip body"
f --cacert "$tmp/nginx/cert.pem" "$url/to-https" || fail "http -> https redirect"
[[ $(out) == "Hello, world" ]] && grep -q -- "-> $tls/hello" "$tmp/err" ||
    fail "redirect to https: $(cat "$tmp/err")"
echo PASS

#!/usr/bin/env bash
# ws_interop.sh SERVER... -- CLIENT...
# One WebSocket interop run: starts SERVER... (it listens on a free port and prints
# "listening on ws://HOST:PORT/"), runs CLIENT... URL against it, then stops the server
# with SIGTERM: it must exit 0 and write nothing on stderr but its closing line. Fails if
# any of that goes wrong; every wait is bounded.
set -u
server=()
while (($#)) && [[ $1 != -- ]]; do
    server+=("$1")
    shift
done
if ((${#server[@]} == 0 || $# < 2)); then
    echo "usage: $0 SERVER... -- CLIENT..." >&2
    exit 2
fi
shift
client=("$@")

tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- server stdout:"
    cat "$tmp/out"
    echo "--- server stderr:"
    cat "$tmp/err"
    exit 1
}

"${server[@]}" >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=
# Up to 60 s: a Python or Node peer starting on a machine the other tests load (the
# sanitizers' runs) can take several seconds to import its library.
for _ in $(seq 1200); do
    url=$(sed -n 's|^listening on \(ws://[^ ]*\)$|\1|p' "$tmp/out")
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the server ended before it listened"
    sleep 0.05
done
[[ -n $url ]] || fail "the server did not say where it listens within 60 s"

timeout -k 5 100 "${client[@]}" "$url"
status=$?
((status == 124)) && fail "the client took over 100 s"
((status == 0)) || fail "the client failed (status $status)"

# SIGTERM: the server closes and exits 0, within 10 s.
kill -TERM "$pid"
for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -0 "$pid" 2>/dev/null && fail "the server did not exit within 10 s of SIGTERM"
wait "$pid"
status=$?
pid=
((status == 0)) || fail "the server exited with status $status after SIGTERM"
# 06_echo_server says why it closes; ASan's note on swapcontext is no complaint either.
if grep -v -e ': Terminated, closing$' -e "ASan doesn't fully support makecontext" \
    "$tmp/err" >"$tmp/complaints"; then
    fail "the server wrote to stderr: $(<"$tmp/complaints")"
fi
echo "ok server stopped"

#!/usr/bin/env bash
# chat_load.sh CHAT_SERVER WS_BENCH [CLIENTS [SLOW [MESSAGES]]]
# Lesson 06's chat room under load, from one load tool on loopback: CLIENTS WebSocket
# clients (10,000), SLOW of them (100) never reading, one sender saying MESSAGES (32)
# messages of 60,000 bytes, four in flight — 1.9 MB to every client, enough to fill a
# slow one's kernel buffers (06_ws_bench shrinks them to about 100 KB) and the
# server's 1 MiB cap behind them, however fast or slow the server is. It checks:
# - no reader saw an error, and every reader got every line in order (06_ws_bench
#   fails a connection at the first line missing, repeated or changed, and at the end
#   waits for each reader to have all the lines said);
# - the SLOW connections were dropped by the server: a close frame 1008, or the TCP
#   connection closed (when the server's close_timeout ran out before they read);
# - the server's peak memory (VmHWM) stayed under a bound (below);
# - the server still takes a new client afterwards, its descriptors come back to their
#   count before the load, and it exits 0 on SIGTERM.
#
# The memory bound: the server's VmHWM before the load, plus per client IDLE_KIB (a
# connection's own cost, as bench/run-chat-bench measures it idle: about 16 KiB; 64
# allowed), plus per client the lines that may wait while the tool reads the others
# (four messages in flight: 4 x 60,000 bytes allowed for a tenth of the clients), plus
# per slow client the 1 MiB cap and the one message that crosses it, plus 64 MiB for
# the allocator's slack. See the arithmetic below; the figures go to the log.
#
# Under a sanitizer (CHAT_LOAD_NO_MEMORY_BOUND set, fewer clients) the bound is not
# checked: ASan's shadow memory and quarantine, or TSan's shadow, are most of VmHWM.
#
# The open-files limit is raised (ulimit -n) to CLIENTS + 1000 for the server and the
# tool (they run as root in CI); if that fails the test fails and says so. Every wait
# is bounded, 270 s in all at worst (the load itself at most 180 s, connecting
# included: with 10,000 clients, 50 million greeting lines go out first).
set -u
server=$1 bench=$2 clients=${3:-10000} slow=${4:-100} messages=${5:-32}
size=60000
need=$((clients + 1000))

tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in bench.out bench.err server.out server.err; do
        [[ -s $tmp/$f ]] && { echo "--- $f:"; tail -n 20 "$tmp/$f"; }
    done
    exit 1
}
# status_kib FIELD: a line of the server's /proc/PID/status, in KiB.
status_kib() {
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"
}
fds() {
    ls "/proc/$pid/fd" | wc -l
}

if (($(ulimit -n) < need)) && ! ulimit -n "$need" 2>"$tmp/ulimit"; then
    echo "FAIL: cannot raise the open-files limit to $need (now $(ulimit -n), hard $(ulimit -Hn)):"
    cat "$tmp/ulimit"
    echo "it needs $clients connections on each side: run it as root, or raise the hard limit"
    exit 1
fi

"$server" --port 0 --clock "2016-08-29 00:00:00" >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
url=
for _ in $(seq 200); do
    url=$(sed -n 's|^listening on http://\([^/]*\)/$|ws://\1/chat|p' "$tmp/server.out")
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the server ended before it listened"
    sleep 0.05
done
[[ -n $url ]] || fail "the server did not say where it listens within 10 s"
sleep 0.2
fds_before=$(fds)
hwm_before=$(status_kib VmHWM)
echo "server $pid at $url: $fds_before descriptors, VmHWM $hwm_before KiB"
echo "load: $clients clients, $slow of them slow, $messages messages of $size bytes"

start=$SECONDS
timeout -k 5 180 "$bench" --mode fanout --url "$url" -c "$clients" --slow "$slow" \
    --senders 1 --pipeline 4 -s "$size" -n "$messages" -d 150 --warmup 0 --reset \
    --close-timeout 20 \
    >"$tmp/bench.out" 2>"$tmp/bench.err"
status=$?
echo "06_ws_bench: status $status after $((SECONDS - start)) s"
cat "$tmp/bench.out"
((status == 124)) && fail "06_ws_bench took over 180 s"
kill -0 "$pid" 2>/dev/null || fail "the server died under the load"
hwm=$(status_kib VmHWM)
line=$(grep '^bench=ws ' "$tmp/bench.out") || fail "06_ws_bench printed no result"
((status == 0)) || fail "06_ws_bench found errors (status $status)"
field() {
    [[ " $line " =~ \ $1=([^ ]*)\  ]] || fail "no $1= in: $line"
    echo "${BASH_REMATCH[1]}"
}
[[ $(field errors) == 0 ]] || fail "errors among the readers"
(($(field said) == messages)) || fail "$(field said) messages said, not $messages"
(($(field messages) == messages * (clients - slow))) ||
    fail "$(field messages) lines delivered, not $messages x $((clients - slow)) readers"
[[ $(field slow_not_dropped) == 0 ]] || fail "slow clients the server did not drop: $line"
codes=$(field slow_codes) tcp=$(field slow_tcp_closes)
dropped=$tcp
if [[ $codes != - ]]; then
    for pair in ${codes//,/ }; do
        [[ ${pair%%:*} == 1008 ]] || fail "a slow client closed with code ${pair%%:*}, not 1008"
        dropped=$((dropped + ${pair#*:}))
    done
fi
((dropped == slow)) || fail "$dropped of the $slow slow clients were dropped"
echo "the $slow slow clients: close frames $codes, TCP closes $tcp"

# The bound, in KiB (see the top).
idle_kib=64
lag_kib=$((clients / 10 * 4 * size / 1024))
cap_kib=$((slow * (1024 + size / 1024 + 1)))
bound=$((hwm_before + clients * idle_kib + lag_kib + cap_kib + 64 * 1024))
echo "VmHWM: $hwm KiB; bound $bound KiB = $hwm_before + $clients x $idle_kib + $lag_kib (lag) +" \
    "$cap_kib (slow caps) + 65536 (slack)"
if [[ -n ${CHAT_LOAD_NO_MEMORY_BOUND:-} ]]; then
    echo "the memory bound is not checked here (CHAT_LOAD_NO_MEMORY_BOUND: a sanitizer's build)"
else
    ((hwm < bound)) || fail "the server's peak memory $hwm KiB passed the bound $bound KiB"
fi

# A newcomer is served: two clients hear each other.
timeout -k 5 30 "$bench" --mode fanout --url "$url" -c 2 -d 0.5 --warmup 0 \
    >"$tmp/bench.out" 2>"$tmp/bench.err" || fail "a new client after the load failed"
grep -q '^bench=ws .* errors=0 ' "$tmp/bench.out" || fail "a new client after the load: errors"
echo "a new client after the load: served"

# Every connection's descriptor goes back: the server closes the slow ones after its
# close_timeout at the latest.
for _ in $(seq 300); do
    (($(fds) == fds_before)) && break
    sleep 0.1
done
((($(fds)) == fds_before)) || fail "the server holds $(fds) descriptors, $fds_before before the load"
echo "descriptors: $fds_before before, $(fds) after"

kill -TERM "$pid"
timeout 20 tail --pid="$pid" -f /dev/null || fail "the server did not exit within 20 s of SIGTERM"
wait "$pid"
status=$?
pid=
((status == 0)) || fail "the server exited $status after SIGTERM"
echo PASS

# httpserver_lib.sh — what the httpserver scripts share (sourced, not run): a scratch
# directory, fail, and start_demo, which runs tests/httpserver_demo.c on a free port.
# Every demo started is stopped (SIGTERM) on exit.
tmp=$(mktemp -d)
demo_pids=()
cleanup() {
    local p
    for p in "${demo_pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- server stderr:"
    cat "$tmp"/err* 2>/dev/null
    exit 1
}

# start_demo NAME ARGS...: runs "$demo" ARGS... 0; sets port and pid, and $tmp/err.NAME.
start_demo() {
    local name=$1
    shift
    "$demo" "$@" 0 >"$tmp/out.$name" 2>"$tmp/err.$name" &
    pid=$!
    demo_pids+=("$pid")
    for _ in $(seq 100); do
        [[ -s $tmp/out.$name ]] && break
        sleep 0.05
    done
    port=$(awk '/^port/ {print $2}' "$tmp/out.$name")
    [[ -n $port ]] || fail "the demo $name did not say its port"
}

# stop_demo PID NAME: SIGTERM; it must exit 0 and have written nothing to stderr.
stop_demo() {
    kill -TERM "$1"
    wait "$1"
    local status=$?
    [[ $status == 0 ]] || fail "the demo $2 exited with $status"
    # (ASan's note on swapcontext is no complaint of ours)
    grep -v "ASan doesn't fully support makecontext" "$tmp/err.$2" >"$tmp/stderr.$2"
    [[ ! -s $tmp/stderr.$2 ]] || fail "the demo $2 wrote to stderr: $(<"$tmp/stderr.$2")"
}

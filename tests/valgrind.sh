#!/usr/bin/env bash
# valgrind.sh PROGRAM EXPECTED_DIR
# The program is valgrind-clean (no error, no leak of any kind, no file descriptor left
# open) and exits 0: tracing in the GIL's order, and with free threads.
set -u
prog=$1 expected=$2
name=$(basename "$prog")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=all --track-fds=yes --log-file="$tmp/valgrind")

check_run() {
    local what=$1 status
    shift
    "${vg[@]}" "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    # Errors and leaks make the status 99. A descriptor the program opened and left open
    # is listed without "<inherited from parent>" under its "Open file descriptor" line.
    leaked=$(awk '/Open file descriptor/ { fd = $0; getline; if ($0 !~ /inherited from parent/) print fd }' \
        "$tmp/valgrind")
    if ((status != 0)) || [[ -s $tmp/err || -n $leaked ]]; then
        echo "$name $*: status $status"
        cat "$tmp/err" "$tmp/valgrind"
        exit 1
    fi
    echo "$name $what: valgrind-clean"
}

check_run "traced" --lang zh --speed 100 --trace "$tmp/trace"
cmp "$expected/$name.zh.txt" "$tmp/out" || exit 1
if "$prog" --help | grep -q -- --free-threads; then
    check_run "with free threads" --speed 100 --free-threads
fi

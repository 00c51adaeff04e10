#!/usr/bin/env bash
# oracle_pair.sh PYTHON C_BINARY PY_TWIN
# An oracle pair: the C program (on 04_epoll_loop) and its Python twin (on Debian's
# Tornado) must both exit 0 and print byte-identical stdout. stderr is not compared:
# it carries what each side logs (a multi's later errors, for instance) in its own words.
set -u
python=$1 bin=$2 twin=$3
name=$(basename "$twin" .py)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run LABEL COMMAND...: runs it bounded in time, stdout and stderr to $dir/LABEL.*.
run() {
    local label=$1
    shift
    timeout 20 "$@" >"$dir/$label.out" 2>"$dir/$label.err"
    local rc=$? why=""
    [ "$rc" -eq 124 ] && why=" (killed after 20 s)"
    if [ "$rc" -ne 0 ]; then
        echo "oracle pair $name: $label exited with status $rc$why" >&2
        echo "--- its stdout:" >&2
        cat "$dir/$label.out" >&2
        echo "--- its stderr:" >&2
        cat "$dir/$label.err" >&2
        return 1
    fi
}

# -E: ignore PYTHON* variables; -B: no __pycache__ in the source tree.
run tornado "$python" -E -B "$twin" || exit 1
run c "$bin" || exit 1
if [ ! -s "$dir/tornado.out" ]; then
    echo "oracle pair $name: the Tornado twin printed nothing" >&2
    exit 1
fi
if ! diff -u --label "Tornado: $(basename "$twin")" --label "C: $(basename "$bin")" \
    "$dir/tornado.out" "$dir/c.out"; then
    echo "--- C stderr:"
    cat "$dir/c.err"
    exit 1
fi
echo "oracle pair $name: C and Tornado print the same $(wc -l <"$dir/c.out") lines"

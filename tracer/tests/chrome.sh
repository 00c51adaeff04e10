#!/usr/bin/env bash
# chrome.sh ROOT BIN_DIR
# `asynctrace export --chrome` makes valid Chrome Trace Event Format (chrome_check.py)
# for every program of the catalogue, for a hand-made lesson-04 trace and a synthetic
# one, with the tracks and arrows each one should show; and JSON survives any text.
set -u
root=$1 bin=$2 t=$root/tracer/tests
python=${PYTHON3:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE

# check TRACE EXPECT...: exports TRACE and validates the JSON.
check() {
    local trace=$1
    shift
    "$bin/asynctrace" export --chrome "$tmp/out.json" "$trace" || fail "export of $trace: status $?"
    "$python" "$t/chrome_check.py" "$tmp/out.json" "$@" || fail "the export of $trace is not valid"
}

for p in $(grep -v -e '^#' -e '^[[:space:]]*$' "$root/lessons/catalogue"); do
    "$bin/$p" --speed 200 --lang zh --trace "$tmp/$p" >/dev/null || fail "$p exited $?"
    check "$tmp/$p" "thread_name=main (main)"
done
check "$tmp/03_v1_global_gen" "thread_name=req_a (generator)" "thread_name=io (thread)" \
    "flow=main->req_a" "flow=req_a->main" "flow=io->req_a" "flow=req_a->io" "flow=io->main"
check "$tmp/02_callback_thread" "flow=main->io"
check "$t/traces/loop04.trace" "thread_name=fetch (coroutine)" "thread_name=loop phases" \
    "flow=main->fetch" "flow=fetch->main"
grep -q '"name":"timers"' "$tmp/out.json" || fail "the loop phases are not exported"
grep -q '"name":"ready lanes"' "$tmp/out.json" || fail "no ready-lanes counter"
"$t/gen-trace" 20000 5 >"$tmp/gen"
check "$tmp/gen" "flow=main->c1"

# Quotes, backslashes, control characters and bytes that are not UTF-8 stay valid JSON.
printf '#asynctrace 1 program=q"uote\n1\tmain\tma"in\tlane_start\t-\tmain\n2\tmain\tma"in\tprint\t-\ta "b" \\\\ c\\t\001\377\n3\tmain\tma"in\tlane_end\t-\t\n' >"$tmp/odd"
check "$tmp/odd" 'thread_name=ma"in (main)'
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(e.get("name")=="a \"b\" \\ c\t\x01\ufffd" for e in d["traceEvents"]), d' \
    "$tmp/out.json" || fail "escaping"

# Standard output with "-".
"$bin/asynctrace" export --chrome - "$tmp/03_v1_global_gen" | "$python" -c 'import json,sys; json.load(sys.stdin)' ||
    fail "export to standard output"
echo "the Chrome exports are valid"

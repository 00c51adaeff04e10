#!/usr/bin/env bash
# golden.sh ROOT BIN_DIR
# Every program of lessons/catalogue, traced in both languages, draws exactly its golden
# picture tracer/expected/PROGRAM.LANG.txt under `asynctrace text --logical-time`; and
# every golden picture belongs to a program of the catalogue. File descriptor numbers
# aside: they depend on the build.
set -u
root=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LESSON_LANG LESSON_SPEED LESSON_TRACE

mapfile -t catalogue < <(grep -v -e '^#' -e '^[[:space:]]*$' "$root/lessons/catalogue")
for p in "${catalogue[@]}"; do
    for lang in en zh; do
        want=$root/tracer/expected/$p.$lang.txt
        speed=200
        [[ $p == 04_* ]] && speed=20 # the loop's timers 50 ms apart: see TRACE_FORMAT.md
        "$bin/$p" --lang "$lang" --speed $speed --trace "$tmp/trace" >/dev/null || fail "$p exited $?"
        "$bin/asynctrace" text --logical-time "$tmp/trace" >"$tmp/got" 2>"$tmp/err" ||
            fail "asynctrace text on $p: $(cat "$tmp/err")"
        [[ ! -s $tmp/err ]] || fail "asynctrace text on $p complained: $(cat "$tmp/err")"
        # Only threads=none and threads=gil traces are the same on every run
        # (lessons/TRACE_FORMAT.md); real threads racing (free, pool) have no golden.
        if ! head -n 1 "$tmp/trace" | grep -Eq ' threads=(none|gil)( |$)'; then
            [[ ! -f $want ]] || fail "$p's trace is not deterministic ($(head -n 1 "$tmp/trace")) but has a golden file"
            echo "$p ($lang): real threads, drawn but not compared"
            continue
        fi
        [[ -f $want ]] || fail "no golden file for $p ($lang): run tracer/tests/regen"
        # File descriptor numbers depend on what else the process opened (a sanitizer's
        # runtime opens some): they are compared as "fd N".
        diff -u --label "$want" --label "this run" <(sed -E 's/\<fd [0-9]+/fd N/g' "$want") \
            <(sed -E 's/\<fd [0-9]+/fd N/g' "$tmp/got") ||
            fail "$p ($lang) draws differently; if that is intended, run tracer/tests/regen"
    done
done

# At most 80 columns a line (a CJK character takes two).
for f in "$root"/tracer/expected/*.txt; do
    python3 - "$f" <<'PY' || fail "$(basename "$f") is wider than 80 columns"
import sys, unicodedata
for line in open(sys.argv[1], encoding="utf-8"):
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line.rstrip("\n"))
    if width > 80:
        print(f"{width} columns: {line}", end="")
        sys.exit(1)
PY
done

for f in "$root"/tracer/expected/*.txt; do
    name=$(basename "$f" .txt)
    p=${name%.*}
    printf '%s\n' "${catalogue[@]}" | grep -qx -- "$p" ||
        fail "tracer/expected/$name.txt belongs to no program of lessons/catalogue"
done
echo "every program draws its golden picture"

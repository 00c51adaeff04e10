#!/usr/bin/env bash
# oracle.sh PYTHON TWIN EXPECTED [SPEED]
# CPython, running the Python 3 twin of a document's program, prints exactly the zh
# transcript our C program is held to: the transcript is what the document's code prints.
set -u
python=$1 twin=$2 want=$3 speed=${4:-5}
got=$(mktemp)
trap 'rm -f "$got"' EXIT
# -E: ignore PYTHON* variables. PYTHONUNBUFFERED=1 would make each print a write(2),
# which releases the GIL, and the I/O thread could then print before main sleeps.
# Into a pipe, print only fills a buffer: the GIL changes hands at the sleeps alone,
# which is the order the documents show. -B: no __pycache__ in the source tree.
LESSON_SPEED=$speed "$python" -E -B "$twin" >"$got" || exit 1
diff -u --label "$(basename "$want")" --label "CPython: $(basename "$twin")" "$want" "$got" || exit 1
echo "CPython prints $(basename "$want")"

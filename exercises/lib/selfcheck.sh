#!/usr/bin/env bash
# selfcheck.sh fails|passes CHECK PROGRAM: CI's proof that an exercise is sound. A starter
# must fail its checker (status 1 or 2) and say why; a solution must pass it.
set -uo pipefail
want=$1 check=$2 program=$3
out=$("$check" "$program" 2>&1)
status=$?
printf '%s\n' "$out"
case $want in
fails)
    if ((status != 1 && status != 2)); then
        echo "selfcheck: the starter should fail its checker with status 1 or 2, not $status" >&2
        exit 1
    fi
    [[ -n ${out//[[:space:]]/} ]] || { echo "selfcheck: the checker failed the starter without a word" >&2; exit 1; } ;;
passes)
    ((status == 0)) || { echo "selfcheck: the solution should pass its checker, not fail with status $status" >&2; exit 1; } ;;
*) echo "selfcheck: fails or passes, not '$want'" >&2; exit 2 ;;
esac
exit 0

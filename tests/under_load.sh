#!/usr/bin/env bash
# under_load.sh ROOT BIN_DIR REPEATS
# Every program's transcripts hold while other processes keep every core busy: the order
# of the lines never depends on how the OS schedules threads.
set -u
root=$1 bin=$2 repeats=$3
burners=()
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
for ((i = 0; i < $(nproc); i++)); do
    (while :; do :; done) &
    burners+=($!)
done

status=0
for p in $(grep -v '^#' "$root/lessons/catalogue"); do
    for lang in en zh; do
        "$root/tests/transcript.sh" "$bin/$p" "$lang" 200 "$repeats" \
            "$root/lessons/expected/$p.$lang.txt" || status=1
    done
done
exit $status

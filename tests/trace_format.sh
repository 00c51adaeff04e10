#!/usr/bin/env bash
# trace_format.sh ROOT BIN_DIR
# Every program's --trace file is well formed (lessons/TRACE_FORMAT.md), its print events
# are exactly the program's output, it is the same on every run but for the times, and
# it shows what each lesson is about.
set -u
root=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Checks one trace: the header, six fields a line, known kinds, times that never go
# back, lanes that end only after they start, main first and last.
well_formed() {
    awk -F '\t' -v prog="$2" '
        NR == 1 {
            if ($0 !~ "^#asynctrace 1 program=" prog " lang=(en|zh) speed=[0-9.e+]+ threads=(none|gil|free|pool)$")
                { print "bad header: " $0; exit 1 }
            next
        }
        NF != 6 { print "line " NR ": " NF " fields"; exit 1 }
        $1 !~ /^[0-9]+$/ || $1 < last { print "line " NR ": bad time " $1; exit 1 }
        $4 !~ /^(lane_start|lane_end|print|sleep_begin|sleep_end|spawn|join_begin|join_end|callback|resume|yield|error|loop_iteration|poll_begin|poll_end|loop_phase|io|timer|wait|wake)$/ \
            { print "line " NR ": unknown kind " $4; exit 1 }
        $4 == "lane_start" { if (started[$3]++) { print "line " NR ": " $3 " starts twice"; exit 1 } }
        $4 == "lane_end" { if (!started[$3] || ended[$3]++) { print "line " NR ": " $3 " ends badly"; exit 1 } }
        $4 != "lane_start" && $4 != "lane_end" && !started[$3] { print "line " NR ": " $3 " acts before it starts"; exit 1 }
        NR == 2 && ($3 != "main" || $4 != "lane_start") { print "main must start first"; exit 1 }
        { last = $1; final = $3 " " $4 }
        END { if (final != "main lane_end") { print "main must end last, not " final; exit 1 } }
    ' "$1"
}

for p in $(grep -v '^#' "$root/lessons/catalogue"); do
    for lang in en zh; do
        t=$tmp/$p.$lang
        # The loop's iterations group events by real time: a machine that stalls the
        # loop longer than the gap between two timers runs both in one iteration. At
        # speed 20 the gaps are 50 ms and more, which no stall here comes near.
        speed=200
        [[ $p == 04_* ]] && speed=20
        "$bin/$p" --lang "$lang" --speed $speed --trace "$t.1" >"$t.out" || fail "$p exited $?"
        "$bin/$p" --lang "$lang" --speed $speed --trace "$t.2" >/dev/null || fail "$p exited $?"
        well_formed "$t.1" "$p" || fail "$p --lang $lang: malformed trace"
        # The text unescaped (TRACE_FORMAT.md): lesson 05 prints JSON's \u escapes.
        awk -F '\t' '$4 == "print" {
                t = $6
                gsub(/\\\\/, "\001", t); gsub(/\\t/, "\t", t); gsub(/\\n/, "\n", t)
                gsub(/\\r/, "\r", t); gsub(/\001/, "\\", t)
                print t
            }' "$t.1" | cmp -s - "$t.out" ||
            fail "$p --lang $lang: the print events are not the output"
        head -1 "$t.1" | grep -q 'threads=pool$' ||
            cmp -s <(cut -f 2- "$t.1") <(cut -f 2- "$t.2") ||
            fail "$p --lang $lang: two runs traced differently"
    done
done

# has TRACE AWK-CONDITION WHAT: some event of the trace satisfies the condition.
has() {
    awk -F '\t' "$2 { found = 1 } END { exit !found }" "$1" || fail "$3"
}
t=$tmp/02_callback_thread.en.1
has "$t" '$2 == "io" && $4 == "callback" && $6 == "on_finish"' "02: the io thread invokes on_finish"
has "$t" '$3 == "main" && $4 == "spawn" && $5 == "io"' "02: main spawns io"
t=$tmp/03_v1_global_gen.en.1
has "$t" '$2 == "io" && $3 == "io" && $4 == "resume" && $5 == "req_a"' \
    "03 v1: the io thread resumes req_a (not strictly a coroutine)"
has "$t" '$2 == "io" && $3 == "req_a" && $4 == "print" && $6 == "ret: io result"' \
    "03 v1: req_a's second half runs on the io thread"
has "$t" '$2 == "main" && $3 == "req_a" && $4 == "yield" && $5 == "main"' "03 v1: req_a yields to main"
t=$tmp/03_v3_final.en.1
has "$t" '$2 == "io" && $4 == "resume" && $5 == "long_io"' "03 v3: the io thread runs long_io"
has "$t" '$2 == "io" && $3 == "long_io" && $4 == "sleep_begin"' "03 v3: long_io sleeps on the io thread"
t=$tmp/03_two_requests.en.1
has "$t" '$2 == "io-2" && $4 == "error" && $5 == "req_a#2"' "03 two requests: the second send fails"
t=$tmp/04_req_ab_loop.en.1
has "$t" 'NR > 1 && $2 != "main" { other = 1 } END { exit other }' "04: everything runs on the main thread"
has "$t" '$3 == "long_io" && $4 == "wait" && $6 == "socket readable"' "04: long_io waits for its socket"
has "$t" '$4 == "io" && $6 ~ /^fd [0-9]+ read$/' "04: the loop runs an I/O handler"
has "$t" '$4 == "wake" && $5 == "long_io"' "04: the socket's future wakes long_io"
has "$t" '$4 == "poll_begin" && $6 == "timer"' "04: the loop waits in epoll_wait for a timer"
t=$tmp/04_req_ab_blocking.en.1
has "$t" '$3 == "req_b" && $4 == "sleep_begin"' "04 blocking: req_b blocks inside the coroutine"
t=$tmp/04_executor.en.1
has "$t" '$2 ~ /^pool-/ && $4 == "callback" && $6 == "blocking_read"' \
    "04 executor: a pool thread runs blocking_read"
t=$tmp/05_sync_vs_async.en.1
has "$t" '$2 == "server" && $4 == "sleep_begin"' "05 sync vs async: the blocking GET stalls the server's thread"
has "$t" '$2 ~ /^pool-/ && $4 == "callback" && $6 == "blocking_get"' \
    "05 sync vs async: a pool thread runs the executor's blocking GET"
echo "traces of every program are well formed, deterministic and tell their lesson"

# check.sh — what every exercise's checker shares. A checker is exercises/NAME/check,
# run as `check PROGRAM` (PROGRAM: the student's build of the exercise) with these set:
#   COURSE_BIN    the course's programs (05_ip_service, 05_chaos_proxy, asynctrace, ...)
#   EXERCISE_DIR  the exercise's directory (its expected transcripts, its data)
#   EXERCISE_LIB  this directory
# It sources this file, prints what it found for a student to read, and exits with
#   0  passed
#   1  wrong output: the program ran but did not do what the exercise asks
#   2  run error: it crashed, exited with a status other than 0, or did not finish
# The runner (lessons/run exercise) reports 1 and 2 under their own headings.
set -uo pipefail

[[ -n ${1-} && -x $1 ]] || { echo "usage: check PROGRAM (an executable)" >&2; exit 2; }
ex_program=$1
ex_tmp=$(mktemp -d)
ex_pids=()
# Whatever a checker started in the background ends with it.
ex_cleanup() {
    local pid
    for pid in "${ex_pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${ex_pids[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$ex_tmp"
}
trap ex_cleanup EXIT

ex_pass() { printf '%s\n' "$@"; exit 0; }

# ex_wrong SUMMARY [DETAIL...]: the program did the wrong thing.
ex_wrong() { printf '%s\n' "$@"; exit 1; }

# ex_run_error SUMMARY [DETAIL...]: the program did not run to the end.
ex_run_error() { printf '%s\n' "$@"; exit 2; }

# ex_run NAME SECONDS CMD...: runs CMD with stdout in $ex_tmp/NAME.out and stderr in
# $ex_tmp/NAME.err. A crash, a status other than 0 or a run over SECONDS is a run error,
# reported with the end of what the program wrote to stderr.
ex_run() {
    local name=$1 seconds=$2 status
    shift 2
    timeout -k 2 "$seconds" "$@" >"$ex_tmp/$name.out" 2>"$ex_tmp/$name.err"
    status=$?
    ((status == 0)) && return 0
    local what
    if ((status == 124 || status == 137)); then
        what="did not finish within $seconds s"
    elif ((status > 128)); then
        what="was killed by signal $((status - 128)) ($(kill -l $((status - 128)) 2>/dev/null || echo '?'))"
    else
        what="exited with status $status"
    fi
    ex_run_error "$(basename "$1") $what." "$(ex_tail "$ex_tmp/$name.err")"
}

# ex_tail FILE: its last 15 lines, indented, for a report ("" when it is empty).
ex_tail() {
    [[ -s $1 ]] || return 0
    printf 'Its last words on stderr:\n'
    tail -n 15 "$1" | sed 's/^/    /'
}

# ex_first_difference EXPECTED GOT: prints where GOT first differs from EXPECTED (line
# number, the expected line, the line got) and returns 1; returns 0 when they are equal.
ex_first_difference() {
    local want=$1 got=$2 n=0 a b more_a more_b
    cmp -s "$want" "$got" && return 0
    exec 3<"$want" 4<"$got"
    while :; do
        a="" b="" more_a=0 more_b=0
        { IFS= read -r a <&3 || [[ -n $a ]]; } && more_a=1
        { IFS= read -r b <&4 || [[ -n $b ]]; } && more_b=1
        ((more_a || more_b)) || break
        n=$((n + 1))
        if ((!more_a)); then
            printf 'line %d:\n  expected: (the end of the output)\n  got:      %s\n' "$n" "$b"
            break
        elif ((!more_b)); then
            printf 'line %d:\n  expected: %s\n  got:      (the end of the output)\n' "$n" "$a"
            break
        elif [[ $a != "$b" ]]; then
            printf 'line %d:\n  expected: %s\n  got:      %s\n' "$n" "$a" "$b"
            break
        fi
    done
    exec 3<&- 4<&-
    return 1
}

# ex_compare EXPECTED GOT [WHAT]: wrong output unless GOT is EXPECTED line for line.
ex_compare() {
    local diff
    diff=$(ex_first_difference "$1" "$2") && return 0
    ex_wrong "Wrong output${3:+ ($3)}: it differs from ${1#"${EXERCISE_DIR%/*}/"}." "$diff"
}

# ex_free_port: a TCP port on 127.0.0.1 that nobody listens on now.
ex_free_port() {
    python3 -E -B -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ex_background NAME CMD...: starts CMD with its output in $ex_tmp/NAME.{out,err}; it is
# stopped when the checker ends. Sets ex_bg_pid.
ex_background() {
    local name=$1
    shift
    "$@" >"$ex_tmp/$name.out" 2>"$ex_tmp/$name.err" &
    ex_bg_pid=$!
    ex_pids+=("$ex_bg_pid")
}

# ex_wait_line FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN (grep -E).
ex_wait_line() {
    local file=$1 pattern=$2 deadline=$((SECONDS + $3))
    until grep -qE -- "$pattern" "$file" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

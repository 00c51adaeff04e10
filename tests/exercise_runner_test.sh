#!/usr/bin/env bash
# exercise_runner_test.sh ROOT BUILD_DIR
# lessons/run exercise: list, start, show, hint, check (compile error, run error, wrong
# output, passed, each with its progress line), reset (asks first), watch, and misuse.
# It works on exercise 11 (the quiz: quick to build and check) in a temporary EXERCISES_WORK.
set -u
root=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export EXERCISES_WORK=$tmp/work NO_COLOR=1
copy=$EXERCISES_WORK/11_quiz.c starter=$root/exercises/11_quiz/starter.c
solution=$root/exercises/solutions/11_quiz.c

# ex ARGS...: sets $status and $out (stdout and stderr).
ex() {
    out=$("$root/lessons/run" exercise --build "$build" "$@" 2>&1 </dev/null)
    status=$?
}
has() { [[ $out == *"$1"* ]] || fail "${2:-output} lacks '$1': $out"; }
progress() { awk '$1 == "11_quiz" { print $2 }' "$EXERCISES_WORK/progress"; }

mapfile -t listed < <(grep -E '^[0-9]' "$root/exercises/list" | awk '{ print $1 }')

# The list, before anything: every exercise, in order, not started.
ex list
[[ $status == 0 ]] || fail "list: status $status: $out"
got=$(printf '%s\n' "$out" | awk '/^ +[0-9]+  / { print $2 }')
[[ $got == "$(printf '%s\n' "${listed[@]}")" ]] || fail "list is not exercises/list in order: $out"
[[ $(printf '%s\n' "$out" | grep -c 'not started') == "${#listed[@]}" ]] || fail "not all 'not started': $out"
has "0 of ${#listed[@]} passed. Next: lessons/run exercise check 1"
ex # list is the default command, and the plural works as well
[[ $status == 0 && $out == *"0 of ${#listed[@]} passed"* ]] || fail "no command: $status: $out"
out=$("$root/lessons/run" exercises --build "$build" list 2>&1) || fail "exercises list: $out"

# hint and show, by number and by name; an unknown exercise and command are misuse.
ex hint 11
[[ $status == 0 ]] || fail "hint: $status"
has "$(sed -n 3p "$root/exercises/11_quiz/hint.md")" "hint 11"
ex show 11_quiz
[[ $status == 0 ]] || fail "show: $status"
has "# Exercise 11 · " "show 11_quiz"
ex hint 99
[[ $status == 2 && $out == *"no exercise '99'"* ]] || fail "hint 99: $status: $out"
ex hint # without N: the current exercise, the first not passed
[[ $status == 0 && $out == *"Hint for exercise 1 · "* ]] || fail "hint without N: $status: $out"
ex frobnicate 3
[[ $status == 2 && $out == *"no command 'frobnicate'"* ]] || fail "unknown command: $status: $out"
ex check 11 --colour
[[ $status == 2 && $out == *"unknown option '--colour'"* ]] || fail "unknown option: $status: $out"

# start makes the copy once.
ex start 11
[[ $status == 0 && -f $copy ]] || fail "start: $status: $out"
cmp -s "$copy" "$starter" || fail "start: the copy is not the starter"
has "Made your copy of the starter"
ex start 11
has "You already have a copy"
ex list
has "· started"

# The starter: wrong output, the first wrong answer shown, a hint offered.
ex check 11
[[ $status == 1 ]] || fail "check of the starter: status $status: $out"
has "✗ wrong output"
has "Question  1 (is asynchrony in Tornado coroutines?): ✗ not answered yet"
has "Stuck? lessons/run exercise hint 11"
[[ $(progress) == wrong-output ]] || fail "progress after wrong output: $(cat "$EXERCISES_WORK/progress")"

# A compile error: the compiler's message, naming the student's own file and line.
cp "$solution" "$copy"
printf 'int broken = ;\n' >>"$copy"
lines=$(wc -l <"$copy")
ex check 11
[[ $status == 1 ]] || fail "check of a compile error: status $status: $out"
has "✗ compile error"
has "$copy:$lines:"
[[ $out != *"wrong output"* && $out != *"run error"* ]] || fail "a compile error reported as more: $out"
[[ $(progress) == compile-error ]] || fail "progress after a compile error"

# A run error: the program crashes before the checker can judge it.
cp "$solution" "$copy"
printf '#include <stdlib.h>\n__attribute__((constructor)) static void crash(void) { abort(); }\n' >>"$copy"
ex check 11
[[ $status == 1 ]] || fail "check of a crash: status $status: $out"
has "✗ run error"
[[ $(progress) == run-error ]] || fail "progress after a run error"

# The solution passes; the list shows it, then shows that the copy changed since.
cp "$solution" "$copy"
ex check 11
[[ $status == 0 ]] || fail "check of the solution: status $status: $out"
has "✓ passed"
has "10 of 10 right."
[[ $(progress) == passed ]] || fail "progress after a pass"
ex list
has "✓ passed"
has "1 of ${#listed[@]} passed."
printf '/* a comment */\n' >>"$copy"
ex list
has "✓ passed, changed since"

# reset asks first: no keeps the copy, yes puts the starter back and keeps the old copy.
before=$(cat "$copy")
out=$(printf 'n\n' | "$root/lessons/run" exercise --build "$build" reset 11 2>&1)
[[ $out == *"[y/N]"* && $out == *"Nothing changed."* ]] || fail "reset, answered no: $out"
[[ $(cat "$copy") == "$before" ]] || fail "reset answered no changed the copy"
out=$(printf 'y\n' | "$root/lessons/run" exercise --build "$build" reset 11 2>&1)
[[ $out == *"back to its starter"* ]] || fail "reset, answered yes: $out"
cmp -s "$copy" "$starter" || fail "reset: the copy is not the starter"
[[ $(cat "$copy~") == "$before" ]] || fail "reset: the old copy was not kept"
[[ -z $(progress) ]] || fail "reset: the progress line stays"
ex reset 11 # no terminal, no answer: nothing changes
[[ $out == *"Nothing changed."* ]] || fail "reset without an answer: $out"
cp "$solution" "$copy"
ex reset 11 --yes
cmp -s "$copy" "$starter" || fail "reset --yes"

# watch: checks, waits for a save, checks again; ends after --max-checks checks.
"$root/lessons/run" exercise --build "$build" watch 11 --max-checks 2 >"$tmp/watch.out" 2>&1 </dev/null &
watcher=$!
for ((t = 0; t < 600; t++)); do
    grep -q "Watching" "$tmp/watch.out" && break
    sleep 0.1
done
grep -q "Watching" "$tmp/watch.out" || { kill $watcher; fail "watch did not start watching: $(cat "$tmp/watch.out")"; }
sleep 1.1 # a later modification time, whatever the file system's resolution
cp "$solution" "$copy"
for ((t = 0; t < 600; t++)); do
    kill -0 $watcher 2>/dev/null || break
    sleep 0.1
done
kill -0 $watcher 2>/dev/null && { kill $watcher; fail "watch did not end after two checks: $(cat "$tmp/watch.out")"; }
wait $watcher || fail "watch: status $?"
out=$(cat "$tmp/watch.out")
[[ $(grep -c '━━ Exercise 11' <<<"$out") == 2 ]] || fail "watch did not check twice: $out"
has "✗ wrong output"
has "✓ passed"
# watch on a copy that passes goes on to what is left after it: here nothing, though
# exercises before it are not done.
ex watch 11
[[ $status == 0 ]] || fail "watch of a passing last exercise: status $status: $out"
has "No exercise after this one is left to do"
echo "exercise runner: all checks passed"

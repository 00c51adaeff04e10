"""excheck — check.sh's twin for the checkers written in Python (exercises 7 and 8).

A checker imports it through EXERCISE_LIB (Debian's /usr/bin/python3 -E -B ignores
PYTHONPATH):

    sys.path.insert(0, os.environ["EXERCISE_LIB"])
    from excheck import out, wrong, run_error, tail, first_difference

and keeps check.sh's contract: exit 0 passed, 1 wrong output (wrong()), 2 run error
(run_error()), each with lines a student can read. Lesson 06's checkers talk WebSocket
from asyncio and have their own module, wscheck.py.
"""
import sys


def out(*lines):
    print("\n".join(lines), flush=True)


def wrong(*lines):
    """The program ran but did the wrong thing: exit status 1."""
    out(*lines)
    sys.exit(1)


def run_error(*lines):
    """The program did not run to the end: exit status 2."""
    out(*lines)
    sys.exit(2)


def tail(text):
    """The end of what a program wrote on stderr, for a report."""
    lines = text.splitlines()[-15:]
    if not lines:
        return []
    return ["Its last words on stderr:"] + ["    " + line for line in lines]


def first_difference(want, got):
    """Where got first differs from want (lists of lines), as check.sh's
    ex_first_difference says it; None when they are equal."""
    for n in range(max(len(want), len(got))):
        a = want[n] if n < len(want) else None
        b = got[n] if n < len(got) else None
        if a != b:
            return [f"line {n + 1}:",
                    f"  expected: {a if a is not None else '(the end of the output)'}",
                    f"  got:      {b if b is not None else '(the end of the output)'}"]
    return None

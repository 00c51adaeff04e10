"""Exercise 5's scenario on real Tornado: what oracle.txt records and test.c replays.

Six coroutines share a Semaphore(2). A and B get a unit at once; C waits at most one
tick and gives up; D, E and F wait in line and get the units A, B and D give back,
oldest first. A and E release with `async with`, the others by hand. Run it as
    /usr/bin/python3 -E -B oracle.py
and it prints the lines test.c compares its own run with.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Semaphore
from tornado.util import TimeoutError

UNIT = 0.1  # seconds: the scenario's tick, as in test.c

sem = Semaphore(2)


def say(line):
    print(line, flush=True)


async def worker(name, work, timeout=None):
    """Acquires by hand, works for `work` ticks, releases by hand."""
    if timeout is None:
        say(f"{name} acquires")
        deadline = None
    else:
        say(f"{name} acquires, waits at most {timeout} tick{'s' if timeout > 1 else ''}")
        deadline = IOLoop.current().time() + timeout * UNIT
    try:
        await sem.acquire(deadline)
    except TimeoutError:
        say(f"{name} timed out")
        return
    say(f"{name} has a unit")
    try:
        await gen.sleep(work * UNIT)
        say(f"{name} done with its work")
    finally:
        sem.release()
    say(f"{name} released")


async def worker_with(name, work):
    """The same with `async with`: the block's end releases the unit."""
    say(f"{name} acquires")
    async with sem:
        say(f"{name} has a unit")
        await gen.sleep(work * UNIT)
        say(f"{name} done with its work")
    say(f"{name} released")


async def main():
    await gen.multi([
        worker_with("A", 3),
        worker("B", 5),
        worker("C", 0, timeout=1),
        worker("D", 3),
        worker_with("E", 3),
        worker("F", 1, timeout=10),
    ])
    say("all done")


IOLoop.current().run_sync(main)

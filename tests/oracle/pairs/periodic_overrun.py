"""Pair periodic_overrun: a PeriodicCallback whose body outlasts its period.

Period 100 ms; each run keeps the loop busy until 250 ms past the start of its slot,
so it overruns into the middle of the third slot after it. The schedule stays on the
grid counted from start() and skips the slots it missed: runs land in slots 1, 4, 7
(the first call comes one period after start). Each run prints the slot it is in,
rounded from the time since start, so the output holds no raw times; a run may start
up to half a period late, and the decision to skip is taken half a period away from
any slot boundary, so a loaded machine prints the same lines.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop, PeriodicCallback

PERIOD = 0.1
BUSY = 0.25
RUNS = 3


class Overrun:
    def __init__(self, loop):
        self.loop = loop
        self.runs = 0
        self.done = Future()
        self.pc = PeriodicCallback(self.run, PERIOD * 1000)
        self.start = loop.time()
        self.pc.start()

    def run(self):
        slot = round((self.loop.time() - self.start) / PERIOD)
        self.runs += 1
        print("run %d in slot %d" % (self.runs, slot))
        if self.runs == RUNS:
            self.pc.stop()
            self.done.set_result(None)
            return
        end = self.start + slot * PERIOD + BUSY
        while self.loop.time() < end:
            pass


@gen.coroutine
def main():
    overrun = Overrun(IOLoop.current())
    yield overrun.done
    print("main: stopped after %d runs" % overrun.runs)


IOLoop.current().run_sync(main, timeout=5)

"""Pair moment: gen.moment gives the loop exactly one iteration.

Two coroutines, A and B, each print and yield gen.moment three times, while a plain
callback chain ("tick") re-adds itself once per iteration; it was queued before A and
B started. Each moment resumes its coroutine in the very next iteration, behind what
was queued earlier: tick n, A, B share an iteration. A moment that took two
iterations would let the ticks run ahead.
"""
from tornado import gen
from tornado.ioloop import IOLoop


def tick(n):
    print("tick %d" % n)
    if n < 3:
        IOLoop.current().add_callback(tick, n + 1)


@gen.coroutine
def turns(name):
    for i in range(3):
        print("%s%d" % (name, i))
        yield gen.moment
    print("%s done" % name)


@gen.coroutine
def main():
    IOLoop.current().add_callback(tick, 0)
    yield [turns("A"), turns("B")]
    print("main: done")


IOLoop.current().run_sync(main, timeout=5)

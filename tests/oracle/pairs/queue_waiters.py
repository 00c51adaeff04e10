"""Pair queue_waiters: what get_nowait does for a waiting putter, and a getter that
gives up at its deadline.

A full Queue(1) holding "a" and a putter waiting with "b": get_nowait returns "a" and
moves "b" in at once, so the queue is full again before the putter even resumes.
Then two getters wait on an empty queue, the first with a deadline 10 ms away; main
sleeps past it (a later deadline, so the order cannot race), the first getter times
out, and an item put afterwards goes to the second one: expired getters are skipped.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.queues import Queue


@gen.coroutine
def putter(q, item):
    print("putter: put %s (full: %s)" % (item, "yes" if q.full() else "no"))
    yield q.put(item)
    print("putter: %s is in" % item)


@gen.coroutine
def getter(name, q, timeout):
    print("%s: get" % name)
    try:
        item = yield q.get(timeout=timeout)
    except gen.TimeoutError:
        print("%s: timed out" % name)
    else:
        print("%s: got %s" % (name, item))


@gen.coroutine
def pull_from_putter():
    q = Queue(maxsize=1)
    q.put_nowait("a")
    p = putter(q, "b")
    print("main: get_nowait gives %s; qsize %d" % (q.get_nowait(), q.qsize()))
    yield p
    print("main: get_nowait gives %s; qsize %d" % (q.get_nowait(), q.qsize()))


@gen.coroutine
def expired_getter():
    q = Queue()
    loop = IOLoop.current()
    g0 = getter("g0", q, loop.time() + 0.01)
    g1 = getter("g1", q, None)
    yield gen.sleep(0.03)
    print("main: put x")
    q.put_nowait("x")
    yield [g0, g1]


@gen.coroutine
def main():
    yield pull_from_putter()
    yield expired_getter()
    print("main: done")


IOLoop.current().run_sync(main, timeout=5)

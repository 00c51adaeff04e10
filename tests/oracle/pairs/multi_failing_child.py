"""Pair multi_failing_child (reference probe T6): multi over [ok 20 ms, bad 10 ms,
bad 30 ms].

The children finish in deadline order: bad2, ok1, bad3. multi waits for all of them
even though bad2 failed first, and then fails with the first failure in input order
(bad2). The later failure (bad3) is only logged, on stderr, which the pair ignores.
The three sleeps fire in deadline order however late the loop is, so load cannot
reorder them.
"""
from tornado import gen
from tornado.ioloop import IOLoop


@gen.coroutine
def child(name, delay, ok):
    yield gen.sleep(delay)
    print("%s finishes" % name)
    if not ok:
        raise ValueError("%s failed" % name)
    return name


@gen.coroutine
def main():
    children = [child("ok1", 0.02, True), child("bad2", 0.01, False),
                child("bad3", 0.03, False)]
    print("main: waiting for all three")
    try:
        yield children
    except ValueError as e:
        print("main: multi failed: %s" % e)
    else:
        print("main: multi succeeded (wrong)")
    print("main: children done: %s" % " ".join(
        "yes" if c.done() else "no" for c in children))


IOLoop.current().run_sync(main, timeout=5)

"""Pair multi_dict: yield {...} — multi over named children.

The result maps each name to its child's result in the order the names were given,
whatever order the children finished in (here: now at once, fast after one turn of
the loop, slow after a sleep). An empty dict is done at once: no suspension, so a callback queued just before it
runs after.
"""
from tornado import gen
from tornado.ioloop import IOLoop


@gen.coroutine
def slow():
    yield gen.sleep(0.02)
    print("slow finishes")
    return "S"


@gen.coroutine
def fast():
    yield gen.moment
    print("fast finishes")
    return "F"


@gen.coroutine
def now():
    print("now finishes")
    return "N"


@gen.coroutine
def main():
    results = yield {"slow": slow(), "fast": fast(), "now": now()}
    print("main: %d results" % len(results))
    for name, value in results.items():
        print("main: %s = %s" % (name, value))
    IOLoop.current().add_callback(print, "callback queued before the empty dict")
    empty = yield {}
    print("main: empty dict gives %d results" % len(empty))
    yield gen.moment


IOLoop.current().run_sync(main, timeout=5)

"""Pair error_propagation: a coroutine's failure reaches its awaiter at the await.

inner fails after one turn of the loop; middle does not catch it, so its own future
fails with the same error; main catches it at its await and goes on. A coroutine that
fails before its first wait has a failed future by the time the call returns, and
awaiting it fails at once, without suspending.
"""
from tornado import gen
from tornado.ioloop import IOLoop


def yes_no(flag):
    return "yes" if flag else "no"


@gen.coroutine
def inner():
    yield gen.moment
    print("inner: failing")
    raise ValueError("disk on fire")


@gen.coroutine
def middle():
    print("middle: awaiting inner")
    yield inner()
    print("middle: not reached")


@gen.coroutine
def at_once():
    print("at_once: failing before any wait")
    raise ValueError("refused")


@gen.coroutine
def main():
    try:
        yield middle()
    except ValueError as e:
        print("main: caught %s" % e)
    f = at_once()
    print("main: at_once returned, failed: %s" % yes_no(f.done() and f.exception()))
    IOLoop.current().add_callback(print, "callback queued before the await")
    try:
        yield f
    except ValueError as e:
        print("main: caught %s" % e)
    yield gen.moment


IOLoop.current().run_sync(main, timeout=5)

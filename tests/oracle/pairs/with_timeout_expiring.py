"""Pair with_timeout_expiring (reference probe T9): gen.with_timeout that expires.

The inner coroutine sleeps 50 ms; the timeout is 10 ms away, so the wait fails with
TimeoutError while the inner future is still pending: with_timeout does not cancel
it, and awaiting it afterwards gives its result. The two deadlines fire in deadline
order however late the loop is.
"""
from tornado import gen
from tornado.ioloop import IOLoop


def yes_no(flag):
    return "yes" if flag else "no"


@gen.coroutine
def inner():
    yield gen.sleep(0.05)
    print("inner finishes")
    return "late"


@gen.coroutine
def main():
    f = inner()
    try:
        yield gen.with_timeout(IOLoop.current().time() + 0.01, f)
    except gen.TimeoutError as e:
        print("main: timed out (%s); inner done: %s" % (e, yes_no(f.done())))
    else:
        print("main: no timeout (wrong)")
    value = yield f
    print("main: inner gave %s" % value)


IOLoop.current().run_sync(main, timeout=5)

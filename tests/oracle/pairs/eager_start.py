"""Pair eager_start (reference probe T3): a coroutine runs synchronously until its
first wait on a future that is not done.

Starting "g" runs its body at once: it passes an await on a resolved future without
stopping and stops only at gen.moment, so its first lines come before the caller's
next line. A coroutine that never waits ("h") is finished when the call returns.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop


def yes_no(flag):
    return "yes" if flag else "no"


@gen.coroutine
def g():
    print("g: body starts")
    ready = Future()
    ready.set_result("ready")
    value = yield ready
    print("g: resolved future gave %s, no suspension" % value)
    yield gen.moment
    print("g: after the moment")
    return "g"


@gen.coroutine
def h():
    print("h: body runs to the end")
    return "h"


@gen.coroutine
def main():
    print("main: starting g")
    fg = g()
    print("main: g returned, done: %s" % yes_no(fg.done()))
    fh = h()
    print("main: h returned, done: %s, result %s" % (yes_no(fh.done()), fh.result()))
    value = yield fg
    print("main: g gave %s" % value)


IOLoop.current().run_sync(main, timeout=5)

"""Pair several_waiters: three coroutines and one done-callback wait on one future.

They are told in the order they started waiting, all in the iteration after the
resolve, never inside it; a coroutine that starts waiting after the resolve does not
suspend at all. What each woken waiter schedules runs one iteration later still.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop


def later(name):
    print("callback from %s" % name)


@gen.coroutine
def waiter(name, f):
    print("%s waits" % name)
    value = yield f
    print("%s got %s" % (name, value))
    IOLoop.current().add_callback(later, name)


def done_callback(f):
    print("done-callback sees %s" % f.result())


def resolve(f, late):
    f.set_result("42")
    print("resolver: after set_result")
    late.append(waiter("w3", f))
    print("resolver: returns")


@gen.coroutine
def main():
    f = Future()
    waiters = [waiter("w0", f)]
    f.add_done_callback(done_callback)
    waiters.append(waiter("w1", f))
    waiters.append(waiter("w2", f))
    IOLoop.current().add_callback(resolve, f, waiters)
    yield waiters[:3]
    print("main: first three done")
    yield waiters[3]
    print("main: done")


IOLoop.current().run_sync(main, timeout=5)

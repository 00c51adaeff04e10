"""Pair done_callbacks: Future.add_done_callback runs its callback on the loop, never
inline, even on a future that is already resolved.

Two callbacks are added while the future is pending, one after it is resolved; a
plain callback is queued in between. All run in the next iteration, in the order
they were scheduled: the two early ones when the future was resolved, then the plain
one, then the late one.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop


def make_callback(name):
    def done(f):
        print("%s sees %s" % (name, f.result()))
    return done


@gen.coroutine
def main():
    f = Future()
    f.add_done_callback(make_callback("early1"))
    f.add_done_callback(make_callback("early2"))
    f.set_result("value")
    print("main: resolved")
    IOLoop.current().add_callback(print, "plain callback")
    f.add_done_callback(make_callback("late"))
    print("main: late callback added")
    yield gen.moment
    print("main: after one turn")


IOLoop.current().run_sync(main, timeout=5)

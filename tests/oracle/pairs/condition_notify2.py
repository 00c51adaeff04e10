"""Pair condition_notify2 (reference probe T7): Condition.notify(2), then notify_all.

Four coroutines wait, c0 to c3. notify(2) wakes the two oldest, c0 and c1, and they run
in the next iteration, not inside notify; notify_all then wakes c2 and c3. A last wait
with a deadline that nobody notifies resolves with False instead of failing.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Condition


def yes_no(flag):
    return "yes" if flag else "no"


@gen.coroutine
def waiter(name, cond):
    print("%s waits" % name)
    notified = yield cond.wait()
    print("%s woke, notified: %s" % (name, yes_no(notified)))


@gen.coroutine
def main():
    cond = Condition()
    waiters = [waiter("c%d" % i, cond) for i in range(4)]
    yield gen.moment
    print("main: notify(2)")
    cond.notify(2)
    print("main: notify(2) returned")
    yield gen.moment
    print("main: notify_all")
    cond.notify_all()
    print("main: notify_all returned")
    yield waiters
    print("main: timed wait")
    notified = yield cond.wait(timeout=IOLoop.current().time() + 0.02)
    print("main: timed wait notified: %s" % yes_no(notified))


IOLoop.current().run_sync(main, timeout=5)

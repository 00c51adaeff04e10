"""Pair already_done (reference probes T5 and T4).

T5: a coroutine that awaits only futures that are already resolved never suspends,
so it has finished before the call that started it returns.
T4: resolving a future does not run its waiter inside the resolver; the waiter
resumes in the next iteration, ahead of a callback added just after the resolve.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop


def yes_no(flag):
    return "yes" if flag else "no"


@gen.coroutine
def drain(futures):
    for i, f in enumerate(futures):
        value = yield f
        print("done-fut-%d: %s" % (i, value))
    return "drained"


@gen.coroutine
def waiter(f):
    print("waiter: awaiting a pending future")
    value = yield f
    print("waiter: resumed with %s" % value)


def resolve(f):
    f.set_result("one")
    print("resolver: after set_result")
    IOLoop.current().add_callback(lambda: print("callback added after set_result"))


@gen.coroutine
def main():
    futures = [Future() for _ in range(3)]
    for i, f in enumerate(futures):
        f.set_result("v%d" % i)
    d = drain(futures)
    print("spawn returned; drain done: %s, result %s" % (yes_no(d.done()), d.result()))
    pending = Future()
    w = waiter(pending)
    print("spawn returned; waiter done: %s" % yes_no(w.done()))
    IOLoop.current().add_callback(resolve, pending)
    yield w
    print("main: waiter finished")


IOLoop.current().run_sync(main, timeout=5)

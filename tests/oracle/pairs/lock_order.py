"""Pair lock_order (reference probe T7): a Lock taken in turn, oldest waiter first.

L0 takes the free lock without suspending; L1, L2, L3 queue up, and each release hands
the lock to the oldest of them. A fifth contender gives up at a deadline: its wait
fails with a timeout while L0 still holds the lock (L0 holds it across a sleep whose
end is later than that deadline; timers fire in deadline order, so this cannot race),
and the release that follows skips it.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Lock


@gen.coroutine
def worker(name, lock, hold):
    print("%s acquires" % name)
    yield lock.acquire()
    print("%s has the lock" % name)
    if hold:
        yield gen.sleep(hold)
    else:
        yield gen.moment
    print("%s releases" % name)
    lock.release()


@gen.coroutine
def impatient(lock):
    print("T acquires with a deadline")
    try:
        yield lock.acquire(timeout=IOLoop.current().time() + 0.01)
    except gen.TimeoutError:
        print("T timed out")
    else:
        print("T got the lock (wrong)")
        lock.release()


@gen.coroutine
def main():
    lock = Lock()
    workers = [worker("L0", lock, 0.05)]
    workers += [worker("L%d" % i, lock, 0) for i in range(1, 4)]
    workers.append(impatient(lock))
    yield workers
    print("main: all done")


IOLoop.current().run_sync(main, timeout=5)

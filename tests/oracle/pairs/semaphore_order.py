"""Pair semaphore_order (reference probe T7): Semaphore(2) shared by five workers.

s0 and s1 get a unit at once (an acquire that can succeed does not suspend); s2, s3,
s4 queue up. Each holder keeps its unit for one turn of the loop, then releases it,
and a release hands the unit to the oldest waiter, which runs in the next iteration.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Semaphore


@gen.coroutine
def worker(name, sem):
    print("%s acquires" % name)
    yield sem.acquire()
    print("%s in" % name)
    yield gen.moment
    print("%s out" % name)
    sem.release()


@gen.coroutine
def main():
    sem = Semaphore(2)
    yield [worker("s%d" % i, sem) for i in range(5)]
    print("main: all done")


IOLoop.current().run_sync(main, timeout=5)

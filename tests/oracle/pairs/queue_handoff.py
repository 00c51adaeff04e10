"""The program behind the queue_handoff_N pairs: a producer and a consumer share a
Queue of maxsize N (0: unbounded).

The consumer starts first and waits on an empty queue; the producer puts five items,
each put waiting while the queue is full; the consumer marks each item done and main
joins the queue. Who runs when follows from three rules: a get or put that can finish
at once does not suspend, an item put while a getter waits goes straight to it, and
a woken waiter runs in the next iteration.
"""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.queues import Queue

ITEMS = 5


@gen.coroutine
def consumer(q):
    for _ in range(ITEMS):
        print("consumer: get (qsize %d)" % q.qsize())
        item = yield q.get()
        print("consumer: got %d" % item)
        q.task_done()
        yield gen.moment


@gen.coroutine
def producer(q):
    for i in range(ITEMS):
        print("producer: put %d (qsize %d)" % (i, q.qsize()))
        yield q.put(i)
        print("producer: put %d done" % i)


def run(maxsize):
    @gen.coroutine
    def main():
        q = Queue(maxsize=maxsize)
        print("maxsize %d" % maxsize)
        c = consumer(q)
        p = producer(q)
        yield q.join()
        print("main: joined")
        yield [c, p]
        print("main: done")

    IOLoop.current().run_sync(main, timeout=5)

"""Twin of 04_queue: document 001's producer and consumer on Tornado's Queue(1)."""
from tornado import gen, queues
from tornado.ioloop import IOLoop


@gen.coroutine
def consumer(queue, num_expected):
    for _ in range(num_expected):
        print("got: %s" % (yield queue.get()))


@gen.coroutine
def producer(queue, num_items):
    for i in range(num_items):
        print("putting %s" % i)
        yield queue.put(i)


@gen.coroutine
def main():
    yield [producer(q, 5), consumer(q, 5)]


q = queues.Queue(1)
IOLoop.current().run_sync(main)

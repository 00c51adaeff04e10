"""Twin of 04_condition: document 001's waiter and notifier on Tornado's Condition."""
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Condition

from tornado_doc import seconds

condition = Condition()


@gen.coroutine
def waiter():
    print("I'll wait right here")
    yield condition.wait()
    print("Received notification now doing my things")


@gen.coroutine
def notifier():
    yield gen.sleep(seconds(60))
    print("About to notify")
    condition.notify()
    print("Done notifying")


@gen.coroutine
def runner():
    yield [waiter(), notifier()]


IOLoop.current().run_sync(runner)

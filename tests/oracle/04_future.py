"""Twin of 04_future: document 003's Future, set by coro1 and awaited by coro2."""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

from tornado_doc import seconds

future = Future()


async def coro1():
    await gen.sleep(seconds(1))
    future.set_result("data")


async def coro2():
    print(await future)


async def start():
    await gen.multi([coro1(), coro2()])


IOLoop.current().run_sync(start)

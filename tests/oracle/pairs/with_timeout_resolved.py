"""Pair with_timeout_resolved: gen.with_timeout around a future already resolved.

The result is resolved at once (chain_future copies a done future inline), so the
wait does not suspend: a callback queued just before it runs after the wait's line.
"""
from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop


@gen.coroutine
def main():
    loop = IOLoop.current()
    f = Future()
    f.set_result("ready")
    loop.add_callback(print, "callback queued before the wait")
    value = yield gen.with_timeout(loop.time() + 1, f)
    print("main: resolved future gave %s" % value)
    yield gen.moment


IOLoop.current().run_sync(main, timeout=5)

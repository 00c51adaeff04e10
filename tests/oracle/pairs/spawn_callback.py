"""Pair spawn_callback: IOLoop.spawn_callback starts a coroutine in the next
iteration; calling the coroutine starts it now.

main hands "later" to spawn_callback and then calls "now": "now" runs at once, up to
its first wait, before main goes on; "later" starts only when main yields, as the
first thing of the next iteration, ahead of the moment main queued after it.
"""
from tornado import gen
from tornado.ioloop import IOLoop


@gen.coroutine
def worker(name, done):
    print("%s starts" % name)
    yield gen.moment
    print("%s resumes" % name)
    done.append(name)


@gen.coroutine
def main():
    finished = []
    print("main: spawn_callback(later)")
    IOLoop.current().spawn_callback(worker, "later", finished)
    print("main: call now")
    now = worker("now", finished)
    print("main: yields")
    yield gen.moment
    print("main: resumed")
    yield now
    while len(finished) < 2:
        yield gen.moment
    print("main: finished in order %s" % ", ".join(finished))


IOLoop.current().run_sync(main, timeout=5)

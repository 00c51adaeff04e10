"""Pair sleep_zero: gen.sleep(0) is a timer, gen.moment a callback.

A callback chain ("tick") marks the iterations. "M" awaits gen.moment: it resumes in
the next iteration with the callbacks. "S" awaits gen.sleep(0): its timer is due in
the next iteration, but timers run after callbacks, and resolving the sleep only
schedules S, so S resumes one iteration after M.
"""
from tornado import gen
from tornado.ioloop import IOLoop


def tick(n):
    print("tick %d" % n)
    if n < 3:
        IOLoop.current().add_callback(tick, n + 1)


@gen.coroutine
def by_moment():
    print("M waits on a moment")
    yield gen.moment
    print("M resumes")


@gen.coroutine
def by_sleep():
    print("S waits on sleep(0)")
    yield gen.sleep(0)
    print("S resumes")


@gen.coroutine
def main():
    IOLoop.current().add_callback(tick, 0)
    yield [by_sleep(), by_moment()]
    print("main: done")


IOLoop.current().run_sync(main, timeout=5)

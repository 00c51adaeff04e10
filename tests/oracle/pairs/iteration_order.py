"""Pair iteration_order (reference probe T1): what one loop iteration runs, in order.

Before the loop starts: callback A, a timer due at once (call_later 0), a pipe that is
already readable, callback C. The first iteration runs the callbacks queued before it
(A, C), then the handler of the ready fd (IO), then the due timer (T0). Each schedules
a follow-up callback, and those all wait for the second iteration, in the order they
were scheduled.
"""
import os

from tornado.ioloop import IOLoop


def follow_up(name):
    print("cb-from-%s" % name)
    if name == "T0":
        IOLoop.current().stop()


def step(name):
    print(name)
    IOLoop.current().add_callback(follow_up, name)


def on_readable(fd, events):
    os.read(fd, 1)
    IOLoop.current().remove_handler(fd)
    step("IO")


def main():
    loop = IOLoop.current()
    r, w = os.pipe()
    os.write(w, b"x")
    loop.add_callback(step, "A")
    loop.call_later(0, step, "T0")
    loop.add_handler(r, on_readable, IOLoop.READ)
    loop.add_callback(step, "C")
    loop.start()
    os.close(r)
    os.close(w)
    print("loop stopped")


main()

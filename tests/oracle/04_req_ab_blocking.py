"""Twin of 04_req_ab_blocking on Tornado: req_b blocks the loop with time.sleep."""
import socket
import time

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

from tornado_doc import seconds

long_io_end, device_end = socket.socketpair()
long_io_end.setblocking(False)
device_end.setblocking(False)


def device_read(fd, events):
    device_end.recv(16)
    IOLoop.current().remove_handler(device_end)
    print("(IO设备收到了请求)")
    IOLoop.current().call_later(seconds(5), lambda: device_end.send(b"io result"))


def wait_readable(sock):
    future = Future()
    loop = IOLoop.current()

    def readable(fd, events):
        loop.remove_handler(sock)
        future.set_result(None)

    loop.add_handler(sock, readable, IOLoop.READ)
    return future


@gen.coroutine
def long_io():
    print("开始执行IO操作")
    long_io_end.send(b"request")
    yield wait_readable(long_io_end)
    answer = long_io_end.recv(16).decode()
    print("完成IO操作,yield回操作结果")
    return answer


@gen.coroutine
def req_a():
    print("开始处理请求req_a")
    ret = yield long_io()
    print("ret: %s" % ret)
    print("完成处理请求req_a")


@gen.coroutine
def req_b():
    print("开始处理请求req_b")
    time.sleep(seconds(2))
    print("完成处理请求req_b")


@gen.coroutine
def start():
    yield [req_a(), req_b()]


IOLoop.current().add_handler(device_end, device_read, IOLoop.READ)
IOLoop.current().run_sync(start)

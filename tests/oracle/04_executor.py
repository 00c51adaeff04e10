"""Twin of 04_executor: a blocking read moved to a ThreadPoolExecutor on Tornado."""
import os
from concurrent.futures import ThreadPoolExecutor

from tornado import gen
from tornado.ioloop import IOLoop

from tornado_doc import seconds

device_r, device_w = os.pipe()
pool = ThreadPoolExecutor(4)


def blocking_read():
    data = os.read(device_r, 31).decode()
    print("blocking_read 在线程池的线程里返回")
    return data


@gen.coroutine
def ticker():
    for i in range(1, 4):
        yield gen.sleep(seconds(1))
        print("tick %d: 事件循环没有被阻塞" % i)
    print("IO设备给出了应答")
    os.write(device_w, b"device data")


@gen.coroutine
def req():
    print("req: 把 blocking_read 交给线程池")
    data = yield pool.submit(blocking_read)
    print("req: 回到事件循环的线程, 得到 '%s'" % data)


@gen.coroutine
def start():
    yield [req(), ticker()]


IOLoop.current().run_sync(start)
pool.shutdown()

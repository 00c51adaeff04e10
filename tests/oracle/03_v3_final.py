"""Twin of 03_v3_final: no global; long_io is a generator the I/O thread runs."""
import _thread

from doc import sleep, wait_for_threads


def gen_coroutine(f):
    def wrapper(*args, **kwargs):
        request = f()
        io = next(request)

        def work(g):
            ret = next(g)
            try:
                request.send(ret)
            except StopIteration:
                pass

        _thread.start_new_thread(work, (io,))

    return wrapper


def long_io():
    print("开始执行IO操作")
    sleep(5)
    print("完成IO操作,yield回操作结果")
    yield "io result"


@gen_coroutine
def req_a():
    print("开始处理请求req_a")
    ret = yield long_io()
    print("ret: %s" % ret)
    print("完成处理请求req_a")


def req_b():
    print("开始处理请求req_b")
    sleep(2)
    print("完成处理请求req_b")


req_a()
req_b()
wait_for_threads()

"""Twin of 02_callback_thread: the I/O runs on a thread and calls back."""
import _thread

from doc import sleep, wait_for_threads


def long_io(callback):
    def work(cb):
        print("开始执行IO操作")
        sleep(5)
        print("完成IO操作,并执行回调函数")
        cb("io result")

    _thread.start_new_thread(work, (callback,))


def on_finish(ret):
    print("开始执行回调函数on_finish")
    print("ret: %s" % ret)
    print("完成执行回调函数on_finish")


def req_a():
    print("开始处理请求req_a")
    long_io(on_finish)
    print("离开处理请求req_a")


def req_b():
    print("开始处理请求req_b")
    sleep(2)
    print("完成处理请求req_b")


req_a()
req_b()
wait_for_threads()

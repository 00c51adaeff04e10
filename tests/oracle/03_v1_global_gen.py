"""Twin of 03_v1_global_gen: a global generator, resumed by the I/O thread."""
import _thread

from doc import sleep, wait_for_threads

gen = None


def long_io():
    def work():
        print("开始执行IO操作")
        sleep(5)
        try:
            print("完成IO操作,并send结果唤醒挂起程序继续执行")
            gen.send("io result")
        except StopIteration:
            pass

    _thread.start_new_thread(work, ())


def req_a():
    print("开始处理请求req_a")
    ret = yield long_io()
    print("ret: %s" % ret)
    print("完成处理请求req_a")


def req_b():
    print("开始处理请求req_b")
    sleep(2)
    print("完成处理请求req_b")


gen = req_a()
next(gen)
req_b()
wait_for_threads()

"""Twin of 01_blocking_io: req_a's slow I/O holds up req_b."""
from doc import sleep


def long_io():
    print("开始执行IO操作")
    sleep(5)
    print("完成IO操作")
    return "io result"


def req_a():
    print("开始处理请求req_a")
    ret = long_io()
    print("ret: %s" % ret)
    print("完成处理请求req_a")


def req_b():
    print("开始处理请求req_b")
    print("完成处理请求req_b")


req_a()
req_b()

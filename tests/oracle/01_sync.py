"""Twin of 01_sync: two requests handled in turn."""


def req_a():
    print("开始处理请求req_a")
    print("完成处理请求req_a")


def req_b():
    print("开始处理请求req_b")
    print("完成处理请求req_b")


req_a()
req_b()

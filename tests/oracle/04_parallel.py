"""Twin of 04_parallel: yielding a list and a dict of coroutines on Tornado."""
from tornado import gen
from tornado.ioloop import IOLoop

from tornado_doc import seconds

URLS = {"url1": 2, "url2": 1}


@gen.coroutine
def fetch(url):
    print("开始获取 %s" % url)
    yield gen.sleep(seconds(URLS[url]))
    print("获取 %s 完成, 用时 %g 秒" % (url, URLS[url]))
    return "<%s body>" % url


@gen.coroutine
def parallel_fetch():
    resp1, resp2 = yield [fetch("url1"), fetch("url2")]
    print("列表结果: [%s, %s]" % (resp1, resp2))
    responses = yield {url: fetch(url) for url in ("url1", "url2")}
    for url, body in responses.items():
        print("字典结果[%s] = %s" % (url, body))


IOLoop.current().run_sync(parallel_fetch)

"""Twin of 05_sync_vs_async: a blocking handler against a coroutine and run_on_executor.

The same three loops on three threads (load generator, server, back-end) on Debian's
Tornado, and the same documented clock, carried in X-Doc-Time (see the C program).
http.client stands in for requests.get: a blocking GET, and no proxy from the environment.
"""
import asyncio
import http.client
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from tornado import gen
from tornado.concurrent import run_on_executor
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from tornado_doc import seconds

DELAY_MS = 200
REQUESTS = 50
POOL = 10

AsyncHTTPClient.configure(None, max_clients=REQUESTS)


def sent_at(handler):
    return int(handler.request.headers.get("X-Doc-Time", "0"))


def answer(handler, doc_ms, body):
    handler.set_header("X-Doc-Time", str(doc_ms))
    handler.finish(body)


class Slow(RequestHandler):
    async def get(self):
        sent = sent_at(self)
        await gen.sleep(seconds(DELAY_MS / 1000))
        answer(self, sent + DELAY_MS, str(sent + DELAY_MS))


class ServerThread(threading.Thread):
    """An application served on 127.0.0.1 by a loop of its own thread."""

    def __init__(self, app):
        super().__init__()
        self.app = app
        self.ready = threading.Event()

    def run(self):
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = IOLoop.current()
        sockets = bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        server = HTTPServer(self.app)
        server.add_sockets(sockets)
        self.ready.set()
        self.loop.start()
        server.stop()
        self.loop.close(all_fds=True)

    def serve(self):
        self.start()
        self.ready.wait()
        return self.port

    def stop(self):
        self.loop.add_callback(self.loop.stop)
        self.join()


backend = ServerThread(Application([("/slow", Slow)]))
backend_port = backend.serve()
backend_url = "http://127.0.0.1:%d/slow" % backend_port
state = {"loop_free_at": 0, "thread_free_at": [0] * POOL}


def blocking_get(start):
    conn = http.client.HTTPConnection("127.0.0.1", backend_port)
    conn.request("GET", "/slow", headers={"X-Doc-Time": str(start)})
    done = int(conn.getresponse().read())
    conn.close()
    return done


def handler_start(handler):
    return max(sent_at(handler), state["loop_free_at"])


def pool_start(arrived):
    free = state["thread_free_at"]
    first = free.index(min(free))
    start = max(arrived, free[first])
    free[first] = start + DELAY_MS
    return start


class Blocking(RequestHandler):
    def get(self):
        done = blocking_get(handler_start(self))
        state["loop_free_at"] = done
        answer(self, done, "It works")


class Coroutine(RequestHandler):
    async def get(self):
        headers = {"X-Doc-Time": str(handler_start(self))}
        resp = await AsyncHTTPClient().fetch(backend_url, headers=headers)
        answer(self, int(resp.body), "It works")


class Executor(RequestHandler):
    executor = ThreadPoolExecutor(POOL)

    @run_on_executor
    def ping(self, start):
        return blocking_get(start)

    async def get(self):
        done = await self.ping(pool_start(handler_start(self)))
        answer(self, done, "It works")


async def route_run(port, path, sent):
    url = "http://127.0.0.1:%d%s" % (port, path)
    client = AsyncHTTPClient()
    resps = await gen.multi([client.fetch(url, headers={"X-Doc-Time": str(sent)})
                             for _ in range(REQUESTS)])
    return sorted(int(r.headers["X-Doc-Time"]) - sent for r in resps)


async def load(port):
    print("每个路由同时收到 %d 个请求; 后端对每个请求都在 %g 秒后应答." % (REQUESTS, DELAY_MS / 1000))
    now, rows = 0, []
    for path in ("/blocking", "/coroutine", "/executor"):
        ms = await route_run(port, path, now)
        now += ms[-1]
        print("GET %s: %d 个请求用时 %.1f 秒" % (path, REQUESTS, ms[-1] / 1000))
        rows.append((path, ms))
    print("路由         每秒请求数      延迟: 最短      中位      最长")
    for path, ms in rows:
        median = (ms[REQUESTS // 2 - 1] + ms[REQUESTS // 2]) / 2
        print("%-12s%11.1f%13.1f 秒%7.1f 秒%7.1f 秒" % (
            path, REQUESTS * 1000 / ms[-1], ms[0] / 1000, median / 1000, ms[-1] / 1000))


front = ServerThread(Application([("/blocking", Blocking), ("/coroutine", Coroutine),
                                  ("/executor", Executor)]))
front_port = front.serve()
IOLoop.current().run_sync(lambda: load(front_port))
front.stop()
backend.stop()
Executor.executor.shutdown()

"""hello_tornado — Tornado's "Hello, world" app, the one on its front page: what
05_hello_server rebuilds in C, for bench/run-http-bench to set beside it.

    /usr/bin/python3 -E -B bench/hello_tornado.py [--port N]    (0: a free port)

One process, on Tornado's default asyncio loop. It prints "listening on
http://127.0.0.1:N/" like 05_hello_server, and serves until SIGINT or SIGTERM.
"""

import argparse
import asyncio
import signal

import tornado.web


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


async def main(port):
    app = tornado.web.Application([(r"/", MainHandler)])
    server = app.listen(port, address="127.0.0.1")
    port = next(iter(server._sockets.values())).getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8888)
    asyncio.run(main(p.parse_args().port))

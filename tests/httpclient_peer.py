"""A real HTTP server for tests/httpclient_test.c: Python Tornado on 127.0.0.1.

Usage: httpclient_peer.py CERTFILE KEYFILE (PEM files the test made, for HTTPS).
Prints "<http port> <garbage port> <idle port> <https port>" on stdout once all listen,
then serves until killed. The idle port is the same application, closing connections
idle 0.2 s; the https port is the same application over TLS with CERTFILE.
Run as /usr/bin/python3 -E -B tests/httpclient_peer.py (Debian's python3-tornado).
"""
import asyncio
import gzip
import logging
import socket
import ssl
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web

seen = {}      # tag -> list of the streams (TCP connections) that asked /count?tag=
inflight = {}  # tag -> [now, most at once]


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


class Echo(tornado.web.RequestHandler):
    def post(self):
        self.set_header("X-Method", self.request.method)
        self.write(self.request.body)

    put = post


class Chunked(tornado.web.RequestHandler):
    async def get(self):
        for i in range(3):
            self.write("chunk%d;" % i)
            await self.flush()
            await asyncio.sleep(0.01)


class Gzip(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Encoding", "gzip")
        self.write(gzip.compress(b"gzip " * 200))


class Redirect(tornado.web.RequestHandler):
    """/redirect?n=K&code=C: K hops of status C, then the method and body it got."""

    def handle(self):
        n = int(self.get_argument("n", "0"))
        code = int(self.get_argument("code", "302"))
        if n > 0:
            self.redirect("/redirect?n=%d&code=%d" % (n - 1, code), status=code)
        else:
            self.write(self.request.method + " " + self.request.body.decode())

    get = post = handle


class RedirectTo(tornado.web.RequestHandler):
    def get(self):
        self.redirect(self.get_argument("url"))


class Auth(tornado.web.RequestHandler):
    def get(self):
        self.write(self.request.headers.get("Authorization", "none"))


class Slow(tornado.web.RequestHandler):
    async def get(self):
        await asyncio.sleep(3)
        self.write("slow")


class CloseMidBody(tornado.web.RequestHandler):
    async def get(self):
        stream = self.detach()
        await stream.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        stream.close()


class HugeHeaders(tornado.web.RequestHandler):
    def get(self):  # a head of about 100 KB, over the client's 64 KiB
        for i in range(100):
            self.set_header("X-Huge-%d" % i, "h" * 1000)
        self.write("unreachable")


class Count(tornado.web.RequestHandler):
    def get(self):
        conns = seen.setdefault(self.get_argument("tag"), [])
        stream = self.request.connection.stream
        if not any(s is stream for s in conns):
            conns.append(stream)
        self.write(str(len(conns)))


class Inflight(tornado.web.RequestHandler):
    async def get(self):
        state = inflight.setdefault(self.get_argument("tag"), [0, 0])
        state[0] += 1
        state[1] = max(state)
        await asyncio.sleep(0.1)
        state[0] -= 1
        self.write(str(state[1]))


async def garbage(reader, writer):
    writer.write(b"SSH-2.0-OpenSSH_9.2 not http\r\n\x01\x02\x03\r\n\r\n")
    await writer.drain()
    writer.close()


async def main():
    logging.getLogger("tornado.access").setLevel(logging.ERROR)  # 404s are expected
    logging.getLogger("tornado.general").setLevel(logging.ERROR)  # so are failed handshakes
    app = tornado.web.Application([
        (r"/hello", Hello), (r"/echo", Echo), (r"/chunked", Chunked), (r"/gzip", Gzip),
        (r"/redirect", Redirect), (r"/redirect-to", RedirectTo), (r"/auth", Auth),
        (r"/slow", Slow), (r"/close-mid-body", CloseMidBody),
        (r"/huge-headers", HugeHeaders), (r"/count", Count),
        (r"/inflight", Inflight),
    ])
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    tornado.httpserver.HTTPServer(app).add_sockets(sockets)
    idle = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    tornado.httpserver.HTTPServer(app, idle_connection_timeout=0.2).add_sockets(idle)
    raw = await asyncio.start_server(garbage, "127.0.0.1", 0)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(sys.argv[1], sys.argv[2])
    secure = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    tornado.httpserver.HTTPServer(app, ssl_options=tls).add_sockets(secure)
    print(sockets[0].getsockname()[1], raw.sockets[0].getsockname()[1],
          idle[0].getsockname()[1], secure[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

"""websocket_peer.py — real Tornado WebSocket handlers for tests/websocket_test.c.

    /usr/bin/python3 -E -B websocket_peer.py CERT KEY

Prints "<ws port> <wss port>" on stdout once both listen on 127.0.0.1, then serves
until SIGTERM. /echo sends every message back (binary as binary); /closer closes
with 4002 "tornado says bye" as soon as it opens. The wss port speaks TLS with
CERT and KEY (made by tests/tls_test.h for localhost and 127.0.0.1).
"""

import asyncio
import logging
import signal
import socket
import ssl
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class Closer(tornado.websocket.WebSocketHandler):
    def open(self):
        self.close(4002, "tornado says bye")


async def main():
    logging.getLogger("tornado.general").setLevel(logging.ERROR)  # refused handshakes
    app = tornado.web.Application([(r"/echo", Echo), (r"/closer", Closer)])
    plain = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    tornado.httpserver.HTTPServer(app).add_sockets(plain)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(sys.argv[1], sys.argv[2])
    secure = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
    tornado.httpserver.HTTPServer(app, ssl_options=tls).add_sockets(secure)
    print(plain[0].getsockname()[1], secure[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())

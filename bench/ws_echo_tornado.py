"""ws_echo_tornado — a WebSocket echo server on Tornado 6, for bench/run-ws-bench to
set beside build/bin/06_echo_server.

    /usr/bin/python3 -E -B bench/ws_echo_tornado.py [--port N]    (0: a free port)

One process, on Tornado's default asyncio loop. Every message on any path comes back
as it came, text as text and binary as binary, up to 16 MiB (Tornado's default is 10).
It prints "listening on ws://127.0.0.1:N/" like 06_echo_server, and serves until
SIGINT or SIGTERM, then exits 0.
"""

import argparse
import asyncio
import signal

import tornado.web
import tornado.websocket


class EchoHandler(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        # Tornado hands text over as str and binary as bytes; write_message sends
        # bytes as a binary frame unless told otherwise.
        self.write_message(message, binary=isinstance(message, bytes))


async def main(port):
    app = tornado.web.Application([(r"/.*", EchoHandler)],
                                  websocket_max_message_size=16 * 1024 * 1024)
    server = app.listen(port, address="127.0.0.1")
    port = next(iter(server._sockets.values())).getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}/", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8888)
    asyncio.run(main(p.parse_args().port))

"""chat_tornado — document 000's chat room (its server.py) on Tornado 6, for
bench/run-chat-bench to set beside build/bin/06_chat_server.

    /usr/bin/python3 -E -B bench/chat_tornado.py [--port N] [--lang en|zh] [--clock TIME]

The documents' ChatHandler, retold: the class keeps a set of the connected users; when
one opens, sends a message or closes, a line goes to every user in the set (the sender
too) with write_message, the lines of the chat contract:

    [127.0.0.1]-[2016-08-29 00:00:00]-entered the room      (zh: -进入聊天室)
    [127.0.0.1]-[2016-08-29 00:00:00]-says: hello            (zh: -说:hello)
    [127.0.0.1]-[2016-08-29 00:00:00]-left the room          (zh: -离开聊天室)

Only the WebSocket at /chat, no page. Like the documents, it accepts any Origin, keeps
Tornado's default largest message (10 MiB) and has no cap on what waits for a user who
does not read. One change, so that a benchmark can run it: a user whose connection is
already closing when a line is written to them (on_close has not run yet) is skipped,
where the documents' loop would stop at them with WebSocketClosedError and leave the
users after them without the line.

It prints "listening on http://127.0.0.1:N/" as 06_chat_server does (--port 0: a free
port), and serves until SIGINT or SIGTERM, then exits 0. --clock fixes the time shown.
"""

import argparse
import asyncio
import datetime
import signal

import tornado.web
import tornado.websocket

VERBS = {"en": ("-entered the room", "-says: ", "-left the room"),
         "zh": ("-进入聊天室", "-说:", "-离开聊天室")}


class ChatHandler(tornado.websocket.WebSocketHandler):
    users = set()
    verbs = VERBS["en"]
    clock = None

    def line(self, verb, text=""):
        when = self.clock or datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return f"[{self.request.remote_ip}]-[{when}]{verb}{text}"

    def tell_everyone(self, line):
        for user in self.users:
            try:
                user.write_message(line)
            except tornado.websocket.WebSocketClosedError:
                pass  # closing; its on_close takes it out of the set

    def open(self):
        self.users.add(self)
        self.tell_everyone(self.line(self.verbs[0]))

    def on_message(self, message):
        self.tell_everyone(self.line(self.verbs[1], message))

    def on_close(self):
        self.users.discard(self)
        self.tell_everyone(self.line(self.verbs[2]))

    def check_origin(self, origin):
        return True  # as the documents: any page may connect


async def main(args):
    ChatHandler.verbs = VERBS[args.lang]
    ChatHandler.clock = args.clock
    app = tornado.web.Application([(r"/chat", ChatHandler)])
    server = app.listen(args.port, address="127.0.0.1")
    port = next(iter(server._sockets.values())).getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--lang", choices=sorted(VERBS), default="en")
    p.add_argument("--clock", help="the time every line shows, YYYY-MM-DD HH:MM:SS")
    asyncio.run(main(p.parse_args()))

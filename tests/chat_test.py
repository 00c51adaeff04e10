"""chat_test.py BIN_DIR STATIC_DIR

06_chat_server with real clients on 127.0.0.1, its time fixed with --clock:

- a scripted conversation of three 06_chat_client processes (join, talk, one leaves,
  the others leave), each one's whole output compared line for line, in zh and en;
- the two formats: a client of Python's websockets without a subprotocol gets the
  documents' plain lines, one that offers "chat.json" gets JSON with "online";
- the rules: binary is closed with 1003, more than 64 KiB with 1009, another page's
  Origin is refused (403), the page and its files are served, SIGTERM says 1001 to
  everyone and exits 0;
- exercise 4 (--ip-service=URL, --xheaders): a stub IP service on loopback answers for
  14.130.112.24 after a delay; that user's lines carry "[北京网友]", the address is
  asked once however many connections come from it, and while it is being asked
  another user's messages reach everyone at once; a service that is down gives
  "[未知网友]" at once.
Every wait is bounded; every process is stopped at the end.
"""
import asyncio
import atexit
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

import websockets

BIN, STATIC = sys.argv[1], sys.argv[2]
CLOCK = "2016-08-29 00:00:00"
WAIT = 10  # seconds for anything that should happen at once
ASAN_NOTICE = re.compile(r"^==\d+==WARNING: ASan doesn't fully support makecontext/swapcontext.*\n",
                         re.M)


def reap(proc):
    """At exit, even after a failed assertion, no process of ours is left running."""
    atexit.register(lambda: proc.poll() is None and proc.kill())


class Server:
    def __init__(self, *args, lang="zh"):
        self.proc = subprocess.Popen(
            [BIN + "/06_chat_server", "--port", "0", "--clock", CLOCK, "--lang", lang,
             "--static", STATIC, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reap(self.proc)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, f"the server did not start: {line!r} {self.proc.stderr.read()}"
        self.port = int(m.group(1))
        self.url = f"ws://127.0.0.1:{self.port}/chat"

    def stop(self):
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=WAIT)
        err = ASAN_NOTICE.sub("", err)
        assert self.proc.returncode == 0, (self.proc.returncode, err)
        assert re.fullmatch(r"06_chat_server: (Terminated, closing|收到 Terminated, 正在关闭)\n", err), err


class Client:
    """A 06_chat_client process; its stdout lines arrive in self.lines."""

    def __init__(self, url, lang):
        self.proc = subprocess.Popen([BIN + "/06_chat_client", "--lang", lang, url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        reap(self.proc)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_lines(self, n):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.lines) >= n, timeout=WAIT)
        assert ok, f"waited for {n} lines, got {self.lines}"

    def say(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def leave(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=WAIT) == 0, self.proc.stderr.read()


def conversation(lang, enter, says, leave):
    server = Server(lang=lang)
    a = Client(server.url, lang)
    a.wait_lines(1)
    b = Client(server.url, lang)
    b.wait_lines(1)
    a.wait_lines(2)
    c = Client(server.url, lang)
    for x, n in ((a, 3), (b, 2), (c, 1)):
        x.wait_lines(n)
    a.say("你好")
    for x, n in ((a, 4), (b, 3), (c, 2)):
        x.wait_lines(n)
    b.say("hello, everyone")
    for x, n in ((a, 5), (b, 4), (c, 3)):
        x.wait_lines(n)
    c.leave()
    for x, n in ((a, 6), (b, 5)):
        x.wait_lines(n)
    b.leave()
    a.wait_lines(7)
    a.leave()
    server.stop()
    p = f"[127.0.0.1]-[{CLOCK}]-"
    ent, lft = p + enter, p + leave
    hi, hello = p + says + "你好", p + says + "hello, everyone"
    assert c.lines == [ent, hi, hello], c.lines
    assert b.lines == [ent, ent, hi, hello, lft], b.lines
    assert a.lines == [ent, ent, ent, hi, hello, lft, lft], a.lines
    print(f"ok conversation ({lang}): 3 clients, 7 + 5 + 3 lines as scripted")


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), WAIT)


async def formats_and_rules(server):
    base = f"http://127.0.0.1:{server.port}"
    plain = await websockets.connect(server.url, origin=base)
    assert plain.subprotocol is None
    assert await recv(plain) == f"[127.0.0.1]-[{CLOCK}]-进入聊天室"
    rich = await websockets.connect(server.url, origin=base, subprotocols=["chat.json"])
    assert rich.subprotocol == "chat.json"
    event = json.loads(await recv(rich))
    assert event == {"type": "enter", "ip": "127.0.0.1", "time": CLOCK, "online": 2,
                     "line": f"[127.0.0.1]-[{CLOCK}]-进入聊天室"}, event
    await recv(plain)  # rich's entering
    await plain.send("<b>不是 HTML</b>")
    event = json.loads(await recv(rich))
    assert event["type"] == "say" and event["text"] == "<b>不是 HTML</b>" and event["online"] == 2
    assert await recv(plain) == f"[127.0.0.1]-[{CLOCK}]-说:<b>不是 HTML</b>"
    await plain.send("a\x00b")  # U+0000 is text too: nothing after it is lost
    assert json.loads(await recv(rich))["text"] == "a\x00b"
    assert await recv(plain) == f"[127.0.0.1]-[{CLOCK}]-说:a\x00b"
    await rich.send(b"\x00binary")
    await asyncio.wait_for(rich.wait_closed(), WAIT)
    assert rich.close_code == 1003, rich.close_code
    assert await recv(plain) == f"[127.0.0.1]-[{CLOCK}]-离开聊天室"
    big = await websockets.connect(server.url, origin=base, max_size=None)
    await recv(big)
    await recv(plain)
    await big.send("x" * (64 * 1024 + 1))
    await asyncio.wait_for(big.wait_closed(), WAIT)
    assert big.close_code == 1009, big.close_code
    assert await recv(plain) == f"[127.0.0.1]-[{CLOCK}]-离开聊天室"
    try:
        await websockets.connect(server.url, origin="http://evil.example")
        raise AssertionError("another origin was let in")
    except websockets.exceptions.InvalidStatusCode as e:
        assert e.status_code == 403
    with urllib.request.urlopen(base + "/", timeout=WAIT) as r:
        assert r.status == 200 and b"<html" in r.read().lower()
    for name in os.listdir(STATIC):
        with urllib.request.urlopen(f"{base}/static/{name}", timeout=WAIT) as r:
            assert r.status == 200
    return plain


def check_formats():
    server = Server()

    async def run():
        plain = await formats_and_rules(server)
        server.proc.terminate()  # everyone still there is told: 1001 Going Away
        await asyncio.wait_for(plain.wait_closed(), WAIT)
        assert plain.close_code == 1001 and plain.close_reason == "server shutting down"

    asyncio.run(run())
    server.stop()
    print("ok formats: plain lines, chat.json with online; 1003, 1009, 403, the page; 1001")


class StubService(http.server.BaseHTTPRequestHandler):
    """The documents' IP API, slow on purpose: 1.5 s for every answer."""
    asked = []

    def do_GET(self):
        ip = self.path.rsplit("ip=", 1)[-1]
        StubService.asked.append(ip)
        time.sleep(1.5)
        body = json.dumps({"ret": 1, "country": "中国", "province": "北京", "city": "北京"}
                          if ip == "14.130.112.24" else {"ret": -1}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def exercise4(server):
    origin = f"http://127.0.0.1:{server.port}"
    beijing = {"X-Real-IP": "14.130.112.24"}
    local = await websockets.connect(server.url, origin=origin)
    assert await recv(local) == f"[本地网友]-[127.0.0.1]-[{CLOCK}]-进入聊天室"
    # The Beijing user's lookup takes 1.5 s, and their entering waits for it; meanwhile
    # the local user talks, and hears their own line first: nothing waited for the lookup.
    connecting = asyncio.ensure_future(
        websockets.connect(server.url, origin=origin, extra_headers=beijing))
    await asyncio.sleep(0.2)
    await local.send("不用等")
    assert await recv(local) == f"[本地网友]-[127.0.0.1]-[{CLOCK}]: 不用等", \
        "the lookup held up another user"
    user = await connecting
    line = f"[北京网友]-[14.130.112.24]-[{CLOCK}]-进入聊天室"
    assert await recv(local) == line and await recv(user) == line
    await user.send("你好,Python")
    line = f"[北京网友]-[14.130.112.24]-[{CLOCK}]: 你好,Python"  # the documents' sample
    assert await recv(user) == line and await recv(local) == line
    # A second connection from there is not asked again.
    again = await websockets.connect(server.url, origin=origin, extra_headers=beijing)
    assert await recv(again) == f"[北京网友]-[14.130.112.24]-[{CLOCK}]-进入聊天室"
    assert StubService.asked == ["14.130.112.24"], StubService.asked
    for ws in (again, user, local):
        await ws.close()


def check_exercise4():
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubService)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    server = Server(f"--ip-service=http://127.0.0.1:{stub.server_address[1]}", "--xheaders")
    asyncio.run(exercise4(server))
    server.stop()
    stub.shutdown()
    print("ok exercise 4: [北京网友], one lookup per address, nobody else waits")


async def service_down(server):
    origin = f"http://127.0.0.1:{server.port}"
    started = time.monotonic()
    user = await websockets.connect(server.url, origin=origin,
                                    extra_headers={"X-Real-IP": "14.130.112.24"})
    assert await recv(user) == f"[未知网友]-[14.130.112.24]-[{CLOCK}]-进入聊天室"
    assert time.monotonic() - started < 1.9  # refused at once, not the lookup's 2 s timeout
    await user.close()


def check_service_down():
    server = Server("--ip-service=http://127.0.0.1:1", "--xheaders")  # nobody listens there
    asyncio.run(service_down(server))
    server.stop()
    print("ok exercise 4, service down: [未知网友] at once")


conversation("zh", "进入聊天室", "说:", "离开聊天室")
conversation("en", "entered the room", "says: ", "left the room")
check_formats()
check_exercise4()
check_service_down()

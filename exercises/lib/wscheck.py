"""wscheck — what the Python checkers of lesson 06's exercises share: check.sh's twin for
programs that must be talked to over WebSocket.

A checker is exercises/NAME/check, run as `check PROGRAM` with EXERCISE_LIB (this
directory) and EXERCISE_DIR in the environment, by Debian's /usr/bin/python3 -E -B (so
it finds this module through EXERCISE_LIB, not PYTHONPATH):

    sys.path.insert(0, os.environ["EXERCISE_LIB"])
    import wscheck

    async def scenario(server):              # a Server, listening
        a = await wscheck.connect(server, "A", server.url("chat"))
        await wscheck.send(server, a, "A", "7")
        got = await wscheck.recv(server, a, "A", "the answer to '7'")
        if got != "is a prime number":
            wscheck.wrong("Client A asked '7' ...", f"  got: {got}")

    wscheck.main(scenario, ["--clock", "..."], "Passed: ...")

It keeps check.sh's contract: it prints what it found for a student to read and exits
0 (passed), 1 (the program ran but did the wrong thing: wrong()) or 2 (it crashed, did
not start, did not stop, or stopped with a status other than 0: run_error()). The
program is started on a free 127.0.0.1 port and is always stopped before the checker
ends; passing includes stopping cleanly on SIGTERM (exit status 0, which under
AddressSanitizer also means no leak).
"""
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

WAIT = 5.0   # seconds for what should come at once, on a loaded machine under ASan
START = 15.0  # seconds for the program to listen, or to stop once asked
ASAN_NOTICE = re.compile(r"^==\d+==WARNING: ASan doesn't fully support makecontext/swapcontext.*\n",
                         re.M)
LISTENING = re.compile(r"(?:listening on|正在监听) (\S+)")


class Failure(Exception):
    """The verdict, with the lines that explain it."""

    def __init__(self, status, lines):
        super().__init__(status, lines)
        self.status, self.lines = status, lines


def wrong(*lines):
    """The program did the wrong thing: exit status 1."""
    raise Failure(1, lines)


def run_error(*lines):
    """The program did not run to the end: exit status 2."""
    raise Failure(2, lines)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(text, limit=120):
    """A message as a student should see it: quoted, control characters escaped, cut."""
    r = repr(text)
    return r if len(r) <= limit else r[:limit] + "...'"


class Server:
    """The student's program, started on a free port; its output goes to files, so
    that nothing it prints can block it."""

    def __init__(self, program, args, tmp):
        self.name = os.path.basename(program)
        self.port = free_port()
        self.out_path, self.err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        env = dict(os.environ, LESSON_LANG="en")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([program, "--port", str(self.port), *args],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=env)

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}/{path}"

    async def listening(self):
        """Waits for its "listening on ..." line."""
        deadline = time.monotonic() + START
        while time.monotonic() < deadline:
            with open(self.out_path, encoding="utf-8", errors="replace") as f:
                if LISTENING.search(f.read()):
                    return
            if self.proc.poll() is not None:
                run_error(f"{self.name} {self.death()} before it listened "
                          f"(it was started with --port {self.port}).", *self.tail())
            await asyncio.sleep(0.05)
        run_error(f"{self.name} did not say \"listening on ...\" within {START:.0f} s.",
                  *self.tail())

    def death(self):
        code = self.proc.returncode
        if code < 0:
            return f"was killed by signal {-code} ({signal.Signals(-code).name})"
        return f"exited with status {code}"

    def tail(self):
        """The end of what it wrote on stderr, indented, for a report."""
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            lines = ASAN_NOTICE.sub("", f.read()).splitlines()[-15:]
        return ["Its last words on stderr:", *("    " + line for line in lines)] if lines else []

    def check_alive(self, moment):
        """A run error if it has died (it may take a moment after a connection drops)."""
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return
        run_error(f"{self.name} {self.death()} {moment}.", *self.tail())

    def stop(self):
        """SIGTERM, as Ctrl-C would: it must end by itself, with status 0."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=START)
            except subprocess.TimeoutExpired:
                run_error(f"{self.name} did not stop within {START:.0f} s of SIGTERM.", *self.tail())
        if self.proc.returncode != 0:
            run_error(f"{self.name} {self.death()} when it was stopped with SIGTERM "
                      "(it should close its connections and exit 0).", *self.tail())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


async def connect(server, who, url, headers=None):
    """A client called `who`, connected; a refusal is the program's fault."""
    try:
        return await websockets.connect(url, extra_headers=headers or {}, open_timeout=WAIT,
                                        close_timeout=1, max_size=1 << 20)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        server.check_alive(f"while client {who} connected")
        wrong(f"Client {who} could not connect to {url}: {e}")


async def recv(server, ws, who, what, seconds=WAIT, late=None):
    """The next message `who` gets; nothing within `seconds`, or a closed connection,
    is a failure that says what `who` was waiting for (or the lines `late`, if given)."""
    try:
        return await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        wrong(*(late or [f"Client {who} waited {seconds:g} s for {what}, and nothing came."]))
    except websockets.ConnectionClosed as e:
        server.check_alive(f"while client {who} waited for {what}")
        wrong(f"The program closed client {who}'s connection (code {e.code}"
              f"{', ' + shown(e.reason) if e.reason else ''}) while {who} waited for {what}.")


async def send(server, ws, who, text):
    """`who` sends text; a connection the program has closed is its fault."""
    try:
        await ws.send(text)
    except websockets.ConnectionClosed as e:
        server.check_alive(f"before client {who} could send {shown(text)}")
        wrong(f"The program closed client {who}'s connection (code {e.code}"
              f"{', ' + shown(e.reason) if e.reason else ''}) before {who} could send {shown(text)}.")


async def close_all(*clients):
    for ws in clients:
        await ws.close()


def main(scenario, args, passed):
    """Runs `await scenario(server)` against PROGRAM (sys.argv[1]) started with args,
    stops it, and exits with the verdict."""
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: check PROGRAM (an executable)", file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(sys.argv[1], args, tmp)
        try:
            async def run():
                await server.listening()
                await scenario(server)

            asyncio.run(run())
            server.stop()
        except Failure as f:
            print("\n".join(f.lines))
            sys.exit(f.status)
        finally:
            server.kill()
    print(passed)
    sys.exit(0)

"""Debian's python3-websockets (10.4) as the other side of lesson 06's WebSocket.

    /usr/bin/python3 -E -B tests/ws_peer.py server
    /usr/bin/python3 -E -B tests/ws_peer.py client URL

server: an echo server on a free port of 127.0.0.1 (messages up to 17 MiB), which
answers the text "fragmented please" with a reply sent in fragments (send() of an
iterable) instead. It prints "listening on ws://127.0.0.1:PORT/", serves until SIGTERM
and exits 0; a connection that ends with a code other than 1000 or 4000 is reported on
stderr.

client: the script of tests/ws_interop_client.c against an echo server at URL (our
06_echo_server): text, binary, empty, a message sent in fragments, 1 MiB and 16 MiB,
a ping answered by a pong with its payload, and a close 4000 "done" answered with 4000.
Prints "ok STEP" for each; the first failure prints "FAIL STEP: why" on stderr and
exits 1. Every wait is bounded (STEP_TIMEOUT), and so is the whole run.

ws_interop.sh runs both modes (ctest ws/interop/python_*).
"""
import asyncio
import random
import signal
import sys

import websockets

MAX_SIZE = 17 << 20
STEP_TIMEOUT = 30
RUN_TIMEOUT = 100

TEXT = "héllo, wörld — 你好, 世界 🌍"
PING = "ping ☺ 42".encode()
FRAGMENTED_ASK = "fragmented please"
# ws_interop_client.c expects these joined (its FRAGMENTED_REPLY).
FRAGMENTED_REPLY = ["fragmented ", "reply ", "in ", "pieces: ", "ünï", "cödé", " ✓ ", "你好"]
QUIET_CODES = (1000, 4000)  # how the client script's connections end


# ---- server ------------------------------------------------------------------------

async def echo(ws):
    try:
        async for message in ws:
            if message == FRAGMENTED_ASK:
                await ws.send(FRAGMENTED_REPLY)  # a list: one frame per piece
            else:
                await ws.send(message)
    except websockets.ConnectionClosed:
        pass  # websockets calls 4000 an error; whether it was one is said below
    if ws.close_code not in QUIET_CODES:
        print(f"ws_peer.py: a connection ended with {ws.close_code} {ws.close_reason!r}",
              file=sys.stderr, flush=True)


async def serve():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=MAX_SIZE) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await stop


# ---- client ------------------------------------------------------------------------

class StepFailed(Exception):
    pass


def bounded(awaitable):
    return asyncio.wait_for(awaitable, STEP_TIMEOUT)


def compare(back, sent):
    if type(back) is not type(sent):
        raise StepFailed(f"a {type(back).__name__} came back for a {type(sent).__name__}")
    if len(back) != len(sent):
        raise StepFailed(f"{len(back)} came back for {len(sent)}")
    if back != sent:
        i = next(i for i, (a, b) in enumerate(zip(back, sent)) if a != b)
        raise StepFailed(f"item {i} differs: {back[i]!r} for {sent[i]!r}")


async def echo_back(ws, message, sent=None):
    """Sends message (an iterable is sent in fragments) and expects sent back."""
    await bounded(ws.send(message))
    compare(await bounded(ws.recv()), message if sent is None else sent)


def pattern(n):
    return random.Random(n).randbytes(n)


async def step_fragmented(ws):
    text = TEXT * 40
    pieces = [text[i:i + 5] for i in range(0, len(text), 5)]
    await echo_back(ws, pieces, text)


async def step_ping(ws):
    # websockets resolves the waiter only for a pong that carries this ping's payload.
    waiter = await bounded(ws.ping(PING))
    await bounded(waiter)


async def step_close(ws):
    await bounded(ws.close(4000, "done"))
    if ws.close_code != 4000:
        raise StepFailed(f"the server answered {ws.close_code} {ws.close_reason!r}, not 4000")
    try:
        message = await bounded(ws.recv())
    except websockets.ConnectionClosed:
        return
    raise StepFailed(f"a message after the close: {message!r:.60}")


async def client(url):
    async with websockets.connect(url, max_size=MAX_SIZE) as ws:
        steps = [
            ("text", lambda: echo_back(ws, TEXT)),
            ("binary", lambda: echo_back(ws, bytes(range(256)))),
            ("empty", lambda: echo_back(ws, "")),
            ("fragmented send", lambda: step_fragmented(ws)),
            ("1 MiB", lambda: echo_back(ws, pattern(1 << 20))),
            ("16 MiB", lambda: echo_back(ws, pattern(16 << 20))),
            ("ping", lambda: step_ping(ws)),
            ("close 4000", lambda: step_close(ws)),
        ]
        print("ok connect", flush=True)
        for name, run in steps:
            try:
                await run()
            except (StepFailed, asyncio.TimeoutError, websockets.WebSocketException) as e:
                print(f"FAIL {name}: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
            print(f"ok {name}", flush=True)
    return 0


def main():
    if sys.argv[1:] == ["server"]:
        asyncio.run(serve())
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "client":
        return asyncio.run(asyncio.wait_for(client(sys.argv[2]), RUN_TIMEOUT))
    print("usage: ws_peer.py server | client URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

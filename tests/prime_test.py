"""prime_test.py BIN_DIR

06_prime_server with Python's websockets on 127.0.0.1: answers for small numbers, the
document's own bug (4 is not a prime), what Python's int() takes and refuses, numbers
past 64 bits (on the server's thread pool: a slow one does not hold up another
client), and answers going to their sender only, in the order asked.
"""
import asyncio
import atexit
import re
import subprocess
import sys

import websockets

BIN = sys.argv[1]
WAIT = 20
ASAN_NOTICE = re.compile(r"^==\d+==WARNING: ASan doesn't fully support makecontext/swapcontext.*\n",
                         re.M)
P, N, BAD = "is a prime number", "is not a prime number", "Invalid input"

CASES = [
    ("2", P), ("3", P), ("4", N), ("5", P), ("9", N), ("17", P), ("25", N), ("97", P),
    ("1", N), ("0", N), ("-7", N), ("-0", N),
    ("  13 \n", P), ("+13", P), ("0013", P), ("1_000_003", P), ("1_000_001", N),
    ("abc", BAD), ("", BAD), (" ", BAD), ("4.0", BAD), ("0x11", BAD), ("1__3", BAD),
    ("_13", BAD), ("13_", BAD), ("1 3", BAD), ("+-3", BAD),
    ("2147483647", P), ("4294967297", N),                       # 2^31-1; 2^32+1 = 641 x ...
    ("18446744073709551557", P), ("18446744073709551615", N),   # under 2^64
    ("18446744073709551617", N),                                # 2^64+1 = 274177 x ...
    ("618970019642690137449562111", P),                         # 2^89-1
    ("170141183460469231731687303715884105727", P),             # 2^127-1
    ("170141183460469231731687303715884105729", N),
    ("1" * 1000, N), ("1" * 1001, BAD),
]


async def main(url):
    alice = await websockets.connect(url, origin="http://elsewhere.example")  # any origin
    bob = await websockets.connect(url)
    for text, _ in CASES:
        await alice.send(text)
    await bob.send("7")
    assert await asyncio.wait_for(bob.recv(), WAIT) == P  # not behind alice's long ones
    for text, want in CASES:
        got = await asyncio.wait_for(alice.recv(), WAIT)
        assert got == want, (text[:40], got, want)
    await alice.send(b"\x01\x02")
    assert await asyncio.wait_for(alice.recv(), WAIT) == BAD
    try:
        await asyncio.wait_for(bob.recv(), 0.3)
        raise AssertionError("bob got an answer to alice's question")
    except asyncio.TimeoutError:
        pass
    await alice.close()
    await bob.close()


proc = subprocess.Popen([BIN + "/06_prime_server", "--port", "0"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
atexit.register(lambda: proc.poll() is None and proc.kill())  # even after a failure
line = proc.stdout.readline()
m = re.match(r"listening on (ws://127\.0\.0\.1:\d+/chatsocket)$", line.strip())
assert m, line
try:
    asyncio.run(main(m.group(1)))
finally:
    proc.terminate()
    out, err = proc.communicate(timeout=WAIT)
assert proc.returncode == 0, (proc.returncode, err)
assert ASAN_NOTICE.sub("", err) == "06_prime_server: Terminated, closing\n", err
print(f"ok primes: {len(CASES)} answers to their sender, in order; 4 is not a prime")

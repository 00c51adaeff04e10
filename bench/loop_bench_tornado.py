"""loop_bench_tornado — the workloads of loop_bench.c, on Tornado 6 (asyncio underneath).

Each subcommand runs one workload once and prints one line of key=value pairs, the same
keys loop_bench prints, so run-loop-bench can set the two side by side:

    bench=queue impl=tornado-6.2 n=1000000 seconds=2.1 ns_per_op=2100.0 peak_rss_kib=24000

Run it as the course runs Python: /usr/bin/python3 -E -B bench/loop_bench_tornado.py queue
The workloads, and why each is built the way it is, are described in bench/README.md.
"""

import argparse
import asyncio
import sys
import time

import tornado
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.queues import Queue

TIMER_SPREAD = 0.010  # timers' deadlines spread over 10 ms, as in loop_bench.c
SLEEP = 0.010  # each sleeper sleeps 10 ms, as in loop_bench.c


def spread_delays(n):
    """n delays in [0, TIMER_SPREAD), in a scrambled order (7919 is prime: a permutation)."""
    return [((i * 7919) % n) / n * TIMER_SPREAD for i in range(n)]


async def switch_native(n):
    """Two async def coroutines hand the turn to each other through asyncio futures."""
    loop = asyncio.get_running_loop()
    box = {"a": loop.create_future(), "b": loop.create_future()}

    async def player(me, other, rounds):
        for _ in range(rounds):
            await box[me]
            box[me] = loop.create_future()
            box[other].set_result(None)

    rounds = n // 2
    players = [asyncio.ensure_future(player("a", "b", rounds)),
               asyncio.ensure_future(player("b", "a", rounds))]
    start = time.perf_counter()
    box["a"].set_result(None)
    await asyncio.gather(*players)
    return start, rounds * 2


async def switch_decorated(n):
    """The same with @gen.coroutine, the documents' decorator, yielding the futures."""
    loop = asyncio.get_running_loop()
    box = {"a": loop.create_future(), "b": loop.create_future()}

    @gen.coroutine
    def player(me, other, rounds):
        for _ in range(rounds):
            yield box[me]
            box[me] = loop.create_future()
            box[other].set_result(None)

    rounds = n // 2
    players = [player("a", "b", rounds), player("b", "a", rounds)]
    start = time.perf_counter()
    box["a"].set_result(None)
    await gen.multi(players)
    return start, rounds * 2


async def gen_switch(n):
    """Lesson 03's bare generator: one send in, one yield out, no loop at all."""
    def echo():
        value = None
        while True:
            value = yield value

    g = echo()
    next(g)
    send = g.send
    start = time.perf_counter()
    for i in range(n):
        send(i)
    g.close()
    return start, n


def counting(n, loop):
    """A callback that resolves the returned future on its n-th call."""
    done = loop.create_future()
    left = [n]

    def tick():
        left[0] -= 1
        if left[0] == 0:
            done.set_result(None)

    return done, tick


async def callbacks(n):
    """n IOLoop.add_callback calls queued at once, then run; ends when the last has run."""
    io = IOLoop.current()
    done, tick = counting(n, asyncio.get_running_loop())
    start = time.perf_counter()
    for _ in range(n):
        io.add_callback(tick)
    await done
    return start, n


async def call_soon(n):
    """The same through asyncio's call_soon, which add_callback wraps (thread-safely)."""
    loop = asyncio.get_running_loop()
    done, tick = counting(n, loop)
    start = time.perf_counter()
    for _ in range(n):
        loop.call_soon(tick)
    await done
    return start, n


async def timers(n):
    """n IOLoop.call_later timers with deadlines spread over 10 ms; ends at the last."""
    io = IOLoop.current()
    delays = spread_delays(n)
    done, tick = counting(n, asyncio.get_running_loop())
    start = time.perf_counter()
    for d in delays:
        io.call_later(d, tick)
    await done
    return start, n


async def timers_cancel(n):
    """As timers, then every other one removed (remove_timeout) before the loop runs."""
    io = IOLoop.current()
    delays = spread_delays(n)
    done, tick = counting(n - n // 2, asyncio.get_running_loop())
    start = time.perf_counter()
    handles = [io.call_later(d, tick) for d in delays]
    for h in handles[1::2]:
        io.remove_timeout(h)
    await done
    return start, n


async def sleepers(n):
    """n coroutines, all alive at once, each sleeping once; ends when the last wakes."""
    done, tick = counting(n, asyncio.get_running_loop())

    async def sleeper():
        await gen.sleep(SLEEP)
        tick()

    start = time.perf_counter()
    tasks = [gen.convert_yielded(sleeper()) for _ in range(n)]
    await done
    del tasks
    return start, n


async def queue(n):
    """A producer and a consumer pass n items through a Queue(maxsize=1)."""
    q = Queue(maxsize=1)

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        for i in range(n):
            item = await q.get()
            if item != i:
                raise RuntimeError(f"queue: got {item}, expected {i}")

    start = time.perf_counter()
    await gen.multi([producer(), consumer()])
    return start, n


WORKLOADS = {
    "switch": switch_native,
    "switch-decorated": switch_decorated,
    "gen-switch": gen_switch,
    "callbacks": callbacks,
    "call-soon": call_soon,
    "timers": timers,
    "timers-cancel": timers_cancel,
    "sleepers": sleepers,
    "queue": queue,
}

DEFAULT_N = {"sleepers": 100_000}


def peak_rss_kib():
    """VmHWM: this process's peak. (ru_maxrss would keep the peak of whatever process
    forked us, which for a small workload is the driver's.)"""
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


async def measure(fn, n):
    """Runs fn(n) on the running loop; the clock stops once its future is done."""
    start, ops = await fn(n)
    return time.perf_counter() - start, ops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("-n", type=int, default=None,
                        help="operations (default 1,000,000; sleepers 100,000)")
    args = parser.parse_args()
    n = args.n if args.n is not None else DEFAULT_N.get(args.workload, 1_000_000)
    if n < 2:
        parser.error("-n must be at least 2")
    seconds, ops = asyncio.run(measure(WORKLOADS[args.workload], n))
    print(f"bench={args.workload} impl=tornado-{tornado.version} n={ops} "
          f"seconds={seconds:.6f} ns_per_op={seconds * 1e9 / ops:.1f} "
          f"peak_rss_kib={peak_rss_kib()}")


if __name__ == "__main__":
    sys.exit(main())

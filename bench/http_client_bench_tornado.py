"""http_client_bench_tornado — what bench/http_client_bench.c does, with Tornado's
AsyncHTTPClient (simple_httpclient, the default), for bench/run-http-client-bench.

    /usr/bin/python3 -E -B bench/http_client_bench_tornado.py URL [-n N] [-c MAX_CLIENTS]

Hands the client N GETs of URL at once (default 20,000), max_clients=100 of them at a
time, and waits for all. simple_httpclient sends "Connection: close" and connects for
every request: it has no connection reuse, so there is one mode. Prints one line:

    bench=http-client impl=tornado-6.2 mode=no-reuse n=20000 max_clients=100 seconds=9.1 rps=2200 errors=0
"""

import argparse
import asyncio
import sys
import time

import tornado
from tornado import gen
from tornado.httpclient import AsyncHTTPClient


async def fetch_all(url, n, max_clients):
    client = AsyncHTTPClient(max_clients=max_clients)
    # The queue waits min(connect_timeout, request_timeout): as long as the C side.
    fetches = [client.fetch(url, raise_error=False, connect_timeout=300, request_timeout=300)
               for _ in range(n)]
    responses = await gen.multi(fetches)
    bad = [r for r in responses if r.code != 200]
    if bad:
        print(f"http_client_bench_tornado: {bad[0].code} {bad[0].reason}", file=sys.stderr)
    return len(bad)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("-n", type=int, default=20000)
    p.add_argument("-c", "--max-clients", type=int, default=100)
    args = p.parse_args()
    start = time.perf_counter()
    errors = asyncio.run(fetch_all(args.url, args.n, args.max_clients))
    seconds = time.perf_counter() - start
    print(f"bench=http-client impl=tornado-{tornado.version} mode=no-reuse n={args.n} "
          f"max_clients={args.max_clients} seconds={seconds:.6f} rps={args.n / seconds:.1f} "
          f"errors={errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

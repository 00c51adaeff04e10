"""The server of 05_httpclient/httpserver against Tornado's own client.

    /usr/bin/python3 -E -B tests/httpserver_peer.py DEMO

Starts DEMO (tests/httpserver_demo.c) on a free port and talks to it with Debian's
python3-tornado: AsyncHTTPClient for GET, POST, a chunked body (body_producer), Expect:
100-continue, HEAD, a 404, a redirect and a chunked response; and HTTP1Connection, the
client half of Tornado's HTTP/1.1, for keep-alive (simple_httpclient opens a connection
per request). Stops the demo with SIGTERM: it must exit 0 and say nothing on stderr.
Prints "ok" and exits 0, or fails with an AssertionError.
"""
import asyncio
import signal
import subprocess
import sys
import tempfile

import tornado.http1connection
import tornado.httpclient
import tornado.httputil
import tornado.tcpclient


class Collect(tornado.httputil.HTTPMessageDelegate):
    """A response read by HTTP1Connection: its status and body."""

    def __init__(self):
        self.code = None
        self.chunks = []

    def headers_received(self, start_line, headers):
        self.code = start_line.code

    def data_received(self, chunk):
        self.chunks.append(chunk)

    def finish(self):
        pass


async def client_requests(base):
    client = tornado.httpclient.AsyncHTTPClient()
    r = await client.fetch(base + "/")
    assert r.code == 200 and r.body == b"Hello, world", r
    assert r.headers["Content-Length"] == "12", r.headers

    body = bytes(range(256)) * 400
    r = await client.fetch(base + "/echo", method="POST", body=body)
    assert r.body == body, len(r.body)
    r = await client.fetch(base + "/echo", method="POST", body=body, expect_100_continue=True)
    assert r.body == body, len(r.body)

    async def producer(write):  # no Content-Length: Tornado sends it chunked
        for i in range(5):
            await write(b"part%d;" % i)

    r = await client.fetch(base + "/echo", method="POST", body_producer=producer)
    assert r.body == b"part0;part1;part2;part3;part4;", r.body

    r = await client.fetch(base + "/", method="HEAD")
    assert r.code == 200 and r.body == b"" and r.headers["Content-Length"] == "12", r

    r = await client.fetch(base + "/nothing/here", raise_error=False)
    assert r.code == 404 and b"404: Not Found" in r.body, r

    r = await client.fetch(base + "/redirect")
    assert r.code == 200 and r.body == b"Hello, world", r
    assert r.effective_url == base + "/", r.effective_url
    r = await client.fetch(base + "/redirect", follow_redirects=False, raise_error=False)
    assert r.code == 302 and r.headers["Location"] == "/", r

    r = await client.fetch(base + "/chunks")
    assert r.body == b"first second last", r.body
    client.close()


async def keep_alive(port):
    stream = await tornado.tcpclient.TCPClient().connect("127.0.0.1", port)
    params = tornado.http1connection.HTTP1ConnectionParameters()
    for i in range(3):  # one TCP connection, three requests
        conn = tornado.http1connection.HTTP1Connection(stream, True, params)
        start = tornado.httputil.RequestStartLine("GET", "/user/%d" % i, "HTTP/1.1")
        await conn.write_headers(start, tornado.httputil.HTTPHeaders({"Host": "peer"}))
        conn.finish()
        got = Collect()
        await conn.read_response(got)
        assert got.code == 200 and b"".join(got.chunks) == b"user %d" % i, got.chunks
        assert not stream.closed(), "the server closed a keep-alive connection"
    stream.close()


async def main(port):
    base = "http://127.0.0.1:%d" % port
    await client_requests(base)
    await keep_alive(port)


def run(demo):
    with tempfile.TemporaryFile() as err:
        server = subprocess.Popen([demo, "0"], stdout=subprocess.PIPE, stderr=err)
        try:
            line = server.stdout.readline().decode()
            assert line.startswith("port "), line
            asyncio.run(asyncio.wait_for(main(int(line.split()[1])), 30))
        finally:
            server.send_signal(signal.SIGTERM)
            status = server.wait(10)
        err.seek(0)
        noise = [l for l in err.read().decode().splitlines()
                 if "ASan doesn't fully support makecontext" not in l]
    assert status == 0, "the demo exited with %d" % status
    assert not noise, "the demo wrote to stderr: %s" % noise
    print("ok")


if __name__ == "__main__":
    run(sys.argv[1])

"""ip_service_test.py BIN_DIR EXPECTED_DIR

05_ip_service against real peers: CPython's urllib and json read what it answers, the
documents' bytes for 14.130.112.24 exactly; ret -1 for unknown and private addresses;
400 for a bad query, 404 for another path; --delay on a timer, so three requests at
once take one delay, not three. Then the lesson programs ask a service already
running (--service URL) and print their transcripts, and 05_parallel --measure takes
about 2 s for its 4 lookups of 1 s. Every process is ours, on
127.0.0.1, and stopped at the end.
"""
import concurrent.futures
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

BIN, EXPECTED = sys.argv[1], sys.argv[2]
# Document 000's answer, byte for byte.
SAMPLE = (b'{"ret":1,"start":-1,"end":-1,"country":"\\u4e2d\\u56fd","province":"\\u5317\\u4eac",'
          b'"city":"\\u5317\\u4eac","district":"","isp":"","type":"","desc":""}')
# AddressSanitizer's one notice per process about swapcontext (tests/transcript.sh).
ASAN_NOTICE = re.compile(rb"^==\d+==WARNING: ASan doesn't fully support makecontext/swapcontext.*\n",
                         re.M)
FIELDS = ["ret", "start", "end", "country", "province", "city", "district", "isp", "type", "desc"]


def start(*args):
    proc = subprocess.Popen([BIN + "/05_ip_service", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening on http://127.0.0.1:"), line
    return proc, line[len("listening on "):].strip().rstrip("/")


def stop(proc):
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and not ASAN_NOTICE.sub(b"", err), (proc.returncode, err)


def get(base, target):
    try:
        with urllib.request.urlopen(base + target, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def lookup(base, query):
    return get(base, "/iplookup/iplookup.php?" + query)


def check_answers(base):
    status, body = lookup(base, "format=json&ip=14.130.112.24")
    assert status == 200 and body == SAMPLE, body
    answer = json.loads(body)
    assert list(answer) == FIELDS and answer["country"] == "中国" and answer["city"] == "北京"
    for ip, desc in [("16.130.112.24", "not in the table"), ("192.168.1.1", "private address"),
                     ("127.0.0.1", "private address"), ("10.0.0.8", "private address")]:
        status, body = lookup(base, "format=json&ip=" + ip)
        answer = json.loads(body)
        assert status == 200 and list(answer) == FIELDS, body
        assert answer["ret"] == -1 and answer["country"] == "" and answer["desc"] == desc, body
    answer = json.loads(lookup(base, "format=json&ip=17.130.112.24")[1])
    assert answer["ret"] == 1 and answer["isp"] == "苹果", answer
    for query in ["format=json", "format=json&ip=", "format=json&ip=1.2.3", "format=json&ip=1.2.3.4.5",
                  "format=json&ip=256.1.1.1", "format=json&ip=::1", "format=json&ip=a.b.c.d",
                  "ip=14.130.112.24", "format=xml&ip=14.130.112.24",
                  "format=json&ip=1.1.1.1&ip=2.2.2.2"]:
        status, body = lookup(base, query)
        assert status == 400 and body.endswith(b"\n"), (query, status, body)
    assert get(base, "/iplookup/other.php?format=json&ip=1.1.1.1")[0] == 404
    assert get(base, "/")[0] == 404


def check_delay():
    proc, base = start("--delay", "0.3")
    try:
        t0 = time.monotonic()
        assert lookup(base, "format=json&ip=14.130.112.24")[1] == SAMPLE
        assert time.monotonic() - t0 >= 0.3, "the delay was not honoured"
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            t0 = time.monotonic()
            answers = list(pool.map(lambda _: lookup(base, "format=json&ip=14.130.112.24"), range(3)))
            took = time.monotonic() - t0
        assert all(a == (200, SAMPLE) for a in answers), answers
        assert 0.3 <= took < 0.6, f"3 requests at once took {took:.3f} s"
    finally:
        stop(proc)


def check_lessons():
    """The programs against a service they did not start: the same transcripts."""
    proc, base = start("--delay", "0.05")
    try:
        for prog in ["05_fetch_callback", "05_fetch_coroutine", "05_get_ip_info", "05_parallel"]:
            for lang in ["en", "zh"]:
                run = subprocess.run([f"{BIN}/{prog}", "--service", base + "/", "--lang", lang,
                                      "--speed", "20"], capture_output=True, timeout=60)
                with open(f"{EXPECTED}/{prog}.{lang}.txt", "rb") as f:
                    want = f.read()
                assert run.returncode == 0 and not ASAN_NOTICE.sub(b"", run.stderr) \
                    and run.stdout == want, \
                    (prog, lang, run.returncode, run.stderr, run.stdout)
        run = subprocess.run([f"{BIN}/05_fetch_callback", "--service", "ftp://x"],
                             capture_output=True, timeout=60)
        assert run.returncode == 2 and b"--service" in run.stderr, run
    finally:
        stop(proc)


proc, base = start()
try:
    check_answers(base)
finally:
    stop(proc)


def check_measure():
    """05_parallel --measure at speed 1: 4 answers of 1 s each, two at a time, take 2 s
    and some overhead (well under the 1 s of margin even under load), not 4 s."""
    run = subprocess.run([f"{BIN}/05_parallel", "--measure", "--speed", "1"], capture_output=True,
                         timeout=60)
    assert run.returncode == 0 and not ASAN_NOTICE.sub(b"", run.stderr), run
    m = re.search(rb"^IndexHandler.get: measured: ([0-9.]+) s$", run.stdout, re.M)
    assert m and 2.0 <= float(m[1]) < 3.0, run.stdout


check_delay()
check_lessons()
check_measure()
print("05_ip_service: the documents' bytes, ret -1, 400, 404, overlapping delays, --service, --measure")

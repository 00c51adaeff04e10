"""chrome_check.py FILE.json [EXPECT...]: checks a Chrome Trace Event Format export.

The JSON parses; every event has its fields; every async begin (b) has its end (e) and
every B its E; X slices of one track do not overlap; every flow has its start (s) and
its finish (f), each inside an X slice of its track; every track used is named (M).
Each EXPECT, "thread_name=NAME" or "flow=FROM->TO" (track names), must be present.
"""
import json
import sys
from collections import defaultdict


def fail(why):
    print(f"FAIL: {sys.argv[1]}: {why}")
    sys.exit(1)


def inside(slices, tid, ts):
    return any(start <= ts <= start + dur for start, dur in slices[tid])


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    names, slices = {}, defaultdict(list)
    begins, ends, flows = {}, {}, defaultdict(dict)
    stacks = defaultdict(list)
    for ev in events:
        for field in ("ph", "pid", "tid", "ts", "name"):
            if field not in ev:
                fail(f"an event without {field}: {ev}")
        ph, tid, ts = ev["ph"], ev["tid"], ev["ts"]
        if ph == "M" and ev["name"] == "thread_name":
            names[tid] = ev["args"]["name"]
        elif ph == "X":
            if ev["dur"] < 0:
                fail(f"a negative duration: {ev}")
            slices[tid].append((ts, ev["dur"]))
        elif ph in "be":
            key = (ev["cat"], ev["id"])
            table = begins if ph == "b" else ends
            if key in table:
                fail(f"two '{ph}' with id {key}")
            table[key] = ev
        elif ph in "BE":
            if ph == "B":
                stacks[tid].append(ev)
            elif not stacks[tid]:
                fail(f"an E without its B: {ev}")
            else:
                stacks[tid].pop()
        elif ph in "sf":
            if ph in flows[ev["id"]]:
                fail(f"two '{ph}' for flow {ev['id']}")
            flows[ev["id"]][ph] = ev
        elif ph == "C":
            if any(v < 0 for v in ev["args"].values()):
                fail(f"a negative counter: {ev}")
    for key, b in begins.items():
        e = ends.get(key)
        if e is None:
            fail(f"a 'b' without its 'e': {b}")
        if e["ts"] < b["ts"]:
            fail(f"an 'e' before its 'b': {b}")
    if set(ends) - set(begins):
        fail("an 'e' without its 'b'")
    if any(stacks.values()):
        fail("a B without its E")
    for tid, runs in slices.items():
        if tid not in names:
            fail(f"track {tid} has slices but no thread_name")
        runs.sort()
        for (s1, d1), (s2, _) in zip(runs, runs[1:]):
            if s1 + d1 > s2:
                fail(f"overlapping slices on track {names[tid]} at {s2}")
    arrows = set()
    for fid, pair in flows.items():
        if set(pair) != {"s", "f"}:
            fail(f"flow {fid} lacks its {'s' if 's' not in pair else 'f'}")
        s, f = pair["s"], pair["f"]
        if not inside(slices, s["tid"], s["ts"]):
            fail(f"flow {fid} starts outside any slice of {names.get(s['tid'])} at {s['ts']}")
        if not inside(slices, f["tid"], f["ts"]):
            fail(f"flow {fid} ends outside any slice of {names.get(f['tid'])} at {f['ts']}")
        if f["ts"] < s["ts"]:
            fail(f"flow {fid} goes back in time")
        arrows.add(f"{names[s['tid']].split()[0]}->{names[f['tid']].split()[0]}")
    for want in sys.argv[2:]:
        kind, _, value = want.partition("=")
        have = set(names.values()) if kind == "thread_name" else arrows
        if value not in have:
            fail(f"no {kind} {value} (have {sorted(have)})")
    print(f"{sys.argv[1]}: {len(events)} events, {len(flows)} flows, {len(begins)} waits: valid")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs one victim program under parkwatch, then checks one picture format
of its report against the JSON report of the same traces.

usage: pictures_check.py FORMAT PARKWATCH SHIM EXPECT PROGRAM [ARGS...]

The program is run the way its expectation file says (check_expect.py's
run or sigkill mode).  FORMAT is:
  dot       `dot -Tsvg` renders the report into SVG (parsed as XML); the
            report has a cluster per finding titled "[id] kind: message",
            holding every thread of the finding by name and every object by
            id; a finding with a cycle (deadlock, lock-order-inversion) has
            red edges that go round (every red node has a red edge in and
            out); a process with lock-order edges has a lock-order cluster
            whose edges name an acquisition site, red for an inversion's
            edges; a clean program gives no cluster but a lock-order one.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import check_expect  # noqa: E402  (the e2e runner: run / sigkill modes)
import pwtest  # noqa: E402


def report(parkwatch, fmt, trace_dir, out):
    p = pwtest.run([parkwatch, "report", "--format", fmt, "-o", out, trace_dir])
    if p.returncode not in (0, 66):
        raise AssertionError("report --format %s exited %d: %s"
                             % (fmt, p.returncode, p.stderr.decode(errors="replace")))
    with open(out, encoding="utf-8") as f:
        return f.read()


def reported(js):
    return [f for f in js["findings"]]


# ---- dot

NODE = re.compile(r'^\s+(\w+) \[shape=(\w+)(?:, style=\w+)?, label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r'^\s+(\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
CLUSTER = re.compile(r'^\s+subgraph cluster_(\w+) \{$')
LABEL = re.compile(r'^\s+label="((?:[^"\\]|\\.)*)";$')


def parse_dot(text):
    """{cluster id: {"label", "nodes": {name: (shape, label, red)}, "edges": [(a, b, label, red)]}}"""
    clusters = {}
    cur = None
    for line in text.splitlines():
        m = CLUSTER.match(line)
        if m:
            cur = clusters[m.group(1)] = {"label": None, "nodes": {}, "edges": []}
            continue
        if cur is None:
            continue
        if line.strip() == "}":
            cur = None
            continue
        m = LABEL.match(line)
        if m and cur["label"] is None:
            cur["label"] = m.group(1)
            continue
        m = EDGE.match(line)
        if m:
            cur["edges"].append((m.group(1), m.group(2), m.group(3), "color=red" in m.group(4)))
            continue
        m = NODE.match(line)
        if m:
            cur["nodes"][m.group(1)] = (m.group(2), m.group(3), "color=red" in m.group(4))
            continue
    return clusters


def check_dot(text, js, tmp):
    dot = shutil.which("dot")
    if not dot:
        raise AssertionError("Graphviz's dot is not installed (scripts/setup installs it)")
    svg_path = os.path.join(tmp, "r.svg")
    p = subprocess.run([dot, "-Tsvg", "-o", svg_path], input=text.encode(), capture_output=True,
                       timeout=120)
    if p.returncode != 0 or p.stderr.strip():
        raise AssertionError("dot -Tsvg exited %d: %s" % (p.returncode, p.stderr.decode()))
    svg = ET.parse(svg_path).getroot()
    titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    clusters = parse_dot(text)
    findings = reported(js)
    for f in findings:
        cid = "f%d" % f["id"]
        c = clusters.get(cid)
        if not c:
            if not f["threads"] and not f["objects"]:
                continue
            raise AssertionError("finding %d (%s) has no cluster" % (f["id"], f["kind"]))
        if "cluster_" + cid not in titles:
            raise AssertionError("the SVG lacks cluster %s" % cid)
        want = "[%d] %s: " % (f["id"], f["kind"])
        if not c["label"].startswith(want):
            raise AssertionError("cluster %s is titled %r, not %r..." % (cid, c["label"], want))
        labels = [n[1] for n in c["nodes"].values()]
        for t in f["threads"]:
            if f["kind"] == "lock-order-inversion":
                break  # its picture is the cycle of locks
            if not any(lab.startswith("%s (tid %d)" % (t["name"], t["tid"])) for lab in labels):
                raise AssertionError("finding %d: thread %s (tid %d) not drawn"
                                     % (f["id"], t["name"], t["tid"]))
        for o in f["objects"]:
            if not any(lab.split("\\n")[0] == o["id"] for lab in labels) and \
               not any(lab.startswith(o["id"] + " (tid") for lab in labels):
                raise AssertionError("finding %d: object %s not drawn" % (f["id"], o["id"]))
        if f["kind"] in ("deadlock", "lock-order-inversion"):
            red = [e for e in c["edges"] if e[3]]
            if len(red) < 2:
                raise AssertionError("finding %d (%s): no cycle in red" % (f["id"], f["kind"]))
            for name, node in c["nodes"].items():
                if node[2] and not (any(e[0] == name for e in red) and
                                    any(e[1] == name for e in red)):
                    raise AssertionError("finding %d: red node %s is on no red cycle"
                                         % (f["id"], name))
    extra = [k for k in clusters if k.startswith("f") and
             int(k[1:]) not in {f["id"] for f in findings}]
    if extra:
        raise AssertionError("clusters of no reported finding: %s" % extra)
    lo = [c for k, c in clusters.items() if k.startswith("lo")]
    inversions = [f for f in findings if f["kind"] == "lock-order-inversion"]
    for c in lo:
        for e in c["edges"]:
            if " at " not in e[2]:
                raise AssertionError("lock-order edge %s -> %s names no site: %r" % e[:3])
    if inversions and not any(e[3] for c in lo for e in c["edges"]):
        raise AssertionError("a lock-order inversion, but no red edge in the lock-order graph")
    if not inversions and any(e[3] for c in lo for e in c["edges"]):
        raise AssertionError("red lock-order edges without an inversion")
    print("dot: %d finding clusters, %d lock-order graphs, SVG of %d titles"
          % (len(clusters) - len(lo), len(lo), len(titles)))
    return len(clusters) - len(lo)


CHECKS = {"dot": check_dot}


def main(argv):
    if len(argv) < 6 or argv[1] not in CHECKS:
        print(__doc__, file=sys.stderr)
        return 2
    fmt = argv[1]
    parkwatch, shim, expect = [os.path.abspath(a) for a in argv[2:5]]
    program = [os.path.abspath(argv[5])] + argv[6:]
    directives = pwtest.parse_expect(expect)
    modes = [d.positional for d in directives if d.what == "mode"] or ["run"]
    with tempfile.TemporaryDirectory(prefix="pw-pictures-") as tmp:
        os.chdir(tmp)
        trace_dir = os.path.join(tmp, "traces")
        os.mkdir(trace_dir)
        try:
            options = pwtest.options_of(directives)
            if modes[0] == "sigkill":
                check_expect.sigkill_mode(parkwatch, shim, program, trace_dir, directives, options)
            else:
                check_expect.run_mode(parkwatch, program, trace_dir, options)
            js = json.loads(report(parkwatch, "json", trace_dir, os.path.join(tmp, "r.json")))
            out = report(parkwatch, fmt, trace_dir, os.path.join(tmp, "r." + fmt))
            n = CHECKS[fmt](out, js, tmp)
            fds = [d for d in directives if d.what == "finding"]
            clean = any(d.positional is None and not d.filters and d.count_op == "=" and
                        d.count == 0 for d in fds)
            if clean and n:
                raise AssertionError("%d findings drawn, but the expectation says none" % n)
        except (AssertionError, subprocess.TimeoutExpired, ValueError, ET.ParseError) as e:
            print("FAIL: %s" % e)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

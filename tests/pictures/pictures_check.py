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
  perfetto  the Chrome trace-event JSON follows the rules Perfetto's and
            chrome://tracing's importers apply: a traceEvents array; ph one
            of M, X, B, E, i; pid and tid integers; ts and dur numbers in
            microseconds (a thread parked at the end has a slice as long as
            the JSON report's since_ms, give or take); B and E matched and
            slices properly nested per thread; instants with a scope; every
            flow id (bind_id) leaving one slice and entering one later slice.
            Every thread of the JSON report is a named track; every thread
            parked at the end has a slice named by its object (the JSON's
            object id); a send into a channel that someone received from
            has a flow arrow to a receive of that channel; every finding is
            a global instant carrying its id.
  html      the page is self-contained (no script, stylesheet, image, frame,
            font or URL to load; a Content-Security-Policy that forbids
            loading anything); headless Chromium loads it with no console
            message (a blocked load or a script would log one), takes a
            screenshot (a PNG of the window's size), and its DOM holds every
            finding's headline ("[id] kind: message"), the wait-for graph of
            every finding with threads or objects as an <svg> whose nodes
            name them, a lock-order <svg> per process with lock edges, a
            timeline <svg> per process with a bar per thread parked at the
            end, and the thread dump naming every thread.  Names that are
            markup (html_names) show as text: no element comes from them.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

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


def dot_unescape(s):
    """A DOT quoted string's text: \\n a new line, \\X the character X."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


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
            cur["label"] = dot_unescape(m.group(1))
            continue
        m = EDGE.match(line)
        if m:
            cur["edges"].append((m.group(1), m.group(2), dot_unescape(m.group(3)),
                                 "color=red" in m.group(4)))
            continue
        m = NODE.match(line)
        if m:
            cur["nodes"][m.group(1)] = (m.group(2), dot_unescape(m.group(3)),
                                        "color=red" in m.group(4))
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
            if not any(lab.split("\n")[0] == o["id"] for lab in labels) and \
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


# ---- perfetto

PHASES = {"M", "X", "B", "E", "i"}


def check_perfetto(text, js, tmp):
    doc = json.loads(text)
    ev = doc["traceEvents"]
    if not isinstance(ev, list):
        raise AssertionError("traceEvents is not an array")
    names = {}
    slices = {}
    opened = {}
    flows_out, flows_in = {}, {}
    for e in ev:
        ph = e.get("ph")
        if ph not in PHASES:
            raise AssertionError("unexpected ph %r in %s" % (ph, e))
        if not isinstance(e.get("name"), str) or not isinstance(e.get("pid"), int):
            raise AssertionError("event without a name or an integer pid: %s" % e)
        if "tid" in e and not isinstance(e["tid"], int):
            raise AssertionError("tid is not an integer: %s" % e)
        if ph == "M":
            if e["name"] == "thread_name":
                names[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
            raise AssertionError("ts is not a non-negative number: %s" % e)
        track = (e["pid"], e.get("tid"))
        if ph == "X":
            if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
                raise AssertionError("X without a non-negative dur: %s" % e)
            slices.setdefault(track, []).append(e)
        elif ph == "B":
            opened.setdefault(track, []).append(e)
        elif ph == "E":
            if not opened.get(track):
                raise AssertionError("E without B: %s" % e)
            b = opened[track].pop()
            slices.setdefault(track, []).append(dict(b, ph="X", dur=e["ts"] - b["ts"]))
        elif ph == "i" and e.get("s") not in ("g", "p", "t"):
            raise AssertionError("instant without a scope: %s" % e)
        if "bind_id" in e:
            if ph != "X":
                raise AssertionError("a flow bound to a %s event: %s" % (ph, e))
            side = flows_out if e.get("flow_out") else flows_in if e.get("flow_in") else None
            if side is None:
                raise AssertionError("bind_id without a direction: %s" % e)
            if e["bind_id"] in side:
                raise AssertionError("flow %s bound twice" % e["bind_id"])
            side[e["bind_id"]] = e
    if any(opened.values()):
        raise AssertionError("B events never ended: %s" % [v for v in opened.values() if v])
    for track, v in slices.items():
        if track[1] is None or track not in names:
            raise AssertionError("slices on a thread with no thread_name: %s" % (track,))
        # proper nesting: a slice ends before the next begins, or contains it
        v.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in v:
            while stack and stack[-1] <= e["ts"] + 1e-6 and not (stack[-1] == e["ts"] and e["dur"] == 0):
                stack.pop()
            end = e["ts"] + e["dur"]
            if stack and end > stack[-1] + 1e-3:
                raise AssertionError("slices overlap on %s: %s" % (track, e))
            stack.append(end)
    if set(flows_out) != set(flows_in):
        raise AssertionError("flows with one end only: %s"
                             % (set(flows_out) ^ set(flows_in)))
    for k, a in flows_out.items():
        b = flows_in[k]
        if b["ts"] < a["ts"] or not b["name"].startswith("recv ") or \
           not (a["name"].startswith("send ") or a["name"].startswith("close send side ")):
            raise AssertionError("flow %s goes from %s to %s" % (k, a, b))
        if a["args"]["channel"] != b["args"]["channel"]:
            raise AssertionError("flow %s joins two channels" % k)
    # the JSON report's threads and parks
    for p in js["processes"]:
        for t in p["threads"]:
            if names.get((p["pid"], t["tid"])) != t["name"]:
                raise AssertionError("thread %s (tid %d) has no track named so"
                                     % (t["name"], t["tid"]))
            if t["state"] != "parked" or not t.get("object"):
                continue
            mine = [e for e in slices.get((p["pid"], t["tid"]), [])
                    if e.get("cat") == "park" and e["args"].get("parked_at_end")]
            if not mine or mine[-1]["name"] != t["object"]:
                raise AssertionError("thread %s parked on %s has no slice named so: %s"
                                     % (t["name"], t["object"], mine))
            if t.get("since_ms") is not None:
                ms = mine[-1]["dur"] / 1000.0
                if abs(ms - t["since_ms"]) > max(5.0, 0.05 * t["since_ms"]):
                    raise AssertionError("thread %s parked %s ms, its slice lasts %.3f ms: "
                                         "ts and dur are not microseconds"
                                         % (t["name"], t["since_ms"], ms))
    received = {e["args"]["channel"] for v in slices.values() for e in v
                if e["name"].startswith("recv ") and e["args"].get("result", 0) > 0}
    sent = {e["args"]["channel"] for v in slices.values() for e in v
            if e["name"].startswith("send ") and e["args"].get("result", 0) > 0}
    arrows = {a["args"]["channel"] for a in flows_out.values()}
    if (sent & received) - arrows:
        raise AssertionError("channels sent and received with no flow arrow: %s"
                             % ((sent & received) - arrows))
    marks = {e["args"]["id"] for e in ev if e["ph"] == "i" and e.get("s") == "g" and
             e.get("cat") == "finding"}
    want = {f["id"] for f in js["findings"]}
    if marks != want:
        raise AssertionError("findings marked %s, reported %s" % (sorted(marks), sorted(want)))
    nslices = sum(len(v) for v in slices.values())
    print("perfetto: %d tracks, %d slices, %d flows, %d findings marked"
          % (len(names), nslices, len(flows_out), len(marks)))
    return len(marks)


# ---- html

class Dom(HTMLParser):
    """The elements of a dumped DOM: tag, attributes, text inside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elems = []  # [tag, attrs, text]
        self.open = []

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elems.append(e)
        if tag not in ("meta", "br", "hr", "input", "link", "img"):
            self.open.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elems.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        for e in self.open:
            e[2] += data

    def find(self, tag, **attrs):
        return [e for e in self.elems if e[0] == tag and
                all(a in e[1].get(k.rstrip("_"), "").split() if k.endswith("_")
                    else e[1].get(k) == a for k, a in attrs.items())]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Chromium is not installed (scripts/setup installs it)")


def headless(page, *args):
    """Runs headless Chromium on PAGE; returns (stdout, console messages)."""
    cmd = [chromium(), "--headless", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + os.path.join(os.path.dirname(page), "chromium-profile"),
           "--enable-logging=stderr", "--v=0"] + list(args) + ["file://" + page]
    if os.geteuid() == 0:
        cmd.insert(2, "--no-sandbox")  # Chromium refuses root without it
    p = subprocess.run(cmd, capture_output=True, timeout=180)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise AssertionError("chromium exited %d: %s" % (p.returncode, err[-2000:]))
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return p.stdout.decode(errors="replace"), console


FORBIDDEN = re.compile(r"<script|<link|<img|<iframe|<object|<embed|@import|@font-face|url\((?!#)|"
                       r"\ssrc=|href=\"(?!#)", re.I)


def check_html(text, js, tmp):
    bad = FORBIDDEN.search(text)
    if bad:
        raise AssertionError("the page loads something: %r" % text[max(0, bad.start() - 60):
                                                                  bad.end() + 60])
    if "Content-Security-Policy" not in text or "default-src 'none'" not in text:
        raise AssertionError("no Content-Security-Policy forbidding loads")
    page = os.path.join(tmp, "r.html")
    dom_text, console = headless(page, "--dump-dom")
    shot = os.path.join(tmp, "r.png")
    _, console2 = headless(page, "--screenshot=" + shot, "--window-size=1200,1600",
                           "--hide-scrollbars")
    if console or console2:
        raise AssertionError("console messages: %s" % (console + console2))
    with open(shot, "rb") as f:
        png = f.read()
    if png[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", png[16:24]) != (1200, 1600):
        raise AssertionError("the screenshot is not a 1200x1600 PNG")
    dom = Dom()
    dom.feed(dom_text)
    heads = [" ".join(e[2].split()) for e in dom.find("h2", class_="headline")]
    findings = reported(js)
    for f in findings:
        want = " ".join(("[%d] %s: %s" % (f["id"], f["kind"], f["message"])).split())
        if want not in heads:
            raise AssertionError("headline %r not in the DOM (%s)" % (want, heads))
        sec = dom.find("section", id="finding-%d" % f["id"])
        if not sec:
            raise AssertionError("finding %d has no section" % f["id"])
        if not dom.find("details"):
            raise AssertionError("no collapsible stacks")
        if f["threads"] or f["objects"]:
            svg = dom.find("svg", id="svg-f%d" % f["id"])
            if not svg:
                raise AssertionError("finding %d has no graph" % f["id"])
            text_in = svg[0][2]
            names = [o["id"] for o in f["objects"]]
            if f["kind"] != "lock-order-inversion":
                names += ["%s (tid %d)" % (t["name"], t["tid"]) for t in f["threads"]]
            for n in names:
                if n not in text_in:
                    raise AssertionError("finding %d's graph does not name %s" % (f["id"], n))
    if len(heads) != len(findings):
        raise AssertionError("%d headlines for %d findings" % (len(heads), len(findings)))
    nodes = len(dom.find("g", class_="node"))
    for i, p in enumerate(js["processes"]):
        tl = dom.find("svg", id="timeline-%d" % i)
        if not tl:
            raise AssertionError("process %d has no timeline" % p["pid"])
        parked = [t for t in p["threads"] if t["state"] == "parked"]
        bars = [e for e in dom.elems if e[0] == "rect" and "open" in e[1].get("class", "").split()]
        if len(bars) < len(parked):
            raise AssertionError("%d threads parked at the end, %d open bars"
                                 % (len(parked), len(bars)))
        for t in p["threads"]:
            if t["name"] not in tl[0][2]:
                raise AssertionError("thread %s has no row in the timeline" % t["name"])
            if not any(t["name"] in e[2] for e in dom.find("summary")):
                raise AssertionError("thread %s is not in the thread dump" % t["name"])
    if any(t["name"].startswith("<i>") for p in js["processes"] for t in p["threads"]):
        if dom.find("i"):
            raise AssertionError("a thread name became an element: not escaped")
    print("html: %d headlines, %d graph nodes, %d svg, screenshot %d bytes"
          % (len(heads), nodes, len(dom.find("svg")), len(png)))
    return len(findings)


CHECKS = {"dot": check_dot, "perfetto": check_perfetto, "html": check_html}


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

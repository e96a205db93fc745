#!/usr/bin/env python3
"""Runs one victim program under parkwatch, then checks its SARIF report.

usage: sarif_check.py [--stable] SOURCE-ROOT PARKWATCH SHIM SCHEMA EXPECT PROGRAM [ARGS...]

The program is run the way its expectation file says (check_expect.py's
run or sigkill mode).  `parkwatch report --format sarif` of its traces must:
  - validate against the SARIF 2.1.0 JSON schema (tests/sarif/, draft-04);
  - say what `--format json` says: one result per finding, same kind (ruleId,
    ruleIndex into one rule per finding kind), level, message, count;
  - point its primary location at the innermost frame inside SOURCE-ROOT
    (given as --source-root; the report runs elsewhere) of the first stack
    the finding shows that has one (threads, then objects, then creation
    sites), else at the first frame with source;
  - give every URI inside SOURCE-ROOT relative, with uriBaseId SRCROOT, which
    originalUriBaseIds maps to SOURCE-ROOT; name the working directory;
  - link every related location from the message ("[text](id)");
  - carry primaryLocationLineHash beside its own fingerprint;
  - carry every thread's stack in `stacks` (with its tid) and the blocked
    chain as a codeFlow with one threadFlow per parked link; a lock-order
    inversion one threadFlow per edge;
  - give every rule a distinct name, help.markdown with an example, helpUri,
    and the driver an informationUri.
A program expected clean (`finding count=0`) must give no results, one
expected to leak some.
With --stable the program runs twice: the results' partialFingerprints must
be the same (new pids, tids and ASLR addresses must not open new alerts); the
second report runs in SOURCE-ROOT without --source-root, whose default (the
git top level, else the current directory) must then be SOURCE-ROOT's.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import check_expect  # noqa: E402  (the e2e runner: run / sigkill modes)
import pwtest  # noqa: E402

import jsonschema  # noqa: E402  (Debian: python3-jsonschema)


def report(parkwatch, fmt, trace_dir, out, extra=()):
    p = pwtest.run([parkwatch, "report", "--format", fmt, "-o", out] + list(extra) + [trace_dir])
    if p.returncode not in (0, 66):
        raise AssertionError("report --format %s exited %d: %s"
                             % (fmt, p.returncode, p.stderr.decode(errors="replace")))
    with open(out) as f:
        return json.load(f)


def in_root(fr, root):
    """True if frame FR's source is inside ROOT (the JSON report's paths are
    absolute, or relative to the directory the report ran in)."""
    f = fr.get("file")
    if not f or not fr.get("line"):
        return False
    if not os.path.exists(f):
        return False
    return os.path.realpath(f).startswith(root + os.sep)


def first_source_frame(finding, root):
    """The frame the primary location must point at (report_sarif.c's rule):
    the innermost in the root of the first stack with one, else the first
    frame with source, else the first frame."""
    stacks = [t.get("stack") or [] for t in finding["threads"]]
    stacks += [o.get("created_at") or [] for o in finding["objects"]]
    stacks += [t.get("created_by") or [] for t in finding["threads"]]
    for st in stacks:
        for fr in st:
            if in_root(fr, root):
                return fr
    fallback = None
    for st in stacks:
        for fr in st:
            if fr.get("file") and fr.get("line"):
                return fr
        if st and fallback is None:
            fallback = st[0]
    return fallback


def check_location(loc, frame, what, root):
    phys = loc.get("physicalLocation", {})
    if frame.get("file") and frame.get("line"):
        art = phys.get("artifactLocation", {})
        uri = art.get("uri", "")
        if not uri.endswith(os.path.basename(frame["file"])):
            raise AssertionError("%s: uri %r is not %s" % (what, uri, frame["file"]))
        if in_root(frame, root):
            want = os.path.relpath(os.path.realpath(frame["file"]), root)
            if art.get("uriBaseId") != "SRCROOT" or uri != want:
                raise AssertionError("%s: %r is not %s relative to SRCROOT" % (what, art, want))
        if phys.get("region", {}).get("startLine") != frame["line"]:
            raise AssertionError("%s: line %r, JSON says %d"
                                 % (what, phys.get("region"), frame["line"]))
    if frame.get("function"):
        names = [ll.get("name") for ll in loc.get("logicalLocations", [])]
        if frame["function"] not in names:
            raise AssertionError("%s: function %s not in %s" % (what, frame["function"], names))


def escaped(s):
    return re.sub(r"([\[\]\\])", r"\\\1", s)


def check_result(i, res, f, rules, root):
    what = "result %d (%s)" % (i, f["kind"])
    if res.get("ruleId") != f["kind"]:
        raise AssertionError("%s: ruleId %r" % (what, res.get("ruleId")))
    if rules[res["ruleIndex"]]["id"] != f["kind"]:
        raise AssertionError("%s: ruleIndex %d names %s" % (what, res["ruleIndex"],
                                                           rules[res["ruleIndex"]]["id"]))
    if res.get("level") != f["severity"]:
        raise AssertionError("%s: level %r, severity %r" % (what, res.get("level"), f["severity"]))
    text = res["message"]["text"]
    related = res.get("relatedLocations", [])
    if not text.startswith(escaped(f["message"])) or (not related and text != f["message"]):
        raise AssertionError("%s: message %r" % (what, text))
    for loc in related:  # code scanning shows only the linked ones
        if "](%d)" % loc["id"] not in text:
            raise AssertionError("%s: related location %d not linked from %r"
                                 % (what, loc["id"], text))
    fp = res.get("partialFingerprints", {})
    if not re.fullmatch(r"[0-9a-f]{16}:1", fp.get("primaryLocationLineHash", "")) \
            or "parkwatchStack/v1" not in fp:
        raise AssertionError("%s: partialFingerprints %r" % (what, fp))
    if res.get("occurrenceCount") != f["count"]:
        raise AssertionError("%s: occurrenceCount %r" % (what, res.get("occurrenceCount")))

    if len(res.get("locations", [])) != 1:  # code scanning needs one
        raise AssertionError("%s: %d primary locations" % (what, len(res.get("locations", []))))
    frame = first_source_frame(f, root)
    if frame is None:
        return
    check_location(res["locations"][0], frame, what + " primary location", root)

    # every thread with a stack shows it, frame for frame, under its tid
    stacks = res.get("stacks", [])
    for t in f["threads"]:
        if not t.get("stack"):
            continue
        want = [fr.get("function") for fr in t["stack"]]
        found = False
        for st in stacks:
            frames = st["frames"]
            if frames and frames[0].get("threadId") == t["tid"]:
                got = [(fr["location"].get("logicalLocations") or [{}])[0].get("name")
                       for fr in frames]
                found = found or got == want
        if not found:
            raise AssertionError("%s: no stack for %s (tid %d) with %s"
                                 % (what, t["name"], t["tid"], want))

    tids = {t["tid"]: t for t in f["threads"]}
    parked_links = [l for l in f["chain"]
                    if l.get("tid") in tids and tids[l["tid"]].get("stack")
                    and tids[l["tid"]].get("state") == "parked"]
    flows = [tf for cf in res.get("codeFlows", []) for tf in cf["threadFlows"]]
    for l in parked_links:
        if not any(tf.get("id") == "tid %d" % l["tid"] for tf in flows):
            raise AssertionError("%s: chain link of tid %d has no threadFlow" % (what, l["tid"]))
    if f["kind"] == "lock-order-inversion":
        edges = [t for t in f["threads"] if t.get("role") == "acquires" and t.get("stack")]
        for n, t in enumerate(edges):
            ok = [tf for tf in flows if tf["id"].endswith(": tid %d" % t["tid"])
                  and ("takes %s while holding %s" % (t.get("acquires"), t.get("holding")))
                  in tf["message"]["text"]]
            if not ok:
                raise AssertionError("%s: edge %s -> %s of tid %d has no threadFlow"
                                     % (what, t.get("holding"), t.get("acquires"), t["tid"]))


def walk_uris(node, root_uri, what):
    """Every artifactLocation: inside the root relative with SRCROOT, never a
    file:// URI into the root."""
    if isinstance(node, dict):
        art = node.get("artifactLocation")
        if isinstance(art, dict):
            uri = art.get("uri", "")
            if uri.startswith(root_uri):
                raise AssertionError("%s: %s is inside the root but absolute" % (what, uri))
            if art.get("uriBaseId") not in (None, "SRCROOT") or \
                    (art.get("uriBaseId") and (uri.startswith("/") or ":" in uri)):
                raise AssertionError("%s: bad artifactLocation %r" % (what, art))
        for v in node.values():
            walk_uris(v, root_uri, what)
    elif isinstance(node, list):
        for v in node:
            walk_uris(v, root_uri, what)


def check_rules(run):
    driver = run["tool"]["driver"]
    if not driver.get("informationUri"):
        raise AssertionError("driver without informationUri")
    names = set()
    for rule in driver["rules"]:
        name = rule.get("name", "")
        if not name or name.lower() == rule["id"].lower() or name in names:
            raise AssertionError("rule %s: name %r not distinct" % (rule["id"], name))
        names.add(name)
        md = rule.get("help", {}).get("markdown", "")
        if "```" not in md or rule["id"] not in md:
            raise AssertionError("rule %s: help.markdown without an example" % rule["id"])
        if not rule.get("helpUri"):
            raise AssertionError("rule %s: no helpUri" % rule["id"])

def check(sarif, js, schema, root):
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    root_uri = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    if root_uri != "file://" + root + "/":
        raise AssertionError("SRCROOT is %s, not %s" % (root_uri, root))
    wd = run["invocations"][0]["workingDirectory"]["uri"]
    if wd != "file://" + os.path.realpath(os.getcwd()).rstrip("/") + "/":
        raise AssertionError("workingDirectory %s is not %s" % (wd, os.getcwd()))
    walk_uris(run.get("results", []), root_uri, "results")
    check_rules(run)
    rules = run["tool"]["driver"]["rules"]
    results = run.get("results", [])
    findings = js["findings"]
    if len(results) != len(findings):
        raise AssertionError("%d results, %d findings in the JSON report"
                             % (len(results), len(findings)))
    for i, (res, f) in enumerate(zip(results, findings)):
        check_result(i, res, f, rules, root)
    return len(results)


def fingerprints(sarif):
    return sorted(json.dumps(r.get("partialFingerprints"), sort_keys=True)
                  for r in sarif["runs"][0].get("results", []))


def git_top(d):
    """run's default source root seen from D: the git top level, else D."""
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        up = os.path.dirname(d)
        if up == d:
            return d
        d = up


def main(argv):
    stable = len(argv) > 1 and argv[1] == "--stable"
    if stable:
        argv = argv[:1] + argv[2:]
    if len(argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    root, parkwatch, shim, schema_path, expect = [os.path.abspath(a) for a in argv[1:6]]
    program = [os.path.abspath(argv[6])] + argv[7:]
    root = os.path.realpath(root)
    with open(schema_path) as f:
        schema = json.load(f)
    directives = pwtest.parse_expect(expect)
    modes = [d.positional for d in directives if d.what == "mode"] or ["run"]
    prints = []
    for n in range(2 if stable else 1):
        rc = one_run(parkwatch, shim, schema, expect, program, directives, modes, prints, root,
                     n == 1)
        if rc:
            return rc
    if stable and prints[0] != prints[1]:
        print("FAIL: fingerprints changed between two runs:\n%s\n%s" % (prints[0], prints[1]))
        return 1
    return 0


def one_run(parkwatch, shim, schema, expect, program, directives, modes, prints, root,
            default_root):
    with tempfile.TemporaryDirectory(prefix="pw-sarif-") as tmp:
        # the report runs outside the root (paths stay absolute in JSON) with
        # --source-root, or inside it with the default
        os.chdir(root if default_root else tmp)
        trace_dir = os.path.join(tmp, "traces")
        os.mkdir(trace_dir)
        try:
            options = pwtest.options_of(directives)
            if modes[0] == "sigkill":
                given = check_expect.sigkill_mode(parkwatch, shim, program, trace_dir, directives,
                                                  options)
            else:
                given = check_expect.run_mode(parkwatch, program, trace_dir, options).options
            pwtest.options_applied(expect, given)
            sarif = report(parkwatch, "sarif", trace_dir, os.path.join(tmp, "r.sarif"),
                           () if default_root else ("--source-root", root))
            js = report(parkwatch, "json", trace_dir, os.path.join(tmp, "r.json"))
            n = check(sarif, js, schema, git_top(root) if default_root else root)
            prints.append(fingerprints(sarif))
            # `finding count=0` says clean (a filtered one, such as severity=,
            # says less); a finding wanted at least once says not
            fds = [d for d in directives if d.what == "finding"]
            clean = any(d.positional is None and not d.filters and d.count_op == "=" and
                        d.count == 0 for d in fds)
            leaky = any(not d.count_ok(0) for d in fds)
            if (clean and n) or (leaky and not n):
                raise AssertionError("%d results, but the expectation says %s"
                                     % (n, "nothing" if clean else "findings"))
        except (AssertionError, jsonschema.ValidationError, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            return 1
    print("SARIF valid; %d results match the JSON report" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Runs one victim program under parkwatch, then checks its SARIF report.

usage: sarif_check.py [--stable] PARKWATCH SHIM SCHEMA EXPECT PROGRAM [ARGS...]

The program is run the way its expectation file says (check_expect.py's
run or sigkill mode).  `parkwatch report --format sarif` of its traces must:
  - validate against the SARIF 2.1.0 JSON schema (tests/sarif/, draft-04);
  - say what `--format json` says: one result per finding, same kind (ruleId,
    ruleIndex into one rule per finding kind), level, message, count;
  - point its primary location at the innermost frame with source of the
    first stack the finding shows (threads, then objects, then creation sites);
  - carry every thread's stack in `stacks` (with its tid) and the blocked
    chain as a codeFlow with one threadFlow per parked link.
A program expected clean (`finding count=0`) must give no results, one
expected to leak some.
With --stable the program runs twice: the results' partialFingerprints must
be the same (new pids, tids and ASLR addresses must not open new alerts).
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import check_expect  # noqa: E402  (the e2e runner: run / sigkill modes)
import pwtest  # noqa: E402

import jsonschema  # noqa: E402  (Debian: python3-jsonschema)


def report(parkwatch, fmt, trace_dir, out):
    p = pwtest.run([parkwatch, "report", "--format", fmt, "-o", out, trace_dir])
    if p.returncode not in (0, 66):
        raise AssertionError("report --format %s exited %d: %s"
                             % (fmt, p.returncode, p.stderr.decode(errors="replace")))
    with open(out) as f:
        return json.load(f)


def first_source_frame(finding):
    """The frame the primary location must point at (report_sarif.c's rule)."""
    stacks = [t.get("stack") or [] for t in finding["threads"]]
    stacks += [o.get("created_at") or [] for o in finding["objects"]]
    stacks += [t.get("created_by") or [] for t in finding["threads"]]
    fallback = None
    for st in stacks:
        for fr in st:
            if fr.get("file") and fr.get("line"):
                return fr
        if st and fallback is None:
            fallback = st[0]
    return fallback


def check_location(loc, frame, what):
    phys = loc.get("physicalLocation", {})
    if frame.get("file") and frame.get("line"):
        uri = phys.get("artifactLocation", {}).get("uri", "")
        if not uri.endswith(os.path.basename(frame["file"])):
            raise AssertionError("%s: uri %r is not %s" % (what, uri, frame["file"]))
        if phys.get("region", {}).get("startLine") != frame["line"]:
            raise AssertionError("%s: line %r, JSON says %d"
                                 % (what, phys.get("region"), frame["line"]))
    if frame.get("function"):
        names = [ll.get("name") for ll in loc.get("logicalLocations", [])]
        if frame["function"] not in names:
            raise AssertionError("%s: function %s not in %s" % (what, frame["function"], names))


def check_result(i, res, f, rules):
    what = "result %d (%s)" % (i, f["kind"])
    if res.get("ruleId") != f["kind"]:
        raise AssertionError("%s: ruleId %r" % (what, res.get("ruleId")))
    if rules[res["ruleIndex"]]["id"] != f["kind"]:
        raise AssertionError("%s: ruleIndex %d names %s" % (what, res["ruleIndex"],
                                                           rules[res["ruleIndex"]]["id"]))
    if res.get("level") != f["severity"]:
        raise AssertionError("%s: level %r, severity %r" % (what, res.get("level"), f["severity"]))
    if res["message"]["text"] != f["message"]:
        raise AssertionError("%s: message %r" % (what, res["message"]["text"]))
    if res.get("occurrenceCount") != f["count"]:
        raise AssertionError("%s: occurrenceCount %r" % (what, res.get("occurrenceCount")))

    frame = first_source_frame(f)
    if frame is None:
        return
    if len(res.get("locations", [])) != 1:
        raise AssertionError("%s: %d primary locations" % (what, len(res.get("locations", []))))
    check_location(res["locations"][0], frame, what + " primary location")

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


def check(sarif, js, schema):
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run.get("results", [])
    findings = js["findings"]
    if len(results) != len(findings):
        raise AssertionError("%d results, %d findings in the JSON report"
                             % (len(results), len(findings)))
    for i, (res, f) in enumerate(zip(results, findings)):
        check_result(i, res, f, rules)
    return len(results)


def fingerprints(sarif):
    return sorted(json.dumps(r.get("partialFingerprints"), sort_keys=True)
                  for r in sarif["runs"][0].get("results", []))


def main(argv):
    stable = len(argv) > 1 and argv[1] == "--stable"
    if stable:
        argv = argv[:1] + argv[2:]
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, shim, schema_path, expect, program = argv[1], argv[2], argv[3], argv[4], argv[5:]
    with open(schema_path) as f:
        schema = json.load(f)
    directives = pwtest.parse_expect(expect)
    modes = [d.positional for d in directives if d.what == "mode"] or ["run"]
    prints = []
    for _ in range(2 if stable else 1):
        rc = one_run(parkwatch, shim, schema, expect, program, directives, modes, prints)
        if rc:
            return rc
    if stable and prints[0] != prints[1]:
        print("FAIL: fingerprints changed between two runs:\n%s\n%s" % (prints[0], prints[1]))
        return 1
    return 0


def one_run(parkwatch, shim, schema, expect, program, directives, modes, prints):
    with tempfile.TemporaryDirectory(prefix="pw-sarif-") as tmp:
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
            sarif = report(parkwatch, "sarif", trace_dir, os.path.join(tmp, "r.sarif"))
            js = report(parkwatch, "json", trace_dir, os.path.join(tmp, "r.json"))
            n = check(sarif, js, schema)
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

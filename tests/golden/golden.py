#!/usr/bin/env python3
"""Golden reports (elfutils' testrun_compare, heaptrack's test suites): each
checked-in trace set in traces/ (NAME.N.trace, reported together) has its exact
text report (expected/NAME.txt) and JSON report (expected/NAME.json), compared
byte for byte, and its exit status (expected/status).

The traces were recorded from the victim programs and packed by record.sh with
every path and build-id made unfindable, so every frame prints as module+offset
and the reports are the same on every machine; pids and times are the
recorded ones.

A change of report wording or layout is meant to show up here.  When one is
intended, regenerate the expected files and review the diff before committing:
    PW_GOLDEN_UPDATE=1 meson test -C build --suite golden
or  tests/golden/golden.py --update build/analyzer/parkwatch

usage: golden.py [--update] PARKWATCH [GOLDEN-DIR]
"""
import difflib
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import pwtest  # noqa: E402  (validate_report: the JSON report's schema)

FORMATS = (("text", "txt"), ("json", "json"))


def cases(trace_dir):
    """NAME -> its trace files (NAME.0.trace, NAME.1.trace, ...) in order."""
    groups = {}
    for f in os.listdir(trace_dir):
        m = re.fullmatch(r"(.+)\.(\d+)\.trace", f)
        if m:
            groups.setdefault(m.group(1), []).append((int(m.group(2)), f))
    return {name: [f for _, f in sorted(files)] for name, files in sorted(groups.items())}


def environment():
    """Nothing of the machine reaches the report: no debug path, no debuginfo
    cache, no debuginfod, the C locale."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PARKWATCH_DEBUG_PATH", "DEBUGINFOD_URLS", "PARKWATCH_OPTIONS")}
    env["PARKWATCH_CACHE_DIR"] = ""
    env["LC_ALL"] = "C"
    return env


def report(parkwatch, trace_dir, fmt, traces):
    # The valgrind test setup (tests/valgrind/wrap.sh) asks for memcheck in
    # front of every parkwatch command.
    cmd = shlex.split(os.environ.get("PW_VALGRIND", "")) + \
        [parkwatch, "report", "--format", fmt] + traces
    p = subprocess.run(cmd, cwd=trace_dir, env=environment(), capture_output=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def text_wording(out):
    """What no text report may say (issue 18): a headline repeating its kind
    ("lock-order-inversion: lock order inversion: ..."), or a repeated stack
    that does not say which one above it repeats."""
    bad = []
    for line in out.decode(errors="replace").splitlines():
        m = re.match(r"parkwatch: ([a-z-]+): (.*)", line)
        if m and m.group(2).startswith(m.group(1).replace("-", " ") + ":"):
            bad.append("headline repeats its kind: " + line)
        if line.strip() == "(same stack as above)":
            bad.append("a repeated stack does not say which one it repeats")
    return bad


def main(argv):
    update = os.environ.get("PW_GOLDEN_UPDATE", "") not in ("", "0")
    if argv and argv[0] == "--update":
        update = True
        argv = argv[1:]
    if len(argv) not in (1, 2):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    parkwatch = os.path.abspath(argv[0])
    golden = argv[1] if len(argv) == 2 else os.path.dirname(os.path.abspath(__file__))
    trace_dir = os.path.join(golden, "traces")
    expected_dir = os.path.join(golden, "expected")
    status_file = os.path.join(expected_dir, "status")

    expected_status = {}
    if os.path.exists(status_file):
        with open(status_file) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, status = line.split()
                    expected_status[name] = int(status)

    failed = 0
    statuses = {}
    all_cases = cases(trace_dir)
    for name, traces in all_cases.items():
        for fmt, ext in FORMATS:
            path = os.path.join(expected_dir, f"{name}.{ext}")
            rc, out, err = report(parkwatch, trace_dir, fmt, traces)
            statuses[name] = rc
            if err:
                failed += 1
                print(f"FAIL {name} ({fmt}): unexpected stderr:\n{err.decode(errors='replace')}")
                continue
            if fmt == "json":  # the shipped schema holds for every golden report
                try:
                    pwtest.validate_report(json.loads(out))
                except (AssertionError, ValueError) as e:
                    failed += 1
                    print(f"FAIL {name} (json): {e}")
                    continue
            for problem in text_wording(out) if fmt == "text" else ():
                failed += 1
                print(f"FAIL {name} ({fmt}): {problem}")
            if update:
                os.makedirs(expected_dir, exist_ok=True)
                with open(path, "wb") as f:
                    f.write(out)
                continue
            want = open(path, "rb").read() if os.path.exists(path) else None
            if want is None:
                failed += 1
                print(f"FAIL {name} ({fmt}): {path} is missing (regenerate: see golden.py)")
            elif out != want:
                failed += 1
                print(f"FAIL {name} ({fmt}): the report differs from {path}:")
                sys.stdout.writelines(difflib.unified_diff(
                    want.decode(errors="replace").splitlines(True),
                    out.decode(errors="replace").splitlines(True),
                    f"expected/{name}.{ext}", f"parkwatch report --format {fmt}"))
            else:
                print(f"ok   {name} ({fmt})")
        if not update and expected_status.get(name) != statuses[name]:
            failed += 1
            print(f"FAIL {name}: exit status {statuses[name]}, expected {expected_status.get(name)}")
    if not all_cases:
        print(f"FAIL: no traces in {trace_dir}")
        return 1
    if update:
        with open(status_file, "w") as f:
            f.write("# exit status of `parkwatch report` on each trace set (golden.py)\n")
            for name, rc in sorted(statuses.items()):
                f.write(f"{name} {rc}\n")
        print(f"golden: rewrote {len(statuses)} cases in {expected_dir}; review the diff")
        return 1 if failed else 0
    print(f"golden: {len(all_cases) * len(FORMATS) - failed} ok, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

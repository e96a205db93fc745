#!/usr/bin/env python3
"""Self-check of the expectation harness: an `options` line is option items
for the program, never filters that vanish.

usage: expect_options.py DIR

For every *.expect under DIR, the items pwtest gives the program (options_of) must be
exactly the KEY=VALUE words of its `options` lines, in order; and a
synthetic expectation shows that options_applied catches a harness that drops
them.  check_expect.py and stress.py then assert, per run, that the program
really got them (options_applied on its PARKWATCH_OPTIONS).
"""

import os
import sys
import tempfile

import pwtest


def check_file(path):
    want = pwtest.raw_options(path)
    got = pwtest.options_of(pwtest.parse_expect(path))
    if got != ":".join(want):
        raise AssertionError("%s: options lines say %r, the harness passes %r"
                             % (path, ":".join(want), got))
    if want:
        pwtest.options_applied(path, got)
    return len(want)


def check_synthetic():
    with tempfile.TemporaryDirectory(prefix="pw-expopt-") as tmp:
        path = os.path.join(tmp, "x.expect")
        with open(path, "w") as f:
            f.write("# a comment\noptions watchdog_ms=100 # why\noptions a=1:b=2\n"
                    "finding count=0\n")
        ds = pwtest.parse_expect(path)
        got = pwtest.options_of(ds)
        if got != "watchdog_ms=100:a=1:b=2":
            raise AssertionError("synthetic options came out as %r" % got)
        if any(d.filters for d in ds if d.what == "options"):
            raise AssertionError("an options item was read as a filter")
        pwtest.options_applied(path, "trace_dir=/x:watchdog=0:" + got)
        for dropped in ("", "trace_dir=/x", "watchdog_ms=100:a=1"):
            try:
                pwtest.options_applied(path, dropped)
            except AssertionError:
                continue
            raise AssertionError("options_applied accepted %r" % dropped)
        with open(path, "w") as f:
            f.write("options watchdog\n")
        try:
            pwtest.parse_expect(path)
        except ValueError:
            return
        raise AssertionError("an options word without '=' was accepted")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(argv[1])
                   for f in fs if f.endswith(".expect"))
    if not paths:
        print("FAIL: no .expect file under %s" % argv[1])
        return 1
    try:
        check_synthetic()
        n = sum(check_file(p) for p in paths)
    except (AssertionError, ValueError) as e:
        print("FAIL:", e)
        return 1
    print("ok: %d expectation files, %d option items passed" % (len(paths), n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

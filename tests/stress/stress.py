#!/usr/bin/env python3
"""Runs one stress host natively and under the shim; the shim must not change
what it does, and must leave a readable trace behind.

usage: stress.py PARKWATCH SHIM [--expect FILE] [--options OPTS] [--warn REGEX]
                 [--preload LIB] [--max-seconds S] -- PROGRAM [ARGS...]

Checks, in order:
  1. PROGRAM natively, under plain LD_PRELOAD and under `parkwatch run
     --fail-on none`: same exit status (or death by the same signal) and the
     same stdout; plain LD_PRELOAD also gives the same stderr once the shim's
     own "parkwatch: " lines are set aside.  Those lines must each match
     --warn REGEX (and at least one must, when --warn is given).
  2. every trace of both traced runs dumps, and `parkwatch report` on them
     exits 0 or 66 (never 2: the traces are complete or truncated, not corrupt).
  3. --expect FILE (the victims' expectation format, tests/e2e/pwtest.py) holds
     on the plain LD_PRELOAD run's traces and its JSON report.
--options adds PARKWATCH_OPTIONS to both traced runs, and so do the `options`
lines of --expect FILE.  --preload LIB is
preloaded in every run, ahead of the shim (another allocator, for instance).
--max-seconds fails the test when the traced run takes longer than S.
Core dumps are disabled for every run.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import pwtest  # noqa: E402

SHIM_LINE = re.compile(rb"^parkwatch: ")


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(cmd, env, timeout=120):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=timeout, preexec_fn=no_core)
    p.seconds = time.monotonic() - t0
    return p


def describe(name, p):
    return "%-8s status %d, %d bytes out, %d bytes err, %.2f s" % (
        name, p.returncode, len(p.stdout), len(p.stderr), p.seconds)


def split_stderr(err):
    shim, rest = [], []
    for line in err.splitlines(keepends=True):
        (shim if SHIM_LINE.match(line) else rest).append(line)
    return [l.decode(errors="replace").rstrip("\n") for l in shim], b"".join(rest)


def with_preload(env, libs):
    env = dict(env)
    have = env.get("LD_PRELOAD")
    env["LD_PRELOAD"] = " ".join(libs + ([have] if have else []))
    return env


def report(parkwatch, paths, failures):
    p = pwtest.run([parkwatch, "report", "--format", "json"] + paths, timeout=120)
    if p.returncode not in (0, 66):
        failures.append("report exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
        return None
    return json.loads(p.stdout.decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("parkwatch")
    ap.add_argument("shim")
    ap.add_argument("--expect")
    ap.add_argument("--options", default="")
    ap.add_argument("--warn")
    ap.add_argument("--preload", action="append", default=[])
    ap.add_argument("--max-seconds", type=float)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    for lib in a.preload:
        if not os.path.exists(lib):
            print("SKIP: %s is not installed" % lib)
            return 77
    if a.expect:
        # the expectation's own options lines go to both traced runs too
        a.options = ":".join(o for o in (a.options, pwtest.options_of(pwtest.parse_expect(a.expect)))
                             if o)
    failures = []
    with tempfile.TemporaryDirectory(prefix="pw-stress-") as tmp:
        tdir, rdir = os.path.join(tmp, "preload"), os.path.join(tmp, "run")
        os.mkdir(tdir)
        base = with_preload(os.environ, a.preload) if a.preload else dict(os.environ)
        base.pop("PARKWATCH_OPTIONS", None)
        native = run(a.cmd, base)
        shim_env = pwtest.shim_env(a.shim, tdir, a.options)
        shim_env["LD_PRELOAD"] = " ".join(a.preload + [a.shim])
        traced = run(a.cmd, shim_env)
        run_env = dict(base)
        if a.options:
            run_env["PARKWATCH_OPTIONS"] = a.options
        viarun = run([a.parkwatch, "run", "--fail-on", "none", "--trace-dir", rdir, "--"] + a.cmd,
                     run_env)
        for name, p in (("native", native), ("preload", traced), ("run", viarun)):
            print(describe(name, p))
        want_status = native.returncode if native.returncode >= 0 else 128 - native.returncode
        if traced.returncode != native.returncode:
            failures.append("LD_PRELOAD changed the status: %d vs %d" % (native.returncode, traced.returncode))
        if viarun.returncode != want_status:
            failures.append("parkwatch run gave status %d, wanted %d" % (viarun.returncode, want_status))
        for name, p in (("LD_PRELOAD", traced), ("parkwatch run", viarun)):
            if p.stdout != native.stdout:
                failures.append("%s changed stdout:\n--- native\n%s\n--- traced\n%s" % (
                    name, native.stdout.decode(errors="replace")[-3000:],
                    p.stdout.decode(errors="replace")[-3000:]))
        warns, rest = split_stderr(traced.stderr)
        if rest != native.stderr:
            failures.append("LD_PRELOAD changed stderr: %r vs %r" % (native.stderr[-2000:], rest[-2000:]))
        for w in warns:
            print("shim: " + w)
            if not a.warn or not re.search(a.warn, w):
                failures.append("unexpected shim warning: %s" % w)
        if a.warn and not any(re.search(a.warn, w) for w in warns):
            failures.append("no shim warning matched %r" % a.warn)
        if a.max_seconds and traced.seconds > a.max_seconds:
            failures.append("traced run took %.1f s, limit %.1f s" % (traced.seconds, a.max_seconds))
        traces = []
        for d in (tdir, rdir):
            paths = pwtest.trace_files(d) if os.path.isdir(d) else []
            if not paths:
                failures.append("no trace in %s" % d)
                continue
            for path in paths:
                try:
                    tr, _ = pwtest.dump(a.parkwatch, path)
                    if d == tdir:
                        traces.append(tr)
                except AssertionError as e:
                    failures.append(str(e))
            rep = report(a.parkwatch, paths, failures)
            if d == tdir:
                first_report = rep
        print("%d traces of the LD_PRELOAD run" % len(traces))
        if a.expect:
            try:  # self-check: the options lines reached both traced runs
                pwtest.options_applied(a.expect, shim_env["PARKWATCH_OPTIONS"])
                pwtest.options_applied(a.expect, run_env.get("PARKWATCH_OPTIONS", ""))
            except AssertionError as e:
                failures.append(str(e))
        if a.expect and traces:
            directives = pwtest.parse_expect(a.expect)
            for d in directives:
                print("expect %s" % d)
            failures += pwtest.check(directives, traces, first_report)
    if failures:
        print("\n".join("FAIL " + f[:4000] for f in failures))
        print("native stdout:\n" + native.stdout.decode(errors="replace")[-2000:])
        print("traced stderr:\n" + traced.stderr.decode(errors="replace")[-2000:])
        return 1
    print("identical, traces readable")
    return 0


if __name__ == "__main__":
    sys.exit(main())

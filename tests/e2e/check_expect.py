#!/usr/bin/env python3
"""Runs one victim program under parkwatch and checks its expectation file.

usage: check_expect.py PARKWATCH SHIM EXPECT PROGRAM [ARGS...]

The expectation format is described in pwtest.py.  Assertions are made on the
traces (through `parkwatch dump`), never on what `parkwatch run` prints, so the
test keeps its meaning when run starts reporting findings.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pwtest

RUN_TIMEOUT = 60      # a victim finishes in well under a second
READY_TIMEOUT = 30    # upper bound for the workers of a sigkill victim to park


def load_traces(parkwatch, trace_dir):
    paths = pwtest.trace_files(trace_dir)
    if not paths:
        raise AssertionError("no trace file in %s: %s" % (trace_dir, os.listdir(trace_dir)))
    traces, texts = [], []
    for p in paths:
        tr, text = pwtest.dump(parkwatch, p)
        traces.append(tr)
        texts.append(text)
    return traces, "\n".join(texts)


def report_json(parkwatch, trace_dir):
    """The JSON report, for `finding` directives (exit 0 or 66 are both fine)."""
    p = pwtest.run([parkwatch, "report", "--format", "json", trace_dir])
    if p.returncode not in (0, 66):
        raise AssertionError("report exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    report = json.loads(p.stdout.decode())
    pwtest.validate_report(report)  # every e2e report follows the shipped schema
    return report


def run_mode(parkwatch, program, trace_dir, options=""):
    """`parkwatch run` with OPTIONS as PARKWATCH_OPTIONS; returns the finished
    run, whose .options is the PARKWATCH_OPTIONS it got."""
    env = dict(os.environ)
    env.pop("PARKWATCH_OPTIONS", None)
    if options:
        env["PARKWATCH_OPTIONS"] = options
    p = pwtest.run([parkwatch, "run", "--trace-dir", trace_dir, "--"] + program,
                   timeout=RUN_TIMEOUT, env=env)
    print("run exited %d; stderr:\n%s" % (p.returncode, p.stderr.decode(errors="replace")))
    if p.returncode == 2:
        raise AssertionError("parkwatch run could not run the program")
    p.options = env.get("PARKWATCH_OPTIONS", "")
    return p


def run_and_check(parkwatch, argv, directives, prefix):
    """ARGV under `parkwatch run` in a scratch trace directory: its JSON report,
    and the DIRECTIVES that fail on its traces and report."""
    with tempfile.TemporaryDirectory(prefix=prefix) as trace_dir:
        run_mode(parkwatch, argv, trace_dir)
        traces, _ = load_traces(parkwatch, trace_dir)
        report = report_json(parkwatch, trace_dir)
    return report, pwtest.check(directives, traces, report)


def outcome(directives, report, failures):
    """Prints the directives, the report's findings and the failures; returns
    the test's exit status."""
    for d in directives:
        print("expect %s" % d)
    print("---- findings ----\n" + "\n".join("%s: %s" % (f["kind"], f["message"])
                                              for f in report["findings"]))
    if failures:
        print("\n".join("FAIL " + f for f in failures))
        return 1
    return 0


def ready(parkwatch, path, directives):
    """True once the live trace shows everything but the end state."""
    try:
        tr, _ = pwtest.dump(parkwatch, path)
    except AssertionError:
        return False  # a live trace may be caught mid-initialisation
    return not pwtest.check(directives, [tr], skip=("end", "finding"))


def sigkill_mode(parkwatch, shim, program, trace_dir, directives, options=""):
    """Plain LD_PRELOAD; waits until the live trace satisfies everything but
    the end state, then SIGKILLs the process.  Returns the PARKWATCH_OPTIONS
    the program got."""
    env = pwtest.shim_env(shim, trace_dir, options)
    proc = subprocess.Popen(program, env=env, stdin=subprocess.DEVNULL)
    path = os.path.join(trace_dir, "parkwatch.%d.trace" % proc.pid)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError("program exited early with %d" % proc.returncode)
            if os.path.exists(path) and ready(parkwatch, path, directives):
                break
            if time.monotonic() > deadline:
                raise AssertionError("trace never showed the expected parks")
            time.sleep(0.1)
        # While it still runs, `report` must see the same parked threads.
        failures = pwtest.check(directives, [pwtest.dump(parkwatch, path)[0]],
                                skip=("end", "finding"), live_report=report_json(parkwatch, trace_dir))
        if failures:
            raise AssertionError("report of the live process: " + "; ".join(failures))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    print("killed pid %d, status %d" % (proc.pid, proc.returncode))
    if proc.returncode != -signal.SIGKILL:
        raise AssertionError("program was not killed by SIGKILL")
    if pwtest.trace_files(trace_dir) != [path]:
        raise AssertionError("expected exactly %s, found %s" % (path, pwtest.trace_files(trace_dir)))
    return env["PARKWATCH_OPTIONS"]


def watchdog_mode(shim, program, trace_dir, options):
    """Plain LD_PRELOAD with the in-process watchdog: the sidecar it starts
    must end the hanging program (SIGABRT, or SIGKILL if that is caught).
    Returns the PARKWATCH_OPTIONS the program got."""
    opts = "watchdog=1" + (":" + options if options else "")
    env = pwtest.shim_env(shim, trace_dir, opts)
    p = pwtest.run(program, timeout=RUN_TIMEOUT, env=env)
    print("program exited %d; stderr:\n%s" % (p.returncode, p.stderr.decode(errors="replace")))
    if p.returncode not in (-signal.SIGABRT, -signal.SIGKILL):
        raise AssertionError("the watchdog did not stop the program (status %d)" % p.returncode)
    if b"all threads are blocked" not in p.stderr:
        raise AssertionError("no watchdog notice on stderr")
    return env["PARKWATCH_OPTIONS"]


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, shim, expect, program = argv[1], argv[2], argv[3], argv[4:]
    directives = pwtest.parse_expect(expect)
    modes = [d.positional for d in directives if d.what == "mode"] or ["run"]
    run = None
    options = pwtest.options_of(directives)
    with tempfile.TemporaryDirectory(prefix="pw-e2e-") as trace_dir:
        try:
            if modes[0] == "sigkill":
                given = sigkill_mode(parkwatch, shim, program, trace_dir, directives, options)
            elif modes[0] == "watchdog":
                given = watchdog_mode(shim, program, trace_dir, options)
            else:
                run = run_mode(parkwatch, program, trace_dir, options)
                given = run.options
            # self-check: the options lines really reached the program
            pwtest.options_applied(expect, given)
            traces, text = load_traces(parkwatch, trace_dir)
            report = None
            if any(d.what == "finding" for d in directives):
                report = report_json(parkwatch, trace_dir)
            failures = pwtest.check(directives, traces, report, run=run)
        except (AssertionError, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            return 1
    for d in directives:
        print("expect %s" % d)
    if failures:
        print("\n".join("FAIL " + f for f in failures))
        print("---- dump ----\n" + text)
        return 1
    print("all %d directives hold" % len(directives))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

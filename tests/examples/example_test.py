#!/usr/bin/env python3
"""Runs the examples/ programs and checks what include/parkwatch.h promises.

usage:
  example_test.py checkpoint PARKWATCH SHIM PROGRAM
      examples/checkpoint without the shim (every check a no-op, exit 0) and
      under it (exactly the leaking cases fail, also when run in parallel).
  example_test.py verify-at-exit PARKWATCH SHIM PROGRAM
      examples/checkpoint under PARKWATCH_OPTIONS=verify_at_exit=1: the
      threads it leaks turn its exit status into 66.
  example_test.py queue PARKWATCH SHIM EXPECT PROGRAM MODE
      examples/annotated_queue MODE under `parkwatch run`, checked against
      EXPECT (format: tests/e2e/pwtest.py); a finding must name the queue.

A check whose shim side is not there yet exits 77 (skipped) and says so:
the channel annotations (parkwatch_impl_chan_*) and verify_at_exit.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import check_expect  # noqa: E402
import pwtest  # noqa: E402

SKIP = 77

CHECKPOINT_INACTIVE = """parkwatch inactive: checks are no-ops
case pool: ok
case leaky: ok
case pool (parallel): ok
case leaky (parallel): ok
0 failed
"""

CHECKPOINT_ACTIVE = """parkwatch active
case pool: ok
case leaky: FAILED (1 leaked thread)
case pool (parallel): ok
case leaky (parallel): FAILED (1 leaked thread)
2 failed
"""


def env_without_shim():
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "PARKWATCH_OPTIONS", "PARKWATCH_LIB"):
        env.pop(k, None)
    return env


def shim_exports(shim, name):
    """True if the shim's dynamic symbol table defines NAME."""
    p = pwtest.run(["nm", "-D", "--defined-only", shim])
    if p.returncode != 0:
        raise AssertionError("nm -D %s: %s" % (shim, p.stderr.decode(errors="replace")))
    return any(line.split()[-1] == name for line in p.stdout.decode().splitlines() if line.split())


def same(what, got, want):
    if got != want:
        raise AssertionError("%s:\n--- got\n%s--- wanted\n%s" % (what, got, want))


def checkpoint(shim, program):
    p = pwtest.run([program], env=env_without_shim())
    same("stdout without the shim", p.stdout.decode(), CHECKPOINT_INACTIVE)
    if p.returncode != 0:
        raise AssertionError("exit %d without the shim" % p.returncode)

    with tempfile.TemporaryDirectory(prefix="pw-example-") as tmp:
        p = pwtest.run([program], env=pwtest.shim_env(shim, tmp))
    err = p.stderr.decode(errors="replace")
    print("under the shim, stderr:\n" + err)
    same("stdout under the shim", p.stdout.decode(), CHECKPOINT_ACTIVE)
    if p.returncode != 1:
        raise AssertionError("exit %d under the shim, wanted 1 (two failed cases)" % p.returncode)
    # the report names the scope and the leaked threads, and only the leaky ones
    if err.count("verify_none(leaky)") != 2 or "verify_none(pool" in err:
        raise AssertionError("stderr must blame 'leaky' twice and never 'pool'")
    return 0


def verify_at_exit(shim, program):
    with tempfile.TemporaryDirectory(prefix="pw-example-") as tmp:
        p = pwtest.run([program], env=pwtest.shim_env(shim, tmp, "verify_at_exit=1"))
    err = p.stderr.decode(errors="replace")
    print("exit %d, stderr:\n%s" % (p.returncode, err))
    if "verify_at_exit" in err and "unknown" in err:
        print("SKIP: the shim does not know verify_at_exit yet")
        return SKIP
    if p.returncode != 66:
        raise AssertionError("exit %d with leaked threads at exit, wanted 66" % p.returncode)
    return 0


def queue(parkwatch, shim, expect, program, mode):
    if not shim_exports(shim, "parkwatch_impl_chan_make"):
        print("SKIP: the shim does not implement the channel annotations yet")
        return SKIP
    directives = pwtest.parse_expect(expect)
    report, failures = check_expect.run_and_check(parkwatch, [program, mode], directives,
                                                  "pw-example-")
    # an annotated queue appears by its name, not as a bare cond
    for f in report["findings"]:
        names = [o.get("id", "") for o in f.get("objects", [])] + [f.get("message", "")]
        if not any("jobs" in n for n in names):
            failures.append("finding %s does not name the queue 'jobs': %s" % (f["kind"], names))
    # the header's inline wrappers are the tool's frames, hidden like the
    # shim's: the queue's creation site is q_init, not parkwatch_chan_make
    for fn in functions(report):
        if fn.startswith("parkwatch_"):
            failures.append("a frame inside parkwatch.h is shown: %s" % fn)
    return check_expect.outcome(directives, report, failures)


def functions(node):
    """Every frame's function anywhere in a JSON report."""
    if isinstance(node, dict):
        if isinstance(node.get("function"), str):
            yield node["function"]
        for v in node.values():
            yield from functions(v)
    elif isinstance(node, list):
        for v in node:
            yield from functions(v)


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "checkpoint":
            return checkpoint(argv[3], argv[4])
        if len(argv) == 5 and argv[1] == "verify-at-exit":
            return verify_at_exit(argv[3], argv[4])
        if len(argv) == 7 and argv[1] == "queue":
            return queue(*argv[2:])
    except (AssertionError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

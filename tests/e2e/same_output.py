#!/usr/bin/env python3
"""The shim must not change what a program does.

usage: same_output.py PARKWATCH SHIM -- COMMAND [ARGS...]

Runs COMMAND natively, under plain LD_PRELOAD (stdout, stderr and exit status
must be identical) and under `parkwatch run` (stdout and exit status must be
identical: run adds its own report on stderr).  Only use it with programs that
are clean, since run's status becomes 66 when it reports an error finding.
The word @SORTINPUT@ in COMMAND is replaced by a generated file of text lines.
"""

import os
import random
import sys
import tempfile

import pwtest


def make_sort_input(directory):
    rng = random.Random(42)
    path = os.path.join(directory, "lines.txt")
    with open(path, "w") as f:
        for _ in range(20000):
            n = rng.randint(1, 40)
            f.write("".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(n)) + "\n")
    return path


def describe(p):
    return "status %d, %d bytes out, %d bytes err" % (p.returncode, len(p.stdout), len(p.stderr))


def main(argv):
    if len(argv) < 5 or argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, shim, cmd = argv[1], argv[2], argv[4:]
    failures = []
    with tempfile.TemporaryDirectory(prefix="pw-same-") as tmp:
        if "@SORTINPUT@" in cmd:
            src = make_sort_input(tmp)
            cmd = [src if a == "@SORTINPUT@" else a for a in cmd]
        traces = os.path.join(tmp, "traces")
        os.mkdir(traces)
        native = pwtest.run(cmd)
        preload = pwtest.run(cmd, env=pwtest.shim_env(shim, traces))
        viarun = pwtest.run([parkwatch, "run", "--trace-dir", traces, "--"] + cmd)
        print("native:  %s\npreload: %s\nrun:     %s" % (describe(native), describe(preload), describe(viarun)))
        for what in ("returncode", "stdout", "stderr"):
            if getattr(native, what) != getattr(preload, what):
                failures.append("LD_PRELOAD changed %s: %r vs %r" % (
                    what, getattr(native, what), getattr(preload, what)))
        for what in ("returncode", "stdout"):
            if getattr(native, what) != getattr(viarun, what):
                failures.append("parkwatch run changed %s: %r vs %r" % (
                    what, getattr(native, what), getattr(viarun, what)))
        # Both traced runs must have left readable traces behind.
        found = pwtest.trace_files(traces)
        if len(found) < 2:
            failures.append("expected traces of both traced runs, found %s" % found)
        for path in found:
            try:
                pwtest.dump(parkwatch, path)
            except AssertionError as e:
                failures.append(str(e))
    if failures:
        print("\n".join("FAIL " + f[:2000] for f in failures))
        return 1
    print("identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

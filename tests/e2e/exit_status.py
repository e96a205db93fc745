#!/usr/bin/env python3
"""A process's exit status under a plain LD_PRELOAD, with no `parkwatch run`
to patch it after waitpid and no watchdog sidecar: the post-mortem report
shows the status of a return from main, of exit() and of _exit() (which runs
no exit handler and no destructor: the shim interposes it), also in a fork
child, and a vfork child's _exit does not end its parent's trace.

usage: exit_status.py PARKWATCH SHIM VICTIM   (VICTIM: tests/progs/exit_status.c)
"""

import json
import os
import sys

from pwtest import in_scratch, run, shim_env

CASES = [
    # (how, code, the report's end, its status)
    ("return", "0", "exit", 0),
    ("exit", "3", "exit", 3),
    ("return", "7", "exit", 7),
    ("exit", "0", "exit", 0),
]


def main(argv):
    parkwatch, shim, victim = argv[1:4]

    def body(tmp):
        seen = []
        for i, (how, code, end, status) in enumerate(CASES):
            d = os.path.join(tmp, "t%d" % i)
            os.mkdir(d)
            p = run([victim, how, code], env=shim_env(shim, d))
            assert p.returncode == int(code), "%s %s: exit status %d" % (how, code, p.returncode)
            assert p.stdout.decode() == "leaving by %s %s\n" % (how, code), p.stdout
            traces = os.listdir(d)
            assert len(traces) == 1, "%s %s: traces %s" % (how, code, traces)
            dump = run([parkwatch, "dump", os.path.join(d, traces[0])]).stdout.decode(
                errors="replace")
            assert "end=%s status=%d" % (end, status) in dump, \
                "%s %s: dump header %r" % (how, code, dump.splitlines()[:3])
            doc = json.loads(run([parkwatch, "report", "--format", "json", d]).stdout)
            got = [(pr["end"], pr.get("status")) for pr in doc["processes"]]
            assert got == [(end, status)], "%s %s: report %s" % (how, code, got)
            seen.append("%s %s -> %s" % (how, code, got[0]))
        # _exit runs no handler and no destructor: the shim's _exit marks the
        # end (dash and fork children end this way; unmarked, their traces
        # read as killed or crashed, with every thread unknown)
        d = os.path.join(tmp, "raw")
        os.mkdir(d)
        p = run([victim, "_exit", "5"], env=shim_env(shim, d))
        assert p.returncode == 5, "_exit 5: exit status %d" % p.returncode
        doc = json.loads(run([parkwatch, "report", "--format", "json", d]).stdout)
        got = [(pr["end"], pr.get("status")) for pr in doc["processes"]]
        assert got == [("exit", 5)], "_exit 5: report %s" % got
        # a vfork child's _exit runs in the parent's memory: the parent's trace
        # goes on and ends with the parent's own status
        d = os.path.join(tmp, "vfork")
        os.mkdir(d)
        p = run([victim, "vfork", "6"], env=shim_env(shim, d))
        assert p.returncode == 0 and p.stdout.decode() == "vfork child left with 6\n", \
            "vfork 6: exit status %d, output %r" % (p.returncode, p.stdout)
        doc = json.loads(run([parkwatch, "report", "--format", "json", d]).stdout)
        got = [(pr["end"], pr.get("status")) for pr in doc["processes"]]
        assert got == [("exit", 0)], "vfork 6: report %s" % got
        # a fork child inherits the handler and has its own trace
        d = os.path.join(tmp, "fork")
        os.mkdir(d)
        p = run([victim, "fork", "4"], env=shim_env(shim, d))
        assert p.returncode == 0 and p.stdout.decode() == "child left with 4\n", \
            "fork 4: exit status %d, output %r" % (p.returncode, p.stdout)
        doc = json.loads(run([parkwatch, "report", "--format", "json", d]).stdout)
        got = sorted((pr["end"], pr.get("status")) for pr in doc["processes"])
        assert got == [("exit", 0), ("exit", 4)], "fork 4: report %s" % got
        return "; ".join(seen) + "; _exit 5 -> exit 5; vfork: parent 0; fork: parent 0, child 4"

    return in_scratch("pw-exit-status-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

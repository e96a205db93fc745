#!/usr/bin/env python3
"""`parkwatch run` into a --trace-dir used before reports its own run only.

usage: run_reuse.py PARKWATCH VICTIM

VICTIM leaks a thread (cond_leak).  Under `run --trace-dir D --fail-on errors`:
  1. the victim: exit 66, its thread-leak reported;
  2. then `sh -c 'true; true'` (a fork and an exec, so a tree of traces) into
     the same D: exit 0, no finding, the older trace counted in one line;
  3. `parkwatch report D` still reads every trace: the leak is there.
"""

import json
import os
import sys

from pwtest import in_scratch, run


def main(argv):
    parkwatch, victim = argv[1:3]

    def body(tmp):
        d = os.path.join(tmp, "t")
        out = os.path.join(tmp, "r.json")
        first = run([parkwatch, "run", "--trace-dir", d, "--fail-on", "errors", "--format", "json",
                     "-o", out, "--", victim], timeout=120)
        assert first.returncode == 66, "victim: run exited %d, wanted 66" % first.returncode
        kinds = [f["kind"] for f in json.load(open(out))["findings"]]
        assert "thread-leak" in kinds, "victim: no thread-leak in %s" % kinds

        second = run([parkwatch, "run", "--trace-dir", d, "--fail-on", "errors", "--format",
                      "json", "-o", out, "--", "sh", "-c", "true; (true); exec true"],
                     timeout=120)
        err = second.stderr.decode(errors="replace")
        print("second run stderr: %r" % err)
        assert second.returncode == 0, "second run exited %d, wanted 0" % second.returncode
        doc = json.load(open(out))
        assert not doc["findings"], "the older trace's findings came back: %s" % [
            f["kind"] for f in doc["findings"]]
        procs = doc["summary"]["processes"]
        assert procs == 3, "the shell, its subshell and its exec: %d processes reported" % procs
        lines = [l for l in err.splitlines() if "older trace" in l]
        assert len(lines) == 1 and "1 older trace " in lines[0], \
            "wanted one line counting 1 older trace: %r" % err
        ntraces = len([f for f in os.listdir(d) if f.endswith(".trace")])
        assert ntraces >= 3, "the shell's fork and exec should have left traces: %d" % ntraces

        rep = run([parkwatch, "report", "--fail-on", "errors", d])
        assert rep.returncode == 66, "report of the whole directory exited %d, wanted 66" % \
            rep.returncode
        return "a reused --trace-dir reports this run only; report reads them all"

    return in_scratch("pw-reuse-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

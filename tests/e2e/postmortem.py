#!/usr/bin/env python3
"""A process killed while its threads are parked: the post-mortem measures
each park up to the end of the trace, not to the park itself, and explains
an end it could not record.

usage: postmortem.py PARKWATCH SHIM VICTIM

VICTIM parks three threads forever while main sleeps (park_forever).
  1. plain LD_PRELOAD: once every thread is parked, a live report (which
     notes in the trace that the process was seen alive), then SIGKILL at
     least 200 ms after the parks.  The report of the dead trace: "end":
     "unknown", every park lasted at least 200 ms, and the text says "the
     trace ends abruptly (the process was killed or crashed at about T)".
  2. `parkwatch run`, the program killed with SIGKILL at least 200 ms after
     its parks: stopped by signal 9, every park at least 200 ms (run records
     the time waitpid reported the death).
The 200 ms are waited for, never raced: the assertions are lower bounds.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

from pwtest import in_scratch, run, shim_env

MIN_MS = 200


def live_parked(parkwatch, d):
    """(pid, number of parked threads) from a live JSON report of D."""
    p = run([parkwatch, "report", "--format", "json", d], timeout=60)
    try:
        doc = json.loads(p.stdout.decode(errors="replace"))
    except ValueError:
        return None, 0
    for proc in doc.get("processes", []):
        parked = [t for t in proc.get("threads", []) if t.get("state") == "parked"]
        return proc["pid"], len(parked)
    return None, 0


def await_parked(parkwatch, d, proc, want=3):
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("victim exited early (%s)" % proc.returncode)
        pid, n = live_parked(parkwatch, d) if os.path.isdir(d) else (None, 0)
        if n >= want:
            return pid
        time.sleep(0.05)
    raise AssertionError("the victim's threads never all parked")


def since_all(doc):
    return [t["since_ms"] for p in doc["processes"] for t in p["threads"]
            if t.get("state") == "parked"]


def main(argv):
    parkwatch, shim, victim = argv[1:4]

    def body(tmp):
        # 1. plain LD_PRELOAD, SIGKILL: the end is unknown
        d = os.path.join(tmp, "preload")
        os.mkdir(d)
        proc = subprocess.Popen([victim], env=shim_env(shim, d), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await_parked(parkwatch, d, proc)
            time.sleep(MIN_MS / 1000.0)
            live_parked(parkwatch, d)  # seen alive now, after the parks
        finally:
            proc.kill()
            proc.wait()
        doc = json.loads(run([parkwatch, "report", "--format", "json", d]).stdout)
        ends = [p["end"] for p in doc["processes"]]
        assert ends == ["unknown"], "end %s, wanted unknown" % ends
        since = since_all(doc)
        assert len(since) == 3 and min(since) >= MIN_MS, \
            "parks lasted %s ms, wanted 3 of at least %d" % (since, MIN_MS)
        text = run([parkwatch, "report", d]).stdout.decode(errors="replace")
        print(text)
        m = re.search(r"the trace ends abruptly \(the process was killed or crashed at about "
                      r"(\d+)\.(\d{3}) s after its start\)", text)
        assert m, "no 'the trace ends abruptly' sentence"
        assert int(m.group(1)) * 1000 + int(m.group(2)) >= MIN_MS, "end at %s.%s s" % m.groups()
        parks = [int(x) for x in re.findall(r" parked in \S+ on \S+ for (\d+) ms", text)]
        assert len(parks) >= 3 and min(parks) >= MIN_MS, "text parks %s ms" % parks

        # 2. `parkwatch run`, the program killed with SIGKILL
        d2 = os.path.join(tmp, "run")
        out = os.path.join(tmp, "r.json")
        runner = subprocess.Popen([parkwatch, "run", "--trace-dir", d2, "--format", "json", "-o",
                                   out, "--fail-on", "none", "--", victim],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            pid = await_parked(parkwatch, d2, runner)
            time.sleep(MIN_MS / 1000.0)
            os.kill(pid, signal.SIGKILL)
            runner.wait(timeout=120)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        doc = json.load(open(out))
        procs = [(p["end"], p.get("status")) for p in doc["processes"]]
        assert procs == [("signal", 9)], "run's report ends %s, wanted signal 9" % procs
        since2 = since_all(doc)
        assert len(since2) == 3 and min(since2) >= MIN_MS, \
            "under run, parks lasted %s ms, wanted 3 of at least %d" % (since2, MIN_MS)
        return "killed while parked: parks %s ms (end unknown), %s ms (signal 9)" % (since, since2)

    return in_scratch("pw-postmortem-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

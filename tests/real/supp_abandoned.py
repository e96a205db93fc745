#!/usr/bin/env python3
"""abandoned-at-exit suppression rules, on the abandoned_exit victim: the rules
silence the idle workers left parked by main's return and never the thread that
was stuck earlier (its only signaller had exited).

usage: supp_abandoned.py PARKWATCH VICTIM"""
import json
import os
import subprocess
import sys
import tempfile


def report(parkwatch, victim, rules, d):
    supp = os.path.join(d, "rules.supp")
    with open(supp, "w") as f:
        f.write("# test rules\n" + "\n".join(rules) + "\n")
    out = os.path.join(d, "r.json")
    r = subprocess.run([parkwatch, "run", "--trace-dir", os.path.join(d, "t%d" % len(os.listdir(d))),
                        "--suppressions", supp, "--format", "json", "-o", out, "--", victim],
                       timeout=120, stdin=subprocess.DEVNULL)
    with open(out) as f:
        return r.returncode, json.load(f)


def main(parkwatch, victim):
    bad = 0
    with tempfile.TemporaryDirectory(prefix="pw-supp-") as d:
        cases = [
            (["abandoned-at-exit:thread=idle"], 66, ["asker"], 2),
            (["abandoned-at-exit:thread=*"], 66, ["asker"], 2),
            (["abandoned-at-exit:worker_main"], 66, ["asker"], 2),
            (["abandoned-at-exit:asker_main"], 66, ["asker", "idle", "idle"], 0),
            (["thread-leak:thread=*"], 0, [], 3),
        ]
        for rules, want_rc, want_left, want_supp in cases:
            rc, rep = report(parkwatch, victim, rules, d)
            left = sorted(t["name"] for f in rep["findings"] for t in f["threads"])
            supp = rep["summary"]["suppressed"]
            ok = rc == want_rc and left == sorted(want_left) and supp == want_supp
            print("%s %s: status %d, left %s, suppressed %d" % ("ok  " if ok else "FAIL", rules,
                                                               rc, left, supp))
            bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))

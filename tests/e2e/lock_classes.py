#!/usr/bin/env python3
"""Lock classes bound the notes log (issue 14).

usage: lock_classes.py PARKWATCH LO_CLASSES

lo_classes takes 37 locks under each of 1024 item locks in 4 threads.  With
the default notes log and with a tiny one (max_notes=64), the report must:
  - keep the verdict notes: "holder" ended holding a lock (held-at-exit note,
    lock-held-by-exited-thread) and the process end;
  - say how many lock-order edges were folded into lock classes (JSON
    processes[].lost.edges_folded, and the text report's closing line).
"""

import json
import os
import sys

from pwtest import dump, in_scratch, run, trace_files


def main(argv):
    parkwatch, victim = argv[1:3]

    def body(tmp):
        said = []
        for opts in ("", "max_notes=64"):
            d = os.path.join(tmp, "t" + opts.replace("=", ""))
            out = d + ".json"
            env = dict(os.environ)
            env["PARKWATCH_OPTIONS"] = opts
            p = run([parkwatch, "run", "--trace-dir", d, "--format", "json", "-o", out, "--",
                     victim], timeout=240, env=env)
            doc = json.load(open(out))
            kinds = sorted(f["kind"] for f in doc["findings"])
            assert kinds == ["lock-held-by-exited-thread"], "%s: findings %s" % (opts, kinds)
            lost = doc["processes"][0].get("lost", {})
            assert lost.get("edges_folded", 0) > 100000, "%s: lost=%s" % (opts, lost)
            assert lost.get("notes", 0) == 0 or opts, "%s: notes lost: %s" % (opts, lost)
            traces = trace_files(d)
            assert len(traces) == 1, traces
            tr, _ = dump(parkwatch, traces[0])
            kinds = [e.get("kind") for e in tr.events]
            assert "held-at-exit" in kinds and "proc-end" in kinds, \
                "%s: verdict notes missing: %s" % (opts, sorted(set(kinds)))
            text = run([parkwatch, "report", d]).stdout.decode(errors="replace")
            line = [l for l in text.splitlines() if "folded into lock classes" in l]
            assert line, "%s: the text report does not say how many edges were folded:\n%s" % (
                opts, text)
            said.append("%s: %s" % (opts or "default", line[0]))
            assert p.returncode in (0, 66), p.returncode
        return "; ".join(said)

    return in_scratch("pw-classes-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Analyzer benchmarks: `parkwatch report` on a trace of 10 million events
(budget 2 s) and on a trace whose report has 1000 findings to symbolize
(budget 1 s).  Median of 3 runs each; never fails on a slow result.

usage: report_bench.py PARKWATCH BIGTRACE
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time


def median_seconds(cmd, runs=3):
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, bigtrace = argv[1], argv[2]
    with tempfile.TemporaryDirectory(prefix="pw-rbench-") as tmp:
        events = os.path.join(tmp, "events.trace")
        findings = os.path.join(tmp, "findings.trace")
        subprocess.run([bigtrace, "events", "10000000", events], check=True)
        subprocess.run([bigtrace, "findings", "1000", findings], check=True)
        rows = [
            ("report-10M-events", [parkwatch, "report", events], 2),
            ("report-1000-findings", [parkwatch, "report", findings], 1),
            ("report-1000-findings-json", [parkwatch, "report", "--format", "json", findings], 1),
        ]
        print("%-28s %10s %8s" % ("analyzer", "seconds", "budget"))
        for name, cmd, budget in rows:
            print("%-28s %10.3f %8d" % (name, median_seconds(cmd), budget))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

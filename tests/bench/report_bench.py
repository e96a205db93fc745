#!/usr/bin/env python3
"""Analyzer benchmarks, as a table with budgets (median of --runs, default 3;
never fails on a slow result):

  report-10M-events          `parkwatch report` on a trace of 10 million ring
                             events (bigtrace): seconds, events/s (budget
                             >= 20M/s), peak RSS (budget 64 MiB: the rings of a
                             finished trace are streamed from the file, so
                             memory does not grow with the events);
  bytes-per-event            that trace's size on disk per event (budget 65:
                             an event record is 64 bytes; headers, thread
                             records and the stack depot add little);
  report-1000-findings(-json) a report with 1000 findings to symbolize;
  report-1000-processes      `parkwatch report` on a directory of 1000 real
                             traces (pwbench pipe under the shim, 1000 times):
                             seconds and peak RSS (budget 128 MiB, 128 KiB a
                             process: the model of each process, its stacks
                             and notes; no trace is kept whole);
  report-1000-with-findings  the same for 1000 runs of a victim with findings
                             (tests/progs/unread_data-O2), whose stacks are
                             symbolized in every process: budget 128 MiB too
                             (the processes share their opened binaries and
                             debug files).

usage: report_bench.py [--runs N] PARKWATCH BIGTRACE [SHIM PWBENCH]
SHIM and PWBENCH default to their places in the build tree next to PARKWATCH
and BIGTRACE; without them the 1000-process row is skipped.  The table shows
wall seconds (the budgets' measure, on a quiet machine) and CPU seconds (user +
system, which say more on a busy one).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

EVENTS = 10_000_000
PROCESSES = 1000


def run_measured(bigtrace, cmd):
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one run
    of CMD.  The CPU time says more than the wall time on a busy machine.  CMD
    runs under `bigtrace rss`, a small C parent: the peak RSS of a child that
    Python forks would include Python's own pages."""
    start = time.monotonic()
    out = subprocess.run([bigtrace, "rss"] + cmd, stdout=subprocess.PIPE, check=True).stdout
    wall = time.monotonic() - start
    rss, user, system = out.split()
    return wall, float(user) + float(system), int(rss)


def medians(bigtrace, cmd, runs):
    samples = [run_measured(bigtrace, cmd) for _ in range(runs)]
    return tuple(statistics.median(s[i] for s in samples) for i in range(3))


def make_process_dir(shim, cmd, out):
    """PROCESSES traces of a small real program CMD under the shim."""
    env = dict(os.environ, LD_PRELOAD=shim, PARKWATCH_OPTIONS="trace_dir=" + out)
    for _ in range(PROCESSES):
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)


def disk_bytes(path):
    st = os.stat(path)
    return st.st_size, st.st_blocks * 512


def main(argv):
    runs = 3
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--runs":
        runs = int(args[1])
        args = args[2:]
    if len(args) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, bigtrace = args[0], args[1]
    if len(args) == 4:
        shim, pwbench = args[2], args[3]
    else:
        build = os.path.dirname(os.path.dirname(os.path.abspath(parkwatch)))
        shim = os.path.join(build, "preload", "libparkwatch.so")
        pwbench = os.path.join(os.path.dirname(os.path.abspath(bigtrace)), "pwbench")
    with tempfile.TemporaryDirectory(prefix="pw-rbench-") as tmp:
        events = os.path.join(tmp, "events.trace")
        findings = os.path.join(tmp, "findings.trace")
        subprocess.run([bigtrace, "events", str(EVENTS), events], check=True)
        subprocess.run([bigtrace, "findings", "1000", findings], check=True)
        print("%-28s %8s %8s %12s %10s  %s" % ("analyzer", "seconds", "cpu s", "figure", "budget",
                                               ""))

        def row(name, secs, cpu, figure, budget, ok):
            print("%-28s %8s %8s %12s %10s  %s" % (
                name, "%.3f" % secs if secs is not None else "",
                "%.3f" % cpu if cpu is not None else "", figure, budget,
                "" if ok else "OVER BUDGET"))

        secs, cpu, rss = medians(bigtrace, [parkwatch, "report", events], runs)
        rate = EVENTS / secs
        row("report-10M-events", secs, cpu, "%.1fM ev/s" % (rate / 1e6), ">= 20M", rate >= 20e6)
        row("report-10M-events-rss", None, None, "%.1f MiB" % (rss / 1024), "<= 64",
            rss <= 64 * 1024)
        size, blocks = disk_bytes(events)
        row("bytes-per-event", None, None, "%.1f B" % (size / EVENTS), "<= 65",
            size / EVENTS <= 65)
        row("bytes-per-event-allocated", None, None, "%.1f B" % (blocks / EVENTS), "<= 65",
            blocks / EVENTS <= 65)
        for name, cmd, budget in [
            ("report-1000-findings", [parkwatch, "report", findings], 1),
            ("report-1000-findings-json", [parkwatch, "report", "--format", "json", findings], 1),
        ]:
            secs, cpu, rss = medians(bigtrace, cmd, runs)
            row(name, secs, cpu, "%.1f MiB" % (rss / 1024), "<= %d s" % budget, secs <= budget)
        if not (os.access(shim, os.R_OK) and os.access(pwbench, os.X_OK)):
            print("report-1000-processes: skipped (no %s or %s)" % (shim, pwbench))
            return 0
        procs = os.path.join(tmp, "procs")
        os.mkdir(procs)
        make_process_dir(shim, [pwbench, "pipe", "0.001"], procs)
        names = [n for n in os.listdir(procs) if n.endswith(".trace")]
        used = sum(disk_bytes(os.path.join(procs, n))[1] for n in names)
        secs, cpu, rss = medians(bigtrace, [parkwatch, "report", procs], runs)
        row("report-%d-processes" % len(names), secs, cpu, "%.1f MiB" % (rss / 1024), "<= 128",
            rss <= 128 * 1024)
        row("disk-per-process", None, None, "%.0f KiB" % (used / len(names) / 1024), "", True)
        victim = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(bigtrace))),
                              "progs", "unread_data-O2")
        if not os.access(victim, os.X_OK):
            print("report-1000-with-findings: skipped (no %s)" % victim)
            return 0
        found = os.path.join(tmp, "found")
        os.mkdir(found)
        make_process_dir(shim, [victim], found)
        secs, cpu, rss = medians(bigtrace, [parkwatch, "report", found], runs)
        ntraces = len([n for n in os.listdir(found) if n.endswith(".trace")])
        row("report-%d-with-findings" % ntraces, secs, cpu,
            "%.1f MiB" % (rss / 1024), "<= 128", rss <= 128 * 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

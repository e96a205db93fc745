#!/usr/bin/env python3
"""Tests of the shim side of include/parkwatch.h, through real runs.

usage:
  api_test.py lineage PARKWATCH SHIM PROGRAM
      checkpoint/verify_none: a leak through a helper that ended (transitive),
      a pool started before the checkpoint (not blamed), a thread that ends
      late on its own (waited for), a consumer parked on an annotated queue
      (the report names the queue); also without the shim (all no-ops).
  api_test.py exit PARKWATCH SHIM PROGRAM
      PARKWATCH_OPTIONS=verify_at_exit=1: leaked -> 66, clean -> 0, a timed
      wait -> 0, exit() from a thread while main joins it -> its own status;
      the program's output, atexit handler and destructor are all kept.
  api_test.py symbolized PARKWATCH SHIM PROGRAM
      verify_none prints the leaked thread symbolized (its function, file:line,
      the cond's symbol) through the CLI; the clean twin prints nothing, 0.
  api_test.py fallback PARKWATCH SHIM PROGRAM
      with no CLI to run (parkwatch_bin= names none): module+offset frames
      and the one command that symbolizes them, which then does.
  api_test.py ignore-top PARKWATCH SHIM PROGRAM
      parkwatch_ignore_top_function: a thread parked in the named function
      (static: matched by the CLI; exported: by the shim alone; a glob) is not
      counted nor reported, a leaked one beside it is.
  api_test.py ignore-current PARKWATCH SHIM PROGRAM
      parkwatch_ignore_current: threads alive at the call no longer count,
      threads started after it do.
  api_test.py queue PARKWATCH SHIM EXPECT PROGRAM MODE
      PROGRAM MODE under `parkwatch run`, checked against EXPECT (format:
      tests/e2e/pwtest.py); the chain mode also checks the blocked chain.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import check_expect  # noqa: E402
import pwtest  # noqa: E402


def env_without_shim():
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "PARKWATCH_OPTIONS", "PARKWATCH_LIB"):
        env.pop(k, None)
    return env


def need(cond, what):
    if not cond:
        raise AssertionError(what)


def lineage(shim, program):
    p = pwtest.run([program, "lineage"], env=env_without_shim())
    out = p.stdout.decode()
    need(p.returncode == 0 and out == "transitive: 0\nbefore: 0\nlate: 0\nqueue: 0\n",
         "without the shim every check is a no-op; got exit %d:\n%s" % (p.returncode, out))
    with tempfile.TemporaryDirectory(prefix="pw-api-") as tmp:
        p = pwtest.run([program, "lineage"], env=pwtest.shim_env(shim, tmp))
    out, err = p.stdout.decode(), p.stderr.decode(errors="replace")
    print("stdout:\n%sstderr:\n%s" % (out, err))
    need(p.returncode == 0, "exit %d" % p.returncode)
    need(out == "transitive: 1\nbefore: 0\nlate: 0\nqueue: 1\n", "verify_none results")
    blamed = [l for l in err.splitlines() if "verify_none(" in l]
    need(len(blamed) == 2 and "verify_none(transitive)" in blamed[0]
         and "verify_none(queue)" in blamed[1], "only 'transitive' and 'queue' are reported")
    # each report names the leaked thread, what it waits in and on, and its frames
    need("'grandchild' (tid" in err and "parked in cond-wait on cond#1 (&grand_gate" in err,
         "the grandchild's line")
    need("'consumer' (tid" in err and "parked in queue-recv on queue 'jobs'" in err,
         "the consumer's line names the queue")
    need("'pool' (tid" not in err and "poolchild" not in err and "'late' (tid" not in err,
         "threads outside the case's lineage are not blamed")
    need("#0 park_on_gate (" in err
         and "#0 consumer_main (" in err, "symbolized park frames")
    need(err.count("full report: parkwatch report ") == 2, "the trace is named")
    return 0


EXIT_CASES = [
    # mode, status with verify_at_exit=1, status without it, leak reported
    ("exit-leak", 66, 0, True),
    ("exit-status", 66, 5, True),
    ("exit-clean", 0, 0, False),
    ("exit-timed", 0, 0, False),
    ("exit-from-thread", 3, 3, False),
]


def exit_status(shim, program):
    for mode, want, want_plain, leak in EXIT_CASES:
        for opts, expected in (("verify_at_exit=1", want), ("", want_plain)):
            with tempfile.TemporaryDirectory(prefix="pw-api-") as tmp:
                p = pwtest.run([program, mode], env=pwtest.shim_env(shim, tmp, opts))
            out, err = p.stdout.decode(), p.stderr.decode(errors="replace")
            print("%s [%s]: exit %d\nstdout:\n%sstderr:\n%s" % (mode, opts, p.returncode, out, err))
            need(p.returncode == expected, "%s [%s]: exit %d, wanted %d"
                 % (mode, opts, p.returncode, expected))
            # stdout is a pipe here: fully buffered, flushed only at exit
            need(out == "main done\natexit handler ran\ndestructor ran\n",
                 "%s [%s]: the program's output and exit handlers must all survive" % (mode, opts))
            reported = "verify_at_exit:" in err
            need(reported == (leak and opts != ""), "%s [%s]: report on stderr is %s"
                 % (mode, opts, reported))
            if reported:
                need("1 thread(s) parked forever at exit" in err and "'leaker' (tid" in err
                     and "parked in cond-wait" in err and "#0 park_on_gate (" in err,
                     "%s: the report names the leaker, symbolized" % mode)
    return 0


def run_mode(shim, program, mode, opts=""):
    with tempfile.TemporaryDirectory(prefix="pw-api-") as tmp:
        p = pwtest.run([program, mode], env=pwtest.shim_env(shim, tmp, opts))
        out, err = p.stdout.decode(), p.stderr.decode(errors="replace")
        print("%s [%s]: exit %d\nstdout:\n%sstderr:\n%s" % (mode, opts, p.returncode, out, err))
        need(p.returncode == 0, "%s: exit %d" % (mode, p.returncode))
        traces = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".trace")]
        return out, err, traces


def symbolized(parkwatch, shim, program):
    out, err, _ = run_mode(shim, program, "leak")
    need(out == "leak: 1\nhost: errno kept, fds same, sigchld 0, wait none\n",
         "the leak fails verify_none; the program sees nothing of the CLI it ran")
    need("verify_none(leak): 1 thread(s) created since the checkpoint" in err, "the headline")
    need("#0 leaky_worker (" in err, "the leaking function, file:line")
    need("parked in cond-wait on cond#1 (&never)" in err, "the cond and its symbol")
    need("created by" in err and "main (" in err, "the creation stack")
    need("full report: parkwatch report " in err, "the full report's command")
    need("+0x" not in err.split("verify_none(leak)")[1].split("full report")[0]
         or "leaky_worker" in err, "symbolized, not raw")
    out, err, _ = run_mode(shim, program, "clean")
    need(out == "clean: 0\n" and err == "", "the clean twin passes and prints nothing")
    return 0


def fallback(parkwatch, shim, program):
    out, err, traces = None, None, None
    with tempfile.TemporaryDirectory(prefix="pw-api-") as tmp:
        p = pwtest.run([program, "leak"],
                       env=pwtest.shim_env(shim, tmp, "parkwatch_bin=/nonexistent/parkwatch"))
        out, err = p.stdout.decode(), p.stderr.decode(errors="replace")
        print("stdout:\n%sstderr:\n%s" % (out, err))
        need(p.returncode == 0 and out.startswith("leak: 1\n"), "the leak still fails verify_none")
        need("'leaky'" in err and "parked in cond-wait on 0x" in err, "the thread's line")
        need("#0 0x" in err and "api_ignore+0x" in err, "module+offset frames")
        cmd = [l for l in err.splitlines() if "symbolized: parkwatch threads " in l]
        need(len(cmd) == 1, "one line with the command that symbolizes")
        argv = cmd[0].split("symbolized: parkwatch ")[1].split()
        need(argv[1].startswith(tmp) and argv[2].startswith("T"), "trace and thread named")
        p = pwtest.run([parkwatch] + argv)
        sym = p.stdout.decode()
        print("$ parkwatch %s\n%s%s" % (" ".join(argv), sym, p.stderr.decode(errors="replace")))
        need(p.returncode == 0 and "#0 leaky_worker (" in sym,
             "the command prints the leaking function")
    return 0


def ignore_top(parkwatch, shim, program):
    out, err, _ = run_mode(shim, program, "ignore-top")
    need(out == "ignore-top: 1\nignore-top-only: 0\nignore-glob: 0\n", "verify_none results")
    need("verify_none(ignore-top)" in err and "leaky_worker" in err, "the leak is reported")
    need("logger_loop" not in err and "logger_flush" not in err and "logger" not in err,
         "the ignored threads are not")
    need("verify_none(ignore-top-only)" not in err and "verify_none(ignore-glob)" not in err,
         "nothing left, nothing printed")
    # the shim alone matches an exported function (no CLI to ask)
    out, err, _ = run_mode(shim, program, "ignore-exported", "parkwatch_bin=/nonexistent/pw")
    need(out == "ignore-exported: 1\n", "verify_none result without the CLI")
    need("'leaky'" in err and "'idler'" not in err, "only the leak is reported")
    out, err, _ = run_mode(shim, program, "ignore-exported")
    need(out == "ignore-exported: 1\n" and "leaky_worker" in err and "exported_idler" not in err,
         "the same with the CLI")
    return 0


def ignore_current(parkwatch, shim, program):
    out, err, _ = run_mode(shim, program, "ignore-current")
    need(out == "before: 1\nignored: 0\nafter: 1\n", "verify_none results")
    blocks = err.split("parkwatch: verify_none(")
    need(len(blocks) == 3, "two reports")
    need("'old' (tid" in blocks[1] and "'new' (tid" not in blocks[1], "the first names the old thread")
    need("'new' (tid" in blocks[2] and "'old' (tid" not in blocks[2],
         "the last names only the thread started after ignore_current")
    # the report's thread-leak leaves the ignored thread out too; dump shows the flag
    with tempfile.TemporaryDirectory(prefix="pw-api-") as tmp:
        out = os.path.join(tmp, "report.json")
        p = pwtest.run([parkwatch, "run", "--trace-dir", tmp, "--format", "json", "-o", out, "--",
                        program, "ignore-current"])
        print("run: exit %d\n%s" % (p.returncode, p.stderr.decode(errors="replace")))
        with open(out) as f:
            report = json.load(f)
        leaks = [t["name"] for f in report["findings"] if f["kind"] == "thread-leak"
                 for t in f["threads"]]
        need(p.returncode == 66 and leaks == ["new"],
             "thread-leak names only the thread started after ignore_current: %s" % leaks)
        traces = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".trace")]
        d = pwtest.run([parkwatch, "dump", traces[0]]).stdout.decode()
        old = [l for l in d.splitlines() if l.startswith("thread ") and "'old'" in l]
        need(len(old) == 1 and "ignored" in old[0].split("flags=")[1].split()[0],
             "dump flags the old thread ignored: %s" % old)
    return 0


def chain_of(report, queue):
    for f in report["findings"]:
        if f["kind"] == "channel-never-closed" and queue in f["message"]:
            return [(link.get("waits_on"), link.get("op")) for link in f.get("chain", [])]
    return None


def queue(parkwatch, shim, expect, program, mode):
    directives = pwtest.parse_expect(expect)
    report, failures = check_expect.run_and_check(parkwatch, [program, mode], directives,
                                                  "pw-api-")
    if mode == "chain":
        # collector -> queue 'results' (written by worker) -> queue 'jobs'
        got = chain_of(report, "'results'")
        want = [("queue 'results'", "queue-recv"), ("queue 'jobs'", "queue-recv")]
        if got is None or got[:2] != want:
            failures.append("chain of the 'results' finding: %s, wanted %s" % (got, want))
    return check_expect.outcome(directives, report, failures)


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "lineage":
            return lineage(argv[3], argv[4])
        if len(argv) == 5 and argv[1] == "exit":
            return exit_status(argv[3], argv[4])
        modes = {"symbolized": symbolized, "fallback": fallback, "ignore-top": ignore_top,
                 "ignore-current": ignore_current}
        if len(argv) == 5 and argv[1] in modes:
            return modes[argv[1]](*argv[2:])
        if len(argv) == 7 and argv[1] == "queue":
            return queue(*argv[2:])
    except (AssertionError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

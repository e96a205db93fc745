#!/usr/bin/env python3
"""Threads parkwatch does not follow, and live dumps of a running process.

usage: live_stack.py PARKWATCH SHIM VICTIM CASE

VICTIM is tests/progs/fifo_block (a thread blocked in read() on a FIFO the
program made; with "hold", two more threads parked on a pipe and main in
pause()).  Cases:
  unfollowed-exit  `run` of fifo_block: the program sees no SIGCHLD and no
                   child from the exit snapshot; the report shows fiforeader
                   blocked in read(fd N: <the fifo>) with its stack, text and
                   JSON, and the footer is not an all-clear ("no findings in")
  stack-plain      `parkwatch stack PID` without the shim: names, states,
                   blocked calls, function names, grouping counts
  stack-shim       the same under the shim: parks annotated from the live trace
  stack-errors     a missing pid, a pid we may not ptrace: one line, exit 2
  report-pid       `report --pid PID` of the running victim
  dump-signal      run with dump_signal=SIGUSR2: the watcher prints the live
                   report when it gets the signal; the program is untouched
  stopped-deadlock VICTIM is tests/progs/fifo_deadlock: run with
                   halt_on_deadlock=1 stops it; the report still shows
                   fiforeader's system call, fd and stack (the watcher took
                   them just before the stop)
  stopped-timeout  the same for fifo_block hold stopped by run --timeout

The stack cases need ptrace: with Yama's ptrace_scope 3 (no ptrace at all)
they are skipped (exit 77); as root any lower scope allows it.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pwtest

SKIP = 77


def ptrace_allowed():
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = int(f.read().strip() or "0")
    except OSError:
        return True
    return scope < 3 and (scope < 2 or os.geteuid() == 0)


class Victim:
    """fifo_block hold, started and waited for until it printed "ready"."""

    def __init__(self, victim, env=None, cmd_prefix=()):
        self.p = subprocess.Popen(list(cmd_prefix) + [victim, "hold"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
        line = self.p.stdout.readline().decode(errors="replace")
        assert line.strip() == "ready", "victim said %r, wanted 'ready'" % line

    def end(self):
        if self.p.poll() is None:
            self.p.kill()
        out, err = self.p.communicate(timeout=60)
        return err.decode(errors="replace")


def fifo_reader_shown(text, where):
    """fiforeader blocked in read() on the fifo, with its stack."""
    # `stack` names it "fiforeader", the text report "T3 'fiforeader'"
    m = re.search(r"fiforeader'? \(tid \d+\)[^\n]* in read\(fd \d+: [^)\n]*/fifo[^)\n]*\)", text)
    assert m, "%s: fiforeader is not shown blocked in read on the fifo:\n%s" % (where, text)
    after = text[m.end():]
    assert "wait_for_fifo_data" in after and "fifo_reader" in after, \
        "%s: fiforeader's stack lacks wait_for_fifo_data / fifo_reader:\n%s" % (where, text)


def unfollowed_exit(parkwatch, shim, victim, tmp):
    d = os.path.join(tmp, "traces")
    p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", victim], timeout=120)
    text = p.stderr.decode(errors="replace")
    assert p.returncode == 0, "run exited %d:\n%s" % (p.returncode, text)
    # the exit snapshot's CLI is nobody's child as far as the program can see
    out = p.stdout.decode(errors="replace")
    assert "SIGCHLD" not in out and "reaped" not in out, "the program saw the snapshot's CLI:\n" + out
    fifo_reader_shown(text, "run")
    assert "no findings in" not in text, "an all-clear despite an unfollowed wait:\n" + text
    assert "but 1 thread blocked in an unfollowed wait (see above)" in text, text
    traces = pwtest.trace_files(d)
    assert len(traces) == 1, "traces: %r" % traces
    j = pwtest.run([parkwatch, "report", "--format", "json", traces[0]])
    assert j.returncode == 0, j.stderr
    rep = json.loads(j.stdout)
    proc = rep["processes"][0]
    th = {t["name"]: t for t in proc["threads"]}
    r = th.get("fiforeader")
    assert r, "no fiforeader thread in %r" % list(th)
    assert r["state"] == "blocked", r["state"]
    assert r["unfollowed"] is True
    assert r["kernel"]["syscall"] == "read" and r["kernel"]["fd"] is not None, r["kernel"]
    assert "fifo" in (r["kernel"]["fd_target"] or ""), r["kernel"]
    fns = [f.get("function") for f in r["stack"]]
    assert "wait_for_fifo_data" in fns, fns
    assert proc["unfollowed"] == 1, proc["unfollowed"]
    # the thread that called exit is not counted, and is not "unknown"
    assert th["main"]["state"] == "running", th["main"]["state"]
    return "fiforeader shown blocked in read on the fifo, with its stack; no all-clear"


def stopped_report(parkwatch, traces, text, where):
    """A process the watcher stopped: fiforeader, in a wait the shim does not
    follow, is shown with the system call, fd and stack the watcher saw just
    before the stop, in text and JSON; never as unknown."""
    fifo_reader_shown(text, where)
    assert len(traces) == 1, "traces: %r" % traces
    j = pwtest.run([parkwatch, "report", "--fail-on", "none", "--format", "json", traces[0]])
    assert j.returncode == 0, j.stderr
    rep = json.loads(j.stdout)
    proc = rep["processes"][0]
    th = {t["name"]: t for t in proc["threads"]}
    r = th.get("fiforeader")
    assert r, "no fiforeader thread in %r" % list(th)
    assert r["state"] == "blocked", r["state"]
    assert r["kernel"]["syscall"] == "read" and r["kernel"]["fd"] is not None, r["kernel"]
    assert "fifo" in (r["kernel"]["fd_target"] or ""), r["kernel"]
    fns = [f.get("function") for f in r["stack"]]
    assert "wait_for_fifo_data" in fns and "fifo_reader" in fns, fns
    return th


def stopped_deadlock(parkwatch, shim, victim, tmp):
    """fifo_deadlock under run with halt_on_deadlock=1: stopped for the cycle."""
    env = dict(os.environ)
    env["PARKWATCH_OPTIONS"] = "halt_on_deadlock=1"
    d = os.path.join(tmp, "traces")
    p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", victim], timeout=120, env=env)
    text = p.stderr.decode(errors="replace")
    assert p.returncode == 66, "run exited %d:\n%s" % (p.returncode, text)
    assert "halt_on_deadlock=1" in text and "main ran to its end" not in text, text
    th = stopped_report(parkwatch, pwtest.trace_files(d), text, "run (halt_on_deadlock)")
    # main sleeps in steps (not a park): it too has the kernel's word
    assert th["main"]["state"] in ("blocked", "running"), th["main"]
    assert th["main"]["state"] == "running" or th["main"]["kernel"]["syscall"] in \
        ("clock_nanosleep", "nanosleep"), th["main"]["kernel"]
    return "stopped by halt_on_deadlock; fiforeader shown blocked in read on the fifo, with its stack"


def stopped_timeout(parkwatch, shim, victim, tmp):
    """fifo_block hold under run --timeout: no verdict can be certain (main in
    pause, fiforeader in read), so the timeout stops it."""
    d = os.path.join(tmp, "traces")
    p = pwtest.run([parkwatch, "run", "--timeout", "3", "--trace-dir", d, "--", victim, "hold"],
                   timeout=120)
    text = p.stderr.decode(errors="replace")
    assert "still runs after 3 s; terminating it" in text, text
    assert p.returncode != 0, "run exited 0:\n" + text
    th = stopped_report(parkwatch, pwtest.trace_files(d), text, "run --timeout")
    assert th["main"]["state"] == "blocked" and th["main"]["kernel"]["syscall"] == "pause", \
        th["main"]
    return "stopped by --timeout; fiforeader shown blocked in read on the fifo, with its stack"


def stack_common(text, where):
    assert re.search(r"^parkwatch: pid \d+ \(fifo_block[-\w]*\): 4 threads, 3 distinct stacks", text,
                     re.M), "%s: headline:\n%s" % (where, text)
    fifo_reader_shown(text, where)
    # the two pipe workers share one stack: one group of two
    m = re.search(r"^2 threads with this stack:\n((?:  (?:\S|    chain:).*\n)+)", text, re.M)
    assert m, "%s: no group of 2:\n%s" % (where, text)
    group = m.group(1)
    assert group.count("pipeworker (tid") == 2, "%s: group:\n%s" % (where, group)
    assert re.search(r"sleeping in read\(fd \d+: pipe:\[\d+\]\)", group), group
    rest = text[m.end():]
    assert "pipe_worker" in rest.split("thread with this stack")[0], \
        "%s: the group's stack lacks pipe_worker:\n%s" % (where, text)
    assert re.search(r"fifo_block[-\w]* \(tid \d+\) sleeping in pause", text), text
    assert text.count("1 thread with this stack:") == 2, text


def stack_settled(parkwatch, pid):
    """`parkwatch stack PID` once main sits in pause(): after printing "ready"
    it still flushes stdout, so look again until it is there (a condition,
    not a delay)."""
    for _ in range(100):
        p = pwtest.run([parkwatch, "stack", str(pid)])
        text = p.stdout.decode(errors="replace")
        assert p.returncode == 0, "stack exited %d: %s" % (p.returncode, p.stderr)
        if re.search(r"\(tid %d\) sleeping in pause" % pid, text):
            return text
        time.sleep(0.05)
    return text


def stack_plain(parkwatch, shim, victim, tmp):
    v = Victim(victim)
    try:
        text = stack_settled(parkwatch, v.p.pid)
        stack_common(text, "stack")
        assert "annotated" not in text and "parked in" not in text, text
        # the victim carries on, untouched
        assert v.p.poll() is None, "the victim ended"
    finally:
        err = v.end()
    assert "read:" not in err, "the victim's read failed: " + err
    return "threads, states, blocked calls and groups shown without the shim"


def stack_shim(parkwatch, shim, victim, tmp):
    v = Victim(victim, env=pwtest.shim_env(shim, tmp))
    try:
        text = stack_settled(parkwatch, v.p.pid)
        stack_common(text, "stack (shim)")
        assert "annotated from its trace" in text, text
        assert len(re.findall(r"pipeworker \(tid \d+\) .*; parked in pipe-read on pipe#\d+", text)) \
            == 2, text
        assert re.search(r"chain: pipeworker \(pipe-read pipe#\d+\) -> write end held by main, "
                         r"which is blocked in pause", text), text
        assert re.search(r"fiforeader .*; not parked on an object the shim knows", text), text
    finally:
        v.end()
    return "parks annotated with object and chain from the live trace"


def stack_errors(parkwatch, shim, victim, tmp):
    p = pwtest.run([parkwatch, "stack", "999999999"])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2 and len(err.splitlines()) == 1, (p.returncode, err)
    assert "no process" in err, err
    if os.geteuid() != 0:
        return "missing pid: one line, exit 2 (not root: the permission case needs root)"
    # an unprivileged user may not look at a root process
    v = Victim(victim)
    try:
        p = subprocess.run([parkwatch, "stack", str(v.p.pid)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60,
                           preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 2 and len(err.splitlines()) == 1, (p.returncode, err)
        assert "ptrace permission" in err, err
    finally:
        v.end()
    return "missing pid and no permission: one line, exit 2"


def report_pid(parkwatch, shim, victim, tmp):
    v = Victim(victim, env=pwtest.shim_env(shim, tmp))
    try:
        stack_settled(parkwatch, v.p.pid)  # main has reached pause()
        p = pwtest.run([parkwatch, "report", "--pid", str(v.p.pid)])
        text = p.stdout.decode(errors="replace")
        assert p.returncode == 0, "report --pid exited %d: %s" % (p.returncode, p.stderr)
        assert "is still running; threads parked now" in text, text
        assert re.search(r"2 threads parked in pipe-read on pipe#\d+ for \d+ ms: T\d+ 'pipeworker'", text), \
            text
        assert re.search(r"T\d+ 'fiforeader' \(tid \d+\) blocked in read\(fd \d+: ", text), text
        assert re.search(r"T1 'main' \(tid \d+\) blocked in pause", text), text
        j = pwtest.run([parkwatch, "report", "--format", "json", "--pid", str(v.p.pid)])
        rep = json.loads(j.stdout)
        states = sorted(t["state"] for t in rep["processes"][0]["threads"])
        assert states == ["blocked", "blocked", "parked", "parked"], states
        # a directory operand is not needed, and --pid is report's alone
        q = pwtest.run([parkwatch, "run", "--pid", "1", "--", "true"])
        assert q.returncode == 2, q.returncode
    finally:
        v.end()
    return "report --pid reads the running process's trace"


def dump_signal(parkwatch, shim, victim, tmp):
    env = dict(os.environ)
    env["PARKWATCH_OPTIONS"] = "dump_signal=SIGUSR2"
    d = os.path.join(tmp, "traces")
    run = subprocess.Popen([parkwatch, "run", "--trace-dir", d, "--", victim, "hold"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=env)
    try:
        line = run.stdout.readline().decode(errors="replace")
        assert line.strip() == "ready", line
        os.kill(run.pid, signal.SIGUSR2)
        # the watcher answers within a watch interval; wait for the report's end
        # by reading stderr up to its footer line
        got = b""
        deadline = time.monotonic() + 60
        while b"parkwatch: no findings" not in got and time.monotonic() < deadline:
            chunk = os.read(run.stderr.fileno(), 65536)
            if not chunk:
                break
            got += chunk
        text = got.decode(errors="replace")
        assert "parkwatch: live report (dump_signal)" in text, text
        assert "is still running; threads parked now" in text, text
        assert run.poll() is None, "run ended on the signal"
    finally:
        subprocess.run(["pkill", "-KILL", "-P", str(run.pid)])
        run.communicate(timeout=60)
    return "the watcher printed the live report on SIGUSR2; the program ran on"


CASES = {
    "unfollowed-exit": unfollowed_exit,
    "stack-plain": stack_plain,
    "stack-shim": stack_shim,
    "stack-errors": stack_errors,
    "report-pid": report_pid,
    "dump-signal": dump_signal,
    "stopped-deadlock": stopped_deadlock,
    "stopped-timeout": stopped_timeout,
}


def main():
    parkwatch, shim, victim, case = sys.argv[1:5]
    if case != "unfollowed-exit" and case != "dump-signal" and not ptrace_allowed():
        print("skip: ptrace is not allowed here (kernel.yama.ptrace_scope)")
        return SKIP
    return pwtest.in_scratch("pw-live-", lambda tmp: CASES[case](parkwatch, shim, victim, tmp))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Who the watcher may believe and signal, hostile inputs, and run's own options
(SPEC.md "Live deadlock detection", "Exit status"; issue 13 points 6-8).

usage: trust.py PARKWATCH SHIM VICTIM CASE

VICTIM parks every thread forever (all_blocked).  Cases:
  forged-not-descendant  a copy of a live victim's trace in run's --trace-dir,
                         naming a process run did not start: never signalled
  forged-symlink         the trace of a descendant reached through a symlink:
                         never signalled
  forged-other-uid       a copy owned by another user (needs root to chown;
                         skipped otherwise): never signalled
  sidecar-forged-ppid    the watchdog=1 sidecar of a plain LD_PRELOAD process
                         and a copy of a live victim's trace whose header
                         claims that process as its parent: never signalled
  forged-control         the same copy, owned by us and naming a descendant: the
                         victim is stopped (so the cases above test the rules)
  fifo-report, fifo-dump, fifo-report-dir, fifo-run-dir, socket-report,
  devzero-report, devzero-dump
                         a FIFO, socket or device where a trace is expected:
                         one line, no hang
  supp-devzero, supp-fifo, supp-huge
                         a suppressions file that is not a bounded regular file
  env-trace-dir          an exported PARKWATCH_OPTIONS=trace_dir=X does not
                         defeat run
  nested                 parkwatch run -- parkwatch run -- VICTIM
  nested-trace-dir       the same, the inner run with its own --trace-dir
  child PARKWATCH SHIM VICTIM MODE TRACE-DIR
                         (internal) the program the forged-* cases run
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pwtest

SKIP = 77
READY_TIMEOUT = 30  # upper bound for the victim's threads to park
# The watcher acts on a quiet trace after one interval; the forged cases give
# it many intervals, and the control case shows the same setup is acted on.
INTERVAL_MS = 100
WATCH_WINDOW_S = 3.0


def state_of(pid):
    """The process state letter of PID, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid):
    s = state_of(pid)
    return s is not None and s not in ("Z", "X")


def wait_parked(parkwatch, path, proc):
    """Waits until the live trace at PATH shows two parked threads."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError("victim exited early with %d" % proc.returncode)
        if os.path.exists(path):
            tr, _ = pwtest.dump(parkwatch, path)
            if sum(1 for t in tr.threads if t.get("parked")) == 2:
                return
        if time.monotonic() > deadline:
            raise AssertionError("the victim's trace never showed its parks")
        time.sleep(0.1)


def start_victim(parkwatch, shim, victim, trace_dir):
    """The victim under plain LD_PRELOAD, its trace in TRACE_DIR, parked."""
    env = pwtest.shim_env(shim, trace_dir, "watchdog=0")
    proc = subprocess.Popen([victim], env=env, stdin=subprocess.DEVNULL)
    path = os.path.join(trace_dir, "parkwatch.%d.trace" % proc.pid)
    wait_parked(parkwatch, path, proc)
    return proc, path


def child(parkwatch, shim, victim, mode, run_dir):
    """Runs under `parkwatch run --trace-dir RUN_DIR`: starts the victim (a
    descendant of run's program) with its trace elsewhere, puts the forged
    trace into RUN_DIR, waits, and prints the victim's state."""
    own = run_dir + ".victim"
    os.mkdir(own)
    proc, path = start_victim(parkwatch, shim, victim, own)
    forged = os.path.join(run_dir, os.path.basename(path))
    if mode == "symlink":
        os.symlink(path, forged)
    else:
        # made aside and renamed in: the watcher must never see a half-made
        # file (a copy in progress is ours until the chown)
        staged = os.path.join(own, "staged")
        shutil.copyfile(path, staged)
        os.chmod(staged, 0o600)
        if mode == "other-uid":
            os.chown(staged, 65534, 65534)
        os.rename(staged, forged)
    deadline = time.monotonic() + (READY_TIMEOUT if mode == "control" else WATCH_WINDOW_S)
    while alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("victim", "alive" if alive(proc.pid) else "stopped", flush=True)
    proc.kill()
    proc.wait()
    return 0


def run_env():
    env = dict(os.environ)
    env["PARKWATCH_OPTIONS"] = "watchdog_ms=%d" % INTERVAL_MS
    return env


def forged_case(parkwatch, shim, victim, tmp, mode):
    if mode == "other-uid" and os.geteuid() != 0:
        print("skip: chown to another uid needs root")
        return SKIP
    run_dir = os.path.join(tmp, "shared")
    os.mkdir(run_dir)
    cmd = [parkwatch, "run", "--fail-on", "none", "--trace-dir", run_dir, "--",
           sys.executable, os.path.abspath(__file__), "child", parkwatch, shim, victim, mode,
           run_dir]
    p = pwtest.run(cmd, timeout=120, env=run_env())
    out = p.stdout.decode(errors="replace")
    print("run -> %d\nstdout %r\nstderr %s" % (p.returncode, out,
                                               p.stderr.decode(errors="replace")))
    want = "victim stopped" if mode == "control" else "victim alive"
    if want not in out:
        return "%s: wanted '%s'" % (mode, want)
    if mode != "control" and "terminating" in p.stderr.decode(errors="replace"):
        return "the watcher announced a termination"
    return None


def not_descendant_case(parkwatch, shim, victim, tmp):
    """The victim runs outside run; its live trace is copied into run's
    directory, as another program (or user) sharing the directory could."""
    own = os.path.join(tmp, "elsewhere")
    os.mkdir(own)
    run_dir = os.path.join(tmp, "shared")
    os.mkdir(run_dir)
    proc, path = start_victim(parkwatch, shim, victim, own)
    try:
        shutil.copyfile(path, os.path.join(run_dir, os.path.basename(path)))
        p = pwtest.run([parkwatch, "run", "--trace-dir", run_dir, "--", "sleep",
                        str(WATCH_WINDOW_S)], timeout=60, env=run_env())
        err = p.stderr.decode(errors="replace")
        print("run -> %d, stderr %s" % (p.returncode, err))
        if not alive(proc.pid):
            return "the victim (not started by run) was signalled"
        if p.returncode != 0:
            return "run exited %d, wanted 0 (sleep's status)" % p.returncode
        return None
    finally:
        proc.kill()
        proc.wait()


def sidecar_case(parkwatch, shim, victim, tmp):
    """The header's ppid is the forger's to write: only /proc says who is a
    descendant of the process that started the sidecar."""
    own = os.path.join(tmp, "elsewhere")
    os.mkdir(own)
    shared = os.path.join(tmp, "shared")
    os.mkdir(shared)
    proc, path = start_victim(parkwatch, shim, victim, own)
    try:
        env = pwtest.shim_env(shim, shared, "watchdog=1:watchdog_ms=%d:parkwatch_bin=%s" %
                              (INTERVAL_MS, parkwatch))
        host = subprocess.Popen(["sleep", str(WATCH_WINDOW_S)], env=env,
                                stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        ids = struct.pack("<ii", proc.pid, os.getpid())
        at = data.find(ids, 0, 4096)
        if at < 0:
            raise AssertionError("pid and ppid not found in the victim's header")
        data[at + 4:at + 8] = struct.pack("<i", host.pid)
        staged = os.path.join(own, "staged")
        with open(staged, "wb") as f:
            f.write(data)
        os.chmod(staged, 0o600)
        os.rename(staged, os.path.join(shared, os.path.basename(path)))
        _, err = host.communicate(timeout=60)
        err = err.decode(errors="replace")
        print("host -> %d, stderr %s" % (host.returncode, err))
        if not alive(proc.pid):
            return "the sidecar signalled a process the host did not start"
        if "terminating" in err:
            return "the sidecar announced a termination"
        return None
    finally:
        proc.kill()
        proc.wait()


def one_line_error(p, what, want_status=2):
    err = p.stderr.decode(errors="replace")
    lines = err.splitlines()
    print("%s -> %d, stderr %r" % (what, p.returncode, err))
    if p.returncode != want_status:
        return "%s: exit status %d, wanted %d" % (what, p.returncode, want_status)
    if len(lines) != 1:
        return "%s: stderr has %d lines, wanted one" % (what, len(lines))
    return None


def make_special(tmp, kind):
    """A FIFO, socket or /dev/zero named like a trace."""
    path = os.path.join(tmp, "parkwatch.4242.trace")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
    else:
        return "/dev/zero"
    return path


def hostile_case(parkwatch, shim, victim, tmp, case):
    kind, _, cmd = case.partition("-")
    if cmd == "run-dir":
        d = os.path.join(tmp, "t")
        os.mkdir(d)
        make_special(d, kind)
        # the victim keeps the watcher busy until it is stopped: every check
        # lists the directory, FIFO included
        p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", victim], timeout=60,
                       env=run_env())
        err = p.stderr.decode(errors="replace")
        print("run -> %d, stderr %s" % (p.returncode, err))
        skipped = [l for l in err.splitlines() if "parkwatch.4242.trace" in l]
        if p.returncode != 66:
            return "run exited %d, wanted 66 (victim stopped, finding reported)" % p.returncode
        if len(skipped) != 1 or "FIFO" not in skipped[0]:
            return "wanted one line naming the FIFO, got %r" % skipped
        return None
    if cmd == "report-dir":
        d = os.path.join(tmp, "t")
        os.mkdir(d)
        make_special(d, kind)
        p = pwtest.run([parkwatch, "report", d], timeout=20)
        err = p.stderr.decode(errors="replace")
        print("report DIR -> %d, stderr %r" % (p.returncode, err))
        if p.returncode != 2 or "FIFO" not in err:
            return "wanted exit 2 and the FIFO named"
        # next to a real trace: skipped with one line, the rest reported
        p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", "true"], timeout=60)
        p = pwtest.run([parkwatch, "report", d], timeout=20)
        err = p.stderr.decode(errors="replace")
        print("report DIR (with a trace) -> %d, stderr %r" % (p.returncode, err))
        lines = [l for l in err.splitlines() if "parkwatch.4242.trace" in l]
        if p.returncode != 0 or len(lines) != 1:
            return "wanted exit 0 and one line about the FIFO"
        return None
    path = make_special(tmp, kind)
    return one_line_error(pwtest.run([parkwatch, cmd, path], timeout=20),
                          "%s %s" % (cmd, kind))


def supp_case(parkwatch, tmp, kind):
    d = os.path.join(tmp, "t")
    pwtest.run([parkwatch, "run", "--trace-dir", d, "--", "true"], timeout=60)
    if kind == "devzero":
        supp = "/dev/zero"
    elif kind == "fifo":
        supp = os.path.join(tmp, "supp")
        os.mkfifo(supp)
    else:
        supp = os.path.join(tmp, "supp")
        with open(supp, "w") as f:
            line = "# " + "x" * 78 + "\n"
            f.write(line * (2 * 1024 * 1024 // len(line)))
    return one_line_error(pwtest.run([parkwatch, "report", "--suppressions", supp, d],
                                     timeout=20), "report --suppressions " + kind)


def env_case(parkwatch, victim, tmp):
    elsewhere = os.path.join(tmp, "elsewhere")
    env = dict(os.environ)
    env["PARKWATCH_OPTIONS"] = "trace_dir=%s:watchdog=1:watchdog_ms=%d" % (elsewhere,
                                                                            INTERVAL_MS)
    d = os.path.join(tmp, "t")
    p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", victim], timeout=60, env=env)
    err = p.stderr.decode(errors="replace")
    print("run -> %d, stderr %s" % (p.returncode, err))
    warned = [l for l in err.splitlines() if "PARKWATCH_OPTIONS" in l]
    if p.returncode != 66:
        return "exit status %d, wanted 66" % p.returncode
    if "all-threads-blocked" not in err:
        return "no all-threads-blocked finding in the report"
    if len(warned) != 2 or "trace_dir=" + elsewhere not in warned[0] or \
            "watchdog=1" not in warned[1]:
        return "wanted one warning per overridden key, got %r" % warned
    if os.path.exists(elsewhere):
        return "traces were written to the user's trace_dir"
    if not pwtest.trace_files(d):
        return "no trace in run's directory"
    return None


def nested_case(parkwatch, victim, tmp, inner_dir):
    d = os.path.join(tmp, "t")
    inner = ["--trace-dir", os.path.join(tmp, "inner")] if inner_dir else []
    p = pwtest.run([parkwatch, "run", "--trace-dir", d, "--", parkwatch, "run"] + inner +
                   ["--", victim], timeout=60, env=run_env())
    err = p.stderr.decode(errors="replace")
    print("run -> %d, stderr %s" % (p.returncode, err))
    if p.returncode != 66:
        return "exit status %d, wanted 66" % p.returncode
    if "terminating pid" not in err:
        return "the victim was not stopped by the watchdog"
    # the inner run's report and the outer one's both have the finding
    if err.count("all-threads-blocked:") != 2:
        return "wanted the finding in both reports"
    if "no findings" in err:
        return "a report says no findings"
    return None


def main(argv):
    if len(argv) >= 2 and argv[1] == "child":
        return child(*argv[2:7])
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, shim, victim, case = argv[1:]
    parkwatch, victim = os.path.abspath(parkwatch), os.path.abspath(victim)

    def body(tmp):
        if case == "sidecar-forged-ppid":
            return sidecar_case(parkwatch, shim, victim, tmp)
        if case == "forged-not-descendant":
            return not_descendant_case(parkwatch, shim, victim, tmp)
        if case.startswith("forged-"):
            return forged_case(parkwatch, shim, victim, tmp, case[len("forged-"):])
        if case.startswith("supp-"):
            return supp_case(parkwatch, tmp, case[len("supp-"):])
        if case == "env-trace-dir":
            return env_case(parkwatch, victim, tmp)
        if case in ("nested", "nested-trace-dir"):
            return nested_case(parkwatch, victim, tmp, case == "nested-trace-dir")
        return hostile_case(parkwatch, shim, victim, tmp, case)

    tmp = tempfile.mkdtemp(prefix="pw-trust-")
    try:
        r = body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if r == SKIP:
        return SKIP
    print("FAIL: " + r if r else "ok: " + case)
    return 1 if r else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

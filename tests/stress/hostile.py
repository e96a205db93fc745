#!/usr/bin/env python3
"""Hostile environments for the shim and the analyzer.

usage: hostile.py PARKWATCH SHIM CASE THREADS_HOST CRASH_HOST STATIC_HOST

THREADS_HOST is tests/stress/threads.c, CRASH_HOST crash.c, STATIC_HOST a
statically linked program.  Cases:
  setuid          a set-user-ID program: the loader drops LD_PRELOAD; same output,
                  no crash, and `run` says in one line why nothing was traced
  static          a static binary: same output and status, one clear note from run
  unwritable-dir  trace_dir on a read-only mount: one warning line, program runs
  missing-dir     trace_dir that does not exist: one warning line, program runs
  full-tmpfs      a 1 MiB tmpfs (too small for a trace): one warning line; then a
                  tmpfs with room for a small trace that the host fills up while
                  it runs: one warning line, no SIGBUS, the trace still reads
  fsize-limit     RLIMIT_FSIZE below the trace size: one warning line, no SIGXFSZ
  symlink         parkwatch.<pid>.trace planted as a symlink before the process
                  starts: never followed (its target is untouched), the trace
                  goes to another name
  copied-trace    a trace read after its program's file was replaced by another
                  build (different build-id): frames degrade to module+offset,
                  never to wrong names; with the original back (found by build-id
                  under a debug directory), the names return
"""

import json
import os
import pwd
import resource
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import pwtest  # noqa: E402


def run(cmd, env=None, preexec=None, timeout=60):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, preexec_fn=preexec, timeout=timeout)


def text(b):
    return b.decode(errors="replace")


def shim_env(shim, opts):
    env = dict(os.environ)
    env["LD_PRELOAD"] = shim
    env["PARKWATCH_OPTIONS"] = opts
    return env


def warn_lines(err):
    return [l for l in text(err).splitlines() if l.startswith("parkwatch:")]


def same(native, traced, what):
    """Same status and stdout; stderr the same apart from the shim's lines."""
    fails = []
    if native.returncode != traced.returncode:
        fails.append("%s: status %d, natively %d" % (what, traced.returncode, native.returncode))
    if native.stdout != traced.stdout:
        fails.append("%s: stdout %r, natively %r" % (what, traced.stdout, native.stdout))
    rest = "\n".join(l for l in text(traced.stderr).splitlines() if not l.startswith("parkwatch:"))
    if rest.strip() != text(native.stderr).strip():
        fails.append("%s: stderr %r, natively %r" % (what, rest, text(native.stderr)))
    return fails


def one_warning(p, want, what):
    w = warn_lines(p.stderr)
    print("%s stderr: %r" % (what, text(p.stderr)))
    if len(w) != 1:
        return ["%s: %d shim warning lines, wanted exactly one" % (what, len(w))]
    if want not in w[0]:
        return ["%s: warning %r does not say %r" % (what, w[0], want)]
    return []


def mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    p = run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path])
    return p.returncode == 0


def umount(path):
    run(["umount", path])


def case_setuid(a, tmp):
    if os.geteuid() != 0:
        return "skip: needs root to make a set-user-ID file"
    os.chmod(tmp, 0o755)
    prog = os.path.join(tmp, "suid_threads")
    shutil.copy(a.threads, prog)
    nobody = pwd.getpwnam("nobody")
    os.chown(prog, nobody.pw_uid, nobody.pw_gid)
    os.chmod(prog, 0o4755)  # root runs it as euid nobody: AT_SECURE
    cmd = [prog, "churn", "4"]
    native = run(cmd)
    traces = os.path.join(tmp, "t")
    os.mkdir(traces)
    fails = same(native, run(cmd, env=shim_env(a.shim, "trace_dir=" + traces)), "LD_PRELOAD")
    if pwtest.trace_files(traces):
        fails.append("a set-user-ID program was traced: %s" % pwtest.trace_files(traces))
    viarun = run([a.parkwatch, "run", "--trace-dir", os.path.join(tmp, "r"), "--"] + cmd)
    print("run stderr: %r" % text(viarun.stderr))
    if viarun.returncode != native.returncode or viarun.stdout != native.stdout:
        fails.append("run: status %d stdout %r" % (viarun.returncode, viarun.stdout))
    if "set-user-ID" not in text(viarun.stderr):
        fails.append("run did not say the program is set-user-ID")
    return fails


def case_static(a, tmp):
    native = run([a.static])
    traces = os.path.join(tmp, "t")
    os.mkdir(traces)
    fails = same(native, run([a.static], env=shim_env(a.shim, "trace_dir=" + traces)), "LD_PRELOAD")
    viarun = run([a.parkwatch, "run", "--trace-dir", os.path.join(tmp, "r"), "--", a.static])
    print("run stderr: %r" % text(viarun.stderr))
    if viarun.returncode != native.returncode or viarun.stdout != native.stdout:
        fails.append("run: status %d stdout %r" % (viarun.returncode, viarun.stdout))
    if "statically linked" not in text(viarun.stderr):
        fails.append("run did not say the program is statically linked")
    return fails


def traced_vs_native(a, opts, want, preexec=None, args=("churn", "4")):
    cmd = [a.threads] + list(args)
    native = run(cmd, preexec=preexec)
    traced = run(cmd, env=shim_env(a.shim, opts), preexec=preexec)
    return same(native, traced, "LD_PRELOAD") + one_warning(traced, want, "LD_PRELOAD")


def case_unwritable_dir(a, tmp):
    ro = os.path.join(tmp, "ro")
    if not mount_tmpfs(ro, "ro,size=1m"):
        return "skip: cannot mount a read-only tmpfs here"
    try:
        return traced_vs_native(a, "trace_dir=" + ro, "Read-only file system")
    finally:
        umount(ro)


def case_missing_dir(a, tmp):
    return traced_vs_native(a, "trace_dir=" + os.path.join(tmp, "no", "such"), "cannot create trace file")


def case_full_tmpfs(a, tmp):
    small = os.path.join(tmp, "small")
    if not mount_tmpfs(small, "size=1m"):
        return "skip: cannot mount a tmpfs here"
    try:
        fails = traced_vs_native(a, "trace_dir=" + small, "more than the free space")
    finally:
        umount(small)
    # Room for a small trace at the start; the host then fills the disk and
    # starts threads whose slots were never backed.
    if not mount_tmpfs(small, "size=4m"):
        return fails + ["second mount failed"]
    try:
        opts = "trace_dir=%s:max_threads=64:ring_events=16:depot_kb=64:max_notes=64:max_chans=16" % small
        fails += traced_vs_native(a, opts, "no space left", args=("fill", small, "40"))
        paths = pwtest.trace_files(small)
        if len(paths) != 1:
            fails.append("expected one trace in the full tmpfs, found %s" % paths)
        for p in paths:
            pwtest.dump(a.parkwatch, p)
    finally:
        umount(small)
    # A thread's ring is backed page by page as its first lap reaches them: the
    # main thread alone writes past the pages backed before the disk filled.
    if not mount_tmpfs(small, "size=4m"):
        return fails + ["third mount failed"]
    try:
        opts = "trace_dir=%s:max_threads=16:ring_events=1024:depot_kb=64:max_notes=64:max_chans=16" % small
        fails += traced_vs_native(a, opts, "no space left", args=("fillwait", small, "3000"))
        for p in pwtest.trace_files(small):
            pwtest.dump(a.parkwatch, p)
    finally:
        umount(small)
    return fails


def case_fsize_limit(a, tmp):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
    traces = os.path.join(tmp, "t")
    os.mkdir(traces)
    return traced_vs_native(a, "trace_dir=" + traces, "RLIMIT_FSIZE", preexec=limit)


def case_symlink(a, tmp):
    traces = os.path.join(tmp, "t")
    os.mkdir(traces)
    target = os.path.join(tmp, "precious")
    with open(target, "w") as f:
        f.write("do not touch\n")
    os.chmod(target, 0o644)
    # The child waits on a pipe until the link named after its pid is planted.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execve(a.threads, [a.threads, "churn", "4"], shim_env(a.shim, "trace_dir=" + traces))
    os.close(r)
    link = os.path.join(traces, "parkwatch.%d.trace" % pid)
    os.symlink(target, link)
    os.write(w, b"x")
    os.close(w)
    _, status = os.waitpid(pid, 0)
    fails = []
    if os.waitstatus_to_exitcode(status) != 0:
        fails.append("host exited %d" % os.waitstatus_to_exitcode(status))
    with open(target) as f:
        if f.read() != "do not touch\n":
            fails.append("the symlink's target was written through")
    if stat.S_IMODE(os.stat(target).st_mode) != 0o644:
        fails.append("the symlink's target changed mode")
    if not os.path.islink(link):
        fails.append("the planted symlink was replaced")
    others = [p for p in pwtest.trace_files(traces) if p != link]
    print("traces: %s" % os.listdir(traces))
    if len(others) != 1:
        fails.append("expected the trace under another name, found %s" % others)
    for p in others:
        if os.path.islink(p) or stat.S_IMODE(os.stat(p).st_mode) != 0o600:
            fails.append("%s is not a plain 0600 file" % p)
        pwtest.dump(a.parkwatch, p)
    return fails


def report(a, paths, env=None):
    p = run([a.parkwatch, "report", "--format", "json"] + paths, env=env)
    if p.returncode not in (0, 66):
        raise AssertionError("report exited %d: %s" % (p.returncode, text(p.stderr)))
    return json.loads(p.stdout)


def crash_frames(rep, module):
    """Frames of MODULE in the findings' park stacks."""
    return [fr for f in rep["findings"] for t in f.get("threads", [])
            for fr in t.get("stack", []) if fr.get("module") == module]


def build_id_path(elf_path, root):
    p = run(["readelf", "-n", elf_path])
    for line in text(p.stdout).splitlines():
        if "Build ID:" in line:
            bid = line.split("Build ID:")[1].strip()
            return os.path.join(root, ".build-id", bid[:2], bid[2:] + ".debug")
    return None


def case_copied_trace(a, tmp):
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    prog = os.path.join(bindir, "crash_host")
    shutil.copy(a.crash, prog)
    traces = os.path.join(tmp, "t")
    os.mkdir(traces)
    run([prog, "abort"], env=shim_env(a.shim, "trace_dir=" + traces),
        preexec=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
    paths = pwtest.trace_files(traces)
    if len(paths) != 1:
        return ["expected one trace, found %s" % paths]
    # "Another machine": the trace copied elsewhere, the program file there
    # a different build (same path, other build-id).
    elsewhere = os.path.join(tmp, "elsewhere")
    os.mkdir(elsewhere)
    copied = shutil.copy(paths[0], elsewhere)
    fails = []
    fns = {fr.get("function") for fr in crash_frames(report(a, [copied]), prog)}
    print("same binary: %s" % sorted(f for f in fns if f))
    if "stuck_reader" not in fns:
        fails.append("copied trace, same binary: stuck_reader not symbolized (%s)" % fns)
    original = os.path.join(tmp, "original")
    shutil.move(prog, original)
    shutil.copy(a.threads, prog)
    frames = crash_frames(report(a, [copied]), prog)
    print("other build: %s" % frames[:3])
    if not frames:
        fails.append("other build: no frame names the module")
    for fr in frames:
        if fr.get("function") is not None or not fr.get("pc"):
            fails.append("other build: frame %s is not module+offset" % fr)
            break
    # The original found by build-id under a debug directory.
    debug = os.path.join(tmp, "debug")
    dest = build_id_path(original, debug)
    if dest is None:
        return fails + ["no build-id in %s" % original]
    os.makedirs(os.path.dirname(dest))
    shutil.copy(original, dest)
    env = dict(os.environ)
    env["PARKWATCH_DEBUG_PATH"] = debug
    fns = {fr.get("function") for fr in crash_frames(report(a, [copied], env), prog)}
    print("by build-id: %s" % sorted(f for f in fns if f))
    if "stuck_reader" not in fns:
        fails.append("by build-id: stuck_reader not symbolized (%s)" % fns)
    return fails


CASES = {"setuid": case_setuid, "static": case_static, "unwritable-dir": case_unwritable_dir,
         "missing-dir": case_missing_dir, "full-tmpfs": case_full_tmpfs,
         "fsize-limit": case_fsize_limit, "symlink": case_symlink,
         "copied-trace": case_copied_trace}


class Args:
    pass


def main(argv):
    if len(argv) != 7 or argv[3] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    a = Args()
    a.parkwatch, a.shim, case, a.threads, a.crash, a.static = argv[1:]
    with tempfile.TemporaryDirectory(prefix="pw-hostile-") as tmp:
        try:
            fails = CASES[case](a, tmp)
        except AssertionError as e:
            fails = [str(e)]
    if isinstance(fails, str):
        print(fails)
        return 77
    if fails:
        print("\n".join("FAIL " + f for f in fails))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

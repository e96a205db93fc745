#!/usr/bin/env python3
"""Exit-status contract of the CLI (SPEC.md "Exit status").

usage: cli.py PARKWATCH SHIM CASE

Cases:
  dump-garbage, dump-empty, dump-missing   dump exits 2 with exactly one stderr line
  run-nonexistent                          run of a missing program exits 2
  run-exit7                                run passes the program's exit status on
  run-sigterm                              a death by SIGTERM becomes 128+15
  trace-file                               run writes parkwatch.<pid>.trace, mode 0600
  run-timeout                              --timeout stops a program that outlives it (SIGABRT: 134)
  run-timeout-bad                          --timeout 0 or a word is a usage error (2, one line)
"""

import os
import stat
import sys
import tempfile

import pwtest


def expect_dump_error(parkwatch, path):
    p = pwtest.run([parkwatch, "dump", path])
    err = p.stderr.decode(errors="replace")
    lines = err.splitlines()
    print("dump %s -> %d, stderr %r" % (os.path.basename(path), p.returncode, err))
    if p.returncode != 2:
        return "exit status %d, wanted 2" % p.returncode
    if len(lines) != 1 or not lines[0].strip():
        return "stderr has %d lines, wanted exactly one" % len(lines)
    return None


def dump_case(parkwatch, tmp, kind):
    path = os.path.join(tmp, "parkwatch.1234.trace")
    if kind == "garbage":
        with open(path, "wb") as f:
            f.write(bytes((i * 7 + 3) % 256 for i in range(65536)))
    elif kind == "empty":
        open(path, "wb").close()
    return expect_dump_error(parkwatch, path)


def run_status(parkwatch, tmp, cmd, want, stderr_names_program=False, opts=()):
    p = pwtest.run([parkwatch, "run", "--trace-dir", os.path.join(tmp, "t")] + list(opts) +
                   ["--"] + cmd)
    err = p.stderr.decode(errors="replace")
    print("run %s -> %d, stderr %r" % (cmd, p.returncode, err))
    if p.returncode != want:
        return "exit status %d, wanted %d" % (p.returncode, want)
    # Status 2 also means "usage error": make sure it is the program that failed.
    if stderr_names_program and cmd[0] not in err:
        return "stderr does not name %s" % cmd[0]
    return None


def trace_file_case(parkwatch, tmp):
    tdir = os.path.join(tmp, "t")
    # The shell prints its own pid, so the trace's name can be compared with
    # the pid of the traced process.
    p = pwtest.run([parkwatch, "run", "--trace-dir", tdir, "--", "sh", "-c", "echo $$"])
    if p.returncode != 0:
        return "run exited %d" % p.returncode
    pid = int(p.stdout.decode().strip())
    path = os.path.join(tdir, "parkwatch.%d.trace" % pid)
    if not os.path.exists(path):
        return "no %s; found %s" % (path, os.listdir(tdir))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode != 0o600:
        return "mode %o, wanted 600" % mode
    tr, _ = pwtest.dump(parkwatch, path)
    if tr.header.get("pid") != str(pid) or tr.header.get("end") != "exit":
        return "header pid=%s end=%s, wanted pid=%d end=exit" % (
            tr.header.get("pid"), tr.header.get("end"), pid)
    return None


def source_root_case(parkwatch, tmp):
    """A --source-root that is no directory is a usage error (2, one line)
    found before run starts the program, and for report too."""
    marker = os.path.join(tmp, "started")
    afile = os.path.join(tmp, "afile")
    open(afile, "w").close()
    for bad, why in ((os.path.join(tmp, "missing"), "No such file"), (afile, "not a directory")):
        p = pwtest.run([parkwatch, "run", "--source-root", bad, "--trace-dir",
                        os.path.join(tmp, "t"), "--", "touch", marker])
        err = p.stderr.decode(errors="replace")
        print("run --source-root %s -> %d, stderr %r" % (bad, p.returncode, err))
        if p.returncode != 2 or why not in err or "--source-root" not in err \
                or err.count("\n") != 1:
            return "run --source-root %s: exit %d, stderr %r" % (bad, p.returncode, err)
        if os.path.exists(marker):
            return "run started the program despite --source-root %s" % bad
        p = pwtest.run([parkwatch, "report", "--source-root", bad, tmp])
        if p.returncode != 2:
            return "report --source-root %s: exit %d" % (bad, p.returncode)
    return None


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    parkwatch, case = argv[1], argv[3]
    with tempfile.TemporaryDirectory(prefix="pw-cli-") as tmp:
        if case.startswith("dump-"):
            fail = dump_case(parkwatch, tmp, case[5:])
        elif case == "run-nonexistent":
            fail = run_status(parkwatch, tmp, [os.path.join(tmp, "nonexistent")], 2, True)
        elif case == "run-exit7":
            fail = run_status(parkwatch, tmp, ["sh", "-c", "exit 7"], 7)
        elif case == "run-sigterm":
            fail = run_status(parkwatch, tmp, ["sh", "-c", "kill -TERM $$"], 143)
        elif case == "run-timeout":
            # sleep is not parked: only the bound can end it
            fail = run_status(parkwatch, tmp, ["sleep", "30"], 134, opts=["--timeout", "1"])
        elif case == "run-timeout-bad":
            fail = (run_status(parkwatch, tmp, ["true"], 2, opts=["--timeout", "0"]) or
                    run_status(parkwatch, tmp, ["true"], 2, opts=["--timeout", "soon"]))
        elif case == "source-root":
            fail = source_root_case(parkwatch, tmp)
        elif case == "trace-file":
            fail = trace_file_case(parkwatch, tmp)
        else:
            print("unknown case %r" % case, file=sys.stderr)
            return 2
    if fail:
        print("FAIL " + fail)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Verdicts never depend on a ring that wraps (issue 14).

usage: ring_equal.py PARKWATCH CLEAN_FORK_WRAP COND_WRAP

Each case runs under `parkwatch run` twice, with the default ring
(ring_events=256, which the case wraps many times before its decisive moment)
and with ring_events=65536 (nothing wraps); the findings must be the same
(kind, severity, message, threads by name, abandoned-at-exit), and the clean
cases must have none:
  - clean_fork_wrap: fork, >256 traced events, then 10000 bytes into a pipe the
    child reads (no channel-unread-data, no fd-leak);
  - cond_wrap: a cond signalled long before the end (its thread-leak names
    main as the signaller);
  - python3: a script forks a reader, wraps the ring, then writes 10000 bytes;
  - rsync -a of a 20 MB file (skipped with one line if rsync is missing).
"""

import json
import os
import shutil
import sys

from pwtest import in_scratch, run

PY_FORK_WRITE = r"""
import os
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    n = 0
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        n += len(b)
    os._exit(0 if n == 10000 else 1)
os.close(r)
q = os.pipe()
for i in range(3000):
    os.write(q[1], b"x")
    os.read(q[0], 1)
os.write(w, b"d" * 10000)
os.close(w)
_, st = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(st))
"""


def findings(parkwatch, tmp, tag, ring, cmd):
    d = os.path.join(tmp, "%s-%d" % (tag, ring))
    out = d + ".json"
    env = dict(os.environ)
    env["PARKWATCH_OPTIONS"] = "ring_events=%d" % ring
    p = run([parkwatch, "run", "--trace-dir", d, "--format", "json", "-o", out, "--"] + cmd,
            timeout=240, env=env)
    assert os.path.exists(out), "%s (ring %d): no report, run exited %d: %s" % (
        tag, ring, p.returncode, p.stderr.decode(errors="replace"))
    doc = json.load(open(out))
    names = {}
    for proc in doc.get("processes", []):
        for t in proc.get("threads", []):
            names[t.get("tid")] = t.get("name")
    got = []
    for f in doc["findings"]:
        got.append((f["kind"], f.get("severity"), f.get("message"),
                    tuple(sorted(str(t.get("name")) for t in f.get("threads", []))),
                    f.get("abandoned_at_exit")))
    return sorted(got, key=repr), p.returncode


def main(argv):
    parkwatch, fork_wrap, cond_wrap = argv[1:4]

    def body(tmp):
        data = os.path.join(tmp, "data")
        with open(data, "wb") as f:
            f.write(os.urandom(20 << 20))
        cases = [
            ("clean_fork_wrap", [fork_wrap], True),
            ("cond_wrap", [cond_wrap], False),
            ("python-fork-write", [sys.executable, "-c", PY_FORK_WRITE], True),
        ]
        rsync = shutil.which("rsync")
        if rsync:
            cases.append(("rsync", [rsync, "-a", data, os.path.join(tmp, "copy")], True))
        else:
            print("rsync not installed: its case is skipped (scripts/setup installs it)")
        done = []
        for tag, cmd, clean in cases:
            small, rc_small = findings(parkwatch, tmp, tag, 256, cmd)
            big, rc_big = findings(parkwatch, tmp, tag, 65536, cmd)
            print("%s: ring 256 -> %s; ring 65536 -> %s" % (tag, small, big))
            assert small == big, "%s: the report changed with the ring size:\n  256:   %s\n" \
                "  65536: %s" % (tag, small, big)
            assert rc_small == rc_big, "%s: exit %d vs %d" % (tag, rc_small, rc_big)
            if clean:
                assert not small, "%s: findings in a clean run: %s" % (tag, small)
            if tag == "rsync":
                assert open(data, "rb").read() == open(os.path.join(tmp, "copy"), "rb").read(), \
                    "rsync: the copy differs"
                os.remove(os.path.join(tmp, "copy"))
            done.append(tag)
        return "same findings with ring_events=256 and 65536: " + ", ".join(done)

    return in_scratch("pw-ring-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Separate, compressed debug files (as Debian's -dbg/-dbgsym packages ship
them) and the decompressed-debug cache (analyzer/symbols/debuginfo.c).

usage: debuginfo.py PARKWATCH SHIM VICTIM

VICTIM is cond_leak (a consumer parked forever in consumer_main).  A copy of
it is stripped of everything but its build-id, its DWARF goes, compressed,
into a build-id tree; then under `parkwatch run`:
  - the report names consumer_main with a cond_leak.c line: the debug file
    was found by build-id and read;
  - the cache holds a copy of that debug file named by the build-id, with no
    compressed section left;
  - a second report (cache warm) and a third with the cache off
    (PARKWATCH_CACHE_DIR=) print the same thing;
  - without a debuginfod server (DEBUGINFOD_URLS unset) a report looking for
    a missing debug file never loads libdebuginfod; with one configured,
    elfutils' standard search (which asks it) is used.
"""

import json
import os
import shutil
import subprocess
import sys

from pwtest import in_scratch, run


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    raise AssertionError("%s has no build-id" % path)


def compressed_sections(path):
    """Names of the sections of PATH with SHF_COMPRESSED (readelf's flag C)."""
    out = subprocess.run(["readelf", "-S", "-W", path], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    names = []
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("[") or "]" not in line:
            continue
        fields = line.split("]", 1)[1].split()
        # name type address offset size entsize flags...
        if len(fields) >= 7 and not fields[6].isdigit() and "C" in fields[6]:
            names.append(fields[0])
    return names


def report(parkwatch, traces, env):
    p = run([parkwatch, "report", "--format", "json", "--fail-on", "none", traces], env=env)
    if p.returncode != 0:
        raise AssertionError("report exited %d: %s" % (p.returncode, p.stderr.decode()))
    return p.stdout.decode()


def leak_frames(text):
    doc = json.loads(text)
    for f in doc["findings"]:
        if f["kind"] == "thread-leak":
            return f["threads"][0]["stack"]
    raise AssertionError("no thread-leak finding in the report")


def main(argv):
    parkwatch, shim, victim = argv[1:4]

    def body(tmp):
        prog = os.path.join(tmp, "cond_leak")
        shutil.copy(victim, prog)
        bid = build_id(prog)
        tree = os.path.join(tmp, "debug")
        dbg = os.path.join(tree, ".build-id", bid[:2], bid[2:] + ".debug")
        os.makedirs(os.path.dirname(dbg))
        sh("objcopy", "--only-keep-debug", "--compress-debug-sections=zlib", prog, dbg)
        sh("objcopy", "--strip-all", prog)
        assert compressed_sections(dbg), "objcopy left %s uncompressed" % dbg
        assert build_id(prog) == bid

        traces = os.path.join(tmp, "traces")
        cache = os.path.join(tmp, "cache")
        env = dict(os.environ, PARKWATCH_DEBUG_PATH=tree, PARKWATCH_CACHE_DIR=cache)
        env.pop("DEBUGINFOD_URLS", None)
        p = run([parkwatch, "run", "--trace-dir", traces, "--fail-on", "none", "-o",
                 os.path.join(tmp, "run.txt"), "--", prog], env=env, timeout=120)
        assert p.returncode == 0, "run exited %d: %s" % (p.returncode, p.stderr.decode())

        first = report(parkwatch, traces, env)
        frames = leak_frames(first)
        top = [f for f in frames if f.get("function") == "consumer_main"]
        assert top, "consumer_main not in the leaked thread's stack: %s" % frames
        assert (top[0].get("file") or "").endswith("cond_leak.c") and top[0].get("line"), \
            "consumer_main has no cond_leak.c line: %s" % top[0]

        cached = os.path.join(cache, "debug", bid[:2], bid[2:] + ".debug")
        assert os.path.isfile(cached), "no cache entry %s" % cached
        assert build_id(cached) == bid
        left = compressed_sections(cached)
        assert not left, "cache entry still compressed: %s" % left
        assert not [f for f in os.listdir(os.path.dirname(cached)) if f != os.path.basename(cached)], \
            "temporary files left in the cache"

        second = report(parkwatch, traces, env)
        assert second == first, "report with a warm cache differs"
        third = report(parkwatch, traces, dict(env, PARKWATCH_CACHE_DIR=""))
        assert third == first, "report without the cache differs"

        # A debug file nobody has: the build-id lookup fails.  Without a
        # server, libdebuginfod (and curl, gnutls...) must not be loaded.
        nodebug = dict(env, LD_DEBUG="files", PARKWATCH_CACHE_DIR="")
        nodebug.pop("PARKWATCH_DEBUG_PATH")
        p = run([parkwatch, "report", "--fail-on", "none", traces], env=nodebug)
        assert p.returncode == 0
        assert b"libdebuginfod" not in p.stderr, "libdebuginfod loaded with no server configured"
        # With a server configured (an unreachable one), elfutils' search asks it.
        if os.path.exists("/usr/lib/x86_64-linux-gnu/libdebuginfod.so.1") or \
                b"libdebuginfod" in subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE).stdout:
            withsrv = dict(nodebug, DEBUGINFOD_URLS="http://127.0.0.1:9",
                           DEBUGINFOD_CACHE_PATH=os.path.join(tmp, "dcache"),
                           DEBUGINFOD_TIMEOUT="5")
            p = run([parkwatch, "report", "--fail-on", "none", traces], env=withsrv)
            assert p.returncode == 0
            assert b"libdebuginfod" in p.stderr, "DEBUGINFOD_URLS set but debuginfod not asked"
        return ("debug file found by build-id, cached decompressed, same report warm and "
                "cold; no libdebuginfod without a server")

    return in_scratch("pw-debuginfo-", body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

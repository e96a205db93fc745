#!/usr/bin/env python3
"""Real programs under parkwatch: results identical with and without the shim,
no false alarm, and (with --bench) the overhead.

usage: real.py [--only a,b] [--scale S] PARKWATCH SUPPDIR
       real.py --bench [--runs N] [--scale S] [--only a,b] [--valgrind] PARKWATCH SUPPDIR

Programs: pigz, xz, zstd, sort, git, memcached, redis, nginx, varnish, builds of
a generated C project with make -j2 and with ninja (100+ compiler processes),
and pgbench -c4 -j2 against a PostgreSQL server (Debian's packages; scripts/real
--install installs them).  A program that is not
installed is skipped with one line.  Servers listen on 127.0.0.1 only; every
load run is bounded in requests and in time.

Check mode, per program: one native run and one under `parkwatch run`, with
the same generated input; the outputs must be identical (checksums of the
files, or of what a client read back from the server).  Then the report:
  - no finding of any kind but thread-leak, and channel-never-closed for the
    channels those threads wait on (kinds are facts: a worker left in
    epoll_wait on its notify eventfd is both);
  - every such finding is marked abandoned_at_exit (the program left the thread
    parked when it exited or was stopped) and names only threads the program's
    own design leaves parked (EXPECT_ABANDONED below);
  - `parkwatch report --suppressions examples/suppressions/<name>.supp` on the
    same traces reports nothing and exits 0.
Bench mode: native and under `parkwatch run`, alternating, median of N runs
(default 3): wall time for the batch programs, throughput for the servers.
"""

import glob
import hashlib
import json
import pwd
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TIMEOUT = 240          # seconds, for any one command
MB = 1 << 20

# Threads each program leaves parked at exit by design; a thread-leak naming
# any other thread (or not marked abandoned at exit) fails the check.
EXPECT_ABANDONED = {
    "xz": None,                    # liblzma's worker pool (unnamed): xz exits without lzma_end
    "memcached": ("mc-*",),
    "redis": ("bio_*", "io_thd_*", "jemalloc_bg_thd"),
    "varnish": ("cache-worker",),   # idle pool workers of the cache child
}


# Programs whose lock arrays fold lock-order edges into lock classes (issue 14):
# the report must count the folded edges, and the verdict notes (the process
# end; held-at-exit if any thread ended holding a lock) must still be there.
EXPECT_FOLDED = ("memcached",)


def log(*a):
    print(*a, flush=True)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(cmd, **kw):
    kw.setdefault("timeout", TIMEOUT)
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def gen_text(path, size, seed=8):
    """Compressible, sortable text: lines of pseudo-random words.  Past 8 MB
    the first 8 MB repeat (a minute of Python saved for 100 MB): farther apart
    than the compressors' windows here (pigz 32 KB, xz -1 1 MB, zstd -3 2 MB),
    so the work per byte is the same."""
    rnd = random.Random(seed)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
             for _ in range(5000)]
    chunk, n = [], 0
    while n < min(size, 8 * MB):
        line = " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12))) + "\n"
        chunk.append(line)
        n += len(line)
    block = "".join(chunk).encode()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[:left])
            left -= len(block)


def gen_lines(path, size, seed=9):
    """Short lines: GNU sort starts a second thread only for buffers of more
    than 128 Ki lines."""
    rnd = random.Random(seed)
    with open(path, "w") as f:
        n = 0
        while n < size:
            line = "%08x %d\n" % (rnd.getrandbits(32), rnd.randrange(100))
            f.write(line)
            n += len(line)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, limit=20.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited early with status %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on 127.0.0.1:%d" % port)


class Wrap:
    """Runs a command natively or under `parkwatch run` (traces in TRACE_DIR)."""

    def __init__(self, parkwatch=None, trace_dir=None, report=None, fmt="json"):
        self.parkwatch, self.trace_dir, self.report, self.fmt = parkwatch, trace_dir, report, fmt

    def argv(self, cmd):
        if not self.parkwatch:
            return cmd
        return [self.parkwatch, "run", "--trace-dir", self.trace_dir, "--format", self.fmt,
                "-o", self.report, "--fail-on", "none", "--"] + cmd


class Preload(Wrap):
    """The shim alone (LD_PRELOAD, as `parkwatch run` sets it), no analysis:
    what the program itself pays."""

    def __init__(self, shim, trace_dir):
        super().__init__()
        self.shim, self.trace_dir = shim, trace_dir

    def argv(self, cmd):
        return ["env", "LD_PRELOAD=" + self.shim, "PARKWATCH_OPTIONS=trace_dir=" + self.trace_dir
                + ":watchdog=0"] + cmd


# ---- batch programs: each returns {name: checksum} of its results

CPU = [0.0]  # user + system seconds of the commands timed() ran, summed


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd_argv, **kw):
    """Wall seconds of one command; its CPU seconds (with its waited-for
    children: the program under `parkwatch run`) are added to CPU[0]."""
    c0, t0 = children_cpu(), time.monotonic()
    run(cmd_argv, **kw)
    CPU[0] += children_cpu() - c0
    return time.monotonic() - t0


def prog_pigz(w, d, inp, stats):
    gz, out = os.path.join(d, "in.gz"), os.path.join(d, "out")
    with open(inp, "rb") as i, open(gz, "wb") as o:
        stats["seconds"] = timed(w.argv(["pigz", "-p", "2", "-n", "-c"]), stdin=i, stdout=o)
    with open(gz, "rb") as i, open(out, "wb") as o:
        stats["seconds"] += timed(w.argv(["pigz", "-p", "2", "-d", "-c"]), stdin=i, stdout=o)
    return {"in.gz": sha(gz), "roundtrip": sha(out)}


def prog_xz(w, d, inp, stats):
    xz, out = os.path.join(d, "in.xz"), os.path.join(d, "out")
    with open(inp, "rb") as i, open(xz, "wb") as o:
        stats["seconds"] = timed(w.argv(["xz", "-T2", "-1", "--block-size=1MiB", "-c"]),
                                 stdin=i, stdout=o)
    with open(xz, "rb") as i, open(out, "wb") as o:
        stats["seconds"] += timed(w.argv(["xz", "-T2", "-d", "-c"]), stdin=i, stdout=o)
    return {"in.xz": sha(xz), "roundtrip": sha(out)}


def prog_zstd(w, d, inp, stats):
    z, out = os.path.join(d, "in.zst"), os.path.join(d, "out")
    with open(inp, "rb") as i, open(z, "wb") as o:
        stats["seconds"] = timed(w.argv(["zstd", "-q", "-T2", "-3", "-c"]), stdin=i, stdout=o)
    with open(z, "rb") as i, open(out, "wb") as o:
        stats["seconds"] += timed(w.argv(["zstd", "-q", "-T2", "-d", "-c"]), stdin=i, stdout=o)
    return {"in.zst": sha(z), "roundtrip": sha(out)}


def prog_sort(w, d, inp, stats):
    out = os.path.join(d, "sorted")
    env = dict(os.environ, LC_ALL="C")
    stats["seconds"] = timed(w.argv(["sort", "--parallel=2", "-S", "64M", "-T", d, "-o", out,
                                     inp]), env=env)
    return {"sorted": sha(out)}


def git_repo(d, nfiles):
    """A repository of NFILES similar files in 4 commits (fast-import: quick),
    so that pack-objects finds deltas and index-pack resolves them."""
    repo = os.path.join(d, "repo")
    run(["git", "-c", "init.defaultBranch=main", "init", "-q", "--bare", repo])
    rnd = random.Random(4)
    base = [("line %d " % i) + "x" * rnd.randint(10, 60) for i in range(120)]
    stream = []
    for c in range(4):
        stream.append("commit refs/heads/main\nmark :%d\n" % (100000 + c))
        stream.append("committer pw <pw@example.invalid> %d +0000\n" % (1700000000 + c))
        msg = "commit %d\n" % c
        stream.append("data %d\n%s" % (len(msg), msg))
        if c:
            stream.append("from :%d\n" % (100000 + c - 1))
        for f in range(nfiles // 4):
            lines = list(base)
            lines[rnd.randrange(len(lines))] = "changed %d %d" % (c, f)
            body = "\n".join(lines) + "\n"
            stream.append("M 100644 inline d%d/f%d\ndata %d\n%s\n" % (f % 16, f, len(body), body))
    run(["git", "-C", repo, "fast-import", "--quiet"], input="".join(stream).encode())
    return repo


def prog_git(w, d, repo, stats):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=d)
    work = os.path.join(d, "clone.git")
    shutil.rmtree(work, ignore_errors=True)
    run(["git", "clone", "-q", "--bare", "--no-local", repo, work], env=env)
    # pack-objects' delta search and index-pack's delta resolution both run
    # two threads here
    stats["seconds"] = timed(w.argv(["git", "-C", work, "-c", "pack.threads=2", "repack", "-q",
                                     "-a", "-d", "-f", "--window=20"]), env=env)
    packs = [f for f in os.listdir(os.path.join(work, "objects", "pack")) if f.endswith(".pack")]
    pack = os.path.join(work, "objects", "pack", packs[0])
    idx = os.path.join(d, "again.idx")
    stats["seconds"] += timed(w.argv(["git", "index-pack", "--threads=2", "-o", idx, pack]),
                              env=env, stdout=subprocess.DEVNULL)
    objs = run(["git", "-C", work, "cat-file", "--batch-all-objects", "--batch-check"],
               env=env, stdout=subprocess.PIPE).stdout
    run(["git", "-C", work, "fsck", "--no-progress", "--strict"], env=env)
    # the pack's bytes depend on the thread schedule; its objects do not
    return {"objects": hashlib.sha256(objs).hexdigest(),
            "fsck": "ok", "index-pack": "%d objects" % objs.count(b"\n")}


# ---- builds: a generated C project, compiled from clean by make -j2 or ninja.
# Each source is one `cc -c` (the driver, cc1 and as: three short processes),
# so the build spawns well over 100 processes, each doing a few ms of work:
# what `parkwatch run` costs per process start shows, not per lock.

BUILD_FILES = 50


def gen_project(d, n=BUILD_FILES):
    for i in range(n):
        with open(os.path.join(d, "f%d.c" % i), "w") as f:
            f.write("#include <stdint.h>\n"
                    "uint64_t f%d(uint64_t x)\n{\n"
                    "    uint64_t s = %d;\n"
                    "    for (uint64_t i = 0; i < x; i++)\n"
                    "        s = s * 6364136223846793005u + i + %d;\n"
                    "    return s;\n}\n" % (i, i, i))
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write("#include <inttypes.h>\n#include <stdio.h>\n")
        f.write("".join("uint64_t f%d(uint64_t);\n" % i for i in range(n)))
        f.write("int main(void)\n{\n    uint64_t s = 0;\n")
        f.write("".join("    s ^= f%d(%d);\n" % (i, 1000 + i) for i in range(n)))
        f.write('    printf("%" PRIu64 "\\n", s);\n    return 0;\n}\n')
    objs = " ".join("f%d.o" % i for i in range(n)) + " main.o"
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("CFLAGS = -O1\nprog: %s\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
                % objs)
    with open(os.path.join(d, "build.ninja"), "w") as f:
        f.write("rule cc\n  command = cc -O1 -c $in -o $out\nrule link\n  command = cc -o $out $in\n")
        for src in ["f%d" % i for i in range(n)] + ["main"]:
            f.write("build %s.o: cc %s.c\n" % (src, src))
        f.write("build prog: link %s\n" % objs)


def prog_build(tool):
    def build(w, d, scale, stats):
        src = os.path.join(d, "src")
        os.mkdir(src)
        gen_project(src, max(10, int(BUILD_FILES * scale)))
        cmd = ["make", "-j2", "-s"] if tool == "make" else ["ninja", "-j2"]
        stats["seconds"] = timed(w.argv(cmd), cwd=src, stdout=subprocess.DEVNULL)
        out = run([os.path.join(src, "prog")], stdout=subprocess.PIPE).stdout
        objs = sorted(f for f in os.listdir(src) if f.endswith(".o"))
        return {"output": out.decode().strip(), "objects": len(objs),
                "objects_sha": hashlib.sha256(b"".join(
                    open(os.path.join(src, o), "rb").read() for o in objs)).hexdigest()}
    return build


# ---- servers: each starts, loads, checks, stops; returns checksums

def server(w, argv, port, cwd=None):
    p = subprocess.Popen(w.argv(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, cwd=cwd, start_new_session=True)
    try:
        wait_port(port, p)
    except Exception:
        p.kill()
        p.wait()
        raise
    return p


def stop_server(p, how):
    how()
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise RuntimeError("server did not stop within 60 s")
    return p.returncode, err.decode(errors="replace")


def talk(port, payload, until, limit=30.0, times=1):
    """Sends PAYLOAD, reads until the reply ends with UNTIL and holds it TIMES
    times (bounded in time)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    s.sendall(payload)
    buf = b""
    end = time.monotonic() + limit
    while not (buf.endswith(until) and buf.count(until) >= times) and time.monotonic() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf


def prog_memcached(w, d, scale, stats):
    port = free_port()
    p = server(w, ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "2",
                   "-m", "64"] + (["-u", "root"] if os.geteuid() == 0 else []), port)
    try:
        n = max(1000, int(20000 * scale))
        t0 = time.monotonic()
        for test in ("set", "get"):
            run(["memcslap", "--servers=127.0.0.1:%d" % port, "--concurrency=2",
                 "--execute-number=%d" % (n // 2), "--test=" + test], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=120)
        stats["ops_per_s"] = 2 * n / (time.monotonic() - t0)
        keys = ["pw-key-%d" % i for i in range(200)]
        sets = b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (k.encode(), len(k) * 3, (k * 3).encode())
                        for k in keys)
        talk(port, sets, b"STORED\r\n", times=len(keys))
        got = talk(port, b"get " + " ".join(keys).encode() + b"\r\n", b"END\r\n")
    finally:
        status, err = stop_server(p, lambda: os.killpg(p.pid, signal.SIGTERM))
    return {"get": hashlib.sha256(got).hexdigest(), "status": status}


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def prog_redis(w, d, scale, stats):
    """The check runs two I/O threads (paused and resumed through mutexes main
    holds: the interesting pattern), on few requests, for they spin while
    active and crawl on two shared cores; the benchmark runs redis's default,
    the main thread alone beside its background threads."""
    io = ["--io-threads", "2", "--io-threads-do-reads", "yes"] if not stats.get("bench") else []
    port = free_port()
    rd = os.path.join(d, "redis")
    os.makedirs(rd, exist_ok=True)
    p = server(w, ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                   "--appendonly", "no", "--dir", rd, "--daemonize", "no"] + io, port)
    try:
        n = max(500, int((20000 if stats.get("bench") else 1500) * scale))
        out = run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-c", "8",
                   "-t", "set,get", "-q", "--csv"], stdout=subprocess.PIPE, timeout=180).stdout
        rps = [float(l.split(b",")[1].strip(b'"')) for l in out.splitlines()
               if l.startswith(b'"SET"') or l.startswith(b'"GET"')]
        stats["ops_per_s"] = statistics.mean(rps) if rps else 0.0
        cmds = b"".join(resp("SET", "pw:%d" % i, "v%d" % (i * i)) for i in range(200))
        talk(port, cmds, b"+OK\r\n", times=200)
        got = talk(port, resp("MGET", *["pw:%d" % i for i in range(200)]), b"v39601\r\n")
    finally:
        status, err = stop_server(p, lambda: run(["redis-cli", "-p", str(port), "shutdown",
                                                  "nosave"], check=False,
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL, timeout=60))
    return {"mget": hashlib.sha256(got).hexdigest(), "status": status}


NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
thread_pool pwpool threads=2;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location / {{ aio threads=pwpool; sendfile off; }}
  }}
}}
"""


def prog_nginx(w, d, scale, stats):
    port = free_port()
    nd = os.path.join(d, "nginx")
    os.makedirs(os.path.join(nd, "www"), exist_ok=True)
    os.makedirs(os.path.join(nd, "tmp"), exist_ok=True)
    rnd = random.Random(7)
    for i in range(4):
        with open(os.path.join(nd, "www", "f%d.bin" % i), "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(200000)))
    conf = os.path.join(nd, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=nd, port=port))
    p = server(w, ["nginx", "-p", nd, "-c", conf, "-e", os.path.join(nd, "error.log")], port)
    try:
        n = max(200, int(2000 * scale))
        out = run(["ab", "-q", "-n", str(n), "-c", "4", "-s", "30",
                   "http://127.0.0.1:%d/f1.bin" % port], stdout=subprocess.PIPE,
                  timeout=180).stdout.decode()
        for line in out.splitlines():
            if line.startswith("Requests per second:"):
                stats["ops_per_s"] = float(line.split()[3])
            if line.startswith("Failed requests:") and int(line.split()[2]) != 0:
                raise RuntimeError("ab: " + line)
        got = b""
        for i in range(4):
            got += talk(port, b"GET /f%d.bin HTTP/1.0\r\nHost: x\r\n\r\n" % i, b"\0" * 64,
                        limit=20).split(b"\r\n\r\n", 1)[1]
    finally:
        status, err = stop_server(p, lambda: os.killpg(p.pid, signal.SIGTERM))
    return {"files": hashlib.sha256(got).hexdigest(), "status": status}


VARNISH_VCL = """vcl 4.1;
backend default none;
sub vcl_recv { return (synth(200, "pw")); }
sub vcl_synth { set resp.body = "parkwatch " + req.url; return (deliver); }
"""


def stop_varnishd(pidfile, p):
    """SIGTERM to the manager only: the cache child must be stopped by it (a
    signal to the whole group kills the child first, and the manager then
    exits 64)."""
    try:
        with open(pidfile) as f:
            os.kill(int(f.read().split()[0]), signal.SIGTERM)
    except (OSError, ValueError, IndexError):
        os.killpg(p.pid, signal.SIGTERM)


def prog_varnish(w, d, scale, stats):
    """varnishd started again and again, each time answering one request and
    stopped: under the shim it once failed one start in four (its listen
    socket became a pipe: the unwinder's private pipe had been closed by
    varnishd's fd purge, its numbers reused and then clobbered).  The check
    starts it 40 times under the shim (at scale 1; the last start under
    `parkwatch run`, whose report is checked; twice natively).  The VCL
    answers from vcl_recv (no backend) and is compiled without optimisation:
    a start costs about 0.6 s instead of 1.8 s."""
    vcl = os.path.join(d, "pw.vcl")
    with open(vcl, "w") as f:
        f.write(VARNISH_VCL)
    starts = max(4, int(40 * scale)) if w.parkwatch and not stats.get("bench") else 2
    replies, failed, statuses = set(), [], set()
    # all but the last start under the shim alone (quicker: no report), the
    # last one under `parkwatch run`, whose report is checked
    alone = None
    if w.parkwatch:
        shim = os.path.join(os.path.dirname(os.path.dirname(w.parkwatch)), "preload",
                            "libparkwatch.so")
        alone = Preload(shim, tempfile.mkdtemp(dir=d, prefix="traces-"))
    t0 = time.monotonic()
    for i in range(starts):
        wi = alone if alone and i < starts - 1 else w
        port = free_port()
        pidfile = os.path.join(d, "varnishd%d.pid" % i)
        # -F: the manager stays in the foreground; -j none: no jail (no root
        # needed); the manager alone gets SIGTERM (-P), and stops its child
        argv = ["varnishd", "-F", "-j", "none", "-P", pidfile, "-n", os.path.join(d, "n%d" % i),
                "-a", "127.0.0.1:%d" % port, "-f", vcl, "-T", "none", "-s", "malloc,16m",
                "-p", "thread_pool_min=5", "-p", "cc_command=exec cc -fpic -shared -o %o %s"]
        try:
            p = server(wi, argv, port)
        except RuntimeError as e:
            failed.append("start %d: %s" % (i + 1, e))
            continue
        try:
            got = talk(port, b"GET /pw HTTP/1.0\r\nHost: x\r\n\r\n", b"parkwatch /pw",
                       limit=20)
            replies.add(hashlib.sha256(got.split(b"\r\n\r\n", 1)[-1]).hexdigest())
        finally:
            status, err = stop_server(p, lambda: stop_varnishd(pidfile, p))
        statuses.add(status)
    stats["seconds"] = time.monotonic() - t0  # --bench: start, one request, stop
    if failed:
        raise RuntimeError("%d of %d starts failed: %s" % (len(failed), starts, "; ".join(failed)))
    return {"replies": ",".join(sorted(replies)), "status": ",".join(map(str, sorted(statuses)))}


def pg_bin(name):
    """A PostgreSQL server binary: Debian keeps them out of PATH."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return shutil.which(name)


def pg_user():
    """The server refuses to run as root: as root, it runs as the postgres
    user (and so does the parkwatch run that starts it)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and there is no postgres user to run the server as")


def pg_dir(user):
    d = tempfile.mkdtemp(prefix="pw-pg-")
    if user:
        os.chown(d, user.pw_uid, user.pw_gid)
    return d


PGBENCH_CLIENTS = ["-c", "4", "-j", "2"]


def prog_pgbench(w, d, scale, stats):
    """pgbench -c4 -j2 against a server started under W; the client runs
    natively.  fsync is off, so that the disk (shared with whatever else the
    machine does) does not set the pace."""
    user = pg_user()
    as_user = ["runuser", "-u", user.pw_name, "--"] if user else []
    base = pg_dir(user)
    try:
        data, sock = os.path.join(base, "data"), os.path.join(base, "sock")
        run(as_user + [pg_bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E",
                       "UTF8", "--no-sync"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(as_user + ["mkdir", sock])
        # the traces and the report are written by the server's user: its own
        # directory, copied where W's caller looks afterwards
        sw = w
        if w.parkwatch:
            td = os.path.join(base, "traces")
            run(as_user + ["mkdir", td])
            sw = Wrap(w.parkwatch, td, os.path.join(td, "report.out"), w.fmt)
        port = free_port()
        argv = [pg_bin("postgres"), "-D", data, "-k", sock, "-p", str(port),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "max_connections=20"]
        p = subprocess.Popen(as_user + sw.argv(argv), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            wait_port(port, p, limit=60.0)
            conn = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
            run(["pgbench"] + conn + ["-i", "-q", "-s", "1", "postgres"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if stats.get("bench"):
                load = ["-T", str(max(3, int(10 * scale)))]
            else:
                load = ["-t", str(max(20, int(250 * scale)))]
            out = run(["pgbench"] + conn + PGBENCH_CLIENTS + ["-n"] + load + ["postgres"],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
            tps = [l for l in out.splitlines() if l.startswith("tps = ")]
            stats["ops_per_s"] = float(tps[-1].split()[2]) if tps else 0.0
            q = run(["psql"] + conn + ["-At", "-c",
                                       "select count(*), (select sum(abalance) from "
                                       "pgbench_accounts) = sum(delta) from pgbench_history",
                                       "postgres"], stdout=subprocess.PIPE).stdout.decode()
            done = [l for l in out.splitlines() if l.startswith("number of transactions actually")]
        finally:
            pidfile = os.path.join(data, "postmaster.pid")
            try:
                with open(pidfile) as f:
                    master = int(f.readline())
                rc, err = stop_server(p, lambda: os.kill(master, signal.SIGINT))
            except (OSError, ValueError):
                p.kill()
                p.wait()
                raise
        if rc != 0:
            raise RuntimeError("postgres exited %d: %s" % (rc, err[-500:]))
        if w.parkwatch:
            for f in os.listdir(sw.trace_dir):
                if f == "report.out":
                    shutil.copy(os.path.join(sw.trace_dir, f), w.report)
                else:
                    shutil.copy(os.path.join(sw.trace_dir, f), w.trace_dir)
        count, consistent = q.strip().split("|")
        # a bounded run (-t) commits the same number of transactions each time
        return {"consistent": consistent,
                "history": count if not stats.get("bench") else "-",
                "transactions": done[0].split(":")[1].strip() if done and not
                stats.get("bench") else "-"}
    finally:
        shutil.rmtree(base, ignore_errors=True)


BATCH = {"pigz": prog_pigz, "xz": prog_xz, "zstd": prog_zstd, "sort": prog_sort}
SERVERS = {"memcached": prog_memcached, "redis": prog_redis, "nginx": prog_nginx,
           "varnish": prog_varnish, "pgbench": prog_pgbench}
BUILDS = {"make": prog_build("make"), "ninja": prog_build("ninja")}
NEEDS = {"pigz": ["pigz"], "xz": ["xz"], "zstd": ["zstd"], "sort": ["sort"], "git": ["git"],
         "memcached": ["memcached", "memcslap"], "redis": ["redis-server", "redis-benchmark",
                                                           "redis-cli"],
         "nginx": ["nginx", "ab"], "varnish": ["varnishd", "cc"],
         "make": ["make", "cc"], "ninja": ["ninja", "cc"],
         "pgbench": ["pgbench", "psql", "runuser", "postgres", "initdb"]}
ORDER = ["pigz", "xz", "zstd", "sort", "git", "memcached", "redis", "nginx", "varnish",
         "make", "ninja", "pgbench"]
# Programs whose processes are single-threaded: what they exercise is the
# per-process cost (builds) and the watcher over many processes (PostgreSQL)
SINGLE_THREADED = ("make", "ninja", "pgbench")
# Input sizes at scale 1.  The check runs each program once natively and once
# under parkwatch; pigz gets the 100 MB file.  The benchmark's inputs
# make each batch program run 1-5 s natively, so that the ratio measures the
# work (the per-process costs of `parkwatch run`, a few ms plus the report, are
# printed on their own line by --bench).
SIZES = {"pigz": 100 * MB, "xz": 3 * MB, "zstd": 8 * MB, "sort": 6 * MB, "git": 800}
BENCH_SIZES = {"pigz": 100 * MB, "xz": 24 * MB, "zstd": 200 * MB, "sort": 48 * MB, "git": 2400}


class Ctx:
    def __init__(self, scale, sizes=SIZES):
        self.scale, self.sizes = scale, sizes
        self.root = tempfile.mkdtemp(prefix="pw-real-")
        self.inputs = {}

    def input(self, name):
        if name not in self.inputs:
            size = int(self.sizes[name] * self.scale)
            if name == "git":
                self.inputs[name] = git_repo(self.root, max(40, size))
            else:
                path = os.path.join(self.root, "input-%s.txt" % name)
                (gen_lines if name == "sort" else gen_text)(path, size)
                self.inputs[name] = path
        return self.inputs[name]

    def once(self, name, w, bench=False):
        """One run; returns (checksums, stats).  A benchmark run that fails is
        tried once more (the build tree is shared: a CLI being relinked
        cannot be executed for a moment)."""
        if bench:
            try:
                return self.once_(name, w, bench)
            except (OSError, subprocess.CalledProcessError):
                time.sleep(2)
        return self.once_(name, w, bench)

    def once_(self, name, w, bench):
        d = tempfile.mkdtemp(dir=self.root)
        stats = {"bench": True} if bench else {}
        CPU[0] = 0.0
        try:
            if name in SERVERS:
                sums = SERVERS[name](w, d, self.scale, stats)
            elif name in BUILDS:
                sums = BUILDS[name](w, d, self.scale, stats)
            elif name == "git":
                sums = prog_git(w, d, self.input(name), stats)
            else:
                sums = BATCH[name](w, d, self.input(name), stats)
            if "seconds" in stats:
                stats["cpu"] = CPU[0]
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return sums, stats


def installed(name):
    return all(pg_bin(b) if b in ("postgres", "initdb") else shutil.which(b)
               for b in NEEDS[name])


def check_folded(rep, trace_dir, parkwatch):
    """Lock classes bounded the edges and the notes log kept the verdict notes."""
    probs = []
    folded = sum(p.get("lost", {}).get("edges_folded", 0) for p in rep["processes"])
    log("    %d lock-order edges folded into lock classes; lost: %s" % (
        folded, [p.get("lost") for p in rep["processes"] if p.get("lost")]))
    if folded == 0:
        probs.append("no lock-order edge folded into a lock class (issue 14)")
    for p in rep["processes"]:
        if p.get("lost", {}).get("notes", 0):
            probs.append("pid %d lost %d notes" % (p["pid"], p["lost"]["notes"]))
        if p["end"] != "exit":
            continue
        d = run([parkwatch, "dump", p["trace"]], check=False, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL).stdout.decode(errors="replace")
        notes = [l for l in d.splitlines() if l.startswith("note ")]
        if not any(" proc-end " in l for l in notes):
            probs.append("pid %d: no proc-end note" % p["pid"])
        held = sum(1 for l in d.splitlines() if l.startswith("thread ") and "held-at-exit" in l)
        if held and not any(" held-at-exit " in l for l in notes):
            probs.append("pid %d: held-at-exit notes lost" % p["pid"])
    return probs


def check_report(name, report_path, trace_dir, parkwatch, suppdir):
    """Returns a list of problems with the report of NAME (empty: good)."""
    probs = []
    with open(report_path) as f:
        rep = json.load(f)
    allowed = EXPECT_ABANDONED.get(name, ())
    import fnmatch
    abandoned = []
    # the run must have exercised threads: some process had more than one
    most = max((len(p["threads"]) for p in rep["processes"]), default=0)
    if most < 2 and name not in SINGLE_THREADED:
        probs.append("no process of %s ran more than %d thread(s): input too small?" % (name, most))
    log("    %d process(es), at most %d threads, %d findings" % (
        len(rep["processes"]), most, len(rep["findings"])))
    for fd in rep["findings"]:
        kind = fd["kind"]
        if kind not in ("thread-leak", "channel-never-closed"):
            probs.append("%s: %s" % (kind, fd["message"]))
            continue
        if not fd.get("abandoned_at_exit"):
            probs.append("%s not abandoned at exit: %s" % (kind, fd["message"]))
            continue
        if kind != "thread-leak":
            # the receivers' own thread-leaks are checked and listed below
            names = [t["name"] for t in fd["threads"]]
            if allowed is not None and not all(any(fnmatch.fnmatch(n, g) for g in allowed)
                                               for n in names):
                probs.append("unexpected abandoned thread(s) %s: %s" % (names, fd["message"]))
            continue
        if allowed is None:
            abandoned.append(fd)
            continue
        names = [t["name"] for t in fd["threads"]]
        if not all(any(fnmatch.fnmatch(n, g) for g in allowed) for n in names):
            probs.append("unexpected abandoned thread(s) %s: %s" % (names, fd["message"]))
        abandoned.append(fd)
    if name in EXPECT_FOLDED:
        probs += check_folded(rep, trace_dir, parkwatch)
    supp = os.path.join(suppdir, name + ".supp")
    if os.path.exists(supp):
        r = run([parkwatch, "report", "--suppressions", supp, trace_dir], check=False,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            probs.append("still reported with %s (status %d):\n%s" % (
                supp, r.returncode, r.stdout.decode(errors="replace")[-3000:]))
    elif abandoned:
        probs.append("abandoned threads but no %s" % supp)
    for fd in abandoned:
        for t in fd["threads"]:
            fn = next((fr["function"] for fr in t.get("stack") or [] if fr.get("function")), None)
            log("    abandoned at exit: %s (tid %d) in %s on %s, parked %s ms, at %s" % (
                t["name"], t["tid"], t["op"], t["object"], t.get("since_ms"), fn or "?"))
    return probs


def check(names, parkwatch, suppdir, scale):
    ctx = Ctx(scale)
    failed = passed = 0
    try:
        for name in names:
            if not installed(name):
                log("real %-9s SKIP (not installed: %s)" % (name, " ".join(NEEDS[name])))
                continue
            t0 = time.monotonic()
            try:
                native, _ = ctx.once(name, Wrap())
                td = tempfile.mkdtemp(dir=ctx.root, prefix="traces-")
                rp = os.path.join(ctx.root, name + ".json")
                shimmed, _ = ctx.once(name, Wrap(parkwatch, td, rp))
                probs = []
                if native != shimmed:
                    probs.append("results differ: native %s, under parkwatch %s" % (native,
                                                                                   shimmed))
                probs += check_report(name, rp, td, parkwatch, suppdir)
            except Exception as e:  # one line, then the next program
                probs = ["%s: %s" % (type(e).__name__, e)]
            dt = time.monotonic() - t0
            if probs:
                failed += 1
                log("real %-9s FAIL (%.1f s)" % (name, dt))
                for p in probs:
                    log("    " + p)
            else:
                passed += 1
                log("real %-9s ok   (%.1f s; %s)" % (name, dt, ", ".join(
                    "%s=%s" % (k, str(v)[:12]) for k, v in sorted(native.items()))))
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    return passed, failed


# ---- bench

VG_SCALE = 0.25  # valgrind's tools run 20-100x slower: a quarter of the input


class VG(Wrap):
    def __init__(self, tool):
        super().__init__()
        self.tool = tool

    def argv(self, cmd):
        return ["valgrind", "--tool=" + self.tool, "-q", "--log-file=/dev/null"] + cmd


def valgrind_ratios(name):
    """'helgrind Nx drd Mx' for NAME's batch work on a quarter of the input
    (against a native run of the same), or '' (not a batch program, no
    valgrind, or past the time limit)."""
    if name not in BATCH and name != "git" or not shutil.which("valgrind"):
        return ""
    ctx = Ctx(VG_SCALE, dict(SIZES, pigz=8 * MB))
    out = []
    try:
        base = statistics.median(ctx.once(name, Wrap())[1]["seconds"] for _ in range(3))
        for tool in ("helgrind", "drd"):
            try:
                out.append("%s %.0fx" % (tool, ctx.once(name, VG(tool))[1]["seconds"] / base))
            except Exception:
                out.append("%s -" % tool)
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    return " ".join(out)


def bench(names, parkwatch, runs, scale, valgrind):
    ctx = Ctx(scale, BENCH_SIZES)
    shim = os.path.join(os.path.dirname(os.path.dirname(parkwatch)), "preload", "libparkwatch.so")
    rows = []
    fixed = ""
    try:
        for name in names:
            if not installed(name):
                log("real %-9s SKIP (not installed)" % name)
                continue
            nat, pw, sh, cpu = [], [], [], ([], [], [])
            for _ in range(runs):
                # alternating, so that the machine's mood hits all three alike
                td = tempfile.mkdtemp(dir=ctx.root, prefix="traces-")
                _, a = ctx.once(name, Wrap(), bench=True)
                _, b = ctx.once(name, Wrap(parkwatch, td, os.path.join(td, "r.txt"), fmt="text"),
                                bench=True)
                shutil.rmtree(td, ignore_errors=True)
                td = tempfile.mkdtemp(dir=ctx.root, prefix="traces-")
                _, c = ctx.once(name, Preload(shim, td), bench=True)
                shutil.rmtree(td, ignore_errors=True)
                key = "ops_per_s" if "ops_per_s" in a else "seconds"
                nat.append(a[key])
                pw.append(b[key])
                sh.append(c[key])
                for v, st in zip(cpu, (a, b, c)):
                    v.append(st.get("cpu", 0.0))
            mn, mp, ms = statistics.median(nat), statistics.median(pw), statistics.median(sh)
            if key == "seconds":
                # the budget is for the compressors, sort and the
                # builds; git is two short commands where `run`'s fixed cost
                # shows
                ratio, sratio, unit = mp / mn, ms / mn, "s"
                budget = None if name == "git" else 1.05
            else:
                ratio, sratio, budget, unit = mn / mp, mn / ms, 1.10, "ops/s"
            extra = valgrind_ratios(name) if valgrind else ""
            cn, cp, cs = (statistics.median(v) for v in cpu)
            cpu_txt = "%.2fx / %.2fx" % (cp / cn, cs / cn) if key == "seconds" and cn else "-"
            rows.append((name, mn, mp, unit, ratio, sratio, budget, cpu_txt, extra))
            log("%-10s native %10.2f %-5s parkwatch run %10.2f %-5s ratio %.3fx, shim alone "
                "%.3fx (budget %s); cpu run/shim %s %s" % (name, mn, unit, mp, unit, ratio,
                                                          sratio, budget_txt(budget), cpu_txt,
                                                          extra))
        fixed = per_process_cost(parkwatch, shim, ctx.root)
    finally:
        shutil.rmtree(ctx.root, ignore_errors=True)
    log("")
    log("| program | input | native | under `parkwatch run` | overhead | shim alone | budget "
        "| CPU time: run / shim |%s" % (" Helgrind / DRD |" if valgrind else ""))
    log("|---|---|---|---|---|---|---|---|%s" % ("---|" if valgrind else ""))
    for name, mn, mp, unit, ratio, sratio, budget, cpu_txt, extra in rows:
        log("| %s | %s | %.2f %s | %.2f %s | %.2fx | %.2fx | %s | %s |%s" % (
            name, input_label(name, scale), mn, unit, mp, unit, ratio, sratio,
            budget_txt(budget), cpu_txt,
            (" %s |" % (extra.strip() or "-")) if valgrind else ""))
    log("")
    log(fixed)


def budget_txt(budget):
    return "%.2fx" % budget if budget else "-"


def input_label(name, scale):
    if name == "git":
        return "%d files" % int(BENCH_SIZES[name] * scale)
    if name in BENCH_SIZES:
        return "%d MB" % round(BENCH_SIZES[name] * scale / MB)
    if name in BUILDS:
        return "%d C files, -j2" % (max(10, int(BUILD_FILES * scale)) + 1)
    if name == "pgbench":
        return "-c4 -j2, %d s" % max(3, int(10 * scale))
    return "loopback load"


def per_process_cost(parkwatch, shim, root, runs=21):
    """What one process start costs, apart from the work: /bin/true natively,
    under the shim alone, and under `parkwatch run` (trace, watcher, report).
    Preload starts the program through env(1): its native twin does too."""
    times = ([], [], [], [])
    for _ in range(runs):
        td = tempfile.mkdtemp(dir=root, prefix="traces-")
        for i, argv in enumerate((["true"], ["env", "true"], Preload(shim, td).argv(["true"]),
                                  Wrap(parkwatch, td, os.path.join(td, "r.txt"),
                                       fmt="text").argv(["true"]))):
            t0 = time.monotonic()
            run(argv, stdout=subprocess.DEVNULL)
            times[i].append(time.monotonic() - t0)
        shutil.rmtree(td, ignore_errors=True)
    n, e, s, r = (statistics.median(t) * 1e3 for t in times)
    return ("per process (`true`, median of %d): native %.1f ms, shim alone +%.1f ms, "
            "`parkwatch run` +%.1f ms (with its report)" % (runs, n, s - e, r - n))


def main(argv):
    args = list(argv)
    opts = {"--runs": "3", "--scale": None, "--only": ",".join(ORDER)}
    flags = set()
    pos = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        elif a in ("--bench", "--valgrind"):
            flags.add(a)
        else:
            pos.append(a)
    if len(pos) != 2:
        sys.exit(__doc__)
    parkwatch, suppdir = os.path.abspath(pos[0]), os.path.abspath(pos[1])
    names = [n for n in opts["--only"].split(",") if n]
    for n in names:
        if n not in NEEDS:
            sys.exit("real: unknown program '%s' (one of %s)" % (n, ", ".join(ORDER)))
    scale = float(opts["--scale"] or 1)
    if "--bench" in flags:
        bench(names, parkwatch, int(opts["--runs"]), scale, "--valgrind" in flags)
        return 0
    passed, failed = check(names, parkwatch, suppdir, scale)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

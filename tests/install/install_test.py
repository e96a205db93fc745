#!/usr/bin/env python3
"""`meson install --destdir` into a temporary directory, then use the result.

usage: install_test.py MESON BUILD-DIR PREFIX BINDIR LIBDIR INCLUDEDIR MANDIR DATADIR VICTIM
       EXPECT-KIND

  - every file a user needs is where `meson install` promises: the CLI, the
    shim, both headers, parkwatch.pc, parkwatch(1), parkwatch(3) and the JSON
    report's schema (DATADIR/parkwatch/report.schema.json), which the
    installed CLI's JSON report must follow;
  - the installed `parkwatch run` finds the installed shim by itself (no
    PARKWATCH_LIB; the trace's module map must name the shim under DESTDIR)
    and reports EXPECT-KIND for VICTIM;
  - pkg-config, pointed at the installed parkwatch.pc, gives the flags to
    compile a program against the installed header, which then runs without
    the shim (every call inactive) and under the installed shim (active).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

PROBE = r"""
#include <stdio.h>
#include <parkwatch.h>
int main(void)
{
    int q;
    int active = parkwatch_active();
    parkwatch_checkpoint("install-test");
    parkwatch_chan_make(&q, 1, "probe");
    parkwatch_chan_destroy(&q);
    printf("active=%d verify=%d\n", active, parkwatch_verify_none(100));
    return 0;
}
"""


def run(cmd, env=None, timeout=120, cwd=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def clean_env():
    env = dict(os.environ)
    for k in ("PARKWATCH_LIB", "LD_PRELOAD", "PARKWATCH_OPTIONS"):
        env.pop(k, None)
    return env


def main(argv):
    if len(argv) != 11:
        print(__doc__, file=sys.stderr)
        return 2
    meson, build, prefix, bindir, libdir, incdir, mandir, datadir, victim, kind = argv[1:]
    victim = os.path.abspath(victim)  # the CLI runs it from a scratch directory
    failures = []
    with tempfile.TemporaryDirectory(prefix="pw-install-") as tmp:
        dest = os.path.join(tmp, "root")
        rc, out, err = run([meson, "install", "-C", build, "--destdir", dest,
                            "--no-rebuild", "--quiet"], timeout=300)
        if rc != 0:
            print("FAIL: meson install exited %d\n%s%s" % (rc, out, err))
            return 1

        def at(*parts):
            # meson's dirs are relative to the prefix unless absolute
            return os.path.join(dest, *(p.lstrip("/") for p in parts))

        root = at(prefix)
        files = {
            "cli": os.path.join(root, bindir, "parkwatch"),
            "shim": os.path.join(root, libdir, "libparkwatch.so"),
            "header": os.path.join(root, incdir, "parkwatch.h"),
            "trace.h": os.path.join(root, incdir, "parkwatch", "trace.h"),
            "ops.h": os.path.join(root, incdir, "parkwatch", "ops.h"),
            "pc": os.path.join(root, libdir, "pkgconfig", "parkwatch.pc"),
            "man1": os.path.join(root, mandir, "man1", "parkwatch.1"),
            "man3": os.path.join(root, mandir, "man3", "parkwatch.3"),
            "schema": os.path.join(root, datadir, "parkwatch", "report.schema.json"),
        }
        for name, path in files.items():
            if not os.path.isfile(path):
                failures.append("%s not installed at %s" % (name, os.path.relpath(path, dest)))
        if failures:
            print("\n".join("FAIL " + f for f in failures))
            return 1
        if not os.access(files["cli"], os.X_OK):
            failures.append("installed parkwatch is not executable")

        # the installed CLI on a victim, finding its installed shim on its own
        work = os.path.join(tmp, "work")
        traces = os.path.join(work, "traces")
        os.makedirs(work)
        rc, out, err = run([files["cli"], "run", "--format", "json", "-o", "report.json",
                            "--trace-dir", traces, "--", victim], env=clean_env(), cwd=work)
        print("installed parkwatch run exited %d\n%s" % (rc, err))
        if rc == 2:
            failures.append("installed parkwatch run could not run the victim")
        else:
            with open(os.path.join(work, "report.json")) as f:
                report = json.load(f)
            # the installed report follows the installed schema
            with open(files["schema"]) as f:
                schema = json.load(f)
            try:
                import jsonschema
                jsonschema.Draft7Validator(schema).validate(report)
            except ImportError:
                failures.append("python3-jsonschema missing: cannot check the installed schema")
            except jsonschema.ValidationError as e:
                failures.append("report.json does not follow the installed schema: %s"
                                % e.message)
            kinds = [fi["kind"] for fi in report["findings"]]
            if kind not in kinds:
                failures.append("expected a %s finding, got %s" % (kind, kinds))
            if rc != 66:
                failures.append("run exited %d, not 66, with an error finding" % rc)
            shims = set()
            for tr in report.get("traces", []):
                _, dump, _ = run([files["cli"], "dump", tr], env=clean_env())
                shims |= {line.split("path=", 1)[1] for line in dump.splitlines()
                          if line.startswith("module ") and "libparkwatch" in line}
            want = os.path.realpath(files["shim"])
            if not shims or any(os.path.realpath(s) != want for s in shims):
                failures.append("the victim ran under %s, not the installed %s" % (shims, want))

        # pkg-config -> compile against the installed header -> run both ways
        pkgconf = shutil.which("pkg-config") or shutil.which("pkgconf")
        cc = shutil.which("cc") or shutil.which("gcc")
        if not pkgconf or not cc:
            failures.append("pkg-config or cc missing")
        else:
            env = clean_env()
            env["PKG_CONFIG_PATH"] = os.path.dirname(files["pc"])
            env["PKG_CONFIG_SYSROOT_DIR"] = dest
            rc, cflags, err = run([pkgconf, "--cflags", "--libs", "parkwatch"], env=env)
            if rc != 0:
                failures.append("pkg-config parkwatch: %s" % err.strip())
            elif os.path.dirname(files["header"]) not in cflags:
                failures.append("pkg-config gives %r, not -I%s" % (cflags.strip(),
                                                                    os.path.dirname(files["header"])))
            rc, shim, err = run([pkgconf, "--variable=shim", "parkwatch"], env=env)
            # pkgconf prefixes the sysroot (our DESTDIR) to it, pkg-config does not
            shim = shim.strip()
            if rc != 0 or (shim if shim.startswith(dest) else dest + shim) != files["shim"]:
                failures.append("pkg-config --variable=shim gives %r, not %s"
                                % (shim, files["shim"][len(dest):]))
            src, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
            with open(src, "w") as f:
                f.write(PROBE)
            rc, out, err = run([cc, "-Wall", "-Wextra", "-Werror", src, "-o", exe]
                               + cflags.split(), env=env)
            if rc != 0:
                failures.append("compiling against the installed header: %s" % err.strip())
            else:
                rc, out, err = run([exe], env=clean_env())
                if rc != 0 or out.strip() != "active=0 verify=0":
                    failures.append("probe without the shim: exit %d, %r" % (rc, out))
                env = clean_env()
                env["LD_PRELOAD"] = files["shim"]
                env["PARKWATCH_OPTIONS"] = "trace_dir=" + work
                rc, out, err = run([exe], env=env)
                if rc != 0 or out.strip() != "active=1 verify=0":
                    failures.append("probe under the installed shim: exit %d, %r %s"
                                    % (rc, out, err))

    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("install: files in place, installed run found its shim, header usable")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

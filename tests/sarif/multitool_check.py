#!/usr/bin/env python3
"""Validates SARIF reports with Microsoft's SARIF multitool and GitHub's rules.

usage: multitool_check.py SOURCE-ROOT PARKWATCH SHIM MULTITOOL EXPECT PROGRAM [EXPECT PROGRAM...]

Each program is run the way its expectation file says (check_expect.py's run
or sigkill mode) and its traces reported with `--format sarif --source-root
SOURCE-ROOT`; then one `Sarif.Multitool validate --rule-kind "Sarif;Ghas"`
checks every report against the SARIF rules and those of GitHub Advanced
Security (code scanning's upload checks).  Any error or warning fails the
test.  MULTITOOL is the binary scripts/setup installs from the npm package
@microsoft/sarif-multitool; when it is missing the test is skipped (77).
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


def sarif_of(parkwatch, shim, root, expect, program, tmp, n):
    directives = pwtest.parse_expect(expect)
    modes = [d.positional for d in directives if d.what == "mode"] or ["run"]
    trace_dir = os.path.join(tmp, "traces%d" % n)
    os.mkdir(trace_dir)
    options = pwtest.options_of(directives)
    if modes[0] == "sigkill":
        given = check_expect.sigkill_mode(parkwatch, shim, [program], trace_dir, directives,
                                          options)
    else:
        given = check_expect.run_mode(parkwatch, [program], trace_dir, options).options
    pwtest.options_applied(expect, given)
    out = os.path.join(tmp, "%s.sarif" % os.path.basename(program))
    p = pwtest.run([parkwatch, "report", "--format", "sarif", "--source-root", root,
                    "-o", out, trace_dir])
    if p.returncode not in (0, 66):
        raise AssertionError("report of %s exited %d: %s"
                             % (program, p.returncode, p.stderr.decode(errors="replace")))
    return out


def main(argv):
    if len(argv) < 7 or len(argv) % 2 == 0:
        print(__doc__, file=sys.stderr)
        return 2
    root, parkwatch, shim, multitool = [os.path.abspath(a) for a in argv[1:5]]
    pairs = [(os.path.abspath(argv[i]), os.path.abspath(argv[i + 1]))
             for i in range(5, len(argv), 2)]
    if not os.access(multitool, os.X_OK):
        print("SKIP: %s missing (scripts/setup installs @microsoft/sarif-multitool)" % multitool)
        return 77
    with tempfile.TemporaryDirectory(prefix="pw-multitool-") as tmp:
        try:
            files = [sarif_of(parkwatch, shim, root, e, p, tmp, n)
                     for n, (e, p) in enumerate(pairs)]
        except (AssertionError, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            return 1
        log = os.path.join(tmp, "validation.sarif")
        # .NET wants a writable home for its caches; the tool's own telemetry off
        env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", HOME=tmp)
        p = subprocess.run([multitool, "validate", "--rule-kind", "Sarif;Ghas",
                            "--output", log] + files,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                           timeout=600)
        print(p.stdout.decode(errors="replace"))
        if not os.path.exists(log):
            print("FAIL: the multitool wrote no log (exit %d)" % p.returncode)
            return 1
        with open(log) as f:
            results = json.load(f)["runs"][0].get("results", [])
        bad = [r for r in results if r.get("level", "warning") in ("error", "warning")
               and r.get("kind", "fail") == "fail"]
        for r in bad:
            loc = r.get("locations", [{}])[0].get("physicalLocation", {})
            print("%s %s: %s" % (r.get("level", "warning"), r["ruleId"],
                                 loc.get("artifactLocation", {}).get("uri", "?")))
        if bad or p.returncode != 0:
            print("FAIL: %d errors or warnings, multitool exit %d" % (len(bad), p.returncode))
            return 1
    print("ok: %d SARIF reports pass the multitool's SARIF and GitHub rules" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

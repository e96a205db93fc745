#!/usr/bin/env python3
"""Keeps the man pages in step with the X-macro lists they document.

usage: check_man.py SOURCE-ROOT

parkwatch(1) must name every CLI option (analyzer/cli/opts.c PW_CLI_OPTS), every
report format (analyzer/cli/cli.h PW_FORMATS), every
PARKWATCH_OPTIONS key (include/parkwatch/options.h PW_OPTIONS) and every finding kind
(analyzer/detect/finding.h PW_FINDING_KINDS); parkwatch(3) every function of
include/parkwatch.h.  Both must format without groff warnings, and their
title lines must carry the project version of meson.build (the one place it is
set; the CLI gets it as PW_VERSION).
"""

import os
import re
import shutil
import subprocess
import sys


def read(root, path):
    with open(os.path.join(root, path)) as f:
        return f.read()


def man_text(root, page):
    # roff escapes: "\-" is a minus sign, "\fB" and friends change fonts
    t = read(root, page).replace("\\-", "-")
    return re.sub(r"\\f[BIRP]", "", t)


def main(argv):
    root = argv[1]
    failures = []
    man1, man3 = man_text(root, "man/parkwatch.1"), man_text(root, "man/parkwatch.3")

    cli = re.findall(r'^\s*X\("([a-z-]+)",', read(root, "analyzer/cli/opts.c"), re.M)
    formats = re.findall(r'^\s*X\(\w+, "([a-z]+)", pw_report_\w+\)', read(root, "analyzer/cli/cli.h"), re.M)
    keys = re.findall(r"^\s*X\((\w+), (?:STR|UINT),", read(root, "include/parkwatch/options.h"), re.M)
    kinds = re.findall(r'^\s*X\(\w+, "([a-z-]+)", PW_SEV_', read(root, "analyzer/detect/finding.h"), re.M)
    if not cli or not keys or len(kinds) < 10:
        failures.append("could not read the lists (cli %d, keys %d, kinds %d)"
                        % (len(cli), len(keys), len(kinds)))
    failures += ["parkwatch.1 does not document --%s" % o for o in cli if "--" + o not in man1]
    if len(formats) < 3:
        failures.append("could not read the report formats of analyzer/cli/cli.h PW_FORMATS")
    failures += ["parkwatch.1 does not document --format %s" % f
                 for f in formats if not re.search(r"\b%s\b" % f, man1)]
    failures += ["parkwatch.1 does not document PARKWATCH_OPTIONS key %s" % k
                 for k in keys if k + "=" not in man1]
    failures += ["parkwatch.1 does not document finding kind %s" % k
                 for k in kinds if k not in man1]
    subcommands = re.findall(r'^\s*X\("([a-z]+)", pw_cmd_\w+,', read(root, "analyzer/cli/cli.h"), re.M)
    synopsis = man1.split(".SH SYNOPSIS", 1)[-1].split(".SH ", 1)[0]
    if len(subcommands) < 4:
        failures.append("could not read the subcommands of analyzer/cli/cli.h PW_SUBCOMMANDS")
    failures += ["parkwatch.1's synopsis lacks parkwatch %s" % c
                 for c in subcommands if not re.search(r"^\.B parkwatch %s$" % c, synopsis, re.M)]
    # the shim installs under the (multiarch) libdir: a fixed path in an example is wrong
    failures += ["%s names a fixed shim path: %s" % (page, m)
                 for page, text in (("parkwatch.1", man1), ("parkwatch.3", man3))
                 for m in re.findall(r"/usr(?:/local)?/lib\w*/libparkwatch\.so", text)]

    version = re.search(r"^\s*version\s*:\s*'([^']+)'", read(root, "meson.build"), re.M)
    if not version:
        failures.append("could not read the project version of meson.build")
    else:
        for page, text in (("parkwatch.1", man1), ("parkwatch.3", man3)):
            if '"parkwatch %s"' % version.group(1) not in text:
                failures.append("%s does not name version %s in its .TH line"
                                % (page, version.group(1)))

    header = read(root, "include/parkwatch.h")
    fns = re.findall(r"static inline int (parkwatch_\w+)\(", header)
    fns += ["parkwatch_chan_" + n for n in re.findall(r"^PARKWATCH__CHAN_OP\((\w+)\)", header, re.M)]
    if len(fns) < 3:
        failures.append("could not read the functions of parkwatch.h")
    failures += ["parkwatch.3 does not document %s" % f for f in fns if f + "(" not in man3]

    groff = shutil.which("groff")
    for page in ("man/parkwatch.1", "man/parkwatch.3"):
        if not groff:
            print("groff not found: %s not formatted" % page)
            continue
        p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", os.path.join(root, page)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0 or p.stderr.strip():
            failures.append("%s: groff: %s" % (page, p.stderr.decode(errors="replace").strip()))

    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("man pages name %d options, %d formats, %d keys, %d kinds, %d functions"
              % (len(cli), len(formats), len(keys), len(kinds), len(fns)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

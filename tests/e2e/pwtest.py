"""Shared helpers of the end-to-end tests: run programs, parse `parkwatch dump`,
and check expectation files against the parsed traces.

Expectation files (tests/progs/<name>.expect) are data, one directive a line;
a `#` at the start of a word starts a comment.  A directive names a record kind, an optional positional
value, and key=value filters; it holds when the number of matching records
satisfies the count (default: at least one).

    mode run|sigkill|watchdog  how to run the program (default run: `parkwatch run`;
                             sigkill: plain LD_PRELOAD, kill -9 once the other
                             directives hold, then check the dead process's trace;
                             watchdog: plain LD_PRELOAD with the in-process
                             watchdog (watchdog=1), which must end the program)
    options K=V[:K=V...] [K=V...]
                             given to the program's shim in PARKWATCH_OPTIONS, in
                             every mode (e.g. watchdog_ms=100); never a filter
    end KIND [status=N]      the trace ended this way (dump's end= / status=)
    parked [OP] [thread=NAME] [function=FN] [obj=PREFIX] [timed=yes|no]
                             threads parked at the end of the trace
    held [TYPE] [thread=NAME]          locks held at the end of the trace
    thread [NAME] [state=S] [flags=F1,F2] [function=FN]
                             threads (function= looks in the created-by stack;
                             flags= needs every listed flag)
    chan [TYPE] [state=S] [sent=N] [received=N] [eofs=N] [function=FN]
    event [KIND] [op=OP] [thread=NAME] [function=FN]
                             ring events and notes (function= looks in stack=)
    finding KIND [thread=NAME] [function=FN] [symbol=&VAR[,&VAR...]]
                             findings of `parkwatch report --format json`;
                             count sums the findings' own counts; symbol= needs
                             every listed variable among the objects
                             message=TEXT needs TEXT in the headline;
                             site=FN needs FN in a lock's acquisition site
                             (locks_held[].acquired_at, or a lock-order
                             edge's second stack); sent=FN needs FN where
                             the last send into its channel was made
                             (last_send[].sent_at);
                             severity=error|warning the finding's own severity;
                             cause=KIND its cause (a related finding that shows
                             its threads) is of KIND; related=KIND one of its
                             related findings is of KIND; function= also looks
                             in a thread's second stack (stack2)
    live-thread [NAME] [state=S] [op=OP]
                             (sigkill mode) processes[].threads of the JSON
                             report taken while the process still runs
    stdout TEXT / stderr TEXT  (run mode) occurrences of TEXT in what `parkwatch
                             run` printed (the program's output and run's own)
    status N                 (run mode) `parkwatch run`'s exit status is N

Every directive takes count=N (exactly N) or count>=N.  A value may list
alternatives with `|` (end running|unknown).  function=FN holds when any frame
of the record's stack is symbolized to FN.
"""

import json
import os
import re
import shutil
import shlex
import subprocess
import tempfile

# ---- dump parsing


def _kv(tokens):
    out = {}
    for tok in tokens:
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def _frame_function(text):
    """`fn (file:line)` / `fn (module+0xoff)` / `module+0xoff` -> fn or None."""
    if " (" not in text:
        return None
    return text.split(" (", 1)[0].strip()


class Trace:
    def __init__(self, path):
        self.path = path
        self.header = {}
        self.threads = []   # dicts; "parked" (dict or None), "held" (list)
        self.chans = []
        self.events = []    # events and notes
        self.stacks = {}    # id -> [function or None]
        self.stack_text = {}

    def thread_name(self, serial):
        for t in self.threads:
            if t["serial"] == serial:
                return t["name"]
        return None

    def functions(self, stack_id):
        return self.stacks.get(stack_id, [])


def parse_dump(text, path="?"):
    tr = Trace(path)
    cur_thread = None
    cur_stack = None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        tokens = raw.split()
        head = tokens[0]
        indented = raw.startswith(" ")
        if not indented:
            cur_thread = None
            cur_stack = None
        if head == "trace" and not indented:
            tr.header = _kv(tokens[2:])
            tr.header["path"] = tokens[1] if len(tokens) > 1 else ""
        elif head == "thread" and not indented:
            d = _kv(tokens[2:])
            d["serial"] = tokens[1]
            d["flags"] = set() if d.get("flags", "-") == "-" else set(d["flags"].split(","))
            d["parked"] = None
            d["held"] = []
            tr.threads.append(d)
            cur_thread = d
        elif head == "parked" and indented and cur_thread is not None:
            d = _kv(tokens[1:])
            d["timed"] = "yes" if "timed" in tokens[1:] else "no"
            cur_thread["parked"] = d
        elif head == "held" and indented and cur_thread is not None:
            cur_thread["held"].append({"type": tokens[1] if len(tokens) > 1 else "?",
                                       "addr": tokens[2] if len(tokens) > 2 else "?"})
        elif head == "chan" and not indented:
            d = _kv(tokens[2:])
            typ, _, cid = tokens[1].partition("#")
            d["type"], d["id"] = typ, cid
            d["inherited"] = "inherited" in tokens
            tr.chans.append(d)
        elif head in ("event", "note") and not indented and len(tokens) >= 4:
            d = _kv(tokens[4:])
            d["line"] = head
            d["time_ms"], d["thread"], d["kind"] = tokens[1], tokens[2], tokens[3]
            tr.events.append(d)
        elif head == "stack" and not indented and len(tokens) >= 2:
            cur_stack = tokens[1]
            tr.stacks[cur_stack] = []
            tr.stack_text[cur_stack] = []
        elif head.startswith("#") and indented and cur_stack is not None:
            rest = raw.strip().split(None, 2)
            text = rest[2] if len(rest) > 2 else ""
            tr.stacks[cur_stack].append(_frame_function(text))
            tr.stack_text[cur_stack].append(raw.strip())
    return tr


# ---- running the tools


def run(cmd, timeout=60, env=None, stdin=subprocess.DEVNULL):
    """Runs CMD, returns CompletedProcess; a timeout is a test failure.
    Under the 'valgrind' test setup (PW_VALGRIND, tests/valgrind/wrap.sh) the
    analyzer runs under memcheck, which exits 99 on any error."""
    vg = os.environ.get("PW_VALGRIND")
    if vg and os.path.basename(cmd[0]) == "parkwatch":
        cmd = vg.split() + list(cmd)
        timeout *= 20
    return subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=env)


def in_scratch(prefix, body):
    """Runs BODY(tmp) in a fresh scratch directory, removed afterwards; prints
    "ok: " and the message BODY returns, or "FAIL: " and the AssertionError's.
    Returns the test's exit status."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        print("ok: " + body(tmp))
        return 0
    except AssertionError as e:
        print("FAIL:", e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def trace_files(directory):
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if re.fullmatch(r"parkwatch\.\d+(\.\d+)?\.trace", f))


def dump(parkwatch, path):
    """Dumps one trace; raises AssertionError if dump fails."""
    p = run([parkwatch, "dump", path], timeout=60)
    if p.returncode != 0:
        raise AssertionError("dump %s exited %d: %s" % (path, p.returncode,
                                                        p.stderr.decode(errors="replace").strip()))
    text = p.stdout.decode(errors="replace")
    return parse_dump(text, path), text


def shim_env(shim, trace_dir, extra_options=""):
    env = dict(os.environ)
    env["LD_PRELOAD"] = shim
    opts = "trace_dir=" + trace_dir
    env["PARKWATCH_OPTIONS"] = opts + (":" + extra_options if extra_options else "")
    return env


# ---- expectations


class Directive:
    def __init__(self, lineno, text):
        self.lineno = lineno
        self.text = text
        tokens = shlex.split(text)
        self.what = tokens[0]
        self.positional = None
        self.filters = {}
        self.count_op, self.count = ">=", 1
        self.options = []
        if self.what == "options":
            # every word is an option item (K=V, or several joined by ':'):
            # read as filters they would be dropped without a trace
            for tok in tokens[1:]:
                for item in tok.split(":"):
                    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", item):
                        raise ValueError("line %d: options: %r is not KEY=VALUE" % (lineno, item))
                    self.options.append(item)
            if not self.options:
                raise ValueError("line %d: options without KEY=VALUE" % lineno)
            return
        for tok in tokens[1:]:
            m = re.fullmatch(r"count(=|>=)(\d+)", tok)
            if m:
                self.count_op, self.count = m.group(1), int(m.group(2))
            elif "=" in tok:
                k, v = tok.split("=", 1)
                self.filters[k] = v
            elif self.positional is None:
                self.positional = tok
            else:
                raise ValueError("line %d: unexpected word %r" % (lineno, tok))

    def count_ok(self, n):
        return n == self.count if self.count_op == "=" else n >= self.count

    def __str__(self):
        return "line %d: %s" % (self.lineno, self.text)


def parse_expect(path):
    directives = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            # A comment starts at a '#' that begins a word (pipe#1 is a value).
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line:
                directives.append(Directive(i, line))
    return directives


def options_of(directives):
    """The PARKWATCH_OPTIONS items of the expectation's `options` lines, in order,
    joined by ':' ("" when there are none)."""
    return ":".join(item for d in directives if d.what == "options" for item in d.options)


def raw_options(path):
    """The option items of PATH's `options` lines, read straight from the text
    (not through Directive): what a harness must have passed."""
    items = []
    with open(path) as f:
        for line in f:
            words = re.sub(r"(^|\s)#.*$", "", line).split()
            if words and words[0] == "options":
                items += [i for w in words[1:] for i in w.split(":")]
    return items


def options_applied(path, given):
    """Raises AssertionError unless every option item of PATH's `options` lines
    is among the items of GIVEN (the PARKWATCH_OPTIONS the program got)."""
    have = set(given.split(":")) if given else set()
    missing = [i for i in raw_options(path) if i not in have]
    if missing:
        raise AssertionError("%s: options %s not passed to the program (PARKWATCH_OPTIONS=%r)"
                             % (path, ":".join(missing), given))


def _alt(want, have):
    return have is not None and have in want.split("|")


def _has_function(tr, stack_id, fn):
    return fn in tr.functions(stack_id)


def _match_common(tr, d, rec, stack_id, thread_name):
    """Filters shared by every record kind; rec's own fields by name."""
    for k, v in d.filters.items():
        if k == "function":
            if not _has_function(tr, stack_id, v):
                return False
        elif k == "thread":
            if not _alt(v, thread_name):
                return False
        elif k == "flags":
            if not set(v.split(",")) <= rec.get("flags", set()):
                return False
        elif k == "obj":
            if not str(rec.get("obj", "")).startswith(v):
                return False
        elif not _alt(v, None if rec.get(k) is None else str(rec.get(k))):
            return False
    return True


def _count_parked(tr, d):
    n = 0
    for t in tr.threads:
        p = t["parked"]
        if p is None or (d.positional and not _alt(d.positional, p.get("op"))):
            continue
        if _match_common(tr, d, p, p.get("stack"), t.get("name")):
            n += 1
    return n


def _count_held(tr, d):
    n = 0
    for t in tr.threads:
        for h in t["held"]:
            if d.positional and not _alt(d.positional, h["type"]):
                continue
            if _match_common(tr, d, h, None, t.get("name")):
                n += 1
    return n


def _count_threads(tr, d):
    return sum(1 for t in tr.threads
               if (not d.positional or _alt(d.positional, t.get("name")))
               and _match_common(tr, d, t, t.get("created_by"), t.get("name")))


def _count_chans(tr, d):
    return sum(1 for c in tr.chans
               if (not d.positional or _alt(d.positional, c["type"]))
               and _match_common(tr, d, c, c.get("stack"), None))


def _count_events(tr, d):
    return sum(1 for e in tr.events
               if (not d.positional or _alt(d.positional, e["kind"]))
               and _match_common(tr, d, e, e.get("stack"), tr.thread_name(e["thread"])))


def _count_end(tr, d):
    h = tr.header
    if d.positional and not _alt(d.positional, h.get("end")):
        return 0
    if "status" in d.filters and not _alt(d.filters["status"], h.get("status")):
        return 0
    return 1


COUNTERS = {"parked": _count_parked, "held": _count_held, "thread": _count_threads,
            "chan": _count_chans, "event": _count_events, "end": _count_end}


def count_in_traces(traces, d):
    return sum(COUNTERS[d.what](tr, d) for tr in traces)


def count_findings(report, d):
    n = 0
    by_id = {f.get("id"): f for f in report.get("findings", [])}
    for f in report.get("findings", []):
        if d.positional and not _alt(d.positional, f.get("kind")):
            continue
        threads = f.get("threads") or []
        if "thread" in d.filters and not any(_alt(d.filters["thread"], t.get("name"))
                                             for t in threads):
            continue
        if "function" in d.filters:
            fns = {fr.get("function") for t in threads
                   for fr in (t.get("stack") or []) + (t.get("stack2") or [])}
            if d.filters["function"] not in fns:
                continue
        if "site" in d.filters:
            sites = [h.get("acquired_at") or [] for h in (f.get("locks_held") or [])]
            sites += [t.get("stack2") or [] for t in threads]
            if d.filters["site"] not in {fr.get("function") for st in sites for fr in st}:
                continue
        if "sent" in d.filters:
            sends = [sd.get("sent_at") or [] for sd in (f.get("last_send") or [])]
            if d.filters["sent"] not in {fr.get("function") for st in sends for fr in st}:
                continue
        if "symbol" in d.filters:
            syms = {o.get("symbol") for o in (f.get("objects") or [])}
            if not all(s in syms for s in d.filters["symbol"].split(",")):
                continue
        if "message" in d.filters and d.filters["message"] not in (f.get("message") or ""):
            continue
        if "severity" in d.filters and not _alt(d.filters["severity"], f.get("severity")):
            continue
        if "cause" in d.filters and not _alt(d.filters["cause"],
                                              by_id.get(f.get("cause"), {}).get("kind")):
            continue
        if "related" in d.filters and not any(_alt(d.filters["related"], by_id[i].get("kind"))
                                              for i in f.get("related") or [] if i in by_id):
            continue
        n += int(f.get("count", 1))
    return n


def count_report_threads(report, d):
    n = 0
    for proc in report.get("processes", []):
        for t in proc.get("threads", []):
            if d.positional and not _alt(d.positional, t.get("name")):
                continue
            if all(_alt(v, None if t.get(k) is None else str(t.get(k)))
                   for k, v in d.filters.items()):
                n += 1
    return n


def check(directives, traces, report=None, skip=(), live_report=None, run=None):
    """Returns a list of failure strings (empty when every directive holds).
    RUN is the finished `parkwatch run` (stdout, stderr, status directives)."""
    failures = []
    for d in directives:
        if d.what in ("mode", "options") or d.what in skip:
            continue
        if d.what in ("stdout", "stderr", "status"):
            if run is None:
                failures.append("%s: only checked under `parkwatch run`" % d)
                continue
            if d.what == "status":
                if run.returncode != int(d.positional):
                    failures.append("%s: run exited %d" % (d, run.returncode))
                continue
            text = getattr(run, d.what).decode(errors="replace")
            n = text.count(d.positional or "")
        elif d.what == "live-thread":
            if live_report is None:
                continue  # checked only where a live report was taken
            n = count_report_threads(live_report, d)
        elif d.what == "finding":
            if report is None:
                failures.append("%s: no JSON report available" % d)
                continue
            n = count_findings(report, d)
        elif d.what in COUNTERS:
            n = count_in_traces(traces, d)
        else:
            failures.append("%s: unknown directive %r" % (d, d.what))
            continue
        if not d.count_ok(n):
            failures.append("%s: %d matching, wanted count%s%d" % (d, n, d.count_op, d.count))
    return failures


REPORT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "share",
                             "parkwatch", "report.schema.json")
_report_validator = None


def validate_report(report):
    """Checks a `--format json` report against the shipped JSON Schema of
    parkwatch-report/1 (share/parkwatch/report.schema.json), and what a schema
    cannot say: finding ids are 1..n in order, `related` and `cause` name other
    findings of the report (both ways), the summary counts the findings.
    Raises AssertionError.  Needs python3-jsonschema (scripts/setup)."""
    global _report_validator
    if _report_validator is None:
        try:
            import jsonschema
        except ImportError:
            raise AssertionError("python3-jsonschema is missing (scripts/setup installs it): "
                                 "the JSON report cannot be checked against its schema")
        with open(REPORT_SCHEMA) as f:
            schema = json.load(f)
        _report_validator = jsonschema.Draft7Validator(schema)
    errors = sorted(_report_validator.iter_errors(report), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        raise AssertionError("JSON report does not follow report.schema.json at %s: %s"
                             % ("/".join(str(p) for p in e.path) or "top", e.message))
    findings = report["findings"]
    ids = [f["id"] for f in findings]
    if ids != list(range(1, len(findings) + 1)):
        raise AssertionError("finding ids %s are not 1..%d in order" % (ids, len(findings)))
    by_id = {f["id"]: f for f in findings}
    for f in findings:
        for r in f["related"]:
            if r == f["id"] or r not in by_id or f["id"] not in by_id[r]["related"]:
                raise AssertionError("finding %d: related %d is not a related finding"
                                     % (f["id"], r))
        if f.get("cause") is not None and f["cause"] not in f["related"]:
            raise AssertionError("finding %d: cause %d not among related %s"
                                 % (f["id"], f["cause"], f["related"]))
    sev = [f["severity"] for f in findings]
    s = report["summary"]
    if (s["errors"], s["warnings"]) != (sev.count("error"), sev.count("warning")):
        raise AssertionError("summary counts %d errors, %d warnings; the findings %d, %d"
                             % (s["errors"], s["warnings"], sev.count("error"),
                                sev.count("warning")))

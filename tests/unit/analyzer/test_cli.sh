#!/bin/sh
# The CLI contract: exit statuses, one-line errors, dump's line format, and
# run's process handling (environment, exit status, signals, end patching).
# Usage: test_cli.sh PARKWATCH PW-SYNTH NOOP-LIB
PW=$1 SYNTH=$2 NOOP=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/pwcli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS STDERR-LINES CMD...: run CMD, check its status and the number
# of stderr lines; output is left in $T/out and $T/err.
expect() {
    want=$1 lines=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" = "$want" ] || fail "$*: status $got, expected $want ($(head -c 300 "$T/err"))"
    n=$(wc -l <"$T/err")
    [ "$lines" = "-" ] || [ "$n" = "$lines" ] || fail "$*: $n stderr lines, expected $lines"
}

has() { grep -qxF -- "$2" "$1" || fail "missing line in $1: '$2'"; }
has_prefix() { grep -q "^$2" "$1" || fail "no line starting '$2' in $1"; }

# ---- basics
expect 0 0 "$PW" --version
has "$T/out" "parkwatch 0.1.0"
expect 0 0 "$PW" --help
has_prefix "$T/out" "  parkwatch run \[OPTIONS\] -- PROGRAM"
expect 0 0 "$PW" dump --help
expect 0 0 "$PW" report --help
has_prefix "$T/out" "  parkwatch report"
expect 2 1 "$PW"
expect 2 1 "$PW" frobnicate
expect 2 1 "$PW" report --format xml "$T"
expect 2 1 "$PW" report --fail-on thread-leak,nope "$T"
expect 2 1 "$PW" report --exitcode abc "$T"
expect 2 1 "$PW" report --bogus "$T"
expect 2 1 "$PW" report --trace-dir "$T" "$T"
expect 2 1 "$PW" run --format
expect 2 1 "$PW" run
expect 2 1 "$PW" dump
expect 2 1 "$PW" dump a b

# ---- dump: bad input is one line on stderr and status 2, never a crash
: >"$T/empty"
head -c 9000 /dev/urandom >"$T/garbage"
printf 'PWTRACE\0\7\0\0\0' >"$T/newer"
for f in "$T/empty" "$T/garbage" "$T/missing" "$T" "$T/newer"; do
    expect 2 1 "$PW" dump "$f"
    has_prefix "$T/err" "parkwatch: $f: "
    [ -s "$T/out" ] && fail "dump $f wrote to stdout"
done
expect 2 1 "$PW" dump "$T/newer"
has_prefix "$T/err" "parkwatch: $T/newer: trace format version 7 is newer than this parkwatch (1)"

# ---- dump of the synthetic sample: exact lines
"$SYNTH" "$T/s.trace" || fail "pw-synth"
expect 0 0 "$PW" dump "$T/s.trace"
D=$T/out
has "$D" "trace $T/s.trace version=1.3 pid=4242 ppid=4100 exec_gen=0 end=running status=-1 events=5 dropped=0"
has "$D" "exe /usr/bin/prog"
has "$D" "argv prog -v x"
has "$D" "module 0 base=0x400000 lo=0x400000 hi=0x500000 build-id=ab01 path=/usr/bin/prog"
has "$D" "thread T1 'main' tid=5001 name=main state=alive flags=main parent=0 created_by=0"
has "$D" "  held mutex 0x7000"
has "$D" "thread T2 'worker' tid=5002 name=worker state=alive flags=- parent=T1 created_by=1"
has "$D" "  parked op=pipe-read obj=pipe#3 since_ms=1.500 stack=4"
has "$D" "chan pipe#3 state=open fds=5,6 open=1,1 sent=12 received=12 eofs=0 creator=T1 stack=1"
has "$D" "event 1.000 T1 thread-create op=0 obj=T2 obj2=0x0 arg=0 result=0 err=0 stack=1 stack2=0"
has "$D" "event 1.500 T2 park op=pipe-read obj=pipe#3 obj2=0x5 arg=0 result=0 err=0 stack=4 stack2=0"
has "$D" "event 1.600 T1 unpark op=mutex-lock obj=0x7000 obj2=0x0 arg=0 result=0 err=EINTR stack=0 stack2=0"
has "$D" "note 1.700 T1 misuse op=double-close obj=pipe#3 obj2=0x6 arg=0 result=0 err=0 stack=4 stack2=1"
has "$D" "stack 1"
has "$D" "stack 4"
has_prefix "$D" "  #2 0x402200 "
# section order, stacks sorted by id, events in time order
order=$(grep -v '^ ' "$D" | cut -d' ' -f1 | uniq | tr '\n' ' ')
[ "$order" = "trace exe argv module thread chan event note stack " ] || fail "dump order: $order"
[ "$(grep '^stack ' "$D" | tr '\n' ' ')" = "stack 1 stack 4 " ] || fail "stacks not sorted"
[ "$(grep '^event ' "$D" | cut -d' ' -f2 | sort -n -c 2>&1)" = "" ] || fail "events not in time order"
[ "$(grep -c '^stack ' "$D")" = 2 ] || fail "each referenced stack once"

# a truncated trace: warning, then what is there
"$SYNTH" "$T/cut.trace" 30000
expect 0 1 "$PW" dump "$T/cut.trace"
has_prefix "$T/err" "parkwatch: warning: $T/cut.trace: trace is truncated (30000 of "
has_prefix "$T/out" "trace $T/cut.trace "

# ---- report
# The sample leaks a parked worker: error findings, so 66 by default.
mkdir "$T/rep" && cp "$T/s.trace" "$T/rep/parkwatch.4242.trace"
expect 66 0 "$PW" report "$T/rep"
[ -s "$T/out" ] || fail "report wrote nothing to stdout"
expect 0 0 "$PW" report --fail-on none "$T/rep"
expect 9 0 "$PW" report --exitcode 9 "$T/rep"
expect 66 0 "$PW" report --format json -o "$T/rep.json" "$T/rep/parkwatch.4242.trace"
[ -s "$T/out" ] && fail "report -o still wrote to stdout"
grep -q '"pid": *4242' "$T/rep.json" || fail "report -o FILE: no JSON with the pid"
expect 2 1 "$PW" report "$T/rep" "$T/garbage"
mkdir "$T/nothing"
expect 2 1 "$PW" report "$T/nothing"

# ---- run: shim lookup, environment, exit status, end patching
PARKWATCH_LIB=$T/missing.so expect 2 1 "$PW" run -- true
export PARKWATCH_LIB="$NOOP"
NOOP_ABS=$(realpath "$NOOP")
expect 2 1 "$PW" run -- "$T/nonexistent-program"
has_prefix "$T/err" "parkwatch: cannot run '$T/nonexistent-program': No such file or directory"

# The sample trace has error findings: the verdict (66) wins over the status...
expect 66 - "$PW" run --trace-dir "$T/td0" -- "$SYNTH" --as-traced 5
# ...unless nothing is to fail on: then the program's own status.
PARKWATCH_OPTIONS=verbose=1 expect 5 - "$PW" run --fail-on none --trace-dir "$T/td/sub" -- "$SYNTH" --as-traced 5
TD=$(realpath "$T/td/sub")
# run also turns the shim's own watchdog off (run watches itself); its own
# keys come first (the shim reads a bounded prefix), the user's follow
has "$T/out" "$NOOP_ABS|trace_dir=$TD:watchdog=0:verbose=1"
grep -qF "$TD" "$T/err" || fail "run did not name the trace directory"
f=$(ls "$TD"/parkwatch.*.trace)
"$PW" dump "$f" | head -1 | grep -q " end=exit status=5 " || fail "end not patched to exit 5"

rm -rf "$T/td"
expect 143 - "$PW" run --fail-on none --trace-dir "$T/td" -- "$SYNTH" --as-traced kill:15
"$PW" dump "$T"/td/parkwatch.*.trace | head -1 | grep -q " end=signal status=15 " ||
    fail "end not patched to signal 15"

# the shim's deadlock verdict is kept
rm -rf "$T/td"
expect 134 - "$PW" run --fail-on none --trace-dir "$T/td" -- "$SYNTH" --as-traced deadlock
"$PW" dump "$T"/td/parkwatch.*.trace | head -1 | grep -q " end=deadlock-abort " ||
    fail "deadlock-abort overwritten"

# an existing LD_PRELOAD is kept after the shim; a fresh directory by default
LD_PRELOAD=$NOOP_ABS TMPDIR=$T expect 0 - "$PW" run --fail-on none -- "$SYNTH" --as-traced 0
has_prefix "$T/out" "$NOOP_ABS:$NOOP_ABS|trace_dir=$T/parkwatch\."
grep -qF "$T/parkwatch." "$T/err" || fail "run did not name its fresh trace directory"

# -o FILE for run; the program's status still decides.  stderr has where the
# traces go and, for the CI log, the report's one-line summary (issue 18: the
# report itself no longer being on stderr is asserted by the line count)
expect 3 2 "$PW" run --fail-on none -o "$T/run.txt" --trace-dir "$T/td2" -- "$SYNTH" --as-traced 3
grep -qF "$T/td2" "$T/run.txt" || fail "run -o FILE: report not in the file"
has_prefix "$T/err" "parkwatch: tracing $SYNTH (pid [0-9]*); traces in $T/td2\$"
has_prefix "$T/err" "parkwatch: [0-9]* errors\?, [0-9]* warnings\? .* in 1 process; .*; traces in $T/td2\$"

# a bad -o or --trace-dir is a one-line usage error before the program runs
expect 2 1 "$PW" run -o "$T/no/such/dir/r.txt" -- touch "$T/ran1"
has_prefix "$T/err" "parkwatch: -o $T/no/such/dir/r.txt: No such file or directory"
[ -e "$T/ran1" ] && fail "run started the program despite a bad -o"
mkdir "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" != 0 ]; then
    expect 2 1 "$PW" run --trace-dir "$T/ro" -- touch "$T/ran2"
    has_prefix "$T/err" "parkwatch: --trace-dir $T/ro: Permission denied"
    [ -e "$T/ran2" ] && fail "run started the program despite an unwritable --trace-dir"
    expect 2 1 "$PW" run -o "$T/ro/r.txt" -- touch "$T/ran3"
    [ -e "$T/ran3" ] && fail "run started the program despite an unwritable -o"
fi
# an existing -o file is left as it was when the program cannot start
echo old >"$T/keep.txt"
expect 2 1 "$PW" run -o "$T/keep.txt" -- "$T/nonexistent-program"
[ "$(cat "$T/keep.txt")" = old ] || fail "run truncated -o FILE without a report"
expect 2 1 "$PW" run -o "$T/new.txt" -- "$T/nonexistent-program"
[ -e "$T/new.txt" ] && fail "run left an empty -o FILE without a report"

# a clean run removes its fresh trace directory, unless --keep-traces; a run
# with findings keeps it and names it
mkdir "$T/tmp1"
TMPDIR=$T/tmp1 expect 0 2 "$PW" run --fail-on none -o "$T/c.txt" -- "$SYNTH" --as-traced 0
[ -z "$(ls "$T/tmp1")" ] || fail "clean run kept its trace directory: $(ls "$T/tmp1")"
has_prefix "$T/err" "parkwatch: .* in 1 process; .*; traces removed (--keep-traces keeps them)\$"
TMPDIR=$T/tmp1 expect 0 2 "$PW" run --keep-traces --fail-on none -o "$T/c.txt" -- "$SYNTH" --as-traced 0
ls "$T"/tmp1/parkwatch.*/parkwatch.*.trace >/dev/null 2>&1 || fail "--keep-traces removed the traces"
rm -rf "$T/tmp1" && mkdir "$T/tmp1"
TMPDIR=$T/tmp1 expect 66 - "$PW" run -o "$T/f.txt" -- "$SYNTH" --as-traced 0
d=$(ls -d "$T"/tmp1/parkwatch.*) || fail "run with findings removed its traces"
has_prefix "$T/err" "parkwatch: [0-9]* errors\?, .*; traces in $d\$"
# --trace-dir is the user's: never removed
expect 0 - "$PW" run --trace-dir "$T/td4" -- true
[ -d "$T/td4" ] || fail "run removed a --trace-dir"

# several formats in one run: a comma list paired with -o, or -o FORMAT:FILE
expect 3 - "$PW" run --fail-on none --trace-dir "$T/td5" --format text,json -o -,"$T/m.json" \
    -- "$SYNTH" --as-traced 3
grep -q '"schema": *"parkwatch-report/1"' "$T/m.json" || fail "--format text,json: no JSON file"
[ "$(grep -c '^parkwatch: [0-9]* error.* in 1 process' "$T/err")" = 1 ] ||
    fail "--format text,json -o -,FILE: not one text report on stderr"
expect 3 - "$PW" run --trace-dir "$T/td5" -o "$T/m.txt" -o sarif:"$T/m.sarif" -o json:"$T/m2.json" \
    -- sh -c 'exit 3'
grep -q '"version": *"2.1.0"' "$T/m.sarif" || fail "-o sarif:FILE: no SARIF"
grep -q '"schema"' "$T/m2.json" || fail "-o json:FILE: no JSON"
grep -q "^parkwatch: .* in 0 processes" "$T/m.txt" || fail "-o FILE beside -o FORMAT:FILE: no text"
expect 66 0 "$PW" report --format json,text -o "$T/r.json" -o "$T/r.txt" "$T/rep"
grep -q '"pid": *4242' "$T/r.json" && grep -q '^parkwatch: ' "$T/r.txt" ||
    fail "report --format json,text with two -o"
expect 2 1 "$PW" report --format json,text -o "$T/r.json" "$T/rep"
expect 2 1 "$PW" report --format json,text "$T/rep"
expect 2 1 "$PW" report --format json,xml -o a,b "$T/rep"

# PARKWATCH_OPTIONS' sanitizer keys are defaults of run and report; the
# command line wins
PARKWATCH_OPTIONS=exitcode=7 expect 7 0 "$PW" report "$T/rep"
PARKWATCH_OPTIONS=exitcode=7 expect 9 0 "$PW" report --exitcode 9 "$T/rep"
printf '*:thread=*\n' >"$T/supp"
PARKWATCH_OPTIONS=suppressions=$T/supp expect 0 0 "$PW" report --fail-on none "$T/rep"
grep -q "([1-9][0-9]* suppressed)" "$T/out" || fail "suppressions= not applied"
PARKWATCH_OPTIONS=log_path=$T/log expect 66 0 "$PW" report "$T/rep"
[ -s "$T/out" ] && fail "log_path=: report still on stdout"
ls "$T"/log.[0-9]* >/dev/null 2>&1 || fail "log_path=: no $T/log.PID"
grep -q "^parkwatch: .* in 1 process" "$T"/log.[0-9]* || fail "log_path=: no report in the file"
PARKWATCH_OPTIONS=log_path=stdout expect 66 0 "$PW" report "$T/rep"
[ -s "$T/out" ] || fail "log_path=stdout: no report on stdout"
PARKWATCH_OPTIONS=log_path=$T/log2 expect 3 2 "$PW" run --fail-on none --trace-dir "$T/td6" \
    -- "$SYNTH" --as-traced 3
ls "$T"/log2.[0-9]* >/dev/null 2>&1 || fail "run with log_path=: no $T/log2.PID"
has_prefix "$T/err" "parkwatch: [0-9]* error"

# --gen-suppressions: ready rules, one per finding, that suppress them all
expect 66 0 "$PW" report --gen-suppressions -o "$T/g.txt" "$T/rep"
grep -E '^[a-z-]+:' "$T/out" >"$T/gen.supp"
[ "$(grep -c '' "$T/gen.supp")" -ge 2 ] || fail "--gen-suppressions: no rules ($(cat "$T/out"))"
expect 0 0 "$PW" report --suppressions "$T/gen.supp" "$T/rep"
grep -q "^parkwatch: no findings ([1-9][0-9]* suppressed)" "$T/out" ||
    fail "--gen-suppressions rules do not suppress every finding"

# colour on a terminal only, never with NO_COLOR; a pipe gets plain text
esc=$(printf '\033')
"$PW" report "$T/rep" 2>&1 | grep -q "$esc" && fail "colour on a pipe"
if command -v script >/dev/null 2>&1; then
    script -qec "'$PW' report '$T/rep'" /dev/null >"$T/tty.out" 2>&1
    grep -q "${esc}\[1;31mparkwatch: " "$T/tty.out" || fail "no coloured headline on a terminal"
    NO_COLOR=1 script -qec "'$PW' report '$T/rep'" /dev/null >"$T/tty.out" 2>&1
    grep -q "$esc" "$T/tty.out" && fail "colour despite NO_COLOR"
fi

# signals to parkwatch reach the program
"$PW" run --trace-dir "$T/td3" -- sh -c 'trap "exit 9" TERM; touch '"$T"'/ready; while :; do sleep 0.05; done' \
    >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -e "$T/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
st=$?
[ "$st" = 9 ] || fail "SIGTERM not forwarded: status $st"

if [ $fails -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli: all checks passed"

#!/bin/bash
# Re-records the golden tests' traces (tests/golden/traces) from the victim
# programs of a build: each victim runs under `parkwatch run` with small
# sections, and its traces are packed with every path and build-id made
# unfindable (tests/fuzz/pack_trace.c --golden), so the reports read the same
# on every machine.  The traces are the tests' fixed input: re-record only when
# the trace format changes, then regenerate the expected reports
# (tests/golden/golden.py --update, see there) and review the diff.
#   tests/golden/record.sh [BUILD-DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
out=tests/golden/traces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -Iinclude tests/fuzz/pack_trace.c -o "$tmp/pack_trace"

# One victim per finding kind and path through the model, one clean program,
# and a parent with its forked child (two traces reported together).
victims=(deadlock_abba pipe_leak lo_dining exit_with_lock double_close send_on_closed
         unread_data unjoined close_while_blocked all_blocked cond_leak pollset_leak
         fork_leak clean_condq)
opts="max_threads=16:ring_events=64:max_chans=16:max_notes=256:depot_kb=64"
rm -f "$out"/*.trace
mkdir -p "$out"
for v in "${victims[@]}"; do
    mkdir -p "$tmp/$v"
    PARKWATCH_OPTIONS="$opts" "$build/analyzer/parkwatch" run --trace-dir "$tmp/$v" \
        -- "$build/tests/progs/$v-O2" >/dev/null 2>&1 || true
    n=0
    # oldest first: the parent before its children
    for t in $(ls -tr "$tmp/$v"/parkwatch.*.trace); do
        "$tmp/pack_trace" --golden "$t" "$out/$v.$n.trace"
        n=$((n + 1))
    done
done
du -sh "$out"

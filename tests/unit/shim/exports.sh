#!/bin/sh
# The shim must export exactly the interposed functions listed in the version
# script, plus parkwatch_*: anything else would leak internals into every
# process it is preloaded into.  Usage: exports.sh NM LIBRARY VERSION-SCRIPT
set -eu
nm=$1 lib=$2 map=$3
allowed=$(sed -e 's|/\*.*\*/||g' "$map" | tr -s ' \t;{}' '\n' |
          sed -n '/^global:$/,/^local:$/p' | grep -v -e '^global:$' -e '^local:$' -e '^$')
exported=$("$nm" -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sed 's/@.*//')
[ -n "$exported" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=0
for sym in $exported; do
    case "$sym" in parkwatch_*) continue ;; esac
    echo "$allowed" | grep -qx -- "$sym" || { echo "unexpected export: $sym"; bad=1; }
done
for sym in $allowed; do
    case "$sym" in *\**) continue ;; esac
    echo "$exported" | grep -qx -- "$sym" || { echo "listed but not exported: $sym"; bad=1; }
done
exit $bad

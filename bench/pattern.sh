#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# STIX pattern evaluator throughput: 1,000 indicator patterns (a third IPv4,
# a third domain, a third SHA-256) x 10,000 observed-data, every pair through
# pk_pattern_eval (no index: each pattern visits every observed-data).  Prints
# pairs per second and the ratio to the OASIS Python reference matcher's
# 57,000 pairs/s on this work (the target is 100x).  Nothing is asserted.
set -eu
: "${PICKET:?set PICKET to the Release binary (make bench does)}"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/picket-bench-pattern.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 "$here/pattern_gen.py" "$tmp" "${PATTERNS:-1000}" "${OBSERVED:-10000}"
"$PICKET" pattern match -v --patterns "$tmp/patterns.txt" "$tmp/observed.json" >"$tmp/out" 2>"$tmp/err" || true
cat "$tmp/err"
rate=$(sed -n 's/.*: \([0-9]*\) pairs\/s;.*/\1/p' "$tmp/err")
cpurate=$(sed -n 's/.*: \([0-9]*\) pairs per CPU second.*/\1/p' "$tmp/err")
hits=$(grep -vc '"matches":\[\]' "$tmp/out" || true)
echo "patterns with a match: $hits of $(wc -l <"$tmp/out")"
if [ -n "$rate" ]; then
    awk -v r="$rate" 'BEGIN { printf "pattern evaluator: %d pairs/s (wall clock) = %.1fx the OASIS Python matcher (57,000 pairs/s; target 100x)\n", r, r / 57000 }'
fi
if [ -n "$cpurate" ]; then
    awk -v r="$cpurate" 'BEGIN { printf "pattern evaluator: %d pairs per CPU second = %.1fx (the two differ when other work shares the cores)\n", r, r / 57000 }'
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

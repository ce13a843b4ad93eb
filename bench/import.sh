#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Import benchmark: a generated STIX 2.1 bundle of $BENCH_OBJECTS objects
# (default 1,000,000; BENCH_BUNDLE reuses a generated file) imported into a fresh store (parse, validate, store,
# index), against the time Python's json.load takes merely to parse the same
# file.  Prints objects/s, peak RSS of both, and the ratio.  Never asserts.
set -u
: "${PICKET:?set PICKET to the Release binary (make bench does)}"
n=${BENCH_OBJECTS:-1000000}
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/picket-bench.XXXXXX")}
here=$(cd "$(dirname "$0")" && pwd)
trap 'rm -rf "$dir"' EXIT
bundle=${BENCH_BUNDLE:-$dir/bundle.json}
if [ ! -s "$bundle" ]; then
    echo "generating $n objects..."
    python3 "$here/gen_stix_bundle.py" "$bundle" "$n" || exit 1
fi
size=$(wc -c <"$bundle")
echo "bundle: $bundle, $size bytes"
sync
measure() { # label, command...: prints elapsed seconds and peak RSS (kB)
    label=$1; shift
    /usr/bin/time -v "$@" >"$dir/$label.out" 2>"$dir/$label.time"
    rc=$?
    el=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/$label.time" |
         awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/$label.time")
    echo "$label rc=$rc elapsed=${el}s peak_rss=${rss}kB"
    eval "${label}_s=$el ${label}_kb=$rss"
}
# Warm the page cache for both.
cat "$bundle" >/dev/null
measure python python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$bundle"
rm -f "$dir/bench.db" "$dir/bench.db-wal" "$dir/bench.db-shm"
measure picket "$PICKET" import --db "$dir/bench.db" "$bundle"
tail -2 "$dir/picket.time" >/dev/null
grep -h "stored" "$dir/picket.out" "$dir/picket.time" 2>/dev/null | head -1
awk -v n="$n" -v ps="$picket_s" -v py="$python_s" -v pk="$picket_kb" -v pyk="$python_kb" -v sz="$size" 'BEGIN {
    printf "picket import: %d objects in %.2f s = %.0f objects/s, %.1f MB/s, peak RSS %.1f MB\n", n, ps, n / ps, sz / ps / 1e6, pk / 1024
    printf "python json.load: %.2f s, peak RSS %.1f MB\n", py, pyk / 1024
    printf "ratio: picket whole import takes %.2fx the time of Python'"'"'s bare parse (<= 1.00 meets the target); memory %.2fx\n", ps / py, pk / pyk
}'
db=$(du -k "$dir/bench.db" | cut -f1)
echo "store size: $((db / 1024)) MB"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# picket serve under load, as issue 6 asks: POST 1,000-object envelopes until
# the collection holds TAXII_BENCH_OBJECTS (default 1,000,000) objects
# (objects/s acknowledged = committed), then GET /objects/ pages of 100 at
# random positions with wrk -c32 (pages/s, p99), twice, with the server's
# resident memory before, between and after.  Printed, never asserted.
# Targets from the issue: > 5,000 pages/s, p99 < 50 ms, > 50,000 objects/s,
# memory flat.  The machine has 2 shared cores: client and server share them.
#
#   TAXII_BENCH_OBJECTS=N   objects ingested first (default 1,000,000)
#   TAXII_BENCH_GET=0       stop after the ingest
#   TAXII_BENCH_COMMIT=fast the server's --commit (default sync: every
#                           acknowledged envelope synced to disk first)
#   TAXII_BENCH_SOAK=S      after the ingest, S seconds of mixed load instead of
#                           the GET runs: wrk GET pages (-c16) throughout, and a
#                           poster adding 5,000 objects (envelopes of 500) every
#                           few seconds; the server's VmRSS is sampled every 30 s
#                           and the series and its growth printed.
set -u
: "${PICKET:?set PICKET to the Release binary}"
root=$(cd "$(dirname "$0")/.." && pwd)
N=${TAXII_BENCH_OBJECTS:-1000000}
DUR=${TAXII_BENCH_SECONDS:-30}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/picket-bench-taxii.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
command -v wrk >/dev/null || { echo "taxii bench: wrk is not installed (scripts/install-deps bench)"; exit 0; }
cc -O2 -o "$tmp/load" "$root/bench/taxii_load.c" -lcurl -lpthread ||
    { echo "taxii bench: cannot build the loader (cc, libcurl)"; exit 0; }
db=$tmp/bench.db
tok=$("$PICKET" user add bench --org bench --db "$db" 2>/dev/null)
cid=$("$PICKET" collection add Bench --db "$db")
"$PICKET" collection grant "$cid" --org bench --read --write --db "$db"
"$PICKET" serve --db "$db" --listen 127.0.0.1:0 --threads 4 --max-objects 1000 --commit "${TAXII_BENCH_COMMIT:-sync}" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q listening "$tmp/out" && break; sleep 0.3; done
base=$(sed -n 's|.*listening on \(http://[^/]*\)/taxii2/.*|\1|p' "$tmp/out")
[ -n "$base" ] || { echo "taxii bench: the server did not start: $(cat "$tmp/err")"; exit 0; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# the server's CPU time so far, user and system, in seconds
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "user %.1f s, sys %.1f s", $14 / t, $15 / t}' "/proc/$pid/stat"; }
echo "server $base, $(nproc) cores, store $db, --commit ${TAXII_BENCH_COMMIT:-sync}"
echo "rss at start: $(rss) kB"
lo=$(date +%s%6N)
"$tmp/load" "$base/api/collections/$cid/objects/" "$tok" "$N" 1000 2
hi=$(date +%s%6N)
echo "server CPU for the ingest: $(cpu); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rss after ingest: $(rss) kB; store $(du -sh "$db"* | awk '{s=s" "$1} END {print s}')"
[ "${TAXII_BENCH_GET:-1}" = 0 ] && exit 0
SOAK=${TAXII_BENCH_SOAK:-0}
if [ "$SOAK" -gt 0 ]; then
    echo "soak: ${SOAK} s of GET pages (wrk -t1 -c16) and POSTs of 5,000 objects every few seconds"
    PK_PATH="/api/collections/$cid/objects/" PK_TOKEN="$tok" PK_LO="$lo" PK_HI="$hi" \
        wrk -t1 -c16 -d"${SOAK}s" -s "$root/bench/taxii_pages.lua" "$base" >"$tmp/wrk" 2>&1 &
    wpid=$!
    end=$(($(date +%s) + SOAK))
    (
        while [ "$(date +%s)" -lt "$end" ]; do
            "$tmp/load" "$base/api/collections/$cid/objects/" "$tok" 5000 500 1 >>"$tmp/posts" 2>&1
            sleep 2
        done
    ) &
    ppid=$!
    t0=$(date +%s)
    first=$(rss)
    series="0s:$first"
    echo "rss t=0s: $first kB"
    while [ "$(date +%s)" -lt "$end" ]; do
        left=$((end - $(date +%s)))
        sleep $((left < 30 ? left : 30))
        t=$(($(date +%s) - t0))
        v=$(rss)
        series="$series ${t}s:$v"
        echo "rss t=${t}s: $v kB"
    done
    wait "$wpid"
    wait "$ppid"
    last=$(rss)
    echo "GET during the soak: $(tail -1 "$tmp/wrk")"
    echo "POST during the soak: $(awk '/posted/ {n += $2; f += $(NF-2)} END {print n " objects acknowledged, " f " failed posts"}' "$tmp/posts")"
    echo "rss series (kB): $series"
    echo "rss growth over the soak: $((last - first)) kB (from $first to $last kB)"
    echo "store after the soak: $(du -sh "$db"* | awk '{s=s" "$1} END {print s}')"
    exit 0
fi
# the server's CPU time (user+sys, clock ticks) and the load average, so that
# a figure taken on a busy machine can be read
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
for run in 1 2; do
    printf 'GET pages of 100, wrk -t2 -c32 -d%ss, run %s: ' "$DUR" "$run"
    c0=$(ticks)
    PK_PATH="/api/collections/$cid/objects/" PK_TOKEN="$tok" PK_LO="$lo" PK_HI="$hi" \
        wrk -t2 -c32 -d"${DUR}s" -s "$root/bench/taxii_pages.lua" "$base" >"$tmp/wrk"
    c1=$(ticks)
    tail -1 "$tmp/wrk"
    pages=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk")
    [ -n "$pages" ] && [ "$pages" -gt 0 ] &&
        echo "server CPU $(( (c1 - c0) * 1000000 / hz / pages )) us per page; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rss after run $run: $(rss) kB"
done
echo "targets: > 5000 pages/s, p99 < 50 ms, > 50000 objects/s, memory flat"

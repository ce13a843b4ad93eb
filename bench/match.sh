#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# picket match against grep -F and wc -l on the same generated logs.
#
# Generates (once, deterministic, bench/gen_match.py) indicator lists of 1k,
# 100k and 1M values and an EVE log (and Zeek logs) with planted hits and near
# misses, then prints for each run: wall time, MB/s, peak RSS (/usr/bin/time
# -v), and recall/precision against the planted truth.  Nothing is asserted.
# Environment: PICKET (the Release binary), BENCH_DIR (data, default
# $TMPDIR/picket-bench), EVE_MB (default 512), ZEEK_MB (default 128),
# SIZES (default "1000 100000 1000000"), GREP_MAX (largest list grep -F gets,
# default 100000: grep's memory grows with the pattern count), ROUNDS (runs
# of picket and wc -l taken in turns for the ratio of their medians, default 9).
set -u
: "${PICKET:?set PICKET to the picket binary}"
# the runs below happen inside $BENCH_DIR: a relative path would name nothing there
case $PICKET in /*) ;; *) PICKET=$(cd "$(dirname "$PICKET")" && pwd)/$(basename "$PICKET") ;; esac
[ -x "$PICKET" ] || { echo "match bench: $PICKET is not an executable picket" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/picket-bench}
EVE_MB=${EVE_MB:-512}
ZEEK_MB=${ZEEK_MB:-128}
SIZES=${SIZES:-"1000 100000 1000000"}
GREP_MAX=${GREP_MAX:-100000}
mkdir -p "$dir"
cd "$dir" || exit 1

gen() { [ -s "$1" ] || { echo "generating $1"; shift; python3 "$here/gen_match.py" "$@"; }; }
big=$(echo $SIZES | tr ' ' '\n' | tail -1)
for n in $SIZES; do gen "iocs-$n.txt" iocs "$n" "iocs-$n.txt"; done
# the logs plant hits from the biggest list; smaller lists are its prefixes'
# kin (the same generator), so their alerts are a subset
gen "eve-$EVE_MB.json" eve "iocs-$big.txt" "$EVE_MB" "eve-$EVE_MB.json" "truth-eve-$EVE_MB.tsv"
gen "zeek-$ZEEK_MB/conn.log" zeek "iocs-$big.txt" "$ZEEK_MB" "zeek-$ZEEK_MB"

# run NAME FILE CMD...: time CMD over FILE; prints MB/s and peak RSS
run() {
    name=$1 file=$2; shift 2
    /usr/bin/time -v -o time.txt "$@" >out.txt 2>err.txt
    rc=$?
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' time.txt)
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' time.txt)
    bytes=$(wc -c <"$file")
    mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }')
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {k = $2} END {printf "%.2f", u + k}' time.txt)
    cmbs=$(awk -v b="$bytes" -v s="$cpu" 'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }')
    printf '%-40s wall %7.2f s %6s MB/s | cpu %6.2f s %6s MB/s | peak RSS %7.1f MB (exit %d)\n' "$name" "$secs" "$mbs" "$cpu" "$cmbs" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$rc"
    last_mbs=$mbs last_cmbs=$cmbs
}

eve="eve-$EVE_MB.json"
echo "== machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with other builds; one core used"
echo "== EVE log: $(wc -c <"$eve" | awk '{printf "%.0f MB", $1/1e6}'), $(wc -l <"$eve") lines; $(wc -l <"truth-eve-$EVE_MB.tsv") planted hits"
cat "$eve" >/dev/null # warm the page cache
run "wc -l" "$eve" wc -l "$eve"; wc_mbs=$last_mbs wc_cmbs=$last_cmbs
for n in $SIZES; do
    "$PICKET" compile -q --iocs "iocs-$n.txt" -o "iocs-$n.pki"
    isz=$(wc -c <"iocs-$n.txt")
    psz=$(wc -c <"iocs-$n.pki")
    echo "-- $n indicators: list $(awk -v s="$isz" 'BEGIN{printf "%.1f", s/1e6}') MB, index $(awk -v s="$psz" 'BEGIN{printf "%.1f", s/1e6}') MB"
    run "picket compile ($n)" "iocs-$n.txt" "$PICKET" compile --iocs "iocs-$n.txt" -o "iocs-$n.pki"
    echo "   compile peak RSS / list size: $(awk -F': ' -v s="$isz" '/Maximum resident/ {printf "%.2f", $2 * 1024 / s}' time.txt)"
    : >empty.log
    "$PICKET" match --index "iocs-$n.pki" empty.log 2>&1 >/dev/null | sed -n 's/.*index ready in \(.*\)/   .pki index ready in \1 (mmap + full validation)/p'
    run "picket match --index ($n) EVE" "$eve" "$PICKET" match -q --index "iocs-$n.pki" "$eve"
    cp out.txt "alerts-$n.json"
    echo "   vs wc -l: $(awk -v a="$last_mbs" -v b="$wc_mbs" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')x its wall speed, $(awk -v a="$last_cmbs" -v b="$wc_cmbs" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')x its cpu speed; --index peak RSS / list size: $(awk -F': ' -v s="$isz" '/Maximum resident/ {printf "%.2f", $2 * 1024 / s}' time.txt)"
    if [ "$n" = "$big" ]; then
        # issue 5's targets for the biggest list, on CPU time (one core; the machine is shared)
        rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' time.txt)
        echo "   TARGETS ($n indicators, one core, CPU time):"
        awk -v a="$last_cmbs" 'BEGIN{printf "     >= 1,000 MB/s of EVE JSON: %s MB/s = %.2fx the target (%s)\n", a, a / 1000, (a >= 1000 ? "met" : "NOT met")}'
        awk -v a="$last_cmbs" -v b="$wc_cmbs" 'BEGIN{r = (b > 0 ? a / b : 0); printf "     >= 1/3 of wc -l (%s MB/s): %.2fx wc -l = %.2fx the target (%s)\n", b, r, r * 3, (r * 3 >= 1 ? "met" : "NOT met")}'
        awk -v r="$rss_kb" -v s="$isz" 'BEGIN{x = r * 1024 / s; printf "     peak RSS < 2x the list: %.1f MB = %.2fx the list (%s)\n", r / 1024, x, (x < 2 ? "met" : "NOT met")}'
        # This VM has minutes in which everything runs ~1.4x slower: runs
        # minutes apart do not compare.  The ratio against wc -l again, from
        # ROUNDS runs of each taken in turns, by their medians, in CPU time
        # to the microsecond (getrusage of each child: /usr/bin/time prints
        # hundredths, and wc -l's 0.13 s is then +-4%).
        python3 - "${ROUNDS:-9}" "$eve" "$PICKET" "iocs-$n.pki" <<'PY'
import os, resource, statistics, subprocess, sys
rounds, log, picket, pki = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
p, w = [], []
for _ in range(rounds):
    p.append(cpu([picket, "match", "-q", "--index", pki, log]))
    w.append(cpu(["wc", "-l", log]))
mp, mw = statistics.median(p), statistics.median(w)
r = mw / mp
mb = os.path.getsize(log) / 1e6
print("     %d rounds in turns: picket median %.3f s CPU (%.0f MB/s), wc -l median %.3f s; "
      "ratio of medians %.3f = %.2fx the target (%s)"
      % (rounds, mp, mb / mp, mw, r, r * 3, "met" if r * 3 >= 1 else "NOT met"))
# the same runs seen two more ways: each round's pair (a slow stretch of the
# VM that spans a round slows both of its runs), and the fastest of each
per = sorted(b / a for a, b in zip(p, w))
print("     per round (wc -l / picket): median %.3f, lowest %.3f, highest %.3f; rounds at or "
      "above a third: %d of %d; fastest of each: %.3f s / %.3f s = %.3f"
      % (statistics.median(per), per[0], per[-1], sum(x * 3 >= 1 for x in per), rounds,
         min(w), min(p), min(w) / min(p)))
PY
        echo "   $(python3 "$here/score_match.py" "truth-eve-$EVE_MB.tsv" "alerts-$n.json" | head -3)"
        run "picket match --iocs ($n, no .pki) EVE" "$eve" "$PICKET" match -q --iocs "iocs-$n.txt" "$eve"
        echo "   --iocs (no .pki) peak RSS / list size: $(awk -F': ' -v s="$isz" '/Maximum resident/ {printf "%.2f", $2 * 1024 / s}' time.txt)"
        z="zeek-$ZEEK_MB"
        cat "$z/conn.log" "$z/dns.log" "$z/dns.json" >/dev/null
        zsz=$(cat "$z/conn.log" "$z/dns.log" "$z/dns.json" | wc -c)
        cat "$z/conn.log" "$z/dns.log" "$z/dns.json" >zeek-all.tmp
        (cd "$z" && /usr/bin/time -v -o ../time.txt "$PICKET" match -q --index "../iocs-$n.pki" conn.log dns.log dns.json >../alerts-zeek.json 2>/dev/null)
        secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' time.txt)
        cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {k = $2} END {printf "%.2f", u + k}' time.txt)
        printf '%-40s wall %7.2f s %6.0f MB/s | cpu %6.2f s %6.0f MB/s\n' "picket match --index ($n) Zeek TSV+JSON" "$secs" "$(awk -v b="$zsz" -v s="$secs" 'BEGIN{print (s > 0 ? b/1e6/s : 0)}')" "$cpu" "$(awk -v b="$zsz" -v s="$cpu" 'BEGIN{print (s > 0 ? b/1e6/s : 0)}')"
        echo "   $(python3 "$here/score_match.py" "$z/truth.tsv" alerts-zeek.json | head -3)"
        rm -f zeek-all.tmp
    fi
    if [ "$n" -le "$GREP_MAX" ]; then
        cut -f2 "iocs-$n.txt" | grep -v '^#' >"values-$n.txt"
        run "LC_ALL=C grep -F -c -f ($n values)" "$eve" env LC_ALL=C grep -F -c -f "values-$n.txt" "$eve"
        echo "   grep -F matching lines: $(cat out.txt) (substring matches, near misses included)"
    else
        echo "   (grep -F -f with $n patterns skipped: set GREP_MAX=$n to run it)"
    fi
done

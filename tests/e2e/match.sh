# SPDX-License-Identifier: Apache-2.0
# picket match and picket compile from outside: the hand-checked cases in
# tests/cases/match/, the .pki file (round trip, damage refused), exit codes,
# gzip, standard input, -j, sightings, --follow, and the shared sample logs.
. "$PK_SOURCE_DIR/tests/harness.sh"
cases="$PK_SOURCE_DIR/tests/cases/match"
work="$T_TMP/cases"
cp -r "$cases" "$work"

# Each case: input.*, args, and the expected stdout, stderr and status.
for dir in "$work"/*/; do
    c=$(basename "$dir")
    cd "$dir" || continue
    src="--iocs ../iocs.txt"
    [ -f indicators.json ] && src="--indicators indicators.json"
    # shellcheck disable=SC2046
    "$PICKET" match -q $src $(cat args) input.* >out 2>err
    echo $? >got_status
    expect_eq "case $c: status" "$(cat got_status)" "$(cat status)"
    if cmp -s out expected.jsonl; then ok "case $c: alerts"; else
        not_ok "case $c: alerts" "$(diff out expected.jsonl | head -10)"; fi
    expect_eq "case $c: stderr" "$(cat err)" "$(cat stderr.txt)"
done

cd "$work/eve" || exit 1
# the same through a compiled index
expect_rc "compile the case indicators" 0 "$PICKET" compile -q --iocs ../iocs.txt -o "$T_TMP/c.pki"
expect_rc "match --index finds the same" 0 "$PICKET" match -q --index "$T_TMP/c.pki" --format eve input.json
expect_eq "match --index: same alerts as --iocs" "$(cat "$T_TMP/out")" "$(cat expected.jsonl)"

# damaged and foreign index files are refused with the reason
size=$(wc -c <"$T_TMP/c.pki")
cp "$T_TMP/c.pki" "$T_TMP/bad.pki"
printf 'X' | dd of="$T_TMP/bad.pki" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_rc "a damaged index is refused" 2 "$PICKET" match --index "$T_TMP/bad.pki" input.json
expect_contains "damage: the reason" "$(cat "$T_TMP/err")" "checksum mismatch"
head -c $((size - 64)) "$T_TMP/c.pki" >"$T_TMP/short.pki"
expect_rc "a truncated index is refused" 2 "$PICKET" match --index "$T_TMP/short.pki" input.json
expect_contains "truncated: the reason" "$(cat "$T_TMP/err")" "size differs"
cp "$T_TMP/c.pki" "$T_TMP/old.pki"
printf '\001\000\000\000' | dd of="$T_TMP/old.pki" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_rc "an index of an older format is refused" 2 "$PICKET" match --index "$T_TMP/old.pki" input.json
expect_contains "older format: says to compile again" "$(cat "$T_TMP/err")" "index format version 1, this picket reads version 2: run picket compile again"
expect_rc "a file that is no index is refused" 2 "$PICKET" match --index ../iocs.txt input.json
expect_contains "foreign: the reason" "$(cat "$T_TMP/err")" "wrong magic"

# STIX indicators through a compiled index (patterns travel in it) and the store
cd "$work/stix" || exit 1
expect_rc "compile STIX indicators" 1 "$PICKET" compile -q --indicators indicators.json -o "$T_TMP/s.pki"
expect_rc "match --index with patterns" 0 "$PICKET" match -q --index "$T_TMP/s.pki" --format eve input.json
expect_eq "patterns from the index: same alerts" "$(cat "$T_TMP/out")" "$(cat expected.jsonl)"
if "$PICKET" import -q --db "$T_TMP/p.db" indicators.json >/dev/null 2>&1; then
    expect_rc "match --db" 0 "$PICKET" match -q --db "$T_TMP/p.db" --format eve input.json
    expect_eq "match --db: the stored indicators give the same alerts" "$(sort "$T_TMP/out")" "$(sort expected.jsonl)"
else
    not_ok "picket import into a fresh store"
fi
# patterns without usable anchors (gated by networks and object types) from a compiled index
cd "$work/stix-complex" || exit 1
expect_rc "compile patterns without anchors" 1 "$PICKET" compile -q --indicators indicators.json -o "$T_TMP/x.pki"
expect_rc "match --index with gated patterns" 0 "$PICKET" match -q --index "$T_TMP/x.pki" --format eve input.json
expect_eq "gated patterns from the index: same alerts" "$(cat "$T_TMP/out")" "$(cat expected.jsonl)"
cd "$work/eve" || exit 1

# exit codes
printf '{"event_type":"flow","src_ip":"10.0.0.1"}\n' >"$T_TMP/clean.json"
expect_rc "no hits exits 1" 1 "$PICKET" match -q --iocs ../iocs.txt "$T_TMP/clean.json"
expect_eq "no hits prints nothing" "$(cat "$T_TMP/out")" ""
expect_rc "an unreadable log exits 2" 2 "$PICKET" match -q --iocs ../iocs.txt "$T_TMP/nonexistent.json"
expect_contains "unreadable: names the file" "$(cat "$T_TMP/err")" "nonexistent.json: cannot open"
expect_rc "no indicators is a usage error" 2 "$PICKET" match input.json
expect_rc "a bad map is a usage error" 2 "$PICKET" match --iocs ../iocs.txt --map 'x=bogus' input.json
expect_contains "bad map: the reason" "$(cat "$T_TMP/err")" "unknown type"

# gzip and standard input give the same alerts
gzip -c input.json >"$T_TMP/input.json.gz"
expect_rc "gzip input" 0 "$PICKET" match -q --iocs ../iocs.txt --format eve "$T_TMP/input.json.gz"
expect_eq "gzip: same alerts" "$(sed 's/"source":"[^"]*"//' "$T_TMP/out")" "$(sed 's/"source":"[^"]*"//' expected.jsonl)"
expect_rc "standard input" 0 sh -c "\"$PICKET\" match -q --iocs ../iocs.txt - <input.json"
expect_eq "stdin: same alerts, source -" "$(sed 's/"source":"[^"]*"//' "$T_TMP/out")" "$(sed 's/"source":"[^"]*"//' expected.jsonl)"
expect_contains "stdin: sniffed as EVE" "$(head -1 "$T_TMP/out")" '"source":"-"'

# -j 2 over several inputs: the same set of alerts as one thread
for c in eve zeek-tsv zeek-json text; do cp "$work/$c/input."* "$T_TMP/j-$c.$(ls "$work/$c" | sed -n 's/^input\.//p')"; done
(cd "$T_TMP" && "$PICKET" match -q --iocs "$work/iocs.txt" j-* | sort >one.txt)
(cd "$T_TMP" && "$PICKET" match -q -j 2 --iocs "$work/iocs.txt" j-* | sort >two.txt)
expect_eq "-j 2: same alerts as -j 1" "$(cat "$T_TMP/two.txt")" "$(cat "$T_TMP/one.txt")"
expect_eq "-j: all inputs matched" "$(wc -l <"$T_TMP/one.txt")" "$(cat "$work"/eve/expected.jsonl "$work"/zeek-tsv/expected.jsonl "$work"/zeek-json/expected.jsonl "$work"/text/expected.jsonl | wc -l)"

# sightings: one per indicator, counts and times from the records
expect_rc "sightings" 0 "$PICKET" match -q --iocs ../iocs.txt --sensor sensor-1 --sightings "$T_TMP/s.json" input.json
got=$(python3 - "$T_TMP/s.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
objs = b["objects"]
ident = [o for o in objs if o["type"] == "identity"]
ind = {o["id"]: o for o in objs if o["type"] == "indicator"}
s = [o for o in objs if o["type"] == "sighting"]
assert b["type"] == "bundle" and len(ident) == 1 and ident[0]["name"] == "sensor-1"
for o in s:
    assert o["where_sighted_refs"] == [ident[0]["id"]] and o["sighting_of_ref"] in ind
v = {ind[o["sighting_of_ref"]]["pattern"]: (o["count"], o["first_seen"], o["last_seen"]) for o in s}
print(len(s))
print(v["[ipv4-addr:value = '203.0.113.7']"])
print(v["[domain-name:value = 'evil.example']"])
PY
)
expect_eq "sightings: per indicator with count and times" "$got" "13
(2, '2024-03-21T05:46:40.003Z', '2024-03-21T05:46:49.000Z')
(3, '2024-03-21T05:46:45.000Z', '2024-03-21T11:46:42.500Z')"

# --follow: a line appended later is matched while picket runs
: >"$T_TMP/grow.json"
"$PICKET" match -q --follow --iocs ../iocs.txt --format eve --alerts "$T_TMP/fa.json" "$T_TMP/grow.json" 2>"$T_TMP/ferr" &
fpid=$!
trap 'kill $fpid 2>/dev/null; rm -rf "$T_TMP"' EXIT
sleep 0.5
printf '{"event_type":"flow","src_ip":"203.0.113.7"}\n' >>"$T_TMP/grow.json"
i=0; while [ $i -lt 50 ] && ! grep -q 203.0.113.7 "$T_TMP/fa.json" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -TERM $fpid; wait $fpid; frc=$?
expect_contains "--follow: the appended line hits" "$(cat "$T_TMP/fa.json")" '"line":1'
expect_eq "--follow: stops on SIGTERM with status 0" "$frc" "0"

# compile reports bad lines with file:line and still writes the index
printf '203.0.113.7\nipv4\t300.1.1.1\nfrob\tx\n' >"$T_TMP/mixed.txt"
expect_rc "compile: rejected lines exit 1" 1 "$PICKET" compile -q --iocs "$T_TMP/mixed.txt" -o "$T_TMP/m.pki"
expect_contains "compile: names the bad line" "$(cat "$T_TMP/err")" "mixed.txt:2:6: not an IPv4 address"
expect_contains "compile: names the bad type" "$(cat "$T_TMP/err")" "mixed.txt:3:1: unknown type 'frob'"
expect_rc "compile: the index was written" 0 "$PICKET" match -q --index "$T_TMP/m.pki" input.json
expect_rc "compile without -o is a usage error" 2 "$PICKET" compile --iocs ../iocs.txt

# The shared sample logs: counts computed here with grep and awk, not by picket.
data=${PK_TEST_DATA:-}
if [ -n "$data" ] && [ -d "$data/logs" ]; then
    printf 'ipv4\t10.47.1.100\n' >"$T_TMP/one.txt"
    f="$data/logs/zeek-json/dns.json"
    want=$(grep -c '"id.orig_h":"10.47.1.100"' "$f")
    "$PICKET" match -q --iocs "$T_TMP/one.txt" "$f" >"$T_TMP/o.json" 2>/dev/null
    expect_eq "sample zeek-json dns: every id.orig_h hit" "$(grep -c '"field":"id.orig_h"' "$T_TMP/o.json")" "$want"
    f="$data/logs/zeek-tsv/kishpud_ssl.log"
    want=$(awk -F'\t' '!/^#/ && NF != 18' "$f" | wc -l)
    "$PICKET" match -q --iocs "$T_TMP/one.txt" "$f" >/dev/null 2>"$T_TMP/e.txt"; rc=$?
    expect_eq "sample zeek-tsv ssl: joined lines are malformed, exit 2" "$rc" 2
    expect_contains "sample zeek-tsv ssl: count of malformed lines" "$("$PICKET" match --iocs "$T_TMP/one.txt" "$f" 2>&1 >/dev/null | tail -1)" "$want malformed"
    ip=$(sed -n '1s/.*"src_ip":"\([^"]*\)".*/\1/p' "$data/logs/eve/magnc.eve.json")
    printf 'ipv4\t%s\n' "$ip" >"$T_TMP/eve.txt"
    want=$(grep -c "\"src_ip\":\"$ip\"" "$data/logs/eve/magnc.eve.json")
    "$PICKET" match -q --iocs "$T_TMP/eve.txt" "$data/logs/eve/magnc.eve.json" >"$T_TMP/o.json"
    expect_eq "sample eve: every src_ip hit" "$(grep -c '"field":"src_ip"' "$T_TMP/o.json")" "$want"
    want=$(python3 -c '
import json, sys
bad = 0
for p in sys.argv[1:]:
    for line in open(p, "rb"):
        if line.strip():
            try:
                json.loads(line)
            except ValueError:
                bad += 1
print(bad)' "$data"/logs/eve/* "$data"/logs/zeek-json/*)
    "$PICKET" match --iocs "$T_TMP/one.txt" "$data"/logs/eve/* "$data"/logs/zeek-json/* >/dev/null 2>"$T_TMP/e.txt"
    expect_contains "sample eve and zeek-json: malformed lines as python counts them" "$(tail -1 "$T_TMP/e.txt")" ", $want malformed"
else
    skip "sample logs" "no ../shared/data/logs here"
fi
finish

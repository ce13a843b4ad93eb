# SPDX-License-Identifier: Apache-2.0
# picket pattern check / match driven from outside: exit codes, the canonical
# form, "column N: reason", JSON output, stdin, --spec, and bad input.
. "$PK_SOURCE_DIR/tests/harness.sh"

expect_rc "check: valid pattern exits 0" 0 "$PICKET" pattern check "[file:size==1280]"
expect_eq "check: prints the canonical form" "$(cat "$T_TMP/out")" "[file:size = 1280]"
expect_rc "check: invalid pattern exits 1" 1 "$PICKET" pattern check "[file:size = ]"
expect_eq "check: column N: reason" "$(cat "$T_TMP/err")" \
    "column 14: expected a constant (string, number, true/false, b'', h'', t''), found ']'"
expect_rc "check: --anchors" 0 "$PICKET" pattern check --anchors "[domain-name:value IN ('a.example', 'b.example')]"
expect_eq "check: --anchors lists the equality terms" "$(cat "$T_TMP/out")" "[domain-name:value IN ('a.example', 'b.example')]
anchors: 2 (exact)
  domain-name:value = \"a.example\"
  domain-name:value = \"b.example\""
expect_rc "check --json: valid" 0 "$PICKET" pattern check --json "[ipv4-addr:value = '10.0.0.1' OR ipv4-addr:value = 'x']"
expect_eq "check --json: canonical form and anchors" "$(cat "$T_TMP/out")" \
    '{"valid":true,"canonical":"[ipv4-addr:value = '"'10.0.0.1'"' OR ipv4-addr:value = '"'x'"']","anchors":[{"type":"ipv4-addr","path":"value","value":"10.0.0.1"},{"type":"ipv4-addr","path":"value","value":"x"}],"exact":true}'
expect_rc "check --json: invalid exits 1" 1 "$PICKET" pattern check --json "[a:b = 1] WITHIN 0 SECONDS"
expect_eq "check --json: column and message" "$(cat "$T_TMP/out")" \
    '{"valid":false,"column":18,"message":"WITHIN needs a positive number of seconds"}'
expect_rc "check: --spec 2.1 refuses a 2.0 START" 1 "$PICKET" pattern check --spec 2.1 \
    "[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'"
expect_rc "check: --spec 2.0 accepts it" 0 "$PICKET" pattern check --spec 2.0 \
    "[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'"
expect_rc "check: bad --spec is a usage error" 2 "$PICKET" pattern check --spec 3 "[a:b = 1]"
expect_rc "no subcommand is a usage error" 2 "$PICKET" pattern
expect_rc "unknown subcommand is a usage error" 2 "$PICKET" pattern frob "[a:b = 1]"

cat >"$T_TMP/b.json" <<'JSON'
{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
 {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
  "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
  "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
  "number_observed": 1, "object_refs": ["domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"]},
 {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
  "value": "evil.example"}]}
JSON
od='["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"]'
expect_rc "match: a match exits 0" 0 "$PICKET" pattern match "[domain-name:value = 'evil.example']" "$T_TMP/b.json"
expect_eq "match: prints the observed-data ids" "$(cat "$T_TMP/out")" "$od"
expect_rc "match: no match exits 1" 1 "$PICKET" pattern match "[domain-name:value = 'good.example']" "$T_TMP/b.json"
expect_eq "match: no match prints []" "$(cat "$T_TMP/out")" "[]"
expect_rc "match: reads standard input" 0 sh -c "\"\$0\" pattern match \"[domain-name:value LIKE '%.example']\" - < \"\$1\"" "$PICKET" "$T_TMP/b.json"
expect_eq "match: stdin output" "$(cat "$T_TMP/out")" "$od"
expect_rc "match: invalid pattern exits 2" 2 "$PICKET" pattern match "[domain-name:value = ]" "$T_TMP/b.json"
expect_contains "match: invalid pattern names the column" "$(cat "$T_TMP/err")" "column 22:"
printf '{"objects": [' >"$T_TMP/bad.json"
expect_rc "match: unreadable JSON exits 2" 2 "$PICKET" pattern match "[a:b = 1]" "$T_TMP/bad.json"
expect_contains "match: JSON error names the file" "$(cat "$T_TMP/err")" "bad.json:1:"
expect_rc "match: missing file exits 2" 2 "$PICKET" pattern match "[a:b = 1]" "$T_TMP/none.json"
expect_rc "match: --spec 2.0 refuses 2.1 observed-data" 2 "$PICKET" pattern match --spec 2.0 "[a:b = 1]" "$T_TMP/b.json"
expect_contains "match: the error names object and property" "$(cat "$T_TMP/err")" \
    "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf: objects:"
printf '# indicators\n[domain-name:value = %s]\n\n[domain-name:value = %s]\n' "'good.example'" "'evil.example'" >"$T_TMP/list"
expect_rc "match --patterns: one of them matches" 0 "$PICKET" pattern match --patterns "$T_TMP/list" "$T_TMP/b.json"
expect_eq "match --patterns: one line per pattern" "$(cat "$T_TMP/out")" "{\"line\":2,\"matches\":[]}
{\"line\":4,\"matches\":$od}"
printf '[a:b = 1]\n[a:b = ]\n' >"$T_TMP/badlist"
expect_rc "match --patterns: an invalid line exits 2" 2 "$PICKET" pattern match --patterns "$T_TMP/badlist" "$T_TMP/b.json"
expect_contains "match --patterns: names line and column" "$(cat "$T_TMP/err")" "badlist:2:8:"
python3 - "$T_TMP/slow.json" <<'PY'
import json, sys
json.dump([{"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
            "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1, "object_refs": ["x--1"]},
           {"type": "x", "id": "x--1", "v": "a" * 5000 + "!"}], open(sys.argv[1], "w"))
PY
expect_rc "match: catastrophic regex fails cleanly" 2 "$PICKET" pattern match "[x:v MATCHES '^(a|aa)+\$']" "$T_TMP/slow.json"
expect_contains "match: regex limit message" "$(cat "$T_TMP/err")" "backtracks too much"
expect_rc "match: REPEATS 1000000 finishes" 1 "$PICKET" pattern match "[x:v LIKE 'a%'] REPEATS 1000000 TIMES" "$T_TMP/slow.json"

# The OASIS example bundles, when present: every indicator pattern in them is valid.
d="$PK_TEST_DATA/stix/oasis"
if [ -d "$d" ]; then
    pats=$(python3 -c '
import json, sys, glob
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    for o in json.load(open(f)).get("objects", []):
        if o.get("type") == "indicator" and o.get("pattern_type", "stix") == "stix":
            print(o["pattern"].replace("\n", " "))' "$d")
    n=0 bad=0
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        n=$((n + 1))
        "$PICKET" pattern check "$p" >/dev/null 2>"$T_TMP/err" || { bad=$((bad + 1)); echo "  $p: $(cat "$T_TMP/err")"; }
    done <<EOP
$pats
EOP
    expect_eq "check: all $n indicator patterns of the OASIS examples parse" "$bad" "0"
else
    skip "OASIS example patterns" "../shared/data/stix/oasis is absent"
fi
finish

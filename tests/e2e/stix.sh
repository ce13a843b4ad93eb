# SPDX-License-Identifier: Apache-2.0
# validate / import / export / stats driven from outside.  Expected counts are
# computed independently with python3 over the shared data, never with picket.
. "$PK_SOURCE_DIR/tests/harness.sh"

db="$T_TMP/a.db"
stix="$PK_TEST_DATA/stix"

# ---- validate: exit codes and messages ----
cat >"$T_TMP/good.json" <<'EOF'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
 {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.3']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}
]}
EOF
cat >"$T_TMP/bad.json" <<'EOF'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
 {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"},
 {"type":"malware", "id": tru},
 {"type":"domain-name","spec_version":"2.1","id":"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7","value":"example.com"}
]}
EOF
expect_rc "validate: a valid bundle exits 0" 0 "$PICKET" validate "$T_TMP/good.json"
expect_rc "validate: problems exit 1" 1 "$PICKET" validate "$T_TMP/bad.json"
expect_contains "validate: names file, line, object, property" "$(cat "$T_TMP/out")" \
    "bad.json:3:2: indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: pattern: error: required property is missing"
expect_contains "validate: a malformed object says where" "$(cat "$T_TMP/out")" "bad.json:4:"
expect_contains "validate: summary counts" "$(cat "$T_TMP/err")" "4 objects, 2 valid, 2 invalid"
expect_rc "validate: unreadable exits 2" 2 "$PICKET" validate "$T_TMP/nonexistent.json"
expect_rc "validate: standard input" 0 sh -c "\"$PICKET\" validate - <\"$T_TMP/good.json\""
printf '{"type":"bundle","objects":[{"type":"ipv4-addr"' >"$T_TMP/trunc.json"
expect_rc "validate: truncated input exits 1" 1 "$PICKET" validate "$T_TMP/trunc.json"
expect_contains "validate: truncated input is named" "$(cat "$T_TMP/out")" "truncated"

# ---- import: good objects in a bad batch are kept ----
expect_rc "import: rejects exit 1" 1 "$PICKET" import --db "$db" "$T_TMP/bad.json"
expect_contains "import: summary line" "$(cat "$T_TMP/err")" \
    "stored 2, duplicate 0, rejected 2, converted 0"
expect_rc "import: again, only duplicates" 1 "$PICKET" import --db "$db" "$T_TMP/bad.json"
expect_contains "import: duplicates counted" "$(cat "$T_TMP/err")" "stored 0, duplicate 2, rejected 2"
expect_rc "import --strict refuses the file" 1 "$PICKET" import --db "$T_TMP/strict.db" --strict "$T_TMP/bad.json"
expect_rc "stats on the refused store" 0 "$PICKET" stats --db "$T_TMP/strict.db" --json
expect_contains "--strict stored nothing" "$(cat "$T_TMP/out")" '"objects":0,'

# ---- STIX 2.0 is converted ----
cat >"$T_TMP/v20.json" <<'EOF'
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[
 {"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30","created":"2016-04-06T20:03:48Z","modified":"2016-04-06T20:03:48Z","labels":["malicious-activity"],"pattern":"[url:value = 'http://x.example/']","valid_from":"2016-01-01T00:00:00Z"},
 {"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b58910","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"]}
]}
EOF
expect_rc "import: STIX 2.0 converted" 0 "$PICKET" import --db "$T_TMP/v20.db" "$T_TMP/v20.json"
expect_contains "import: conversions counted" "$(cat "$T_TMP/err")" "stored 2, duplicate 0, rejected 0, converted 2"
expect_rc "export the converted objects" 0 "$PICKET" export --db "$T_TMP/v20.db" --format jsonl
expect_eq "converted objects are valid 2.1" \
    "$(python3 -c 'import json,sys; print(sorted((o["type"], o["spec_version"], o.get("pattern_type", "-"), o.get("is_family", "-")) for o in map(json.loads, open(sys.argv[1]))))' "$T_TMP/out")" \
    "[('indicator', '2.1', 'stix', '-'), ('malware', '2.1', '-', True)]"

# ---- collections and standard input ----
expect_rc "import from standard input into a collection" 0 sh -c \
    "\"$PICKET\" import --db \"$T_TMP/c.db\" --collection partners - <\"$T_TMP/good.json\""
expect_contains "stdin summary" "$(cat "$T_TMP/err")" "-: stored 2, duplicate 0, rejected 0, converted 0"
expect_rc "import another file without a collection" 0 "$PICKET" import --db "$T_TMP/c.db" "$T_TMP/v20.json"
expect_rc "export the collection" 0 "$PICKET" export --db "$T_TMP/c.db" --collection partners --format jsonl
expect_eq "only the collection's objects" "$(wc -l <"$T_TMP/out" | tr -d ' ')" "2"
expect_rc "export an unknown collection" 2 "$PICKET" export --db "$T_TMP/c.db" --collection nobody
expect_rc "stats by collection" 0 "$PICKET" stats --db "$T_TMP/c.db" --json
expect_contains "stats counts the collection" "$(cat "$T_TMP/out")" '"by_collection":{"partners":{"objects":2,"versions":2}}'
expect_contains "stats counts all objects" "$(cat "$T_TMP/out")" '"objects":4,"versions":4}'
PICKET_DB="$T_TMP/c.db" expect_rc "PICKET_DB names the store" 0 "$PICKET" stats
expect_contains "PICKET_DB store is read" "$(cat "$T_TMP/out")" "total"

# ---- the shared data: every object imports; stats equal an independent count ----
if [ ! -d "$stix" ]; then
    skip "import of the shared STIX data" "$stix is absent"
    skip "stats per type equal an independent count" "$stix is absent"
    skip "export/import round-trips byte-exact values" "$stix is absent"
else
    files=$(find "$stix" -name '*.json' | sort)
    # shellcheck disable=SC2086
    expect_rc "import every shared file" 0 "$PICKET" import --db "$T_TMP/shared.db" $files
    expect_contains "nothing rejected" "$(tail -1 "$T_TMP/err")" "rejected 0"
    expect_rc "stats --json" 0 "$PICKET" stats --db "$T_TMP/shared.db" --json
    cp "$T_TMP/out" "$T_TMP/stats.json"
    # shellcheck disable=SC2086
    verdict=$(python3 - "$T_TMP/stats.json" $files <<'EOF'
import json, sys, collections
ids = collections.defaultdict(set); vers = collections.defaultdict(set)
for f in sys.argv[2:]:
    d = json.load(open(f))
    objs = d["objects"] if isinstance(d, dict) and d.get("type") == "bundle" else (d if isinstance(d, list) else [d])
    for o in objs:
        ids[o["type"]].add(o["id"])
        vers[o["type"]].add((o["id"], o.get("modified", o.get("created", ""))))
got = json.load(open(sys.argv[1]))["by_type"]
bad = [t for t in sorted(set(ids) | set(got))
       if got.get(t, {}).get("objects") != len(ids[t]) or got.get(t, {}).get("versions") != len(vers[t])]
print("equal %d types" % len(ids) if not bad else "differ: " + ",".join(bad))
EOF
)
    expect_contains "stats per type equal an independent count" "$verdict" "equal "
    # export -> import into a fresh store -> export: every object's JSON value identical
    expect_rc "export all versions as jsonl" 0 "$PICKET" export --db "$T_TMP/shared.db" --all-versions --format jsonl -o "$T_TMP/e1.jsonl"
    expect_rc "import the export" 0 "$PICKET" import --db "$T_TMP/round.db" "$T_TMP/e1.jsonl"
    expect_rc "export again" 0 "$PICKET" export --db "$T_TMP/round.db" --all-versions --format jsonl -o "$T_TMP/e2.jsonl"
    expect_eq "round trip is byte-exact" "$(cmp "$T_TMP/e1.jsonl" "$T_TMP/e2.jsonl" && echo same)" "same"
    # shellcheck disable=SC2086
    verdict=$(python3 - "$T_TMP/e1.jsonl" $files <<'EOF'
import json, sys
src = {}
for f in sys.argv[2:]:
    d = json.load(open(f))
    objs = d["objects"] if isinstance(d, dict) and d.get("type") == "bundle" else (d if isinstance(d, list) else [d])
    for o in objs:
        src[(o["id"], o.get("modified", o.get("created", "")))] = o
out = [json.loads(l) for l in open(sys.argv[1])]
diff = [o["id"] for o in out if src.get((o["id"], o.get("modified", o.get("created", "")))) != o]
print("values equal %d" % len(out) if not diff and len(out) == len(src) else "differ %d of %d/%d" % (len(diff), len(out), len(src)))
EOF
)
    expect_contains "exported values equal the source values" "$verdict" "values equal "
    expect_rc "export a bundle" 0 "$PICKET" export --db "$T_TMP/shared.db" --type indicator
    expect_eq "bundle export parses and holds only indicators" \
        "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["type"], set(o["type"] for o in d["objects"]))' "$T_TMP/out")" \
        "bundle {'indicator'}"
    expect_rc "export csv" 0 "$PICKET" export --db "$T_TMP/shared.db" --format csv
    expect_eq "csv header" "$(head -1 "$T_TMP/out")" \
        "id,type,spec_version,version,created,modified,revoked,confidence,created_by_ref,tlp,date_added"
fi
expect_rc "stats on a missing store fails" 3 "$PICKET" stats --db "$T_TMP/none/x.db"
finish

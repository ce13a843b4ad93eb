# SPDX-License-Identifier: Apache-2.0
# kill -9 during a large import: the store opens, passes SQLite's integrity
# check (run with Python's sqlite3, not picket), and holds every batch that
# was reported committed, and no part of a batch that was not.
. "$PK_SOURCE_DIR/tests/harness.sh"

db="$T_TMP/crash.db"
bundle="$T_TMP/big.json"
n=60000
batch=500
python3 - "$bundle" "$n" <<'EOF'
import sys, uuid
out = open(sys.argv[1], "w")
n = int(sys.argv[2])
out.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid.UUID(int=1, version=4))
for i in range(n):
    u = uuid.UUID(int=(i * 2654435761 + 12345) & ((1 << 128) - 1), version=4)
    out.write('%s{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2020-01-01T00:00:00.000Z",'
              '"modified":"2020-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = \'10.0.%d.%d\']",'
              '"pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}\n' % ("," if i else "", u, i >> 8 & 255, i & 255))
out.write("]}\n")
EOF

: >"$T_TMP/import.err" # exists before the loop below reads it (the job may not have opened it yet)
"$PICKET" import -v --batch "$batch" --db "$db" "$bundle" 2>>"$T_TMP/import.err" &
pid=$!
# Wait for three committed batches (or for the import to end on its own).
tries=0
while [ "$(grep -c 'committed batch' "$T_TMP/import.err")" -lt 3 ] && kill -0 "$pid" 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -gt 1200 ] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
reported=$(grep 'committed batch' "$T_TMP/import.err" | tail -1 | sed 's/.*, \([0-9]*\) objects so far/\1/')
[ -n "$reported" ] || reported=0
if [ "$reported" -ge "$batch" ]; then ok "the import reported committed batches before the kill"; else
    not_ok "the import reported committed batches before the kill" "$(cat "$T_TMP/import.err")"; fi

verdict=$(python3 - "$db" "$bundle" "$reported" "$batch" <<'EOF'
import json, sqlite3, sys
db, bundle, reported, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db)
check = con.execute("PRAGMA integrity_check").fetchone()[0]
ids = [r[0] for r in con.execute("SELECT id FROM objects ORDER BY pk")]
src = [json.loads(l.lstrip(","))["id"] for l in open(bundle) if l.startswith(("{\"type\":\"indicator", ",{"))]
k = len(ids)
print("integrity=%s" % check)
print("whole-batches=%s" % (k % batch == 0 or k == len(src)))
print("reported-present=%s" % (k >= reported))
print("prefix=%s" % (ids == src[:k]))
EOF
)
expect_contains "the store passes PRAGMA integrity_check" "$verdict" "integrity=ok"
expect_contains "no half-written batch" "$verdict" "whole-batches=True"
expect_contains "every batch reported committed is there" "$verdict" "reported-present=True"
expect_contains "the stored objects are the file's first ones, in order" "$verdict" "prefix=True"
expect_rc "picket opens the store after the crash" 0 "$PICKET" stats --db "$db" --json
expect_rc "the import can be resumed; what was stored counts as duplicate" 0 \
    "$PICKET" import --db "$db" "$bundle"
expect_contains "resume: stored and duplicate add up" "$(cat "$T_TMP/err")" "rejected 0, converted 0"
expect_eq "resume: every object once" \
    "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*), count(distinct id) from objects").fetchone())' "$db")" \
    "($n, $n)"
finish

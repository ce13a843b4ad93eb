# SPDX-License-Identifier: Apache-2.0
# Two `picket serve` nodes on one store, driven with curl: a paging cursor
# handed out by one node is answered by the other, objects posted to one are
# read from the other (added_after from the X-TAXII-Date-Added-Last header),
# a status resource and a delete made on one are seen by the other.  No
# paging state lives in a server process.  Both servers are stopped on exit.
. "$PK_SOURCE_DIR/tests/harness.sh"
command -v curl >/dev/null 2>&1 || { skip "taxii nodes" "curl is not installed"; finish; exit 0; }
command -v python3 >/dev/null 2>&1 || { skip "taxii nodes" "python3 is not installed"; finish; exit 0; }

db=$T_TMP/shared.db
pids=
stop_nodes() { for p in $pids; do kill "$p" 2>/dev/null; done; for p in $pids; do wait "$p" 2>/dev/null; done; pids=; }
trap 'stop_nodes; rm -rf "$T_TMP"' EXIT

tok=$("$PICKET" user add alice --org orgA --db "$db" 2>/dev/null)
cid=$("$PICKET" collection add Shared --db "$db")
"$PICKET" collection grant "$cid" --org orgA --read --write --db "$db"

start_node() { # start_node N: the base URL in $url
    "$PICKET" serve --db "$db" --listen 127.0.0.1:0 >"$T_TMP/out.$1" 2>"$T_TMP/err.$1" &
    pids="$pids $!"
    i=0
    while [ $i -lt 50 ] && ! grep -q listening "$T_TMP/out.$1"; do sleep 0.1; i=$((i + 1)); done
    url=$(sed -n 's|.*listening on \(http://[^/]*\)/taxii2/.*|\1|p' "$T_TMP/out.$1")
}
start_node 1
n1=$url
start_node 2
n2=$url
if [ -z "$n1" ] || [ -z "$n2" ] || [ "$n1" = "$n2" ]; then
    not_ok "two nodes start on one store" "$(cat "$T_TMP/err.1" "$T_TMP/err.2")"
    finish
    exit 1
fi
ok "two nodes start on one store ($n1, $n2)"

TAXII='application/taxii+json;version=2.1'
req() { # req METHOD URL [BODY]: body to $T_TMP/body, headers to $T_TMP/hdr, prints the status
    m=$1 u=$2
    shift 2
    if [ $# -gt 0 ]; then
        printf '%s' "$1" >"$T_TMP/req"
        curl -s -o "$T_TMP/body" -D "$T_TMP/hdr" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
            -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary @"$T_TMP/req" "$u"
    else
        curl -s -o "$T_TMP/body" -D "$T_TMP/hdr" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
            -H "Accept: $TAXII" "$u"
    fi
}
# envelope FIRST COUNT: an envelope of COUNT indicators numbered from FIRST
envelope() {
    python3 - "$1" "$2" <<'EOF'
import json, sys, uuid
first, n = int(sys.argv[1]), int(sys.argv[2])
objs = [{"type": "indicator", "spec_version": "2.1",
         "id": "indicator--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "picket-nodes-%d" % i)),
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '198.51.100.%d']" % (i % 250), "pattern_type": "stix",
         "valid_from": "2026-01-01T00:00:00Z"} for i in range(first, first + n)]
print(json.dumps({"objects": objs}))
EOF
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_TMP/body" "$1"; }
hdr() { tr -d '\r' <"$T_TMP/hdr" | sed -n "s/^$1: //Ip"; }
objs=/api/collections/$cid/objects/

expect_eq "POST 250 objects to node 1: 202" "$(req POST "$n1$objs" "$(envelope 0 250)")" 202
expect_eq "... all 250 succeeded" "$(jget 'd["success_count"]')" 250
status_id=$(jget 'd["id"]')
expect_eq "node 2 serves node 1's status resource" "$(req GET "$n2/api/status/$status_id/")" 200
expect_eq "... with the same counts" "$(jget '(d["status"], d["success_count"], d["total_count"])')" "('complete', 250, 250)"

# Page 1 from node 1, page 2 from node 2 with node 1's cursor, page 3 from node 1 again.
: >"$T_TMP/seen"
expect_eq "page 1 from node 1" "$(req GET "$n1$objs?limit=100")" 200
jget '"\n".join(o["id"] for o in d["objects"])' >>"$T_TMP/seen"
next=$(jget 'd["next"]')
expect_eq "page 2 from node 2 with node 1's next" "$(req GET "$n2$objs?limit=100&next=$next")" 200
jget '"\n".join(o["id"] for o in d["objects"])' >>"$T_TMP/seen"
next=$(jget 'd["next"]')
expect_eq "page 3 from node 1 with node 2's next" "$(req GET "$n1$objs?limit=100&next=$next")" 200
jget '"\n".join(o["id"] for o in d["objects"])' >>"$T_TMP/seen"
expect_eq "... the last page says no more" "$(jget 'd["more"]')" False
last=$(hdr X-TAXII-Date-Added-Last)
expect_eq "three pages across two nodes: 250 objects" "$(wc -l <"$T_TMP/seen" | tr -d ' ')" 250
expect_eq "... none twice" "$(sort -u "$T_TMP/seen" | wc -l | tr -d ' ')" 250

# Written on node 2, read on node 1 with added_after from node 1's last header.
expect_eq "POST 7 more to node 2: 202" "$(req POST "$n2$objs" "$(envelope 1000 7)")" 202
expect_eq "node 1 lists them after its last date_added" "$(req GET "$n1$objs?added_after=$last")" 200
expect_eq "... exactly the 7 new ones" "$(jget 'len(d["objects"])')" 7
expect_eq "... none of the first 250" "$(jget 'len(set(o["id"] for o in d["objects"]) & set(open(sys.argv[1].replace("body", "seen")).read().split()))')" 0

# A delete on node 1 is seen by node 2.
victim=$(head -1 "$T_TMP/seen")
expect_eq "node 2 has $victim" "$(req GET "$n2$objs$victim/")" 200
expect_eq "DELETE on node 1: 200" "$(req DELETE "$n1$objs$victim/")" 200
expect_eq "node 2 no longer has it: 404" "$(req GET "$n2$objs$victim/")" 404
expect_contains "... with a TAXII error message" "$(cat "$T_TMP/body")" '"http_status":"404"'

# Both stop cleanly on SIGTERM, node 1 while a POST it took is in flight
# (a POST runs on a worker thread with its connection suspended): the POST
# is finished and acknowledged first.
envelope 2000 3000 >"$T_TMP/big"
curl -s -o "$T_TMP/big.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary @"$T_TMP/big" "$n1$objs" \
    >"$T_TMP/big.code" &
cpid=$!
sleep 0.3 # connected and sent; its 3,000 objects take longer than this to store
for p in $pids; do kill -TERM "$p"; done
t_term=$(date +%s%N)
wait "$cpid"
t_done=$(date +%s%N); echo "# the POST was answered $(( (t_done - t_term) / 1000000 )) ms after SIGTERM" >&2
rcs=
for p in $pids; do wait "$p"; rcs="$rcs$?"; done
pids=
expect_eq "both nodes exit 0 on SIGTERM" "$rcs" "00"
expect_eq "the POST in flight at SIGTERM was answered 202" "$(cat "$T_TMP/big.code")" 202
expect_eq "... and its 3,000 objects are in the store" \
    "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from collection_objects").fetchone()[0])' "$db")" 3256
finish

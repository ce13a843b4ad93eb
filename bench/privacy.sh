# SPDX-License-Identifier: Apache-2.0
# Anonymous intake throughput against a local picket serve: token issuance
# (blinding, evaluation, batch DLEQ proof, verification, unblinding, wallet
# write) in batches of 100, and submissions (scrub on both sides, redemption,
# storage, postings) one by one, each a full CLI process over HTTP.  The
# comparison is the server's plain TAXII POST of a similar bundle.  Printed,
# never asserted.  Usage: PICKET=build/picket sh bench/privacy.sh [REPORTS]
set -u
: "${PICKET:?set PICKET to the picket binary}"
N=${1:-100}
T=$(mktemp -d "${TMPDIR:-/tmp}/picket-bench-privacy.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT INT TERM
export PICKET_DB=$T/b.db XDG_DATA_HOME=$T/xdg
"$PICKET" user add bench --org bench-org --admin >"$T/u" 2>&1
TOKEN=$(grep -o 'pkt_[A-Za-z0-9_-]*' "$T/u" | head -1)
COLL=$("$PICKET" collection add Bench 2>&1 | head -1)
"$PICKET" collection grant "$COLL" --org bench-org --read --write >/dev/null 2>&1
"$PICKET" serve --listen 127.0.0.1:0 --token-quota 1000000 >"$T/s" 2>&1 &
PID=$!
i=0; while [ $i -lt 100 ] && ! grep -q listening "$T/s"; do sleep 0.1; i=$((i + 1)); done
URL=$(sed -n 's|.*listening on \(http://[^/]*\)/taxii2/.*|\1|p' "$T/s")
now() { date +%s.%N; }
rate() { python3 -c "import sys; n,a,b=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'{n/(b-a):.1f}')" "$@"; }

batches=$(( (N + 99) / 100 ))
t0=$(now)
b=0; while [ $b -lt $batches ]; do
    "$PICKET" report tokens --server "$URL" --user bench --token "$TOKEN" --count 100 -q || exit 1
    b=$((b + 1))
done
t1=$(now)
echo "token issuance: $((batches * 100)) tokens in batches of 100: $(rate $((batches * 100)) "$t0" "$t1") tokens/s"

"$PICKET" report template recruitment-approach >"$T/r.json"
t0=$(now)
i=0; while [ $i -lt "$N" ]; do
    "$PICKET" report submit "$T/r.json" --server "$URL" -q || exit 1
    i=$((i + 1))
done
t1=$(now)
sub=$(rate "$N" "$t0" "$t1")
echo "anonymous submissions: $N reports one by one: $sub reports/s"

python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(json.dumps({"objects": b["objects"]}))' "$T/r.json" >"$T/env.json"
t0=$(now)
i=0; while [ $i -lt "$N" ]; do
    curl -s -o /dev/null -u "bench:$TOKEN" -H 'Accept: application/taxii+json;version=2.1' \
        -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @"$T/env.json" \
        "$URL/api/collections/$COLL/objects/" || exit 1
    i=$((i + 1))
done
t1=$(now)
plain=$(rate "$N" "$t0" "$t1")
echo "plain TAXII POST of the same objects with curl: $plain posts/s"
python3 -c "import sys; print(f'ratio anonymous/plain: {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$sub" "$plain"

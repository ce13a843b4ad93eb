# SPDX-License-Identifier: Apache-2.0
# Anonymous intake end to end: a member fetches tokens with its account,
# submits a report with none, and then everything the submission added or
# changed (a logical dump of the store before and after, the new WAL frames,
# the changed database pages, the server's log lines and output) is searched
# for the account, the organisation, the token, the client's address and the
# times of day; refusals (spent, expired epoch, over quota, forged) and the
# k = 3 release.  Servers bind 127.0.0.1 on a free port and are always stopped.
. "$PK_SOURCE_DIR/tests/harness.sh"

for tool in sqlite3 python3 curl; do
    if ! command -v $tool >/dev/null 2>&1; then
        skip "privacy e2e" "$tool is not installed"
        finish
        exit $?
    fi
done

T=$T_TMP
SERVERS=""
stop_servers() { for p in $SERVERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; SERVERS=""; }
trap 'stop_servers; rm -rf "$T_TMP"' EXIT INT TERM

ACCOUNT=mallory-analyst-7731
ORG=orgzebra-aerospace-5519
export XDG_DATA_HOME="$T/xdg" HOME="$T/home"
mkdir -p "$HOME"

# start_server DB OUTFILE LOGFILE ARGS... -> sets URL, adds the pid to SERVERS
start_server() {
    db=$1 out=$2 log=$3; shift 3
    PICKET_DB=$db "$PICKET" serve --listen 127.0.0.1:0 --access-log "$log" "$@" >"$out" 2>&1 &
    SERVERS="$SERVERS $!"
    i=0
    while [ $i -lt 100 ] && ! grep -q 'listening on' "$out"; do sleep 0.1; i=$((i + 1)); done
    URL=$(sed -n 's|.*listening on \(http://[^/]*\)/taxii2/.*|\1|p' "$out" | head -1)
}

DB=$T/intake.db
PICKET_DB=$DB "$PICKET" user add "$ACCOUNT" --org "$ORG" >"$T/user.out" 2>&1
TOKEN=$(grep -o 'pkt_[A-Za-z0-9_-]*' "$T/user.out" | head -1)
SHARED=$(PICKET_DB=$DB "$PICKET" collection add Shared --alias shared 2>&1 | head -1)
PICKET_DB=$DB "$PICKET" collection grant "$SHARED" --org "$ORG" --read >/dev/null 2>&1
# The hosting organisation's analysts read the intake collection; members do not.
INTAKE=$(PICKET_DB=$DB "$PICKET" collection add Intake --alias intake 2>&1 | head -1)
PICKET_DB=$DB "$PICKET" collection grant "$INTAKE" --org hosting-cert --read >/dev/null 2>&1
PICKET_DB=$DB "$PICKET" user add host-analyst --org hosting-cert >"$T/analyst.out" 2>&1
ANALYST=$(grep -o 'pkt_[A-Za-z0-9_-]*' "$T/analyst.out" | head -1)
start_server "$DB" "$T/serve.out" "$T/access.log" --release-k 3 --token-quota 6
if [ -z "$URL" ] || [ -z "$TOKEN" ]; then
    not_ok "server starts" "$(cat "$T/serve.out" "$T/user.out")"
    finish
    exit 1
fi
ok "server starts with the intake routes"

# ---- tokens ----------------------------------------------------------------
expect_rc "tokens: an account fetches 5 tokens" 0 \
    "$PICKET" report tokens --server "$URL" --user "$ACCOUNT" --token "$TOKEN" --count 5
WALLET=$XDG_DATA_HOME/picket/wallet.json
expect_eq "wallet is in the data directory with mode 0600" "$(stat -c %a "$WALLET" 2>&1)" "600"
expect_eq "wallet holds 5 tokens" \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tokens"]))' "$WALLET")" 5
expect_rc "tokens: over quota is refused" 1 \
    "$PICKET" report tokens --server "$URL" --user "$ACCOUNT" --token "$TOKEN" --count 2
expect_contains "over quota: the error says so" "$(cat "$T_TMP/err")" \
    "over quota: organisation '$ORG' may get 6 tokens per epoch and has 1 left"
expect_rc "tokens: a wrong account token is refused" 1 \
    "$PICKET" report tokens --server "$URL" --user "$ACCOUNT" --token pkt_wrong --count 1
expect_contains "wrong token: 401" "$(cat "$T_TMP/err")" "server answered 401"

# ---- the report ------------------------------------------------------------
# recruiter_report FILE RECRUITER N: a report whose only shared observable is
# the recruiter's profile, with times of day and the member's names inside.
recruiter_report() {
    cat >"$1" <<EOF
{"type": "bundle", "id": "bundle--0b1c2d3e-0000-4000-8000-00000000000$3", "objects": [
 {"type": "identity", "spec_version": "2.1", "id": "identity--6f7e8d9c-0000-4000-8000-000000000001",
  "created": "2026-03-14T09:26:53.123Z", "modified": "2026-03-14T09:26:53.123Z",
  "name": "$ORG", "identity_class": "organization"},
 {"type": "incident", "spec_version": "2.1", "id": "incident--6f7e8d9c-0000-4000-8000-000000000002",
  "created": "2026-03-14T09:26:53.123Z", "modified": "2026-03-15T17:01:02Z",
  "created_by_ref": "identity--6f7e8d9c-0000-4000-8000-000000000001",
  "name": "Recruiter approach", "description": "Reported by $ACCOUNT of $ORG at 09:26",
  "x_picket_kind": "recruitment-approach", "x_picket_sector": "aerospace",
  "x_picket_date": "2026-03-14T09:26:53.123Z", "x_internal_ticket": "SEC-4711"},
 {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--6f7e8d9c-0000-4000-8000-000000000003",
  "created": "2026-03-14T09:26:53.123Z", "modified": "2026-03-14T09:26:53.123Z",
  "first_observed": "2026-03-10T08:15:00Z", "last_observed": "2026-03-12T23:59:59Z",
  "number_observed": 1, "object_refs": ["user-account--6f7e8d9c-0000-4000-8000-000000000004",
  "email-addr--6f7e8d9c-0000-4000-8000-000000000005"]},
 {"type": "user-account", "spec_version": "2.1", "id": "user-account--6f7e8d9c-0000-4000-8000-000000000004",
  "account_type": "linkedin", "user_id": "$2"},
 {"type": "email-addr", "spec_version": "2.1", "id": "email-addr--6f7e8d9c-0000-4000-8000-000000000005",
  "value": "hr$3@talent-$3.example"}
]}
EOF
}
recruiter_report "$T/r1.json" jane-recruiter-x 1

expect_rc "submit --dry-run sends nothing" 0 "$PICKET" report submit "$T/r1.json" --server "$URL" --dry-run
dry=$(cat "$T_TMP/out")
expect_contains "dry run shows the request line" "$dry" "POST /privacy/reports HTTP/1.1"
expect_contains "dry run: names and times of day redacted" "$dry" \
    "Reported by [redacted] of [redacted] at [time]"
expect_contains "dry run: timestamps cut to the day" "$dry" '"created":"2026-03-14T00:00:00.000Z"'
case $dry in *identity--*|*created_by_ref*|*x_internal_ticket*|*Authorization*|*User-Agent*)
    not_ok "dry run: no identity, created_by_ref, custom property or credentials" ;;
*) ok "dry run: no identity, created_by_ref, custom property or credentials" ;; esac
expect_eq "dry run spends no token" \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tokens"]))' "$WALLET")" 5

# Snapshot before.
cp "$WALLET" "$T/wallet-before.json"
sqlite3 "$DB" .dump >"$T/before.sql"
cp "$DB" "$T/before.db"
cp "$DB-wal" "$T/before.wal" 2>/dev/null || : >"$T/before.wal"
log_lines=$(wc -l <"$T/access.log")
out_bytes=$(wc -c <"$T/serve.out")
t0=$(date -u +%H:%M)
expect_rc "submit: a report goes in with no account" 0 "$PICKET" report submit "$T/r1.json" --server "$URL"
t1=$(date -u +%H:%M)
expect_contains "submit: accepted" "$(cat "$T_TMP/out")" "report accepted"
sleep 0.2
sqlite3 "$DB" .dump >"$T/after.sql"

# The token that was spent: in the wallet before, gone after.
python3 - "$T/wallet-before.json" "$WALLET" >"$T/spent" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["tokens"]
b = {t["input"] for t in json.load(open(sys.argv[2]))["tokens"]}
for t in a:
    if t["input"] not in b:
        print(t["input"]); print(t["output"])
EOF
expect_eq "exactly one token left the wallet" "$(wc -l <"$T/spent")" 2
SPENT_IN=$(sed -n 1p "$T/spent")
SPENT_OUT=$(sed -n 2p "$T/spent")

# Everything the submission added or changed.
diff "$T/before.sql" "$T/after.sql" | sed -n 's/^> //p' >"$T/added.sql"
python3 - "$T/before.wal" "$DB-wal" "$T/before.db" "$DB" >"$T/added.bin" <<'EOF'
import sys
def frames(path):
    try:
        data = open(path, "rb").read()
    except OSError:
        return set(), []
    if len(data) < 32:
        return set(), []
    page = int.from_bytes(data[8:12], "big")
    out, seen, off = [], set(), 32
    while off + 24 + page <= len(data):
        f = data[off:off + 24 + page]
        out.append(f); seen.add(f); off += 24 + page
    return seen, out
# Page images the store held before (database pages and log frames): the
# checkpoint thread may copy earlier frames into the database, or the log may
# start over, while the submission runs; a page image already held before is
# not something the submission wrote.  Every other new frame or changed page
# is searched.
_, oldf = frames(sys.argv[1])
_, new = frames(sys.argv[2])
a = open(sys.argv[3], "rb").read(); b = open(sys.argv[4], "rb").read()
ps = int.from_bytes(b[16:18], "big") or 65536
held = {f[24:] for f in oldf} | {a[i:i + ps] for i in range(0, len(a), ps)}
w = sys.stdout.buffer
for f in new:
    if f[24:] not in held:
        w.write(f[24:])
for i in range(0, len(b), ps):
    if a[i:i + ps] != b[i:i + ps] and b[i:i + ps] not in held:
        w.write(b[i:i + ps])
EOF
tail -n +$((log_lines + 1)) "$T/access.log" >"$T/added.log"
tail -c +$((out_bytes + 1)) "$T/serve.out" >"$T/added.out"
expect_eq "the submission wrote no access-log line" "$(wc -l <"$T/added.log")" 0
expect_eq "the submission made the server print nothing" "$(wc -c <"$T/added.out")" 0
added_rows=$(grep -c 'INSERT INTO privacy_' "$T/added.sql")
if [ "$added_rows" -ge 3 ]; then ok "the submission added rows (report, spent hash, postings)"; else
    not_ok "the submission added rows" "$(cat "$T/added.sql")"; fi
if [ -s "$T/added.bin" ]; then ok "the submission left new WAL frames or pages to search"; else
    not_ok "the submission left new WAL frames or pages to search"; fi
for secret in "$ACCOUNT" "$ORG" "$TOKEN" "$SPENT_IN" "$SPENT_OUT" 127.0.0.1 \
    "T$t0" "$t0:" "T$t1" "$t1:" 09:26 17:01 08:15 23:59 SEC-4711; do
    hits=""
    for f in added.sql added.bin added.log added.out; do
        if grep -aqiF -- "$secret" "$T/$f"; then hits="$hits $f"; fi
    done
    if [ -z "$hits" ]; then ok "nothing the submission wrote contains '$secret'"; else
        not_ok "nothing the submission wrote contains '$secret'" "found in:$hits"; fi
done
expect_contains "the stored report keeps the day" "$(cat "$T/added.sql")" "2026-03-14T00:00:00.000Z"

# ---- refusals ----------------------------------------------------------------
cp "$T/wallet-before.json" "$T/replay.json"
python3 - "$T/replay.json" "$SPENT_IN" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
w["tokens"] = [t for t in w["tokens"] if t["input"] == sys.argv[2]]
json.dump(w, open(sys.argv[1], "w"))
EOF
expect_rc "a spent token is refused the second time" 1 \
    "$PICKET" report submit "$T/r1.json" --server "$URL" --wallet "$T/replay.json"
expect_contains "spent: clear error" "$(cat "$T_TMP/err")" \
    "server answered 409: token refused: it has been spent already"

cp "$WALLET" "$T/forged.json"
python3 - "$T/forged.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
t = w["tokens"][0]
t["output"] = ("1" if t["output"][0] == "0" else "0") + t["output"][1:]
w["tokens"] = [t]
json.dump(w, open(sys.argv[1], "w"))
EOF
expect_rc "a forged token is refused" 1 \
    "$PICKET" report submit "$T/r1.json" --server "$URL" --wallet "$T/forged.json"
expect_contains "forged: clear error" "$(cat "$T_TMP/err")" \
    "server answered 403: token refused: it is not genuine"

# An expired epoch: a second server whose keys live 2 seconds, no grace.
DB2=$T/short.db
PICKET_DB=$DB2 "$PICKET" user add "$ACCOUNT" --org "$ORG" >"$T/user2.out" 2>&1
TOKEN2=$(grep -o 'pkt_[A-Za-z0-9_-]*' "$T/user2.out" | head -1)
URL1=$URL
start_server "$DB2" "$T/serve2.out" "$T/access2.log" --epoch-seconds 2 --epoch-grace 0
expect_rc "short-epoch server issues a token" 0 "$PICKET" report tokens --server "$URL" \
    --user "$ACCOUNT" --token "$TOKEN2" --count 1 --wallet "$T/short.json"
sleep 3
expect_rc "a token of an expired epoch is refused" 1 \
    "$PICKET" report submit "$T/r1.json" --server "$URL" --wallet "$T/short.json"
expect_contains "expired: clear error" "$(cat "$T_TMP/err")" "server answered 403: token refused: its epoch"
expect_contains "expired: says to fetch new tokens" "$(cat "$T_TMP/err")" "fetch new tokens"
URL=$URL1

# ---- release at k = 3 --------------------------------------------------------
recruiter_report "$T/r2.json" Jane-Recruiter-X 2
expect_rc "second report with the same recruiter" 0 "$PICKET" report submit "$T/r2.json" --server "$URL"
expect_rc "release after two reports" 0 env PICKET_DB="$DB" "$PICKET" report release --collection shared
expect_eq "two reports publish nothing" "$(cat "$T_TMP/out")" "0 aggregated sightings released to shared"
recruiter_report "$T/r3.json" JANE-RECRUITER-X 3
expect_rc "third report with the same recruiter" 0 "$PICKET" report submit "$T/r3.json" --server "$URL"
expect_rc "release after three reports" 0 env PICKET_DB="$DB" "$PICKET" report release --collection shared
expect_eq "the third publishes one aggregated sighting" "$(cat "$T_TMP/out")" \
    "1 aggregated sightings released to shared"
curl -s -u "$ACCOUNT:$TOKEN" -H 'Accept: application/taxii+json;version=2.1' \
    "$URL/api/collections/shared/objects/?match%5Btype%5D=sighting" >"$T/sightings.json"
expect_eq "the sharing collection has one sighting with count 3 and no where_sighted_refs" \
    "$(python3 -c '
import json, sys
o = json.load(open(sys.argv[1])).get("objects", [])
print(len(o), [s.get("count") for s in o], any("where_sighted_refs" in s for s in o))' "$T/sightings.json")" \
    "1 [3] False"
expect_rc "release again: nothing new" 0 env PICKET_DB="$DB" "$PICKET" report release --collection shared
expect_eq "nothing is released twice" "$(cat "$T_TMP/out")" "0 aggregated sightings released to shared"
expect_rc "inbox lists the reports" 0 env PICKET_DB="$DB" "$PICKET" report inbox
expect_eq "inbox: three reports" "$(wc -l <"$T_TMP/out")" 3
expect_eq "inbox: by day only" "$(sed 's/.*"day":"\([^"]*\)".*/\1/' "$T_TMP/out" | sort -u)" "$(date -u +%Y-%m-%d)"
expect_rc "the release job moves the reports to the intake collection" 0 \
    env PICKET_DB="$DB" "$PICKET" report release --intake-collection intake
expect_eq "three reports moved" "$(cat "$T_TMP/out")" "3 anonymous reports moved to intake"
curl -s -u "host-analyst:$ANALYST" -H 'Accept: application/taxii+json;version=2.1' \
    "$URL/api/collections/$INTAKE/objects/?match%5Btype%5D=incident" >"$T/incidents.json"
expect_eq "the hosting organisation's analysts read three incidents, scrubbed" \
    "$(python3 -c '
import json, sys
o = json.load(open(sys.argv[1])).get("objects", [])
print(len(o), sorted({i["created"] for i in o}), any("created_by_ref" in i for i in o))' "$T/incidents.json")" \
    "3 ['2026-03-14T00:00:00.000Z'] False"
expect_eq "members do not see the intake collection" \
    "$(curl -s -o /dev/null -w '%{http_code}' -u "$ACCOUNT:$TOKEN" \
        -H 'Accept: application/taxii+json;version=2.1' "$URL/api/collections/$INTAKE/objects/")" 404
expect_rc "inbox after the move" 0 env PICKET_DB="$DB" "$PICKET" report inbox
expect_eq "the inbox is empty once moved" "$(wc -l <"$T_TMP/out")" 0
# A report sent without picket's client (plain curl, nothing scrubbed) is
# scrubbed by the server: identity, custom properties, times and the members'
# names go.
python3 - "$WALLET" "$T/r1.json" >"$T/raw.json" <<'EOF2'
import json, sys
t = json.load(open(sys.argv[1]))["tokens"][0]
print(json.dumps({"token": {k: t[k] for k in ("epoch", "input", "output")},
                  "report": json.load(open(sys.argv[2]))}))
EOF2
expect_eq "a raw submission with curl is accepted" \
    "$(curl -s -o "$T/raw.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary @"$T/raw.json" "$URL/privacy/reports")" 202
expect_rc "inbox after the raw submission" 0 env PICKET_DB="$DB" "$PICKET" report inbox
raw=$(cat "$T_TMP/out")
expect_contains "the server redacts member names itself" "$raw" \
    "Reported by [redacted] of [redacted] at [time]"
case $raw in *"$ACCOUNT"*|*"$ORG"*|*identity--*|*SEC-4711*|*09:26*)
    not_ok "the server's scrub leaves no name, identity, custom property or time" ;;
*) ok "the server's scrub leaves no name, identity, custom property or time" ;; esac
# The routes: keys are public, the inbox needs an administrator.
expect_eq "keys are published without an account" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/privacy/keys")" 200
expect_eq "the inbox is not for ordinary members" \
    "$(curl -s -o /dev/null -w '%{http_code}' -u "$ACCOUNT:$TOKEN" "$URL/privacy/inbox")" 403
stop_servers
finish

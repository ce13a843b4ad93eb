# SPDX-License-Identifier: Apache-2.0
# picket serve answers a POST or DELETE only after the write-ahead log is
# synced to disk (DESIGN: nothing acknowledged is lost), although the writer
# commits without syncing and syncs outside its write lock (group commit).
# The server runs under strace; with one client, the thread that commits (a
# POST worker for a POST, the connection's thread for a DELETE) must, in
# this order: write its commit into the log (pwrite64 on the -wal file),
# fdatasync the -wal file; and only then is the 202 (or 200) sent (by the
# connection's thread).  With --commit fast the committing thread does not
# sync after its commit.  Servers are stopped on exit.
. "$PK_SOURCE_DIR/tests/harness.sh"
command -v curl >/dev/null 2>&1 || { skip "taxii sync" "curl is not installed"; finish; exit 0; }
command -v python3 >/dev/null 2>&1 || { skip "taxii sync" "python3 is not installed"; finish; exit 0; }
command -v pgrep >/dev/null 2>&1 || { skip "taxii sync" "pgrep is not installed"; finish; exit 0; }
command -v strace >/dev/null 2>&1 || { skip "taxii sync" "strace is not installed"; finish; exit 0; }
strace -f -o /dev/null true 2>/dev/null || { skip "taxii sync" "strace cannot trace here (ptrace refused)"; finish; exit 0; }

db=$T_TMP/sync.db
pid=
# SIGTERM to the server (strace's child), then strace ends with it
stop_server() {
    [ -n "$pid" ] || return 0
    kill $(pgrep -P "$pid") 2>/dev/null || kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
}
trap 'stop_server; rm -rf "$T_TMP"' EXIT

tok=$("$PICKET" user add alice --org orgA --db "$db" 2>/dev/null)
cid=$("$PICKET" collection add Synced --db "$db")
"$PICKET" collection grant "$cid" --org orgA --read --write --db "$db"

TAXII='application/taxii+json;version=2.1'
obj() { # obj N: one indicator
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'198.51.100.%s'"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}' \
        "$(printf '00000000-0000-4000-8000-%012d' "$1")" "$1"
}
req() { # req METHOD URL [BODY]: prints the status
    if [ $# -gt 2 ]; then
        curl -s -o "$T_TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" \
            -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary "$3" "$2"
    else
        curl -s -o "$T_TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" -H "Accept: $TAXII" "$2"
    fi
}
# start MODE: the server under strace, its base URL in $url
start() {
    strace -f -qq -y -s 40 -e trace=pwrite64,fdatasync,fsync,sendto,sendmsg,write,writev \
        -o "$T_TMP/trace.$1" "$PICKET" serve --db "$db" --listen 127.0.0.1:0 --commit "$1" \
        >"$T_TMP/out.$1" 2>"$T_TMP/err.$1" &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q listening "$T_TMP/out.$1"; do sleep 0.1; i=$((i + 1)); done
    url=$(sed -n 's|.*listening on \(http://[^/]*\)/taxii2/.*|\1|p' "$T_TMP/out.$1")
}
# order FILE STATUS: the calls on the log, since the answer before it, of
# the thread that last wrote to the log before "HTTP/1.1 STATUS" was sent
# (by any thread; strace -f prints the calls of all threads in the order
# they happened): w (pwrite64 on -wal), s (fdatasync or fsync on -wal), then
# A for the answer; e.g. "wwsA".  Another thread's sync of the log (the
# checkpointer's) does not count.
order() {
    awk -v st="HTTP/1.1 $2" '
        { tid = $1 }
        index($0, st) && /^[0-9]+ +(sendto|sendmsg|write|writev)\(/ { print seq[last] "A"; exit }
        /^[0-9]+ +(sendto|sendmsg|write|writev)\(/ && index($0, "HTTP/1.1 ") { split("", seq); next }
        /^[0-9]+ +pwrite64\([0-9]+<[^>]*-wal>/ { seq[tid] = seq[tid] "w"; last = tid; next }
        /^[0-9]+ +(fdatasync|fsync)\([0-9]+<[^>]*-wal>/ { seq[tid] = seq[tid] "s"; next }
    ' "$1"
}

start sync
[ -n "$url" ] || { not_ok "the server starts under strace" "$(cat "$T_TMP/err.sync")"; finish; exit 1; }
objs=$url/api/collections/$cid/objects/
expect_eq "POST one object (--commit sync): 202" "$(req POST "$objs" "{\"objects\":[$(obj 1)]}")" 202
expect_eq "POST two more: 202" "$(req POST "$objs" "{\"objects\":[$(obj 2),$(obj 3)]}")" 202
expect_eq "DELETE one: 200" "$(req DELETE "${objs}indicator--00000000-0000-4000-8000-000000000002/")" 200
stop_server
# The last call on the log before the answer is a sync, after a write (a
# sync that SQLite makes of a fresh log's header comes before its frames).
case $(order "$T_TMP/trace.sync" 202) in
*w*sA) ok "sync: the 202 is sent after the commit's log write and a sync of the log" ;;
*) not_ok "sync: the 202 is sent after the commit's log write and a sync of the log" "calls: $(order "$T_TMP/trace.sync" 202)" "$(grep -E 'wal>|HTTP/1.1' "$T_TMP/trace.sync" | head -20)" ;;
esac
case $(order "$T_TMP/trace.sync" 200) in
*w*sA) ok "sync: the DELETE's 200 is sent after a sync of the log" ;;
*) not_ok "sync: the DELETE's 200 is sent after a sync of the log" "calls: $(order "$T_TMP/trace.sync" 200)" ;;
esac

start fast
[ -n "$url" ] || { not_ok "the server starts under strace (--commit fast)" "$(cat "$T_TMP/err.fast")"; finish; exit 1; }
objs=$url/api/collections/$cid/objects/
expect_eq "POST one object (--commit fast): 202" "$(req POST "$objs" "{\"objects\":[$(obj 4)]}")" 202
stop_server
# Without a sync after the commit's frames (SQLite may still sync a fresh
# log's header before them).
case $(order "$T_TMP/trace.fast" 202) in
*wA) ok "fast: the 202 follows the commit's log write, with no sync after it" ;;
*) not_ok "fast: the 202 follows the commit's log write, with no sync after it" "calls: $(order "$T_TMP/trace.fast" 202)" ;;
esac

# The store kept everything acknowledged.
expect_eq "the store holds the three objects still in the collection" \
    "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from collection_objects").fetchone()[0])' "$db")" 3
finish

/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/store (SQLite engine): migrations, put and duplicates,
 * versions (first/last/all/timestamp), collections and strictly increasing
 * date_added, paging cursors, manifests, delete, counts, observable index,
 * the id index's two levels (merges, and a store of the schema before them). */
#include <stdlib.h>
#include <unistd.h>

#include "picket/store.h"
#include "harness.h"
#include "store/store_impl.h"

static char db_path[64];

static pk_store *fresh(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/pk-test-store-%d.db", (int)getpid());
    unlink(db_path);
    char p[80];
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
    pk_store *s = NULL;
    pk_error err;
    pk_error_clear(&err);
    if (pk_store_open(db_path, 0, &s, &err) != PK_OK) fprintf(stderr, "  open: %s\n", err.message);
    return s;
}

static void drop(pk_store *s)
{
    pk_store_close(s);
    unlink(db_path);
    char p[80];
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

static json_t *indicator(const char *uuid_tail, const char *modified)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--8e2e2d2b-17d4-"
             "4cbf-938f-%s\",\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"%s\","
             "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2016-01-01T00:00:00Z\",\"confidence\":80,\"object_marking_refs\":"
             "[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]}",
             uuid_tail, modified);
    return json_loads(text, 0, NULL);
}

static pk_status put(pk_store *s, const char *coll, json_t *o, pk_store_put_info *info)
{
    char *raw = json_dumps(o, JSON_COMPACT);
    pk_status st = pk_store_put(s, coll, o, raw, strlen(raw), info, NULL);
    pk_free(raw);
    json_decref(o);
    return st;
}

typedef struct rows {
    int n;
    char ids[32][80];
    char versions[32][40];
    int64_t added[32];
    char raw[1024];
    int tlp, confidence;
} rows;

static int row_cb(const pk_store_row *r, void *ud)
{
    rows *x = ud;
    if (x->n < 32) {
        snprintf(x->ids[x->n], sizeof x->ids[0], "%s", r->id);
        snprintf(x->versions[x->n], sizeof x->versions[0], "%s", r->version);
        x->added[x->n] = r->date_added_us;
    }
    if (r->raw) snprintf(x->raw, sizeof x->raw, "%.*s", (int)r->raw_len, r->raw);
    x->tlp = r->tlp;
    x->confidence = r->confidence;
    x->n++;
    return 0;
}

TEST(open_applies_migrations_once)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    CHECK_INT(pk_store_schema_version(s, "core"), 2);
    CHECK_INT(pk_store_schema_version(s, "nobody"), 0);
    pk_store_close(s);
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_store_open(db_path, PK_STORE_READONLY, &s, &err), PK_OK);
    CHECK_INT(pk_store_schema_version(s, "core"), 2);
    drop(s);
    CHECK_INT(pk_store_open("/nonexistent/dir/x.db", 0, &s, &err), PK_ESTORE);
    CHECK_INT(pk_store_open("postgres://localhost/x", 0, &s, &err), PK_EUNSUPPORTED);
}

TEST(put_keeps_raw_bytes_and_counts_duplicates)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    json_t *o = indicator("98ee46b3cd3f", "2016-04-06T20:03:48.000Z");
    const char *raw = "{\"type\":\"indicator\",  \"weird\" : 1.50}";
    pk_store_put_info info;
    CHECK_INT(pk_store_put(s, NULL, o, raw, strlen(raw), &info, NULL), PK_OK);
    CHECK_INT(info.added, 1);
    CHECK(info.date_added_us > 0);
    CHECK_INT(pk_store_put(s, NULL, o, raw, strlen(raw), &info, NULL), PK_OK);
    CHECK_INT(info.added, 0);
    rows r = {0};
    CHECK_INT(pk_store_get(s, NULL, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL, row_cb,
                           &r, NULL),
              PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.raw, raw);
    CHECK_INT(r.tlp, PK_TLP_RED);
    CHECK_INT(r.confidence, 80);
    json_decref(o);
    json_t *noid = json_loads("{\"type\":\"x\"}", 0, NULL);
    CHECK_INT(pk_store_put(s, NULL, noid, NULL, 0, NULL, NULL), PK_EINVAL);
    json_decref(noid);
    CHECK_INT(pk_store_get(s, NULL, "indicator--00000000-0000-4000-8000-000000000000", NULL, row_cb,
                           &r, NULL),
              PK_ENOTFOUND);
    drop(s);
}

TEST(versions_first_last_all_and_exact)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    const char *id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    /* Out of order, and one written with less precision. */
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2017-01-01T00:00:00.000Z"), NULL), PK_OK);
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2016-04-06T20:03:48.000Z"), NULL), PK_OK);
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2018-01-01T00:00:00.5Z"), NULL), PK_OK);
    rows r = {0};
    CHECK_INT(pk_store_get(s, NULL, id, "last", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.versions[0], "2018-01-01T00:00:00.5Z");
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, NULL, id, "first", row_cb, &r, NULL), PK_OK);
    CHECK_STR(r.versions[0], "2016-04-06T20:03:48.000Z");
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, NULL, id, "all", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 3);
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, NULL, id, "2017-01-01T00:00:00Z", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.versions[0], "2017-01-01T00:00:00.000Z");
    CHECK_INT(pk_store_get(s, NULL, id, "yesterday", row_cb, &r, NULL), PK_EINVAL);
    drop(s);
}

TEST(collections_date_added_strictly_increases_and_pages)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    char cid[PK_UUID_STRLEN];
    CHECK_INT(pk_store_collection_create(s, NULL, "Partners", "shared with partners", "partners",
                                         cid, NULL),
              PK_OK);
    CHECK_INT(pk_store_collection_create(s, cid, "Again", NULL, NULL, NULL, NULL), PK_EEXIST);
    char found[PK_UUID_STRLEN];
    CHECK_INT(pk_store_collection_find(s, "partners", found, NULL), PK_OK);
    CHECK_STR(found, cid);
    CHECK_INT(pk_store_collection_find(s, "Partners", found, NULL), PK_OK);
    CHECK_INT(pk_store_collection_find(s, "nobody", found, NULL), PK_ENOTFOUND);
    char tail[16];
    REQUIRE(pk_store_begin(s, NULL) == PK_OK);
    for (int i = 0; i < 10; i++) {
        snprintf(tail, sizeof tail, "%012d", i);
        pk_store_put_info info;
        CHECK_INT(put(s, cid, indicator(tail, "2016-04-06T20:03:48.000Z"), &info), PK_OK);
        CHECK_INT(info.collection_added, 1);
    }
    CHECK_INT(pk_store_commit(s, NULL), PK_OK);
    CHECK_INT(put(s, "00000000-0000-4000-8000-000000000000",
                  indicator("000000000099", "2016-04-06T20:03:48.000Z"), NULL),
              PK_ENOTFOUND);
    /* Page through 4 at a time; every node sharing the store could continue. */
    pk_store_query q = {0};
    q.collection = cid;
    q.limit = 4;
    pk_store_page page;
    rows all = {0};
    int pages = 0;
    char next[PK_STORE_CURSOR_MAX] = "";
    do {
        q.next = next[0] ? next : NULL;
        rows r = {0};
        CHECK_INT(pk_store_list(s, &q, row_cb, &r, &page, NULL), PK_OK);
        for (int i = 0; i < r.n; i++) {
            snprintf(all.ids[all.n], sizeof all.ids[0], "%s", r.ids[i]);
            all.added[all.n++] = r.added[i];
        }
        snprintf(next, sizeof next, "%s", page.next);
        pages++;
    } while (page.more && pages < 10);
    CHECK_INT(pages, 3);
    CHECK_INT(all.n, 10);
    for (int i = 1; i < all.n; i++)
        CHECK(all.added[i] > all.added[i - 1]);
    CHECK(strstr(all.ids[9], "000000000009") != NULL);
    q.next = "garbage";
    CHECK_INT(pk_store_list(s, &q, row_cb, &all, NULL, NULL), PK_EINVAL);
    /* added_after excludes the first 5. */
    pk_store_query q2 = {0};
    q2.collection = cid;
    q2.added_after_us = all.added[4];
    rows r2 = {0};
    CHECK_INT(pk_store_list(s, &q2, row_cb, &r2, NULL, NULL), PK_OK);
    CHECK_INT(r2.n, 5);
    /* match[type] and match[id]. */
    const char *types[] = {"malware"};
    q2.added_after_us = 0;
    q2.types = types;
    q2.n_types = 1;
    rows r3 = {0};
    CHECK_INT(pk_store_list(s, &q2, row_cb, &r3, NULL, NULL), PK_OK);
    CHECK_INT(r3.n, 0);
    drop(s);
}

static int coll_cb(const pk_store_collection *c, void *ud)
{
    long long *n = ud;
    *n = c->objects;
    return 0;
}

TEST(delete_from_collection_and_store)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    char cid[PK_UUID_STRLEN];
    CHECK_INT(pk_store_collection_create(s, NULL, "C", NULL, NULL, cid, NULL), PK_OK);
    const char *id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    CHECK_INT(put(s, cid, indicator("98ee46b3cd3f", "2017-01-01T00:00:00.000Z"), NULL), PK_OK);
    CHECK_INT(put(s, cid, indicator("98ee46b3cd3f", "2018-01-01T00:00:00.000Z"), NULL), PK_OK);
    long long n = -1;
    CHECK_INT(pk_store_collection_get(s, cid, coll_cb, &n, NULL), PK_OK);
    CHECK_INT(n, 2);
    size_t del = 0;
    const char *v[] = {"first"};
    CHECK_INT(pk_store_delete(s, cid, id, v, 1, &del, NULL), PK_OK);
    CHECK_INT(del, 1);
    rows r = {0};
    CHECK_INT(pk_store_get(s, NULL, id, "all", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 2); /* still in the store */
    CHECK_INT(pk_store_delete(s, NULL, id, NULL, 0, &del, NULL), PK_OK);
    CHECK_INT(del, 2);
    CHECK_INT(pk_store_get(s, NULL, id, "all", row_cb, &r, NULL), PK_ENOTFOUND);
    CHECK_INT(pk_store_delete(s, NULL, id, NULL, 0, &del, NULL), PK_ENOTFOUND);
    drop(s);
}

static int count_cb(const char *key, long long objects, long long versions, void *ud)
{
    pk_buf *b = ud;
    pk_buf_addf(b, "%s=%lld/%lld;", key, objects, versions);
    return 0;
}

static int id_cb(const char *id, void *ud)
{
    pk_buf *b = ud;
    pk_buf_addf(b, "%s;", id);
    return 0;
}

TEST(counts_and_observable_index)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2017-01-01T00:00:00.000Z"), NULL), PK_OK);
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2018-01-01T00:00:00.000Z"), NULL), PK_OK);
    json_t *ip = json_loads("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--"
                            "28bb3599-77cd-5a82-a950-b5bc3caf07c4\",\"value\":\"198.51.100.3\"}",
                            0, NULL);
    CHECK_INT(put(s, NULL, ip, NULL), PK_OK);
    json_t *inc =
        json_loads("{\"type\":\"incident\",\"spec_version\":\"2.1\",\"id\":\"incident--"
                   "28bb3599-77cd-4a82-a950-b5bc3caf07c4\",\"created\":\"2020-01-01T00:00:"
                   "00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"name\":\"x\","
                   "\"x_picket_kind\":\"recruitment-approach\"}",
                   0, NULL);
    CHECK_INT(put(s, NULL, inc, NULL), PK_OK);
    pk_buf b;
    pk_buf_init(&b, 0);
    CHECK_INT(pk_store_count(s, PK_STORE_BY_TYPE, count_cb, &b, NULL), PK_OK);
    CHECK_STR(b.data, "incident=1/1;indicator=1/2;ipv4-addr=1/1;");
    pk_buf_reset(&b);
    CHECK_INT(pk_store_count(s, PK_STORE_BY_TLP, count_cb, &b, NULL), PK_OK);
    CHECK_STR(b.data, "none=2/2;red=1/2;");
    pk_buf_reset(&b);
    CHECK_INT(pk_store_count(s, PK_STORE_BY_INCIDENT_KIND, count_cb, &b, NULL), PK_OK);
    CHECK_STR(b.data, "recruitment-approach=1/1;");
    pk_buf_reset(&b);
    CHECK_INT(pk_store_observable_find(s, "ipv4-addr:value", "198.51.100.3", id_cb, &b, NULL),
              PK_OK);
    CHECK_STR(b.data, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4;");
    pk_buf_reset(&b);
    CHECK_INT(pk_store_observable_add(s, "domain-name:value", "evil.example",
                                      "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL),
              PK_OK);
    CHECK_INT(pk_store_observable_find(s, "domain-name:value", "EVIL.example.", id_cb, &b, NULL),
              PK_OK);
    CHECK_STR(b.data, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f;");
    pk_buf_free(&b);
    drop(s);
}

TEST(transactions_roll_back)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    CHECK_INT(pk_store_begin(s, NULL), PK_OK);
    CHECK_INT(pk_store_begin(s, NULL), PK_EINVAL);
    CHECK_INT(put(s, NULL, indicator("98ee46b3cd3f", "2017-01-01T00:00:00.000Z"), NULL), PK_OK);
    pk_store_rollback(s);
    rows r = {0};
    CHECK_INT(pk_store_get(s, NULL, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "all",
                           row_cb, &r, NULL),
              PK_ENOTFOUND);
    CHECK_INT(pk_store_commit(s, NULL), PK_EINVAL);
    /* The statement cache and the migration helper are there for other modules. */
    CHECK(pki_store_db(s) != NULL);
    CHECK(pki_store_stmt(s, "SELECT 1", NULL) != NULL);
    drop(s);
}

TEST(checkpoint_from_another_connection_lets_the_log_start_over)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    pk_store_close(s);
    pk_store *w = NULL, *c = NULL;
    pk_error err;
    pk_error_clear(&err);
    REQUIRE(pk_store_open(db_path, PK_STORE_FAST | PK_STORE_NO_CHECKPOINT, &w, &err) == PK_OK);
    REQUIRE(pk_store_open(db_path, PK_STORE_FAST, &c, &err) == PK_OK);
    CHECK_INT(pk_store_wal_pages(w), 0);
    char tail[16];
    REQUIRE(pk_store_begin(w, &err) == PK_OK);
    for (int i = 0; i < 200; i++) {
        snprintf(tail, sizeof tail, "%012d", i);
        CHECK_INT(put(w, NULL, indicator(tail, "2016-04-06T20:03:48.000Z"), NULL), PK_OK);
    }
    REQUIRE(pk_store_commit(w, &err) == PK_OK);
    int after_big = pk_store_wal_pages(w);
    CHECK(after_big > 1);
    /* The writer never copies the log itself; the other connection does. */
    int log = -1, copied = -1;
    CHECK_INT(pk_store_checkpoint(c, &log, &copied, &err), PK_OK);
    CHECK_INT(log, after_big);
    CHECK_INT(copied, after_big);
    /* Wholly copied: the next commit starts the log over. */
    snprintf(tail, sizeof tail, "%012d", 999);
    CHECK_INT(put(w, NULL, indicator(tail, "2016-04-06T20:03:48.000Z"), NULL), PK_OK);
    CHECK(pk_store_wal_pages(w) < after_big);
    pk_store_close(c);
    drop(w);
}

/* ---- the id index in two levels ---- */

static long long sql_int(pk_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(pki_store_db(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The versions of `id` as "version:flags;" in version order, from the
 * taxii_entry rows the triggers keep for collection `coll`. */
static void entry_flags(pk_store *s, const char *coll, const char *id, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    out[0] = 0;
    if (sqlite3_prepare_v2(pki_store_db(s),
                           "SELECT o.version, e.flags FROM taxii_entry e JOIN objects o"
                           " ON o.pk = e.obj WHERE e.coll = ?1 AND o.id = ?2 ORDER BY o.version",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%.4s:%d;",
                              (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
    sqlite3_finalize(st);
}

static void filler(pk_store *s, const char *coll, int from, int n)
{
    char tail[16];
    for (int i = from; i < from + n; i++) {
        snprintf(tail, sizeof tail, "%012x", 0x100000 + i);
        CHECK_INT(put(s, coll, indicator(tail, "2016-04-06T20:03:48.000Z"), NULL), PK_OK);
    }
}

TEST(id_index_levels_merge_and_every_read_finds_both)
{
    /* A merge as soon as the recent level holds more than 3 keys. */
    setenv("PICKET_STORE_ID_MERGE", "3", 1);
    pk_store *s = fresh();
    unsetenv("PICKET_STORE_ID_MERGE");
    REQUIRE(s != NULL);
    char cid[PK_UUID_STRLEN], flags[256];
    CHECK_INT(pk_store_collection_create(s, NULL, "C", NULL, NULL, cid, NULL), PK_OK);
    const char *id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const char *tail = "98ee46b3cd3f";
    /* 2016 in the recent level, then merged with three others. */
    CHECK_INT(put(s, cid, indicator(tail, "2016-01-01T00:00:00.000Z"), NULL), PK_OK);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 1);
    filler(s, cid, 0, 3);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 4);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 0);
    /* 2017 in the recent level, 2016 in the large one. */
    CHECK_INT(put(s, cid, indicator(tail, "2017-01-01T00:00:00.000Z"), NULL), PK_OK);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 1);
    rows r = {0};
    CHECK_INT(pk_store_get(s, cid, id, "all", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 2);
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, NULL, id, NULL, row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.versions[0], "2017-01-01T00:00:00.000Z");
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, cid, id, "first", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.versions[0], "2016-01-01T00:00:00.000Z");
    entry_flags(s, cid, id, flags, sizeof flags);
    CHECK_STR(flags, "2016:6;2017:5;"); /* 4: a RED version among several */
    /* A version already stored, in either level, is found: no new row. */
    pk_store_put_info info;
    CHECK_INT(put(s, cid, indicator(tail, "2016-01-01T00:00:00.000Z"), &info), PK_OK);
    CHECK_INT(info.added, 0);
    CHECK_INT(put(s, cid, indicator(tail, "2017-01-01T00:00:00.000Z"), &info), PK_OK);
    CHECK_INT(info.added, 0);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM objects"), 5);
    /* Two more merges: 2017 goes to the large level, 2018 comes after. */
    filler(s, cid, 3, 3);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 8);
    CHECK_INT(put(s, cid, indicator(tail, "2018-01-01T00:00:00.000Z"), NULL), PK_OK);
    entry_flags(s, cid, id, flags, sizeof flags);
    CHECK_STR(flags, "2016:6;2017:4;2018:5;");
    /* The listing by ids (both levels, several ids) and the store-wide one. */
    const char *ids[] = {id, "indicator--8e2e2d2b-17d4-4cbf-938f-000000100004"};
    const char *all[] = {"all"};
    pk_store_query q = {0};
    q.collection = cid;
    q.ids = ids;
    q.n_ids = 2;
    q.versions = all;
    q.n_versions = 1;
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_list(s, &q, row_cb, &r, NULL, NULL), PK_OK);
    CHECK_INT(r.n, 4);
    q.collection = NULL;
    q.n_versions = 0;
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_list(s, &q, row_cb, &r, NULL, NULL), PK_OK);
    CHECK_INT(r.n, 2); /* the last version of each, in the order they were added */
    CHECK_STR(r.ids[1], id);
    CHECK_STR(r.versions[1], "2018-01-01T00:00:00.000Z");
    /* Out of the collection: the oldest; the flags of the rest again. */
    size_t del = 0;
    const char *first[] = {"first"};
    CHECK_INT(pk_store_delete(s, cid, id, first, 1, &del, NULL), PK_OK);
    CHECK_INT(del, 1);
    entry_flags(s, cid, id, flags, sizeof flags);
    CHECK_STR(flags, "2017:6;2018:5;");
    /* Out of the store: the newest (recent level), then the rest (large). */
    const char *last[] = {"last"};
    CHECK_INT(pk_store_delete(s, NULL, id, last, 1, &del, NULL), PK_OK);
    CHECK_INT(del, 1);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 0);
    entry_flags(s, cid, id, flags, sizeof flags);
    CHECK_STR(flags, "2017:3;");
    CHECK_INT(pk_store_delete(s, NULL, id, NULL, 0, &del, NULL), PK_OK);
    CHECK_INT(del, 2);
    CHECK_INT(pk_store_get(s, NULL, id, "all", row_cb, &r, NULL), PK_ENOTFOUND);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 6);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM objects"), 6);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids i JOIN objects o ON o.pk = i.pk"
                         " AND o.idh = i.idh"),
              6);
    /* Stored again after its deletion: new, and found. */
    CHECK_INT(put(s, cid, indicator(tail, "2017-01-01T00:00:00.000Z"), &info), PK_OK);
    CHECK_INT(info.added, 1);
    entry_flags(s, cid, id, flags, sizeof flags);
    CHECK_STR(flags, "2017:3;");
    /* A transaction rolled back after a merge inside it leaves both levels
     * as they were, and the next merge counts again. */
    CHECK_INT(pk_store_begin(s, NULL), PK_OK);
    filler(s, NULL, 100, 5);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 2);
    pk_store_rollback(s);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 6);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 1);
    filler(s, NULL, 200, 2);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 3);
    filler(s, NULL, 300, 1);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 10);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 0);
    memset(&r, 0, sizeof r);
    CHECK_INT(pk_store_get(s, NULL, id, "all", row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    drop(s);
}

/* A store made by the schema before the two levels (core 1, taxii 1-5),
 * with rows written as that schema's code wrote them, opened by this code:
 * every version is found by its id and the triggers work on. */
TEST(id_index_upgrade_keeps_every_object_findable)
{
    pk_store *s = fresh();
    REQUIRE(s != NULL);
    pk_store_close(s);
    drop(NULL);
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(db_path, &db) == SQLITE_OK);
    int ok = sqlite3_exec(db,
                          "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; BEGIN;"
                          "CREATE TABLE schema_version(module TEXT PRIMARY KEY,"
                          " version INTEGER NOT NULL)",
                          NULL, NULL, NULL) == SQLITE_OK;
    static const int before[] = {1, 5, 99}; /* core, taxii, privacy */
    int m = 0;
    for (const pki_module_schema *mod = pki_store_modules; ok && mod->module; mod++, m++) {
        REQUIRE(m < 3);
        int last = 0;
        for (const pki_migration *step = mod->steps; ok && step->version; step++)
            if (step->version <= before[m]) {
                ok = sqlite3_exec(db, step->sql, NULL, NULL, NULL) == SQLITE_OK;
                last = step->version;
            }
        char q[160];
        snprintf(q, sizeof q, "INSERT INTO schema_version VALUES('%s', %d)", mod->module, last);
        ok = ok && sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK;
    }
    REQUIRE(ok);
    ok = sqlite3_exec(db, "INSERT INTO collections(id, title, created) VALUES('c1', 'C', 1)", NULL,
                      NULL, NULL) == SQLITE_OK;
    /* 40 objects, the first with two versions, as pki_store_put wrote them. */
    char sql[1024], oid[80];
    for (int i = 0; ok && i < 41; i++) {
        int k = i == 40 ? 0 : i;
        snprintf(oid, sizeof oid, "indicator--8e2e2d2b-17d4-4cbf-938f-%012x", 0x200000 + k);
        snprintf(sql, sizeof sql,
                 "INSERT INTO objects(id, idh, version, type, spec_version, created, modified,"
                 " added, raw) VALUES('%s', %lld, '%s', 'indicator', '2.1', '2016-01-01T00:00:00Z',"
                 " '%s', %d, '{\"id\":\"%s\"}');"
                 "INSERT INTO collection_objects VALUES('c1', %d, last_insert_rowid())",
                 oid, (long long)pki_store_id_hash(oid),
                 i == 40 ? "2017-01-01T00:00:00.000000000Z" : "2016-01-01T00:00:00.000000000Z",
                 i == 40 ? "2017-01-01T00:00:00Z" : "2016-01-01T00:00:00Z", 10 + i, oid, 10 + i);
        ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    }
    ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    REQUIRE(ok);
    pk_error err;
    pk_error_clear(&err);
    s = NULL;
    /* A reader cannot upgrade it, and says so. */
    CHECK_INT(pk_store_open(db_path, PK_STORE_READONLY, &s, &err), PK_EUNSUPPORTED);
    CHECK(strstr(err.message, "older picket (schema core 1)") != NULL);
    REQUIRE(pk_store_open(db_path, 0, &s, &err) == PK_OK);
    CHECK_INT(pk_store_schema_version(s, "core"), 2);
    CHECK_INT(pk_store_schema_version(s, "taxii"), 6);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'objects_idh'"), 0);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids"), 41);
    CHECK_INT(sql_int(s, "SELECT count(*) FROM object_ids_new"), 0);
    char flags[256];
    const char *id0 = "indicator--8e2e2d2b-17d4-4cbf-938f-000000200000";
    entry_flags(s, "c1", id0, flags, sizeof flags);
    CHECK_STR(flags, "2016:2;2017:1;");
    int found = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(oid, sizeof oid, "indicator--8e2e2d2b-17d4-4cbf-938f-%012x", 0x200000 + i);
        rows r = {0};
        if (pk_store_get(s, "c1", oid, "all", row_cb, &r, NULL) == PK_OK && r.n == (i ? 1 : 2))
            found++;
    }
    CHECK_INT(found, 40);
    /* A third version of the old object: the triggers see all three. */
    json_t *o = json_loads("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                           "\"indicator--8e2e2d2b-17d4-4cbf-938f-000000200000\",\"created\":"
                           "\"2016-01-01T00:00:00Z\",\"modified\":\"2018-01-01T00:00:00Z\","
                           "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":"
                           "\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}",
                           0, NULL);
    REQUIRE(o != NULL);
    CHECK_INT(put(s, "c1", o, NULL), PK_OK);
    entry_flags(s, "c1", id0, flags, sizeof flags);
    CHECK_STR(flags, "2016:2;2017:0;2018:1;");
    rows r = {0};
    CHECK_INT(pk_store_get(s, NULL, id0, NULL, row_cb, &r, NULL), PK_OK);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.versions[0], "2018-01-01T00:00:00Z");
    drop(s);
}

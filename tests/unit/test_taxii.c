/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the TAXII module: filters, cursors, media types, the
 * Authorization header, TLP levels and granular drops, object checks, and the
 * database layer (accounts, grants, listing under TLP, versions, delete). */
#include "picket/picket.h"
#include "harness.h"
#include "taxii/taxii_int.h"

#include <sodium.h>
#include <unistd.h>

#define RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

static pk_status parse(pki_tx_filter *f, unsigned allowed, const char *qs, pk_error *err)
{
    pki_tx_filter_init(f);
    return pki_tx_filter_parse_query(f, allowed, qs, strlen(qs), err);
}

TEST(filter_every_parameter)
{
    pki_tx_filter f;
    pk_error err;
    pk_error_clear(&err);
    const char *qs = "added_after=2020-01-02T03:04:05.5Z&limit=10&next=c1.ff"
                     "&match%5Bid%5D=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
                     "&match[type]=indicator,malware&match[version]=first,2021-01-01T00:00:00Z"
                     "&match[spec_version]=2.1&other=ignored";
    REQUIRE(parse(&f, PKI_TXF_ALL, qs, &err) == PK_OK);
    CHECK_INT(f.added_after, 1577934245500000LL);
    CHECK_INT(f.limit, 10);
    CHECK_INT(f.next, 255);
    CHECK_INT(f.n_ids, 1);
    CHECK_STR(f.ids[0], "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    CHECK_INT(f.n_types, 2);
    CHECK_STR(f.types[1], "malware");
    CHECK(f.has_version && f.v_first && !f.v_last && !f.v_all);
    CHECK_INT(f.n_vtimes, 1);
    CHECK_INT(f.v_times[0], 1609459200000000LL);
    CHECK_INT(f.n_spec, 1);
    pki_tx_filter_free(&f);
}

TEST(filter_errors_name_the_parameter)
{
    static const struct {
        const char *qs, *msg;
    } cases[] = {
        {"limit=0", "limit: '0' is not a positive integer"},
        {"limit=12abc", "limit: '12abc' is not a positive integer"},
        {"added_after=2020-13-01T00:00:00Z",
         "added_after: '2020-13-01T00:00:00Z' is not an RFC 3339 timestamp"},
        {"next=c1.xyz", "next: 'c1.xyz' is not a cursor this server gave"},
        {"match[foo]=1", "match[foo]: this server supports no such filter"},
        {"match[type]=a,,b", "match[type]: empty item in the list 'a,,b'"},
        {"match[type]=IND", "match[type]: 'IND' is not a STIX type"},
        {"match[id]=x--y", "match[id]: 'x--y' is not a STIX id"},
        {"match[version]=newest", "match[version]: 'newest' is neither first, last, all nor a "
                                  "timestamp"},
        {"match[spec_version]=2.2", "match[spec_version]: '2.2' is not a STIX version (2.0, 2.1)"},
        {"limit=%zz", "bad percent-encoding in the query string"},
        {"limit=1%00", "NUL byte in a query parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pki_tx_filter f;
        pk_error err;
        pk_error_clear(&err);
        pk_status s = parse(&f, PKI_TXF_ALL, cases[i].qs, &err);
        CHECK(s != PK_OK);
        CHECK_STR(err.message, cases[i].msg);
        pki_tx_filter_free(&f);
    }
}

TEST(filter_endpoint_mask)
{
    pki_tx_filter f;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(parse(&f, PKI_TXF_LIMIT | PKI_TXF_SPEC_VERSION, "match[type]=indicator", &err),
              PK_EINVAL);
    CHECK_STR(err.message, "match[type]: this endpoint does not take this filter");
    pki_tx_filter_free(&f);
}

TEST(filter_list_cap)
{
    char qs[4096];
    int off = snprintf(qs, sizeof qs, "match[type]=");
    for (int i = 0; i <= PKI_TX_LIST_MAX; i++)
        off += snprintf(qs + off, sizeof qs - (size_t)off, i ? ",abc" : "abc");
    pki_tx_filter f;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(parse(&f, PKI_TXF_ALL, qs, &err), PK_ELIMIT);
    pki_tx_filter_free(&f);
}

static void filter_under_failure(void *ctx)
{
    pki_tx_filter f;
    if (pki_tx_filter_init(&f) != PK_OK) return;
    const char *qs = "match[type]=indicator,malware&match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-"
                     "98ee46b3cd3f";
    pk_status s = pki_tx_filter_parse_query(&f, PKI_TXF_ALL, qs, strlen(qs), NULL);
    CHECK(s == PK_OK || s == PK_ENOMEM);
    pki_tx_filter_free(&f);
}

TEST(filter_each_allocation_failure)
{
    long n = pkt_each_alloc_failure(filter_under_failure, NULL);
    CHECK(n >= 2);
}

TEST(cursor_round_trip)
{
    char buf[PKI_TX_CURSOR_LEN];
    int64_t v;
    pki_tx_cursor_format(1700000000123456LL, buf);
    CHECK_STR(buf, "c1.60a2418202240");
    CHECK_INT(pki_tx_cursor_parse(buf, &v), PK_OK);
    CHECK_INT(v, 1700000000123456LL);
    CHECK_INT(pki_tx_cursor_parse("c1.", &v), PK_EPARSE);
    CHECK_INT(pki_tx_cursor_parse("c1.12345678901234567", &v), PK_EPARSE);
    CHECK_INT(pki_tx_cursor_parse("c2.1", &v), PK_EPARSE);
}

TEST(time_format_us)
{
    char out[PK_TIME_STRLEN];
    pki_tx_time_format_us(1700000000123000LL, out);
    CHECK_STR(out, "2023-11-14T22:13:20.123Z");
    pki_tx_time_format_us(1700000000123456LL, out);
    CHECK_STR(out, "2023-11-14T22:13:20.123456Z");
}

TEST(media_types)
{
    CHECK(pki_tx_accept_ok(NULL));
    CHECK(pki_tx_accept_ok("application/taxii+json;version=2.1"));
    CHECK(pki_tx_accept_ok("application/taxii+json"));
    CHECK(pki_tx_accept_ok("text/html, application/taxii+json ; version=2.1;q=0.5"));
    CHECK(pki_tx_accept_ok("*/*"));
    CHECK(!pki_tx_accept_ok("application/taxii+json;version=2.0"));
    CHECK(!pki_tx_accept_ok("application/json"));
    CHECK(!pki_tx_accept_ok("application/taxii+json;q=0"));
    CHECK(!pki_tx_accept_ok("application/stix+json;version=2.1"));
    CHECK(pki_tx_content_type_ok("application/taxii+json;version=2.1"));
    CHECK(pki_tx_content_type_ok("Application/TAXII+json; charset=utf-8"));
    CHECK(!pki_tx_content_type_ok("application/json"));
    CHECK(!pki_tx_content_type_ok(NULL));
    CHECK(!pki_tx_content_type_ok("application/taxii+json;version=2.0"));
}

TEST(authorization_header)
{
    char u[64], t[128];
    CHECK_INT(pki_tx_auth_parse("Basic YWxpY2U6cGt0X3NlY3JldA==", u, sizeof u, t, sizeof t),
              PKI_TX_AUTH_BASIC);
    CHECK_STR(u, "alice");
    CHECK_STR(t, "pkt_secret");
    CHECK_INT(pki_tx_auth_parse("bearer  pkt_abc ", u, sizeof u, t, sizeof t), PKI_TX_AUTH_BEARER);
    CHECK_STR(t, "pkt_abc");
    CHECK_INT(pki_tx_auth_parse(NULL, u, sizeof u, t, sizeof t), PKI_TX_AUTH_NONE);
    CHECK_INT(pki_tx_auth_parse("Basic !!!", u, sizeof u, t, sizeof t), PKI_TX_AUTH_NONE);
    /* "alice" with no colon */
    CHECK_INT(pki_tx_auth_parse("Basic YWxpY2U=", u, sizeof u, t, sizeof t), PKI_TX_AUTH_NONE);
    CHECK_INT(pki_tx_auth_parse("Digest x", u, sizeof u, t, sizeof t), PKI_TX_AUTH_NONE);
    CHECK_INT(pki_tx_auth_parse("Bearer ", u, sizeof u, t, sizeof t), PKI_TX_AUTH_NONE);
}

TEST(tlp_levels_and_granular_drop)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:[s,s],s:[{s:s,s:[s,s]},{s:s,s:[s]}]}", "type",
                          "indicator", "id", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                          "description", "secret", "name", "n", "object_marking_refs", GREEN, RED,
                          "granular_markings", "marking_ref", STRICT, "selectors", "name", "id",
                          "marking_ref", RED, "selectors", "description");
    REQUIRE(o);
    CHECK_INT(pki_tlp_of_object(o), PKI_TLP_RED);
    CHECK_INT(pki_tlp_of_granular(o), PKI_TLP_RED);
    CHECK_INT(pki_tlp_of_marking("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
              PKI_TLP_CLEAR);
    /* a RED-shared reader: sees RED, not AMBER+STRICT */
    json_t *c = json_deep_copy(o);
    CHECK_INT(pki_tlp_drop_granular(c, pki_tlp_visible_mask(0, 1)), 1);
    CHECK(json_object_get(c, "name") == NULL);
    CHECK(json_object_get(c, "description") != NULL);
    CHECK(json_object_get(c, "id") != NULL); /* identity stays */
    json_decref(c);
    c = json_deep_copy(o);
    CHECK_INT(pki_tlp_drop_granular(c, pki_tlp_visible_mask(0, 0)), 2);
    json_decref(c);
    c = json_deep_copy(o);
    CHECK_INT(pki_tlp_drop_granular(c, pki_tlp_visible_mask(1, 0)), 0);
    json_decref(c);
    json_decref(o);
}

static pk_status check_text(const char *txt, char *why, size_t n)
{
    json_t *o = json_loads(txt, 0, NULL);
    pki_tx_obj out;
    pk_status s = pki_tx_object_check(o, &out, why, n);
    json_decref(o);
    return s;
}

TEST(object_checks)
{
    char why[300];
    CHECK_INT(check_text("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2020-01-01T00:00:"
                         "00Z\",\"modified\":\"2020-01-02T00:00:00.123Z\"}",
                         why, sizeof why),
              PK_OK);
    CHECK_INT(check_text("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--8e2e2d2b-17d4-4cbf-938f-"
                         "98ee46b3cd3f\",\"value\":\"1.2.3.4\"}",
                         why, sizeof why),
              PK_OK);
    CHECK_INT(check_text("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                         "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2020-01-02T00:00:"
                         "00Z\",\"modified\":\"2020-01-01T00:00:00Z\"}",
                         why, sizeof why),
              PK_EVALIDATE);
    CHECK_STR(why, "modified: earlier than created");
    CHECK_INT(
        check_text("{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--8e2e2d2b-"
                   "17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2020-01-01T00:00:00Z\"}",
                   why, sizeof why),
        PK_EVALIDATE);
    CHECK_STR(why, "modified: missing (required on every SDO and SRO)");
    CHECK_INT(check_text("{\"type\":\"malware\",\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-"
                         "98ee46b3cd3f\",\"created\":\"2020-01-01T00:00:00Z\",\"modified\":\"2020-"
                         "01-01T00:00:00Z\"}",
                         why, sizeof why),
              PK_EVALIDATE);
    CHECK_STR(why, "spec_version: missing (required on every SDO and SRO)");
    CHECK_INT(check_text("[]", why, sizeof why), PK_EVALIDATE);
    CHECK_STR(why, "not a JSON object");
}

/* ---- the database layer -------------------------------------------------- */

typedef struct collected {
    int n;
    char ids[64][80];
} collected;

static int collect(void *ctx, const pki_tx_row *r)
{
    collected *c = ctx;
    if (c->n < 64) snprintf(c->ids[c->n], sizeof c->ids[0], "%s", r->stix_id);
    c->n++;
    return 0;
}

static json_t *obj(const char *uuid, const char *modified, const char *marking)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--%s", uuid);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator", "spec_version",
                          "2.1", "id", id, "created", "2020-01-01T00:00:00.000Z", "modified",
                          modified, "pattern", "[ipv4-addr:value = '10.0.0.1']", "pattern_type",
                          "stix", "valid_from", "2020-01-01T00:00:00Z");
    if (marking) json_object_set_new(o, "object_marking_refs", json_pack("[s]", marking));
    return o;
}

TEST(db_accounts_grants_tlp_versions)
{
    char path[] = "/tmp/picket-taxii-unit.XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    pk_taxii_db *db;
    pk_error err;
    pk_error_clear(&err);
    REQUIRE(pk_taxii_db_open(path, &db, &err) == PK_OK);
    char ta[PK_TAXII_TOKEN_LEN + 1], tb[PK_TAXII_TOKEN_LEN + 1];
    CHECK_INT(pk_taxii_user_add(db, "a", "orgA", 0, ta, &err), PK_OK);
    CHECK_INT(strlen(ta), PK_TAXII_TOKEN_LEN);
    CHECK_INT(pk_taxii_user_add(db, "b", "orgB", 0, tb, &err), PK_OK);
    CHECK_INT(pk_taxii_user_add(db, "a", "orgB", 0, tb + 0, &err), PK_EEXIST);
    pk_taxii_user_rotate(db, "b", tb, &err);
    pki_tx_account A, B;
    CHECK_INT(pki_txdb_auth(db, "a", ta, &A), PK_OK);
    CHECK_INT(pki_txdb_auth(db, NULL, tb, &B), PK_OK);
    CHECK_STR(B.name, "b");
    CHECK_INT(pki_txdb_auth(db, "b", ta, &B), PK_EAUTH);
    CHECK_INT(pki_txdb_auth(db, NULL, tb, &B), PK_OK);
    char cid[PK_UUID_STRLEN];
    REQUIRE(pk_taxii_collection_add(db, NULL, "T", NULL, NULL, cid, &err) == PK_OK);
    pki_tx_coll ca, cb;
    CHECK_INT(pki_txdb_collection(db, "api", cid, &A, &ca, NULL), PK_ENOTFOUND);
    pk_taxii_collection_grant(db, cid, "orgA", 1, 1, &err);
    pk_taxii_collection_grant(db, cid, "orgB", 1, 0, &err);
    CHECK_INT(pki_txdb_collection(db, "api", cid, &A, &ca, NULL), PK_OK);
    CHECK_INT(pki_txdb_collection(db, "api", cid, &B, &cb, NULL), PK_OK);
    CHECK(ca.can_write && cb.can_read && !cb.can_write);

    json_t *objs = json_array();
    json_array_append_new(
        objs, obj("11111111-1111-4111-8111-111111111111", "2020-01-01T00:00:00.000Z", GREEN));
    json_array_append_new(
        objs, obj("22222222-2222-4222-8222-222222222222", "2020-01-01T00:00:00.000Z", RED));
    json_array_append_new(
        objs, obj("11111111-1111-4111-8111-111111111111", "2020-02-01T00:00:00.000Z", GREEN));
    json_array_append_new(objs, json_string("junk"));
    json_t *env = json_pack("{s:o}", "objects", objs);
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    pki_tx_status sts;
    pki_tx_batch *batch = NULL;
    REQUIRE(pki_tx_batch_read(body, strlen(body), 100, &batch, &err) == PK_OK);
    CHECK_INT(batch->n, 4);
    CHECK(batch->items[3].why != NULL);
    REQUIRE(pki_txdb_add(db, &ca, &A, batch, &sts, &err) == PK_OK);
    pki_tx_batch_free(batch);
    CHECK_INT(sts.successes, 3);
    CHECK_INT(sts.failures, 1);
    json_t *status = json_loadb(sts.body, sts.len, 0, NULL);
    REQUIRE(status != NULL);
    pk_free(sts.body);
    CHECK_INT(json_integer_value(json_object_get(status, "total_count")), 4);
    CHECK_INT(json_integer_value(json_object_get(status, "success_count")), 3);
    CHECK_INT(json_integer_value(json_object_get(status, "failure_count")), 1);
    CHECK_INT(json_array_size(json_object_get(status, "successes")), 3);
    CHECK_INT(json_array_size(json_object_get(status, "failures")), 1);
    CHECK_INT(json_array_size(json_object_get(status, "pendings")), 0);
    CHECK_STR(json_string_value(json_object_get(status, "status")), "complete");
    json_decref(status);
    {
        /* Failure messages quote what was posted: a quote, a control
         * character and a UTF-8 character cut by the message's length cap
         * still give a status resource that is JSON. */
        pk_buf eb;
        pk_buf_init(&eb, 0);
        pk_buf_adds(&eb, "{\"objects\":[{\"type\":\"in\\\"di\\u0001c\",\"id\":\"x--1\"},"
                         "{\"type\":\"a");
        for (int k = 0; k < 40; k++)
            pk_buf_adds(&eb, "\u00e9");
        pk_buf_adds(&eb, "\",\"id\":\"y--2\"}]}");
        REQUIRE(pki_tx_batch_read(eb.data, eb.len, 10, &batch, &err) == PK_OK);
        REQUIRE(pki_txdb_add(db, &ca, &A, batch, &sts, &err) == PK_OK);
        pki_tx_batch_free(batch);
        pk_buf_free(&eb);
        CHECK_INT(sts.failures, 2);
        status = json_loadb(sts.body, sts.len, 0, NULL);
        pk_free(sts.body);
        REQUIRE(status != NULL);
        json_t *f0 = json_array_get(json_object_get(status, "failures"), 0);
        json_t *f1 = json_array_get(json_object_get(status, "failures"), 1);
        CHECK_STR(json_string_value(json_object_get(f0, "id")), "x--1");
        const char *m0 = json_string_value(json_object_get(f0, "message"));
        CHECK(m0 && strstr(m0, "'in\"di\001c' is not a STIX type") != NULL);
        const char *m1 = json_string_value(json_object_get(f1, "message"));
        /* 64 bytes: 'a', 31 whole characters and half of one, which
         * becomes U+FFFD */
        CHECK(m1 && strstr(m1, "type: 'a\u00e9\u00e9") == m1 &&
              strstr(m1, "\u00e9\xef\xbf\xbd' is not") != NULL);
        json_decref(status);
    }
    CHECK_INT(pki_tx_batch_read(body, strlen(body), 2, &batch, &err), PK_ELIMIT);
    CHECK_INT(pki_tx_batch_read("{\"objects\":[{\"a\":", 15, 10, &batch, &err), PK_EPARSE);
    CHECK_INT(pki_tx_batch_read("[{}]", 4, 10, &batch, &err), PK_EPARSE);
    pk_free(body);

    pki_tx_filter f;
    pki_tx_filter_init(&f);
    collected got = {0};
    int more;
    CHECK_INT(pki_txdb_list(db, &cb, &B, &f, PKI_TXQ_OBJECTS, NULL, 10, collect, &got, &more, &err),
              PK_OK);
    CHECK_INT(got.n, 1); /* latest version of the GREEN one; RED hidden from orgB */
    CHECK_STR(got.ids[0], "indicator--11111111-1111-4111-8111-111111111111");
    memset(&got, 0, sizeof got);
    pki_txdb_list(db, &ca, &A, &f, PKI_TXQ_OBJECTS, NULL, 10, collect, &got, &more, &err);
    CHECK_INT(got.n, 2);
    memset(&got, 0, sizeof got);
    pki_txdb_list(db, &ca, &A, &f, PKI_TXQ_VERSIONS,
                  "indicator--11111111-1111-4111-8111-111111111111", 1, collect, &got, &more, &err);
    CHECK_INT(got.n, 1);
    CHECK(more);
    CHECK_INT(pk_taxii_red_share(db, "orgA", "orgB", 1, &err), PK_OK);
    memset(&got, 0, sizeof got);
    pki_txdb_list(db, &cb, &B, &f, PKI_TXQ_OBJECTS, NULL, 10, collect, &got, &more, &err);
    CHECK_INT(got.n, 2);
    long deleted = 0;
    CHECK_INT(pki_txdb_delete(db, &cb, &B, "indicator--11111111-1111-4111-8111-111111111111", &f,
                              &deleted, &err),
              PK_OK);
    CHECK_INT(deleted, 0); /* not orgB's object */
    CHECK_INT(pki_txdb_delete(db, &ca, &A, "indicator--11111111-1111-4111-8111-111111111111", &f,
                              &deleted, &err),
              PK_OK);
    CHECK_INT(deleted, 2);
    pki_tx_filter_free(&f);
    pk_taxii_db_close(db);
    unlink(path);
    char aux[64];
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
}

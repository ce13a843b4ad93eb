/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/stix: the streaming reader (every input shape, refills at
 * every byte boundary, broken and oversized objects), validation messages,
 * deterministic SCO ids (expected values computed with Python's uuid5 over
 * sorted compact JSON, not with picket), TLP, 2.0 conversion, observables. */
#include <fcntl.h>
#include <unistd.h>

#include "picket/stix.h"
#include "picket/util.h"
#include "harness.h"

/* ---- helpers ---- */

typedef struct got {
    int n_ok, n_parse, n_limit, n_other;
    char ids[16][80];
    long lines[16], cols[16];
    long long offs[16];
    long err_line;
    char err_msg[600];
} got;

static void drain(pk_stix_reader *r, got *g)
{
    memset(g, 0, sizeof *g);
    pk_stix_item it;
    pk_error err;
    for (;;) {
        pk_error_clear(&err);
        pk_status s = pk_stix_reader_next(r, &it, &err);
        if (s == PK_ENOTFOUND) break;
        if (s == PK_OK) {
            if (g->n_ok < 16) {
                const char *id = pk_stix_str(it.json, "id");
                snprintf(g->ids[g->n_ok], sizeof g->ids[0], "%s", id ? id : "?");
                g->lines[g->n_ok] = it.line;
                g->cols[g->n_ok] = it.column;
                g->offs[g->n_ok] = it.offset;
            }
            g->n_ok++;
        } else {
            if (s == PK_EPARSE)
                g->n_parse++;
            else if (s == PK_ELIMIT)
                g->n_limit++;
            else
                g->n_other++;
            if (!g->err_line) {
                g->err_line = err.line;
                snprintf(g->err_msg, sizeof g->err_msg, "%s", err.message);
            }
            if (s != PK_EPARSE && s != PK_ELIMIT) break;
        }
    }
}

static void read_mem(const char *text, got *g, pk_stix_format *fmt)
{
    pk_stix_reader *r;
    CHECK_INT(pk_stix_reader_open_mem(text, strlen(text), "mem", NULL, &r, NULL), PK_OK);
    drain(r, g);
    if (fmt) *fmt = pk_stix_reader_format(r);
    pk_stix_reader_free(r);
}

/* The same text through a pipe-free fd path with a tiny chunk, so that every
 * token and object straddles a refill. */
static void read_fd(const char *text, size_t chunk, got *g)
{
    char path[] = "/tmp/pk-test-stix-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    lseek(fd, 0, SEEK_SET);
    pk_stix_reader_opts o = {0, chunk};
    pk_stix_reader *r;
    CHECK_INT(pk_stix_reader_open_fd(fd, path, &o, &r, NULL), PK_OK);
    drain(r, g);
    pk_stix_reader_free(r);
    close(fd);
    unlink(path);
}

static const char *bundle_text =
    "\xEF\xBB\xBF{\n"
    "  \"type\": \"bundle\",\n"
    "  \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n"
    "  \"objects\": [\n"
    "    {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\","
    " \"value\": \"198.51.100.3\"},\n"
    "    {\"type\": \"x-thing\", \"id\": \"x-thing--0b1e7e3a-6b3c-4c3a-9c3e-1e2f3a4b5c6d\","
    " \"x_note\": \"a } and a ] and a \\\" in a string\"},\n"
    "    {\"type\": \"domain-name\",\n"
    "     \"id\": \"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7\", \"value\": "
    "\"example.com\"}\n"
    "  ],\n"
    "  \"spec_version\": \"2.1\"\n"
    "}\n";

/* ---- the reader ---- */

TEST(reader_bundle_yields_objects_with_places)
{
    got g;
    pk_stix_format f;
    read_mem(bundle_text, &g, &f);
    CHECK_INT(f, PK_STIX_FMT_BUNDLE);
    CHECK_INT(g.n_ok, 3);
    CHECK_INT(g.n_parse + g.n_limit + g.n_other, 0);
    CHECK_STR(g.ids[0], "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    CHECK_STR(g.ids[2], "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
    CHECK_INT(g.lines[0], 5);
    CHECK_INT(g.cols[0], 5);
    CHECK_INT(g.lines[1], 6);
    CHECK_INT(g.lines[2], 7);
    CHECK_INT(g.offs[0], (long long)(strstr(bundle_text, "{\"type\": \"ipv4") - bundle_text));
}

TEST(reader_refills_at_every_boundary)
{
    got a, b;
    read_mem(bundle_text, &a, NULL);
    for (size_t chunk = 1; chunk <= 23; chunk++) {
        read_fd(bundle_text, chunk, &b);
        CHECK_INT(b.n_ok, a.n_ok);
        CHECK_INT(b.n_parse + b.n_limit + b.n_other, 0);
        for (int i = 0; i < a.n_ok && i < 16; i++) {
            CHECK_STR(b.ids[i], a.ids[i]);
            CHECK_INT(b.lines[i], a.lines[i]);
            CHECK_INT(b.cols[i], a.cols[i]);
            CHECK_INT(b.offs[i], a.offs[i]);
        }
    }
}

TEST(reader_array_object_and_jsonl)
{
    got g;
    pk_stix_format f;
    read_mem("[{\"id\":\"a\"},\n {\"id\":\"b\"}]", &g, &f);
    CHECK_INT(f, PK_STIX_FMT_ARRAY);
    CHECK_INT(g.n_ok, 2);
    CHECK_INT(g.lines[1], 2);
    read_mem("  {\"type\":\"indicator\",\"id\":\"one\",\"objects\":{\"0\":{}}}\n", &g, &f);
    CHECK_INT(f, PK_STIX_FMT_OBJECT);
    CHECK_INT(g.n_ok, 1);
    CHECK_STR(g.ids[0], "one");
    read_mem("{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n", &g, &f);
    CHECK_INT(f, PK_STIX_FMT_JSONL);
    CHECK_INT(g.n_ok, 3);
    CHECK_INT(g.lines[2], 3);
    read_mem("", &g, &f);
    CHECK_INT(g.n_ok, 0);
    CHECK_INT(g.n_parse, 0);
    read_mem("[]", &g, &f);
    CHECK_INT(g.n_ok + g.n_parse, 0);
    /* A bundle whose type comes first and whose objects are empty. */
    read_mem("{\"type\":\"bundle\",\"id\":\"bundle--x\",\"objects\":[]}", &g, &f);
    CHECK_INT(f, PK_STIX_FMT_BUNDLE);
    CHECK_INT(g.n_ok + g.n_parse, 0);
}

TEST(reader_skips_a_broken_object_and_goes_on)
{
    got g;
    read_mem(
        "{\"objects\":[\n{\"id\":\"a\"},\n{\"id\": tru},\n{\"id\":\"c\"},\n42,\n{\"id\":\"e\"}]}",
        &g, NULL);
    CHECK_INT(g.n_ok, 3);
    CHECK_INT(g.n_parse, 2);
    CHECK_INT(g.err_line, 3);
    CHECK_STR(g.ids[2], "e");
}

TEST(reader_truncated_input_is_reported_once)
{
    got g;
    read_mem("{\"type\":\"bundle\",\"objects\":[{\"id\":\"a\"},{\"id\":\"b\",\"x\":[1,2", &g, NULL);
    CHECK_INT(g.n_ok, 1);
    CHECK_INT(g.n_parse, 1);
    CHECK(strstr(g.err_msg, "truncated") != NULL);
    read_mem("{\"objects\":[{\"id\":\"a\"}] ", &g, NULL);
    CHECK_INT(g.n_ok, 1);
    CHECK_INT(g.n_parse, 1);
    read_mem("nonsense", &g, NULL);
    CHECK_INT(g.n_ok, 0);
    CHECK_INT(g.n_parse, 1);
    CHECK(strstr(g.err_msg, "expected '{' or '['") != NULL);
    read_mem("{\"objects\":[{\"id\":\"a\"}}", &g, NULL);
    CHECK_INT(g.n_parse, 1);
}

TEST(reader_deep_nesting_fails_cleanly)
{
    size_t depth = 100000;
    char *t = pk_malloc(depth * 2 + 64);
    REQUIRE(t != NULL);
    size_t k = 0;
    k += (size_t)snprintf(t, 64, "[{\"id\":\"a\",\"x\":");
    for (size_t i = 0; i < depth; i++)
        t[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        t[k++] = ']';
    memcpy(t + k, "},{\"id\":\"b\"}]", 14);
    got g;
    read_mem(t, &g, NULL);
    CHECK_INT(g.n_ok, 1);
    CHECK_INT(g.n_parse, 1);
    CHECK_STR(g.ids[0], "b");
    pk_free(t);
}

TEST(reader_oversized_object_is_skipped)
{
    /* A 100 MB string inside the second object of a bundle. */
    size_t big = (size_t)100 << 20;
    const char *head = "{\"type\":\"bundle\",\"objects\":[{\"id\":\"a\"},{\"id\":\"b\",\"s\":\"";
    const char *tail = "\"},{\"id\":\"c\"}]}";
    size_t hl = strlen(head), tl = strlen(tail);
    char *t = pk_malloc(hl + big + tl + 1);
    REQUIRE(t != NULL);
    memcpy(t, head, hl);
    memset(t + hl, 'x', big);
    memcpy(t + hl + big, tail, tl + 1);
    char path[] = "/tmp/pk-test-big-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    size_t len = hl + big + tl;
    CHECK(write(fd, t, len) == (ssize_t)len);
    pk_free(t);
    lseek(fd, 0, SEEK_SET);
    pk_stix_reader *r;
    CHECK_INT(pk_stix_reader_open_fd(fd, path, NULL, &r, NULL), PK_OK);
    got g;
    drain(r, &g);
    pk_stix_reader_free(r);
    close(fd);
    unlink(path);
    CHECK_INT(g.n_ok, 2);
    CHECK_INT(g.n_limit, 1);
    CHECK_STR(g.ids[1], "c");
}

TEST(reader_missing_file_is_eio)
{
    pk_stix_reader *r = NULL;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_stix_reader_open("/nonexistent/x.json", NULL, &r, &err), PK_EIO);
    CHECK(r == NULL);
    CHECK_STR(err.file, "/nonexistent/x.json");
}

TEST(minify_keeps_every_token)
{
    pk_buf b;
    pk_buf_init(&b, 0);
    const char *in = "{ \"a\" : [ 1.50 , \"x y\\\" z\" ],\n\t\"b\" : true }";
    CHECK_INT(pk_stix_minify(in, strlen(in), &b), PK_OK);
    CHECK_STR(b.data, "{\"a\":[1.50,\"x y\\\" z\"],\"b\":true}");
    pk_buf_free(&b);
}

/* ---- ids ---- */

static void check_sco_id(const char *json, const char *want)
{
    json_t *o = json_loads(json, 0, NULL);
    REQUIRE(o != NULL);
    char id[PK_STIX_ID_MAX];
    CHECK_INT(pk_stix_sco_id(o, id, NULL), PK_OK);
    CHECK_STR(id, want);
    json_decref(o);
}

TEST(sco_ids_are_deterministic_uuidv5)
{
    /* Expected values: Python uuid.uuid5(ns, json.dumps(props, sort_keys=True,
     * separators=(',', ':'), ensure_ascii=False)). */
    check_sco_id("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\",\"spec_version\":\"2.1\"}",
                 "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    check_sco_id("{\"type\":\"domain-name\",\"value\":\"example.com\"}",
                 "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
    check_sco_id("{\"type\":\"file\",\"size\":83968,\"name\":\"resume.pdf\",\"hashes\":{\"SHA-1\":"
                 "\"c79a326f8411e9488bdc3779753e1e3489aaedea\",\"MD5\":"
                 "\"1717b7fff97d37a1e1a0029d83492de1\"}}",
                 "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d");
    check_sco_id("{\"type\":\"email-message\",\"is_multipart\":false,\"from_ref\":\"email-addr--"
                 "00000000-0000-4000-8000-000000000001\",\"subject\":\"H\xc3\xa9llo "
                 "\\\"quoted\\\"\"}",
                 "email-message--1ec85c9a-d2e4-5cbf-8d7a-c2170eb45216");
    check_sco_id("{\"type\":\"network-traffic\",\"protocols\":[\"tcp\",\"tls\"],\"src_port\":443}",
                 "network-traffic--8d64d573-3a61-55c3-8f14-1f19a7a321f1");
    check_sco_id("{\"type\":\"user-account\",\"account_login\":\"j.doe\",\"account_type\":"
                 "\"linkedin\",\"display_name\":\"not contributing\"}",
                 "user-account--6824a11c-9c6a-5853-a462-d166bc6d839f");
    json_t *p = json_loads("{\"type\":\"process\",\"pid\":4}", 0, NULL);
    char id[PK_STIX_ID_MAX];
    CHECK_INT(pk_stix_sco_id(p, id, NULL), PK_ENOTFOUND);
    json_decref(p);
}

TEST(id_syntax)
{
    CHECK(pk_stix_id_ok("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator"));
    CHECK(!pk_stix_id_ok("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "malware"));
    CHECK(!pk_stix_id_ok("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL));
    CHECK(!pk_stix_id_ok("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", NULL));
    CHECK(!pk_stix_id_ok("indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f", NULL)); /* variant */
    CHECK(!pk_stix_id_ok("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL));
    CHECK(!pk_stix_id_ok(NULL, NULL));
    char id[PK_STIX_ID_MAX];
    CHECK_INT(pk_stix_new_id("report", id), PK_OK);
    CHECK(pk_stix_id_ok(id, "report"));
    CHECK_INT(pk_stix_type_kind("indicator"), PK_STIX_SDO);
    CHECK_INT(pk_stix_type_kind("sighting"), PK_STIX_SRO);
    CHECK_INT(pk_stix_type_kind("x509-certificate"), PK_STIX_SCO);
    CHECK_INT(pk_stix_type_kind("marking-definition"), PK_STIX_META);
    CHECK_INT(pk_stix_type_kind("x-mitre-tactic"), PK_STIX_CUSTOM);
    CHECK_INT(pk_stix_type_kind("Bad_Type"), PK_STIX_UNKNOWN);
    CHECK(pk_stix_version_cmp("2016-01-01T00:00:00.5Z", "2016-01-01T00:00:00.000Z") > 0);
    CHECK(pk_stix_version_cmp("2016-01-01T00:00:00Z", "2016-01-01T00:00:00.000Z") == 0);
}

TEST(canonical_json_follows_rfc8785)
{
    json_t *v = json_loads(
        "{\"b\":[1,2.5,1e21,0.000001,1e-7,true,null],\"a\":\"\\u0001\\n\xc3\xa9\"}", 0, NULL);
    REQUIRE(v != NULL);
    pk_buf b;
    pk_buf_init(&b, 0);
    CHECK_INT(pk_stix_canonical(v, &b), PK_OK);
    CHECK_STR(b.data, "{\"a\":\"\\u0001\\n\xc3\xa9\",\"b\":[1,2.5,1e+21,0.000001,1e-7,true,null]}");
    pk_buf_free(&b);
    json_decref(v);
}

TEST(tlp_markings_by_fixed_id)
{
    CHECK_INT(pk_stix_tlp_of("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
              PK_TLP_RED);
    CHECK_INT(pk_stix_tlp_of("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
              PK_TLP_RED);
    CHECK_INT(pk_stix_tlp_of("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
              PK_TLP_AMBER_STRICT);
    CHECK_INT(pk_stix_tlp_of("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
              PK_TLP_CLEAR);
    CHECK_INT(pk_stix_tlp_of("marking-definition--00000000-0000-4000-8000-000000000000"),
              PK_TLP_NONE);
    json_t *o = json_loads("{\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-"
                           "a766-dfca5abac2bb\",\"marking-definition--55d920b0-5e8b-4f79-9ee9-"
                           "91f868d9b421\"]}",
                           0, NULL);
    CHECK_INT(pk_stix_object_tlp(o), PK_TLP_AMBER);
    json_decref(o);
    CHECK_STR(pk_tlp_name(PK_TLP_AMBER_STRICT), "amber+strict");
    CHECK_STR(pk_tlp_marking_id(PK_TLP_GREEN),
              "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
}

/* ---- validation ---- */

#define IND_ID "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

static const char *valid_objects[] = {
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND_ID "\",\"created\":\"2016-04-"
    "06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\",\"indicator_types\":[\"malicious-"
    "activity\"],\"name\":\"Poison Ivy\",\"pattern\":\"[file:hashes.MD5 = 'a']\",\"pattern_type\":"
    "\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}",
    "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"malware--31b940d4-6f7f-459a-80ea-"
    "9c1f17b5891b\",\"created\":\"2016-04-06T20:07:09.000Z\",\"modified\":\"2016-04-06T20:07:09."
    "000Z\",\"name\":\"Poison Ivy\",\"is_family\":true}",
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--44298a74-ba52-4f0c-"
    "87a3-1824e67d7fad\",\"created\":\"2016-04-06T20:06:37.000Z\",\"modified\":\"2016-04-06T20:06:"
    "37.000Z\",\"relationship_type\":\"indicates\",\"source_ref\":\"" IND_ID "\",\"target_ref\":"
    "\"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b\"}",
    "{\"type\":\"report\",\"spec_version\":\"2.1\",\"id\":\"report--84e4d88f-44ea-4bcd-bbf3-"
    "b2c1c320bcb3\",\"created\":\"2015-12-21T19:59:11.000Z\",\"modified\":\"2015-12-21T19:59:11."
    "000Z\",\"name\":\"The Black Vine\",\"published\":\"2016-01-20T17:00:00.000Z\",\"object_refs\":"
    "[\"" IND_ID "\"]}",
    "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--ee20065d-2555-424f-ad9e-"
    "0f8428623c75\",\"created\":\"2016-04-06T20:08:31.000Z\",\"modified\":\"2016-04-06T20:08:31."
    "000Z\",\"sighting_of_ref\":\"" IND_ID "\"}",
    "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--311b2d2d-f010-4473-83ec-"
    "1edf84858f4c\",\"created\":\"2015-12-21T19:59:11.000Z\",\"modified\":\"2015-12-21T19:59:11."
    "000Z\",\"name\":\"Cole Powers\",\"identity_class\":\"individual\"}",
    "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--28bb3599-77cd-5a82-a950-"
    "b5bc3caf07c4\",\"value\":\"198.51.100.3\"}",
    "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"marking-definition--"
    "34098fce-860f-48ae-8e50-ebd3cc5e41da\",\"created\":\"2017-01-20T00:00:00.000Z\","
    "\"definition_type\":\"tlp\",\"name\":\"TLP:GREEN\",\"definition\":{\"tlp\":\"green\"}}",
    "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"observed-data--b67d30ff-02ac-"
    "498a-92f9-32f845f448cf\",\"created\":\"2016-04-06T19:58:16.000Z\",\"modified\":\"2016-04-"
    "06T19:"
    "58:16.000Z\",\"first_observed\":\"2015-12-21T19:00:00Z\",\"last_observed\":\"2015-12-21T19:00:"
    "00Z\",\"number_observed\":50,\"object_refs\":[\"ipv4-addr--28bb3599-77cd-5a82-a950-"
    "b5bc3caf07c4\"]}",
    "{\"type\":\"x-acme-widget\",\"spec_version\":\"2.1\",\"id\":\"x-acme-widget--0b1e7e3a-6b3c-"
    "4c3a-9c3e-1e2f3a4b5c6d\",\"created\":\"2016-04-06T19:58:16.000Z\",\"modified\":\"2016-04-"
    "06T19:58:16.000Z\",\"x_acme_colour\":\"red\"}",
    NULL,
};

static pk_status validate_text(const char *text, pk_stix_report *rep)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o) return PK_EPARSE;
    pk_stix_report_clear(rep);
    pk_status s = pk_stix_validate(o, 0, rep);
    json_decref(o);
    return s;
}

static int has_issue(pk_stix_report *rep, const char *prop, const char *msg_part)
{
    for (size_t i = 0; i < pk_stix_report_count(rep); i++) {
        const pk_stix_issue *is = pk_stix_report_get(rep, i);
        if (!is->warning && !strcmp(is->err.property, prop) &&
            (!msg_part || strstr(is->err.message, msg_part)))
            return 1;
    }
    return 0;
}

TEST(valid_objects_pass)
{
    pk_stix_report *rep = pk_stix_report_new();
    for (const char **t = valid_objects; *t; t++) {
        pk_status s = validate_text(*t, rep);
        if (s != PK_OK && pk_stix_report_count(rep))
            fprintf(stderr, "  %s: %s\n", pk_stix_report_get(rep, 0)->err.property,
                    pk_stix_report_get(rep, 0)->err.message);
        CHECK_INT(s, PK_OK);
        CHECK_INT(pk_stix_report_errors(rep), 0);
    }
    pk_stix_report_free(rep);
}

TEST(every_required_property_missing_in_turn)
{
    static const char *const common[] = {"type", "spec_version", "id", "created", "modified"};
    static const char *const required[][4] = {
        {"pattern", "pattern_type", "valid_from", NULL},
        {"is_family", NULL},
        {"relationship_type", "source_ref", "target_ref", NULL},
        {"name", "published", "object_refs", NULL},
        {"sighting_of_ref", NULL},
        {"name", NULL},
        {"value", NULL},
        {NULL},
        {"first_observed", "last_observed", "number_observed", NULL},
        {NULL},
    };
    pk_stix_report *rep = pk_stix_report_new();
    int checked = 0;
    for (int i = 0; valid_objects[i]; i++) {
        json_t *o = json_loads(valid_objects[i], 0, NULL);
        int sco = !strcmp(pk_stix_str(o, "type"), "ipv4-addr");
        int md = !strcmp(pk_stix_str(o, "type"), "marking-definition");
        const char *props[16];
        int n = 0;
        for (int k = 0; k < 5; k++) {
            if (sco && k != 2) continue; /* SCOs need only id among these */
            if (md && k == 4) continue;  /* marking definitions have no modified */
            if (k == 0) continue;        /* without type nothing else can be said */
            props[n++] = common[k];
        }
        for (int k = 0; required[i][k]; k++)
            props[n++] = required[i][k];
        for (int k = 0; k < n; k++) {
            json_t *c = json_deep_copy(o);
            json_object_del(c, props[k]);
            pk_stix_report_clear(rep);
            CHECK_INT(pk_stix_validate(c, 0, rep), PK_EVALIDATE);
            if (!has_issue(rep, props[k], NULL)) {
                PKT_FAIL("%s without %s: no error names it", pk_stix_str(o, "type"), props[k]);
            }
            checked++;
            json_decref(c);
        }
        json_decref(o);
    }
    CHECK(checked >= 30);
    pk_stix_report_free(rep);
}

TEST(wrong_types_and_values_are_named)
{
    pk_stix_report *rep = pk_stix_report_new();
    static const struct {
        const char *from, *to, *prop, *msg;
    } cases[] = {
        {"\"name\":\"Poison Ivy\",\"pattern\"", "\"name\":42,\"pattern\"", "name",
         "expected a string, found 42"},
        {"\"valid_from\":\"2016-01-01T00:00:00Z\"", "\"valid_from\":\"2016-13-01T00:00:00Z\"",
         "valid_from", "expected a timestamp"},
        {"\"modified\":\"2016-04-06T20:03:48.000Z\"", "\"modified\":\"2016-04-06T20:03:47.000Z\"",
         "modified", "at or after created"},
        {"\"created\":\"2016-04-06T20:03:48.000Z\"", "\"created\":\"2016-04-06T20:03:48Z\"",
         "created", "millisecond"},
        {"\"id\":\"" IND_ID "\"", "\"id\":\"indicator--not-a-uuid\"", "id",
         "expected an identifier"},
        {"\"id\":\"" IND_ID "\"", "\"id\":\"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"", "id",
         "starting with \"indicator--\""},
        {"\"spec_version\":\"2.1\"", "\"spec_version\":\"2.0\"", "spec_version",
         "expected \"2.1\""},
        {"\"indicator_types\":[\"malicious-activity\"]", "\"indicator_types\":[]",
         "indicator_types", "non-empty list"},
        {"\"name\":\"Poison Ivy\"", "\"name\":\"Poison Ivy\",\"confidence\":101", "confidence",
         "from 0 to 100"},
        {"\"name\":\"Poison Ivy\"", "\"name\":\"Poison Ivy\",\"created_by_ref\":\"" IND_ID "\"",
         "created_by_ref", "of type identity"},
        {"\"name\":\"Poison Ivy\"",
         "\"name\":\"Poison Ivy\",\"granular_markings\":[{\"marking_ref\":\"marking-definition--"
         "34098fce-860f-48ae-8e50-ebd3cc5e41da\",\"selectors\":[\"description\"]}]",
         "granular_markings[0].selectors[0]", "does not name a property"},
        {"\"name\":\"Poison Ivy\"",
         "\"name\":\"Poison Ivy\",\"external_references\":[{\"url\":\"http://x\"}]",
         "external_references[0].source_name", "required"},
        {"\"name\":\"Poison Ivy\"", "\"name\":\"Poison Ivy\",\"kill_chain_phases\":[{}]",
         "kill_chain_phases[0].kill_chain_name", "required"},
        {"\"name\":\"Poison Ivy\"", "\"name\":\"Poison Ivy\",\"bad-name\":1", "bad-name",
         "property name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *base = valid_objects[0];
        const char *at = strstr(base, cases[i].from);
        REQUIRE(at != NULL);
        char text[2048];
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base), base, cases[i].to,
                 at + strlen(cases[i].from));
        CHECK_INT(validate_text(text, rep), PK_EVALIDATE);
        if (!has_issue(rep, cases[i].prop, cases[i].msg)) {
            PKT_FAIL("case %zu: no error on %s containing '%s'", i, cases[i].prop, cases[i].msg);
            for (size_t k = 0; k < pk_stix_report_count(rep); k++)
                fprintf(stderr, "    got %s: %s\n", pk_stix_report_get(rep, k)->err.property,
                        pk_stix_report_get(rep, k)->err.message);
        }
        const pk_stix_issue *is = pk_stix_report_get(rep, 0);
        if (i != 4 && i != 5) CHECK(is && is->err.object_id[0] != '\0');
    }
    /* Closed vocabulary: an error; open vocabulary: a warning. */
    CHECK_INT(
        validate_text("{\"type\":\"opinion\",\"spec_version\":\"2.1\",\"id\":\"opinion--b01efc25-"
                      "77b4-4003-b18b-f6e24b5cd9f7\",\"created\":\"2016-05-12T08:17:27.000Z\","
                      "\"modified\":\"2016-05-12T08:17:27.000Z\",\"opinion\":\"maybe\","
                      "\"object_refs\":[\"" IND_ID "\"]}",
                      rep),
        PK_EVALIDATE);
    CHECK(has_issue(rep, "opinion", "closed vocabulary"));
    const char *open_vocab =
        "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--311b2d2d-f010-4473-"
        "83ec-1edf84858f4c\",\"created\":\"2015-12-21T19:59:11.000Z\",\"modified\":\"2015-12-21T19:"
        "59:11.000Z\",\"name\":\"x\",\"identity_class\":\"clan\"}";
    CHECK_INT(validate_text(open_vocab, rep), PK_OK);
    CHECK_INT(pk_stix_report_warnings(rep), 1);
    json_t *o = json_loads(open_vocab, 0, NULL);
    pk_stix_report_clear(rep);
    CHECK_INT(pk_stix_validate(o, PK_STIX_VAL_STRICT_VOCAB, rep), PK_EVALIDATE);
    json_decref(o);
    pk_stix_report_free(rep);
}

/* ---- 2.0 ---- */

TEST(stix20_objects_are_converted)
{
    json_t *o = json_loads("{\"type\":\"indicator\",\"id\":\"" IND_ID "\",\"created\":\"2016-04-"
                           "06T20:03:48Z\",\"modified\":\"2016-04-06T20:03:48.123Z\",\"labels\":"
                           "[\"malicious-activity\"],\"pattern\":\"[url:value = 'http://x']\","
                           "\"valid_from\":\"2016-01-01T00:00:00Z\"}",
                           0, NULL);
    REQUIRE(o != NULL);
    CHECK(pk_stix_is_20(o, NULL));
    unsigned ch = 0;
    CHECK_INT(pk_stix_upgrade(o, &ch), PK_OK);
    CHECK_INT(ch, PK_STIX_UP_SPEC_VERSION | PK_STIX_UP_PATTERN_TYPE | PK_STIX_UP_TIMESTAMPS);
    char *s = json_dumps(o, JSON_COMPACT);
    CHECK(strncmp(s, "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":", 46) == 0);
    CHECK(strstr(s, "\"created\":\"2016-04-06T20:03:48.000Z\"") != NULL);
    pk_free(s);
    CHECK_INT(pk_stix_validate(o, 0, NULL), PK_OK);
    CHECK(!pk_stix_is_20(o, NULL));
    json_decref(o);
    json_t *sco = json_loads("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--28bb3599-77cd-5a82-a950-"
                             "b5bc3caf07c4\",\"value\":\"198.51.100.3\"}",
                             0, NULL);
    CHECK(!pk_stix_is_20(sco, NULL));
    CHECK(pk_stix_is_20(sco, "2.0"));
    json_decref(sco);
}

/* ---- observables ---- */

static pk_status collect(const char *path, const char *value, void *ud)
{
    pk_buf *b = ud;
    return pk_buf_addf(b, "%s=%s;", path, value);
}

TEST(observables_are_normalised)
{
    json_t *o = json_loads(
        "{\"type\":\"file\",\"id\":\"file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d\","
        "\"name\":\"Resume.pdf\",\"hashes\":{\"MD5\":\"1717B7FFF97D37A1E1A0029D83492DE1\"}}",
        0, NULL);
    pk_buf b;
    pk_buf_init(&b, 0);
    CHECK_INT(pk_stix_observables(o, collect, &b), PK_OK);
    CHECK_STR(b.data, "file:name=Resume.pdf;file:hashes.MD5=1717b7fff97d37a1e1a0029d83492de1;");
    json_decref(o);
    pk_buf_reset(&b);
    CHECK_INT(pk_stix_normalize("domain-name:value", "WWW.Example.COM.", &b), PK_OK);
    CHECK_STR(b.data, "www.example.com");
    CHECK_INT(pk_stix_normalize("url:value", "HTTP://Example.COM/Path?Q=A", &b), PK_OK);
    CHECK_STR(b.data, "http://example.com/Path?Q=A");
    pk_buf_free(&b);
}

/* ---- allocation failures ---- */

static void parse_validate_once(void *ctx)
{
    (void)ctx;
    pk_stix_reader *r;
    if (pk_stix_reader_open_mem(bundle_text, strlen(bundle_text), "mem", NULL, &r, NULL)) return;
    pk_stix_report *rep = pk_stix_report_new();
    pk_stix_item it;
    pk_status s;
    while ((s = pk_stix_reader_next(r, &it, NULL)) != PK_ENOTFOUND) {
        if (s == PK_OK && rep) pk_stix_validate(it.json, 0, rep);
        if (s == PK_ENOMEM || s == PK_EIO) break;
    }
    pk_stix_report_free(rep);
    pk_stix_reader_free(r);
}

TEST(allocation_failures_do_not_crash_or_leak)
{
    pk_init();
    long n = pkt_each_alloc_failure(parse_validate_once, NULL);
    CHECK(n > 10);
}

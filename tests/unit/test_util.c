/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/util: status, errors, allocation hook, arena, buffers,
 * hash map, time and UUIDs, with allocation-failure runs for each allocator. */
#include "picket/util.h"
#include "harness.h"

#include <stdint.h>
#include <jansson.h>

/* ---- status and errors ---- */

TEST(status_text_is_stable)
{
    CHECK_STR(pk_strstatus(PK_OK), "success");
    CHECK_STR(pk_strstatus(PK_ENOMEM), "out of memory");
    CHECK_STR(pk_status_name(PK_EPARSE), "PK_EPARSE");
    CHECK_INT(PK_EPARSE, 3);
    CHECK_INT(PK_ETIMEOUT, 18);
    CHECK_STR(pk_strstatus((pk_status)999), "unknown status");
    for (int s = 0; s < PK_ESTATUS_MAX_; s++)
        CHECK(strcmp(pk_strstatus((pk_status)s), "unknown status") != 0);
}

TEST(http_status_titles)
{
    CHECK_STR(pk_http_status_title(404), "Not found");
    CHECK_STR(pk_http_status_title(406), "Not acceptable");
    CHECK_STR(pk_http_status_title(409), "Conflict");
    CHECK_STR(pk_http_status_title(431), "Request header fields too large");
    CHECK_STR(pk_http_status_title(500), "Internal server error");
    CHECK_STR(pk_http_status_title(599), "Internal server error");
}

TEST(error_format_names_the_place)
{
    pk_error e;
    pk_error_clear(&e);
    CHECK_INT(e.offset, -1);
    CHECK_INT(pk_error_set(&e, PK_EVALIDATE, "expected %s, found %d", "a string", 42),
              PK_EVALIDATE);
    pk_error_at(&e, "bundle.json", 12, 7);
    pk_error_object(&e, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "pattern");
    char out[600];
    pk_error_format(&e, out, sizeof out);
    CHECK_STR(out, "bundle.json:12:7: indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: pattern: "
                   "expected a string, found 42");
    pk_error_clear(&e);
    e.offset = 1234;
    pk_error_set(&e, PK_EPARSE, "truncated");
    pk_error_format(&e, out, sizeof out);
    CHECK_STR(out, "byte 1234: truncated");
    CHECK_INT(pk_error_set(NULL, PK_EIO, "ignored"), PK_EIO);
}

/* ---- allocation hook ---- */

TEST(alloc_fail_nth_fails_exactly_one)
{
    pk_alloc_fail_nth(2);
    void *a = pk_malloc(10);
    void *b = pk_malloc(10);
    void *c = pk_malloc(10);
    CHECK(a != NULL);
    CHECK(b == NULL);
    CHECK(c != NULL);
    CHECK(pk_alloc_fail_fired());
    pk_free(a);
    pk_free(c);
    pk_alloc_fail_nth(0);
    CHECK(pk_realloc(NULL, 0) == NULL);
    char *s = pk_strndup("abcdef", 3);
    CHECK_STR(s, "abc");
    pk_free(s);
    CHECK(pk_calloc(SIZE_MAX / 2, 4) == NULL);
}

static unsigned long long custom_calls;
static void *custom_malloc(size_t n, void *ud)
{
    custom_calls++;
    return malloc(n);
}
static void *custom_realloc(void *p, size_t n, void *ud)
{
    custom_calls++;
    return realloc(p, n);
}
static void custom_free(void *p, void *ud)
{
    free(p);
}

TEST(custom_allocator_is_used)
{
    pk_allocator a = {custom_malloc, custom_realloc, custom_free, NULL};
    pk_set_allocator(&a);
    char *s = pk_strdup("x");
    pk_set_allocator(NULL);
    CHECK_INT(custom_calls, 1);
    pk_set_allocator(&a);
    pk_free(s);
    pk_set_allocator(NULL);
}

/* ---- arena ---- */

TEST(arena_alignment_growth_and_reset)
{
    pk_arena *a = pk_arena_new(256, 0);
    REQUIRE(a != NULL);
    for (int i = 0; i < 100; i++) {
        char *p = pk_arena_alloc(a, (size_t)i * 7 + 1);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 0xab, (size_t)i * 7 + 1);
    }
    char *big = pk_arena_alloc(a, 10000);
    CHECK(big != NULL);
    char *s = pk_arena_strdup(a, "indicator");
    CHECK_STR(s, "indicator");
    CHECK(pk_arena_used(a) > 10000);
    pk_arena_reset(a);
    CHECK_INT(pk_arena_used(a), 0);
    CHECK(pk_arena_alloc(a, 8) != NULL);
    pk_arena_free(a);
    pk_arena_free(NULL);
}

TEST(arena_cap_refuses_cleanly)
{
    pk_arena *a = pk_arena_new(1024, 4096);
    REQUIRE(a != NULL);
    int got = 0;
    while (pk_arena_alloc(a, 100))
        got++;
    CHECK(got >= 30 && got <= 40);
    CHECK(pk_arena_alloc(a, 5000) == NULL);
    pk_arena_free(a);
}

static void arena_under_failure(void *ctx)
{
    int *ok = ctx;
    pk_arena *a = pk_arena_new(64, 0);
    if (!a) return;
    for (int i = 0; i < 20; i++)
        if (!pk_arena_strdup(a, "some text that spans blocks")) break;
    pk_arena_free(a);
    (*ok)++;
}

TEST(arena_survives_every_allocation_failure)
{
    int runs = 0;
    long points = pkt_each_alloc_failure(arena_under_failure, &runs);
    CHECK(points >= 10);
}

/* ---- buffers ---- */

TEST(buf_appends_and_caps)
{
    pk_buf b;
    pk_buf_init(&b, 16);
    CHECK_INT(pk_buf_adds(&b, "0123456789"), PK_OK);
    CHECK_INT(pk_buf_addf(&b, "%d%s", 12, "ab"), PK_OK);
    CHECK_STR(b.data, "0123456789"
                      "12ab");
    CHECK_INT(pk_buf_adds(&b, "xyz"), PK_ELIMIT);
    CHECK_STR(b.data, "0123456789"
                      "12ab");
    CHECK_INT(pk_buf_addc(&b, 'x'), PK_OK);
    CHECK_INT(pk_buf_addc(&b, 'y'), PK_OK);
    CHECK_INT(b.len, 16);
    CHECK_INT(pk_buf_addc(&b, 'z'), PK_ELIMIT);
    size_t n;
    char *s = pk_buf_detach(&b, &n);
    CHECK_INT(n, 16);
    CHECK_STR(s, "0123456789"
                 "12abxy");
    pk_free(s);
    CHECK(b.data == NULL);
    pk_buf_init(&b, 0);
    char big[1000];
    memset(big, 'q', sizeof big);
    for (int i = 0; i < 100; i++)
        CHECK_INT(pk_buf_add(&b, big, sizeof big), PK_OK);
    const char *longs = "long-format-output-that-goes-past-the-small-stack-buffer-"
                        "-----------------------------------------------------------"
                        "-----------------------------------------------------------"
                        "-----------------------------------------------------------"
                        "end";
    CHECK_INT(pk_buf_addf(&b, "%s", longs), PK_OK);
    CHECK_INT(b.len, 100000 + strlen(longs));
    CHECK_STR(b.data + b.len - 3, "end");
    pk_buf_free(&b);
    s = pk_buf_detach(&b, NULL);
    CHECK_STR(s, "");
    pk_free(s);
}

static void buf_under_failure(void *ctx)
{
    pk_buf b;
    pk_buf_init(&b, 0);
    for (int i = 0; i < 50; i++)
        if (pk_buf_addf(&b, "line %d of the buffer under test\n", i)) break;
    if (b.data) CHECK(strlen(b.data) == b.len);
    pk_buf_free(&b);
}

TEST(buf_survives_every_allocation_failure)
{
    CHECK(pkt_each_alloc_failure(buf_under_failure, NULL) >= 3);
}

/* ---- hash map ---- */

TEST(map_put_get_del_iterate)
{
    pk_map *m = pk_map_new(0);
    REQUIRE(m != NULL);
    char key[32];
    for (long i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%ld", i);
        REQUIRE(pk_map_put(m, key, (size_t)n, (void *)(i + 1)) == PK_OK);
    }
    CHECK_INT(pk_map_count(m), 5000);
    CHECK(pk_map_get(m, "key-4321", 8) == (void *)4322);
    CHECK(pk_map_get(m, "key-5000", 8) == NULL);
    CHECK_INT(pk_map_put(m, "key-7", 5, (void *)99), PK_OK);
    CHECK(pk_map_get(m, "key-7", 5) == (void *)99);
    CHECK_INT(pk_map_count(m), 5000);
    /* Delete every other key; the rest must stay reachable (backward shift). */
    for (long i = 0; i < 5000; i += 2) {
        int n = snprintf(key, sizeof key, "key-%ld", i);
        CHECK_INT(pk_map_del(m, key, (size_t)n), 1);
    }
    CHECK_INT(pk_map_del(m, "key-0", 5), 0);
    CHECK_INT(pk_map_count(m), 2500);
    long bad = 0;
    for (long i = 1; i < 5000; i += 2) {
        int n = snprintf(key, sizeof key, "key-%ld", i);
        void *v = NULL;
        if (!pk_map_find(m, key, (size_t)n, &v) || (i != 7 && v != (void *)(i + 1))) bad++;
    }
    CHECK_INT(bad, 0);
    size_t it = 0, seen = 0;
    const void *k;
    size_t kl;
    void *v;
    while (pk_map_next(m, &it, &k, &kl, &v))
        seen++;
    CHECK_INT(seen, 2500);
    /* Empty and binary keys. */
    CHECK_INT(pk_map_put(m, "", 0, (void *)1), PK_OK);
    CHECK(pk_map_get(m, "", 0) == (void *)1);
    CHECK_INT(pk_map_put(m, "a\0b", 3, (void *)2), PK_OK);
    CHECK(pk_map_get(m, "a\0c", 3) == NULL);
    pk_map_free(m);
    pk_map_free(NULL);
}

TEST(hash_differs_by_length_and_content)
{
    CHECK(pk_hash("abc", 3, 0) != pk_hash("abd", 3, 0));
    CHECK(pk_hash("abc", 3, 0) != pk_hash("abc", 3, 1));
    CHECK(pk_hash("", 0, 0) != pk_hash("\0", 1, 0));
    CHECK(pk_hash("0123456789abcdef0", 17, 0) != pk_hash("0123456789abcdef1", 17, 0));
}

static void map_under_failure(void *ctx)
{
    pk_map *m = pk_map_new(0);
    if (!m) return;
    char key[16];
    int stored = 0;
    for (int i = 0; i < 40; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        if (pk_map_put(m, key, (size_t)n, (void *)1) == PK_OK) stored++;
    }
    CHECK_INT(pk_map_count(m), stored);
    pk_map_free(m);
}

TEST(map_survives_every_allocation_failure)
{
    CHECK(pkt_each_alloc_failure(map_under_failure, NULL) >= 40);
}

/* ---- time ---- */

static long long parse_sec(const char *s, int rules)
{
    pk_time t;
    if (pk_time_parse(s, strlen(s), rules, &t, NULL) != PK_OK) return -999999999999LL;
    return t.sec;
}

TEST(time_parses_stix_timestamps)
{
    CHECK_INT(parse_sec("2016-05-12T08:17:27.000Z", PK_TIME_STIX), 1463041047);
    CHECK_INT(parse_sec("1970-01-01T00:00:00Z", PK_TIME_STIX), 0);
    CHECK_INT(parse_sec("2000-02-29T12:00:00Z", PK_TIME_STIX), 951825600);
    CHECK_INT(parse_sec("1969-12-31T23:59:59Z", PK_TIME_STIX), -1);
    CHECK_INT(parse_sec("0001-01-01T00:00:00Z", PK_TIME_STIX), -62135596800LL);
    CHECK_INT(parse_sec("9999-12-31T23:59:59Z", PK_TIME_STIX), 253402300799LL);
    CHECK_INT(parse_sec("1996-12-19T16:39:57-08:00", PK_TIME_RFC3339), 851042397);
    CHECK_INT(parse_sec("1990-12-31T23:59:60Z", PK_TIME_STIX), 662688000);
    pk_time t;
    REQUIRE(pk_time_parse("2016-05-12T08:17:27.5Z", 22, PK_TIME_STIX, &t, NULL) == PK_OK);
    CHECK_INT(t.nsec, 500000000);
    CHECK_INT(t.digits, 1);
    char out[PK_TIME_STRLEN];
    pk_time_format(&t, -1, out);
    CHECK_STR(out, "2016-05-12T08:17:27.5Z");
    pk_time_format(&t, 3, out);
    CHECK_STR(out, "2016-05-12T08:17:27.500Z");
    pk_time_format(&t, 0, out);
    CHECK_STR(out, "2016-05-12T08:17:27Z");
    const char *ns = "2016-05-12T08:17:27.123456789987Z";
    REQUIRE(pk_time_parse(ns, strlen(ns), PK_TIME_STIX, &t, NULL) == PK_OK);
    CHECK_INT(t.nsec, 123456789);
    CHECK_INT(t.digits, 9);
}

static void check_time_error(const char *s, int rules, long column, const char *msg)
{
    pk_time t;
    pk_error e;
    pk_error_clear(&e);
    CHECK_INT(pk_time_parse(s, strlen(s), rules, &t, &e), PK_EPARSE);
    if (e.column != column || !strstr(e.message, msg))
        PKT_FAIL("'%s': column %ld \"%s\", expected column %ld \"%s\"", s, e.column, e.message,
                 column, msg);
}

TEST(time_rejects_with_the_column)
{
    check_time_error("2016-13-01T00:00:00Z", PK_TIME_STIX, 6, "month 13");
    check_time_error("2015-02-29T00:00:00Z", PK_TIME_STIX, 9, "day 29 does not exist");
    check_time_error("2016-05-12 08:17:27Z", PK_TIME_STIX, 11, "expected 'T'");
    check_time_error("2016-05-12T24:00:00Z", PK_TIME_STIX, 12, "hour 24");
    check_time_error("2016-05-12T08:60:00Z", PK_TIME_STIX, 15, "minute 60");
    check_time_error("2016-05-12T08:17:27", PK_TIME_STIX, 20, "without a time zone");
    check_time_error("2016-05-12T08:17:27+01:00", PK_TIME_STIX, 20, "must be in UTC");
    check_time_error("2016-05-12T08:17:27z", PK_TIME_STIX, 20, "must be in UTC");
    check_time_error("2016-05-12T08:17:27.Z", PK_TIME_STIX, 21, "digits after the decimal");
    check_time_error("2016-05-12T08:17:27Zjunk", PK_TIME_STIX, 21, "unexpected text");
    check_time_error("16-05-12T08:17:27Z", PK_TIME_STIX, 1, "four-digit year");
    check_time_error("2016-05-12", PK_TIME_STIX, 11, "a time is required");
    check_time_error("", PK_TIME_STIX, 1, "four-digit year");
}

TEST(time_compare_and_ms)
{
    pk_time a, b;
    pk_time_parse("2020-01-01T00:00:00.001Z", 24, PK_TIME_STIX, &a, NULL);
    pk_time_parse("2020-01-01T00:00:00.0010Z", 25, PK_TIME_STIX, &b, NULL);
    CHECK_INT(pk_time_cmp(&a, &b), 0);
    b.nsec++;
    CHECK(pk_time_cmp(&a, &b) < 0);
    CHECK(pk_time_cmp(&b, &a) > 0);
    CHECK_INT(pk_time_to_ms(&a), 1577836800001LL);
    pk_time c = pk_time_from_ms(-1);
    char out[PK_TIME_STRLEN];
    pk_time_format(&c, 3, out);
    CHECK_STR(out, "1969-12-31T23:59:59.999Z");
    CHECK_INT(pk_days_from_civil(2000, 3, 1), 11017);
}

/* ---- UUID ---- */

TEST(uuid_v5_matches_rfc_vectors)
{
    pk_uuid dns, u;
    char s[PK_UUID_STRLEN];
    REQUIRE(pk_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36, &dns) == PK_OK);
    pk_uuid_v5(&u, &dns, "python.org", 10);
    pk_uuid_format(&u, s);
    CHECK_STR(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    /* The STIX 2.1 namespace for cyber-observable ids. */
    pk_uuid stix;
    REQUIRE(pk_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", 36, &stix) == PK_OK);
    const char *name = "{\"value\":\"198.51.100.3\"}";
    pk_uuid_v5(&u, &stix, name, strlen(name));
    pk_uuid_format(&u, s);
    CHECK_STR(s, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    CHECK_INT(pk_uuid_version(&u), 5);
    CHECK(pk_uuid_is_rfc4122(&u));
}

TEST(uuid_v4_is_random_and_well_formed)
{
    pk_uuid a, b;
    REQUIRE(pk_uuid_v4(&a) == PK_OK);
    REQUIRE(pk_uuid_v4(&b) == PK_OK);
    CHECK(memcmp(a.b, b.b, 16) != 0);
    CHECK_INT(pk_uuid_version(&a), 4);
    CHECK(pk_uuid_is_rfc4122(&a));
    char s[PK_UUID_STRLEN];
    pk_uuid_format(&a, s);
    pk_uuid back;
    CHECK_INT(pk_uuid_parse(s, 36, &back), PK_OK);
    CHECK(memcmp(a.b, back.b, 16) == 0);
    CHECK_INT(pk_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c", 35, &back), PK_EPARSE);
    CHECK_INT(pk_uuid_parse("6ba7b810x9dad-11d1-80b4-00c04fd430c8", 36, &back), PK_EPARSE);
    CHECK_INT(pk_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430cg", 36, &back), PK_EPARSE);
    CHECK_INT(pk_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", 36, &back), PK_OK);
}

TEST(sha1_known_answers)
{
    uint8_t d[20];
    static const uint8_t abc[20] = {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                    0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d};
    pk_sha1("abc", 3, d);
    CHECK(memcmp(d, abc, 20) == 0);
    /* Two blocks: the 56-byte message of FIPS 180 examples. */
    static const uint8_t two[20] = {0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
                                    0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1};
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    pk_sha1(m, strlen(m), d);
    CHECK(memcmp(d, two, 20) == 0);
}

TEST(json_arena_takes_janssons_allocations)
{
    pk_init();
    pk_arena *a = pk_arena_new(4096, 0);
    REQUIRE(a != NULL);
    unsigned long long before = pk_alloc_count();
    CHECK_INT(pk_json_arena(a), 1);
    json_t *j = json_loads("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"e\"}", 0, NULL);
    REQUIRE(j != NULL);
    json_decref(j); /* a no-op: the arena holds it */
    CHECK_INT(pk_json_arena(NULL), 1);
    CHECK(pk_arena_used(a) > 0);
    /* Only the arena's block came from the allocator, not one per node. */
    CHECK(pk_alloc_count() - before <= 1);
    pk_arena_free(a);
    /* Back to the allocator: values are freed as usual. */
    j = json_string("x");
    CHECK(j != NULL);
    json_decref(j);
}

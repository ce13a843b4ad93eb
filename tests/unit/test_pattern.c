/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/pattern: the parser (valid and invalid patterns with
 * their columns), the canonical printer round trip, anchors, value codecs,
 * and allocation failures. */
#include "picket/pattern.h"
#include "harness.h"
#include "pattern/pattern_int.h"

static pk_pattern *parse_ok(const char *s)
{
    pk_pattern *p = NULL;
    pk_error e;
    pk_status st = pk_pattern_parse(s, strlen(s), PK_PATTERN_SPEC_AUTO, &p, &e);
    if (st) fprintf(stderr, "  unexpected error for %s: column %ld: %s\n", s, e.column, e.message);
    return p;
}

/* The canonical form of s, and that it parses back to the same tree. */
static void check_canon(const char *s, const char *want)
{
    pk_pattern *p = parse_ok(s);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_STR(pk_pattern_canonical(p), want);
    pk_pattern *q = parse_ok(pk_pattern_canonical(p));
    CHECK(q != NULL);
    if (q) {
        CHECK(pki_pattern_equal(pk_pattern_root(p), pk_pattern_root(q)));
        CHECK_STR(pk_pattern_canonical(q), pk_pattern_canonical(p));
    }
    pk_pattern_free(q);
    pk_pattern_free(p);
}

static void check_err(const char *s, pk_status code, long col, const char *msg_part)
{
    pk_pattern *p = (pk_pattern *)1;
    pk_error e;
    pk_status st = pk_pattern_parse(s, strlen(s), PK_PATTERN_SPEC_AUTO, &p, &e);
    CHECK_INT(st, code);
    CHECK(p == NULL);
    CHECK_INT(e.column, col);
    if (!strstr(e.message, msg_part))
        PKT_FAIL("%s: message \"%s\" lacks \"%s\"", s, e.message, msg_part);
    if (st == PK_OK) pk_pattern_free(p);
}

TEST(parse_comparison_operators)
{
    check_canon("[file:size = 1280]", "[file:size = 1280]");
    check_canon("[file:size == 1280]", "[file:size = 1280]");
    check_canon("[file:size != 1280]", "[file:size != 1280]");
    check_canon("[file:size <> 1280]", "[file:size != 1280]");
    check_canon("[file:size<1024]", "[file:size < 1024]");
    check_canon("[file:size <= +1024]", "[file:size <= 1024]");
    check_canon("[file:size > -3]", "[file:size > -3]");
    check_canon("[file:size >= 1.50]", "[file:size >= 1.50]");
    check_canon("[file:name IN ('a', 'b')]", "[file:name IN ('a', 'b')]");
    check_canon("[file:size NOT IN (1,2.5)]", "[file:size NOT IN (1, 2.5)]");
    check_canon("[file:size IN ()]", "[file:size IN ()]");
    check_canon("[file:name LIKE 'x%_']", "[file:name LIKE 'x%_']");
    check_canon("[file:name NOT MATCHES '^a.*\\\\.exe$']",
                "[file:name NOT MATCHES '^a.*\\\\.exe$']");
    check_canon("[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
                "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    check_canon("[ipv6-addr:value NOT ISSUPERSET '2001:db8::/32']",
                "[ipv6-addr:value NOT ISSUPERSET '2001:db8::/32']");
    check_canon("[EXISTS file:hashes.MD5]", "[EXISTS file:hashes.MD5]");
    check_canon("[x:flag = true OR x:flag != false]", "[x:flag = true OR x:flag != false]");
}

TEST(parse_constants)
{
    check_canon("[x:s = 'it\\'s a \\\\ path']", "[x:s = 'it\\'s a \\\\ path']");
    check_canon("[x:s = '']", "[x:s = '']");
    check_canon("[x:b = b'dGhpcyBpcyBhIHRlc3Q=']", "[x:b = b'dGhpcyBpcyBhIHRlc3Q=']");
    check_canon("[x:b = b'']", "[x:b = b'']");
    check_canon("[x:h = h'DEADbeef']", "[x:h = h'deadbeef']");
    check_canon("[x:t = t'2016-01-20T12:31:12.12345Z']", "[x:t = t'2016-01-20T12:31:12.12345Z']");
    check_canon("[x:f = -.5]", "[x:f = -.5]");
    check_canon("[x:f = 0.0]", "[x:f = 0.0]");
    check_canon("[x:i = 9223372036854775807]", "[x:i = 9223372036854775807]");
    check_canon("[x:y = 1 /* a comment */ ] // and another", "[x:y = 1]");
    check_canon("\xc2\xa0[x:y\xe2\x80\x83=\xe3\x80\x80"
                "1]\xe2\x80\xa8",
                "[x:y = 1]");
}

TEST(parse_object_paths)
{
    check_canon("[file:hashes.'SHA-256' = "
                "'abababababababababababababababababababababababababababababababab']",
                "[file:hashes.'SHA-256' = "
                "'abababababababababababababababababababababababababababababababab']");
    check_canon("[file:'name' = 'x']", "[file:name = 'x']");
    check_canon("[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'x']",
                "[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'x']");
    check_canon("[email-message:to_refs[*].value = 'a@b.c']",
                "[email-message:to_refs[*].value = 'a@b.c']");
    check_canon("[x:list[-1] = 3]", "[x:list[-1] = 3]");
    check_canon("[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]",
                "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]");
    check_canon("[x:'a b'.'it\\'s' = 3]", "[x:'a b'.'it\\'s' = 3]");
    pk_pattern *p = parse_ok("[network-traffic:src_ref.value = '1.2.3.4']");
    REQUIRE(p);
    const pk_pattern_node *c = pk_pattern_root(p)->child[0];
    CHECK_INT(c->kind, PK_PN_COMPARE);
    CHECK_STR(c->path->type, "network-traffic");
    CHECK_INT(c->path->nsteps, 2);
    CHECK_STR(c->path->steps[0].key, "src_ref");
    CHECK_STR(c->path->prop, "src_ref.value");
    CHECK_INT(c->path->simple, 0);
    CHECK_INT(c->column, 2);
    pk_pattern_free(p);
}

TEST(parse_precedence_comparison_level)
{
    /* AND binds tighter than OR inside brackets */
    pk_pattern *p = parse_ok("[a:x = 1 OR a:y = 2 AND a:z = 3]");
    REQUIRE(p);
    const pk_pattern_node *c = pk_pattern_root(p)->child[0];
    CHECK_INT(c->kind, PK_PN_COR);
    CHECK_INT(c->nchild, 2);
    CHECK_INT(c->child[1]->kind, PK_PN_CAND);
    pk_pattern_free(p);
    check_canon("[(a:x = 1 OR a:y = 2) AND a:z = 3]", "[(a:x = 1 OR a:y = 2) AND a:z = 3]");
    check_canon("[a:x = 1 OR (a:y = 2 AND a:z = 3)]", "[a:x = 1 OR a:y = 2 AND a:z = 3]");
    check_canon("[a:x = 1 OR (a:y = 2 OR a:z = 3)]", "[a:x = 1 OR a:y = 2 OR a:z = 3]");
    check_canon("[((a:x = 1))]", "[a:x = 1]");
}

TEST(parse_precedence_observation_level)
{
    /* AND over OR over FOLLOWEDBY; qualifiers bind tightest */
    pk_pattern *p = parse_ok("[a:x=1] OR [b:x=2] AND [c:x=3] FOLLOWEDBY [d:x=4] WITHIN 5 SECONDS");
    REQUIRE(p);
    const pk_pattern_node *r = pk_pattern_root(p);
    CHECK_INT(r->kind, PK_PN_FOLLOWEDBY);
    CHECK_INT(r->nchild, 2);
    CHECK_INT(r->child[0]->kind, PK_PN_OOR);
    CHECK_INT(r->child[0]->child[1]->kind, PK_PN_OAND);
    CHECK_INT(r->child[1]->kind, PK_PN_WITHIN);
    pk_pattern_free(p);
    check_canon("([a:x = 1] OR [b:x = 2]) AND [c:x = 3]", "([a:x = 1] OR [b:x = 2]) AND [c:x = 3]");
    check_canon("[a:x = 1] FOLLOWEDBY ([b:x = 2] FOLLOWEDBY [c:x = 3])",
                "[a:x = 1] FOLLOWEDBY [b:x = 2] FOLLOWEDBY [c:x = 3]");
    check_canon("([a:x = 1] FOLLOWEDBY [b:x = 2]) OR [c:x = 3]",
                "([a:x = 1] FOLLOWEDBY [b:x = 2]) OR [c:x = 3]");
    check_canon("(([a:x = 1]))", "[a:x = 1]");
}

TEST(parse_qualifiers)
{
    check_canon("[a:x = 1] WITHIN 5 SECONDS", "[a:x = 1] WITHIN 5 SECONDS");
    check_canon("[a:x = 1] WITHIN .25 SECONDS", "[a:x = 1] WITHIN 0.25 SECONDS");
    check_canon("[a:x = 1] REPEATS 3 TIMES", "[a:x = 1] REPEATS 3 TIMES");
    check_canon("[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
                "[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
    check_canon("[a:x = 1] REPEATS 2 TIMES WITHIN 10 SECONDS",
                "[a:x = 1] REPEATS 2 TIMES WITHIN 10 SECONDS");
    check_canon("([a:x = 1] AND [b:x = 2]) WITHIN 10 SECONDS",
                "([a:x = 1] AND [b:x = 2]) WITHIN 10 SECONDS");
    check_canon("([a:x = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
                "([a:x = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS");
    check_canon("([a:x = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
                "([a:x = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS");
    check_canon("([a:x = 1]) REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES",
                "([a:x = 1] REPEATS 2 TIMES) WITHIN 5 SECONDS REPEATS 3 TIMES");
    check_canon("(([a:x = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES) WITHIN 6 SECONDS",
                "([a:x = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES WITHIN 6 SECONDS");
    /* a START/STOP with '...' strings is STIX 2.0; auto accepts it */
    check_canon("[a:x = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
                "[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
}

TEST(parse_spec_versions)
{
    pk_pattern *p;
    pk_error e;
    const char *s20 = "[a:x = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'";
    CHECK_INT(pk_pattern_parse(s20, strlen(s20), PK_PATTERN_SPEC_21, &p, &e), PK_EVALIDATE);
    CHECK_INT(e.column, 17);
    CHECK_INT(pk_pattern_parse(s20, strlen(s20), PK_PATTERN_SPEC_20, &p, &e), PK_OK);
    CHECK_STR(pk_pattern_canonical(p), s20);
    pk_pattern_free(p);
    const char *t = "[a:x = t'2016-06-01T00:00:00Z']";
    CHECK_INT(pk_pattern_parse(t, strlen(t), PK_PATTERN_SPEC_20, &p, &e), PK_EVALIDATE);
    CHECK_INT(e.column, 8);
}

TEST(parse_errors_name_the_column)
{
    check_err("", PK_EPARSE, 1, "empty pattern");
    check_err("file:size = 1280", PK_EPARSE, 1, "begins with '['");
    check_err("[file:size = ]", PK_EPARSE, 14, "expected a constant");
    check_err("[file:hashes.MD5 = cead3f77]", PK_EPARSE, 20, "expected a constant");
    check_err("[file.size = 1280]", PK_EPARSE, 6, "expected ':'");
    check_err("[file:name MATCHES /.*/]", PK_EPARSE, 20, "unexpected character '/'");
    check_err("[a:x = 1] WITHIN ]", PK_EPARSE, 18, "positive number of seconds");
    check_err("[a:x = 1] WITHIN 5 HOURS", PK_EPARSE, 20, "SECONDS");
    check_err("[a:x = 1] WITHIN -5 SECONDS", PK_EVALIDATE, 18, "positive");
    check_err("[a:x = 1] WITHIN 0 SECONDS", PK_EVALIDATE, 18, "positive");
    check_err("[a:x = 1] REPEATS 0 TIMES", PK_EVALIDATE, 19, "positive");
    check_err("[a:x = 1] REPEATS 1.5 TIMES", PK_EPARSE, 19, "positive integer");
    check_err("[a:x = 1] REPEATS 2000000000 TIMES", PK_ELIMIT, 19, "limited");
    check_err("[a:x ISSUBSET ]", PK_EPARSE, 15, "expected a constant");
    check_err("[a:x =? 'y']", PK_EPARSE, 7, "unexpected character '?'");
    check_err("[x:d = t'2457-73-22T32:81:84.1Z']", PK_EPARSE, 15, "month");
    check_err("[x:b = b'====']", PK_EPARSE, 8, "base64");
    check_err("[x:h = h'abc']", PK_EPARSE, 8, "even number");
    check_err("[a:x = 1] within 2 seconds", PK_EPARSE, 11, "upper case");
    check_err("[a:x = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", PK_EVALIDATE, 28, "duplicate WITHIN");
    check_err("([a:x = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", PK_EVALIDATE, 28, "duplicate REPEATS");
    check_err("[a:x = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' "
              "START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
              PK_EVALIDATE, 70, "duplicate START");
    check_err("[a:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", PK_EVALIDATE,
              46, "later than START");
    check_err("[a:x = 1 AND b:y = 2]", PK_EVALIDATE, 14, "same object type");
    check_err("[(a:x = 1 OR b:y = 2) AND a:z = 3]", PK_EVALIDATE, 3, "same object type");
    check_err("[a:x < true]", PK_EVALIDATE, 8, "boolean");
    check_err("[a:x LIKE 5]", PK_EVALIDATE, 11, "string");
    check_err("[a:x MATCHES '(']", PK_EVALIDATE, 14, "regular expression");
    check_err("[a:x ISSUBSET '10.0.0.0/33']", PK_EVALIDATE, 15, "CIDR");
    check_err("[a:x ISSUPERSET 'example.com']", PK_EVALIDATE, 17, "CIDR");
    check_err("[a:x IN (1, 'a')]", PK_EVALIDATE, 13, "same type");
    check_err("[a:x IN (1 2)]", PK_EPARSE, 12, "',' or ')'");
    check_err("[a:x = 'unterminated]", PK_EPARSE, 8, "not closed");
    check_err("[a:x = 'bad \\n escape']", PK_EPARSE, 13, "invalid escape");
    check_err("[a:x = 01]", PK_EPARSE, 8, "leading zero");
    check_err("[a:x = 1e5]", PK_EPARSE, 8, "exponents");
    check_err("[a:x = 99999999999999999999]", PK_EPARSE, 8, "64 bits");
    check_err("[a:na-me = 1]", PK_EPARSE, 4, "must be quoted");
    check_err("[a:x = 1", PK_EPARSE, 9, "expected ']'");
    check_err("[a:x = 1] AND", PK_EPARSE, 14, "'[' or '('");
    check_err("[a:x = 1]]", PK_EPARSE, 10, "expected AND, OR");
    check_err("[a:x EXISTS]", PK_EPARSE, 6, "EXISTS goes before");
    check_err("[a:x = 1 /* open", PK_EPARSE, 10, "comment");
    check_err("[a:x[1.5] = 1]", PK_EPARSE, 6, "list index");
    check_err("[a:x = 1] START t'2016-06-01T00:00:00Z' STOP 5", PK_EPARSE, 46, "timestamp");
    check_err("[file:hashes.'SHA-256' = 'f00']", PK_EVALIDATE, 26, "not a valid SHA-256 hash");
    check_err("[file:hashes.MD5 IN ('d41d8cd98f00b204e9800998ecf8427e', 'xyz')]", PK_EVALIDATE, 58,
              "not a valid MD5 hash");
    check_canon("[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
                "[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']");
    check_canon("[file:hashes.SSDEEP = '3:a:b']", "[file:hashes.SSDEEP = '3:a:b']");
}

TEST(parse_bounds)
{
    /* nesting past the limit fails cleanly */
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        deep[n++] = '(';
    memcpy(deep + n, "[a:x = 1]", 9);
    n += 9;
    for (int i = 0; i < 100; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    check_err(deep, PK_ELIMIT, 65, "deeper than 64");
    /* thousands of OR terms are fine, past the cap they fail */
    pk_buf b;
    pk_buf_init(&b, 0);
    pk_buf_adds(&b, "[");
    for (int i = 0; i < 5000; i++)
        pk_buf_addf(&b, "%sdomain-name:value = 'd%d.example'", i ? " OR " : "", i);
    pk_buf_adds(&b, "]");
    pk_pattern *p = parse_ok(b.data);
    REQUIRE(p);
    CHECK_INT(pk_pattern_root(p)->child[0]->nchild, 5000);
    CHECK_INT(pk_pattern_get_anchors(p)->count, 5000);
    CHECK_INT(pk_pattern_get_anchors(p)->exact, 1);
    pk_pattern_free(p);
    pk_buf_reset(&b);
    for (int i = 0; i <= PK_PATTERN_MAX_TERMS; i++)
        pk_buf_addf(&b, "%s[a:x = %d]", i ? " OR " : "", i);
    pk_error e;
    CHECK_INT(pk_pattern_parse(b.data, b.len, PK_PATTERN_SPEC_AUTO, &p, &e), PK_ELIMIT);
    CHECK(strstr(e.message, "more than 10000 comparisons") != NULL);
    pk_buf_free(&b);
}

TEST(anchors)
{
    struct {
        const char *pattern;
        size_t count;
        int exact;
        const char *first; /* path of the first anchor */
    } cases[] = {
        {"[ipv4-addr:value = '1.2.3.4']", 1, 1, "ipv4-addr:value"},
        {"[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'x']", 2, 1, "ipv4-addr:value"},
        {"[domain-name:value IN ('a', 'b', 'c')]", 3, 1, "domain-name:value"},
        {"[file:name LIKE 'a%' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", 1, 0,
         "file:hashes.MD5"},
        {"[file:name NOT = 'a']", 0, 0, NULL},
        {"[file:size > 5]", 0, 0, NULL},
        {"[file:size > 5 OR file:name = 'x']", 0, 0, NULL},
        {"[a:x = 1] AND [b:y > 2]", 1, 0, "a:x"},
        {"[a:x = 1] FOLLOWEDBY [b:y IN (1, 2)]", 1, 0, "a:x"},
        {"[a:x = 1] REPEATS 2 TIMES", 1, 0, "a:x"},
        {"[network-traffic:dst_ref.value = '1.2.3.4']", 1, 0, "network-traffic:dst_ref.value"},
        {"[a:x IN ()]", 0, 0, NULL},
        {"[artifact:payload_bin = 'aGk=']", 1, 0, "artifact:payload_bin"},
        {"[x:when = t'2020-01-01T00:00:00Z']", 1, 0, "x:when"},
        {"[x:h = h'00ff'] OR [x:s = 's']", 2, 0, "x:h"},
        {"[x:list[0] = 1]", 1, 0, "x:list[0]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pk_pattern *p = parse_ok(cases[i].pattern);
        CHECK(p != NULL);
        if (!p) continue;
        const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
        if (a->count != cases[i].count || a->exact != cases[i].exact)
            PKT_FAIL("%s: %zu anchors exact=%d, expected %zu exact=%d", cases[i].pattern, a->count,
                     a->exact, cases[i].count, cases[i].exact);
        if (cases[i].first && a->count) CHECK_STR(a->anchor[0].path->text, cases[i].first);
        pk_pattern_free(p);
    }
    pk_pattern *p = parse_ok("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = 5]");
    REQUIRE(p);
    const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
    CHECK_INT(a->count, 2);
    CHECK_INT(a->anchor[0].value->kind, PK_PV_STRING);
    CHECK_STR(a->anchor[0].value->bytes, "1.2.3.4");
    CHECK_STR(a->anchor[0].path->type, "ipv4-addr");
    CHECK_STR(a->anchor[0].path->prop, "value");
    CHECK_INT(a->anchor[1].value->kind, PK_PV_INT);
    CHECK_INT(a->anchor[1].value->i, 5);
    pk_pattern_free(p);
}

static int count_nodes(const pk_pattern_node *n, int depth, void *ud)
{
    (void)n;
    (void)depth;
    ++*(int *)ud;
    return 0;
}

TEST(walk_visits_every_node)
{
    pk_pattern *p = parse_ok("[a:x = 1 OR a:y = 2] AND [b:z = 3] WITHIN 5 SECONDS");
    REQUIRE(p);
    int n = 0;
    CHECK_INT(pk_pattern_walk(p, count_nodes, &n), 0);
    /* OAND, OBSERVE, COR, CMP, CMP, WITHIN, OBSERVE, CMP */
    CHECK_INT(n, 8);
    pk_pattern_free(p);
}

TEST(codecs)
{
    unsigned char out[64];
    CHECK_INT(pki_base64_decode("aGk=", 4, out), 2);
    CHECK(memcmp(out, "hi", 2) == 0);
    CHECK_INT(pki_base64_decode("aGl=", 4, out), -1); /* non-zero pad bits */
    CHECK_INT(pki_base64_decode("aGk", 3, out), -1);
    CHECK_INT(pki_hex_decode("00fF", 4, out), 2);
    CHECK_INT(out[1], 255);
    pki_cidr a, b;
    CHECK_INT(pki_cidr_parse("10.1.2.3", 8, &a), 0);
    CHECK_INT(pki_cidr_parse("10.0.0.0/8", 10, &b), 0);
    CHECK(pki_cidr_within(&a, &b));
    CHECK(!pki_cidr_within(&b, &a));
    CHECK_INT(pki_cidr_parse("10.0.0.0/08", 11, &b), -1);
    CHECK_INT(pki_cidr_parse("2001:db8::1", 11, &a), 0);
    CHECK_INT(pki_cidr_parse("2001:db8::/32", 13, &b), 0);
    CHECK(pki_cidr_within(&a, &b));
    CHECK_INT(pki_cidr_parse("2001:db8::/129", 14, &b), -1);
    CHECK(pki_like("hello", 5, "h%o", 3, 0));
    CHECK(pki_like("hello", 5, "h_llo", 5, 0));
    CHECK(!pki_like("hello", 5, "h_lo", 4, 0));
    CHECK(pki_like("", 0, "%", 1, 0));
    CHECK(pki_like("caf\xc3\xa9", 5, "caf_", 4, 0));
    CHECK(pki_like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 31, "%a%a%a%a%a%a%a%a%b", 18, 0));
    CHECK(!pki_like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 31, "%a%a%a%a%a%a%a%a%b", 18, 0));
}

static void parse_under_failure(void *ctx)
{
    const char *s = ctx;
    pk_pattern *p = NULL;
    pk_error e;
    pk_status st = pk_pattern_parse(s, strlen(s), PK_PATTERN_SPEC_AUTO, &p, &e);
    if (st == PK_OK) {
        CHECK_STR(pk_pattern_canonical(p), "[a:x = 1 OR a:y MATCHES 'b+'] AND [c:z IN (1, 2)] "
                                           "WITHIN 5 SECONDS");
        pk_pattern_free(p);
    } else {
        CHECK_INT(st, PK_ENOMEM);
        CHECK(p == NULL);
    }
}

TEST(parse_survives_every_allocation_failure)
{
    long n = pkt_each_alloc_failure(parse_under_failure,
                                    "[a:x = 1 OR a:y MATCHES 'b+'] AND [c:z IN (1,2)] "
                                    "WITHIN 5 SECONDS");
    CHECK(n > 5);
}

/* ---- data-driven cases: the JSON files in tests/cases/pattern ---------- */

#include <dirent.h>
#include <jansson.h>

static int run_case_file(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        PKT_FAIL("%s:%d: %s", path, je.line, je.text);
        return 0;
    }
    pk_pattern_spec spec = PK_PATTERN_SPEC_AUTO;
    const char *sv = json_string_value(json_object_get(doc, "spec"));
    if (sv && strcmp(sv, "2.0") == 0) spec = PK_PATTERN_SPEC_20;
    if (sv && strcmp(sv, "2.1") == 0) spec = PK_PATTERN_SPEC_21;
    pk_pattern_obs *obs = NULL;
    pk_error e;
    int n = 0;
    if (pk_pattern_obs_new(&obs, &e) ||
        pk_pattern_obs_add(obs, json_object_get(doc, "observations"), spec, &e)) {
        PKT_FAIL("%s: observations: %s", path, e.message);
        goto done;
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *pat = json_string_value(json_object_get(c, "pattern"));
        json_t *want = json_object_get(c, "match"), *werr = json_object_get(c, "error");
        pk_pattern *p = NULL;
        pk_status st = pk_pattern_parse(pat, strlen(pat), spec, &p, &e);
        n++;
        if (json_is_integer(werr)) {
            if (st == PK_OK || e.column != json_integer_value(werr))
                PKT_FAIL("%s: %s: expected an error at column %lld, got %s (column %ld: %s)", path,
                         pat, (long long)json_integer_value(werr), st ? "an error" : "success",
                         e.column, e.message);
            pk_pattern_free(p);
            continue;
        }
        if (st) {
            PKT_FAIL("%s: %s: column %ld: %s", path, pat, e.column, e.message);
            continue;
        }
        pk_pattern_result r;
        st = pk_pattern_eval(p, obs, &r, &e);
        if (json_is_string(werr)) {
            if (st == PK_OK || !strstr(e.message, json_string_value(werr)))
                PKT_FAIL("%s: %s: expected evaluation error \"%s\", got \"%s\"", path, pat,
                         json_string_value(werr), st ? e.message : "success");
        } else if (st) {
            PKT_FAIL("%s: %s: evaluation failed: %s", path, pat, e.message);
        } else {
            pk_buf got, exp;
            pk_buf_init(&got, 0);
            pk_buf_init(&exp, 0);
            for (size_t k = 0; k < r.count; k++)
                pk_buf_addf(&got, "%s ", pk_pattern_obs_id(obs, r.index[k]));
            size_t k;
            json_t *id;
            json_array_foreach(want, k, id) pk_buf_addf(&exp, "%s ", json_string_value(id));
            if (strcmp(got.data ? got.data : "", exp.data ? exp.data : "") != 0)
                PKT_FAIL("%s: %s\n    matched:  [%s]\n    expected: [%s]", path, pat,
                         got.data ? got.data : "", exp.data ? exp.data : "");
            pk_buf_free(&got);
            pk_buf_free(&exp);
        }
        pk_pattern_result_free(&r);
        pk_pattern_free(p);
    }
done:
    pk_pattern_obs_free(obs);
    json_decref(doc);
    return n;
}

TEST(data_driven_cases)
{
    const char *dir = PK_SOURCE_DIR "/tests/cases/pattern";
    DIR *d = opendir(dir);
    REQUIRE(d != NULL);
    struct dirent *de;
    int files = 0, cases = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        cases += run_case_file(path);
        files++;
    }
    closedir(d);
    printf("     %d rule files, %d cases\n", files, cases);
    CHECK(files >= 19);
}

/* ---- the evaluation API ------------------------------------------------- */

static json_t *load(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    if (!j) fprintf(stderr, "  bad test JSON: %s\n", s);
    return j;
}

#define OD21(id, t, refs)                                                                          \
    "{\"type\":\"observed-data\",\"id\":\"" id "\",\"first_observed\":\"" t                        \
    "\",\"last_observed\":\"" t "\",\"number_observed\":1,\"object_refs\":" refs "}"

static size_t eval_count(const char *pattern, const pk_pattern_obs *obs, pk_status *st)
{
    pk_pattern *p = parse_ok(pattern);
    pk_pattern_result r;
    pk_error e;
    if (!p) return (size_t)-1;
    *st = pk_pattern_eval(p, obs, &r, &e);
    size_t n = r.count;
    pk_pattern_result_free(&r);
    pk_pattern_free(p);
    return n;
}

TEST(obs_refs_across_documents)
{
    /* object_refs may point into a document added later */
    pk_pattern_obs *obs;
    pk_error e;
    pk_status st;
    REQUIRE(pk_pattern_obs_new(&obs, &e) == PK_OK);
    json_t *a =
        load("[" OD21("observed-data--1", "2020-01-01T00:00:00Z", "[\"ipv4-addr--1\"]") "]");
    json_t *b =
        load("{\"type\":\"bundle\",\"objects\":[{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\","
             "\"value\":\"10.1.1.1\"}]}");
    REQUIRE(a && b);
    CHECK_INT(pk_pattern_obs_add(obs, a, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    CHECK_INT(eval_count("[ipv4-addr:value = '10.1.1.1']", obs, &st), 0);
    CHECK_INT(pk_pattern_obs_add(obs, b, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    json_decref(a);
    json_decref(b); /* the set keeps its own references */
    CHECK_INT(eval_count("[ipv4-addr:value = '10.1.1.1']", obs, &st), 1);
    CHECK_INT(st, PK_OK);
    CHECK_INT(pk_pattern_obs_count(obs), 1);
    CHECK_STR(pk_pattern_obs_id(obs, 0), "observed-data--1");
    CHECK(pk_pattern_obs_id(obs, 1) == NULL);
    pk_pattern_obs_free(obs);
    pk_pattern_obs_free(NULL);
}

TEST(obs_add_rejects_bad_observed_data_and_keeps_nothing)
{
    pk_pattern_obs *obs;
    pk_error e;
    REQUIRE(pk_pattern_obs_new(&obs, &e) == PK_OK);
    json_t *bad = load("[" OD21("observed-data--ok", "2020-01-01T00:00:00Z",
                                "[]") ","
                                      "{\"type\":\"observed-data\",\"id\":\"observed-data--bad\","
                                      "\"first_observed\":\"yesterday\",\"object_refs\":[]}]");
    REQUIRE(bad);
    CHECK_INT(pk_pattern_obs_add(obs, bad, PK_PATTERN_SPEC_AUTO, &e), PK_EVALIDATE);
    CHECK_STR(e.object_id, "observed-data--bad");
    CHECK_STR(e.property, "first_observed");
    CHECK_INT(pk_pattern_obs_count(obs), 0);
    json_decref(bad);
    json_t *num =
        load("[{\"type\":\"observed-data\",\"id\":\"observed-data--n\",\"first_observed\":"
             "\"2020-01-01T00:00:00Z\",\"number_observed\":0,\"object_refs\":[]}]");
    CHECK_INT(pk_pattern_obs_add(obs, num, PK_PATTERN_SPEC_AUTO, &e), PK_EVALIDATE);
    CHECK_STR(e.property, "number_observed");
    json_decref(num);
    json_t *notobj = load("[1]");
    CHECK_INT(pk_pattern_obs_add(obs, notobj, PK_PATTERN_SPEC_AUTO, &e), PK_EVALIDATE);
    json_decref(notobj);
    json_t *neither = load("{\"type\":\"observed-data\",\"id\":\"observed-data--x\","
                           "\"first_observed\":\"2020-01-01T00:00:00Z\"}");
    CHECK_INT(pk_pattern_obs_add(obs, neither, PK_PATTERN_SPEC_AUTO, &e), PK_EVALIDATE);
    CHECK_STR(e.property, "object_refs");
    json_decref(neither);
    CHECK_INT(pk_pattern_obs_count(obs), 0);
    /* a failed document leaves the ids it shadowed as they were */
    pk_status st;
    json_t *good = load("[" OD21("observed-data--g", "2020-01-01T00:00:00Z",
                                 "[\"x--1\"]") ","
                                               "{\"type\":\"x\",\"id\":\"x--1\",\"v\":1}]");
    json_t *shadow = load("[{\"type\":\"x\",\"id\":\"x--1\",\"v\":2},{\"type\":"
                          "\"observed-data\",\"id\":\"observed-data--b\"}]");
    REQUIRE(good && shadow);
    CHECK_INT(pk_pattern_obs_add(obs, good, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    CHECK_INT(pk_pattern_obs_add(obs, shadow, PK_PATTERN_SPEC_AUTO, &e), PK_EVALIDATE);
    json_decref(good);
    json_decref(shadow);
    json_t *late = load("[" OD21("observed-data--l", "2020-01-01T00:00:00Z", "[\"x--1\"]") "]");
    CHECK_INT(pk_pattern_obs_add(obs, late, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    json_decref(late);
    CHECK_INT(eval_count("[x:v = 1]", obs, &st), 2);
    CHECK_INT(eval_count("[x:v = 2]", obs, &st), 0);
    pk_pattern_obs_free(obs);
}

TEST(eval_bounds_fail_cleanly)
{
    /* 40 observed-data each matching [x:v = 1]: an AND of four of them has
     * 40*39*38*37 combinations, past PK_PATTERN_MAX_BINDINGS. */
    pk_buf b;
    pk_buf_init(&b, 0);
    pk_buf_adds(&b, "[");
    for (int i = 0; i < 40; i++)
        pk_buf_addf(&b,
                    "%s{\"type\":\"observed-data\",\"id\":\"observed-data--%d\",\"first_observed\":"
                    "\"2020-01-01T00:00:%02dZ\",\"object_refs\":[\"x--%d\"]},"
                    "{\"type\":\"x\",\"id\":\"x--%d\",\"v\":1}",
                    i ? "," : "", i, i, i, i);
    pk_buf_adds(&b, "]");
    json_t *j = load(b.data);
    pk_buf_free(&b);
    REQUIRE(j);
    pk_pattern_obs *obs;
    pk_error e;
    pk_status st;
    REQUIRE(pk_pattern_obs_new(&obs, &e) == PK_OK);
    CHECK_INT(pk_pattern_obs_add(obs, j, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    json_decref(j);
    CHECK_INT(eval_count("[x:v = 1] AND [x:v = 1]", obs, &st), 40);
    CHECK_INT(st, PK_OK);
    eval_count("[x:v = 1] AND [x:v = 1] AND [x:v = 1] AND [x:v = 1]", obs, &st);
    CHECK_INT(st, PK_ELIMIT);
    CHECK_INT(eval_count("[x:v = 1] REPEATS 40 TIMES WITHIN 39 SECONDS", obs, &st), 40);
    CHECK_INT(eval_count("[x:v = 1] REPEATS 40 TIMES WITHIN 38 SECONDS", obs, &st), 0);
    CHECK_INT(eval_count("[x:v = 1] REPEATS 1000000 TIMES", obs, &st), 0);
    CHECK_INT(st, PK_OK);
    CHECK_INT(eval_count("[x:v = 1] REPEATS 3 TIMES FOLLOWEDBY [x:v = 1]", obs, &st), 40);
    /* thousands of OR terms and deep (bounded) nesting evaluate */
    pk_buf_init(&b, 0);
    for (int i = 0; i < 3000; i++)
        pk_buf_addf(&b, "%s[x:v = %d]", i ? " OR " : "", i + 2);
    pk_buf_adds(&b, " OR [x:v = 1]");
    CHECK_INT(eval_count(b.data, obs, &st), 40);
    pk_buf_reset(&b);
    for (int i = 0; i < 60; i++)
        pk_buf_adds(&b, "(");
    pk_buf_adds(&b, "[x:v = 1]");
    for (int i = 0; i < 60; i++)
        pk_buf_adds(&b, ") WITHIN 100 SECONDS");
    pk_pattern *p;
    CHECK_INT(pk_pattern_parse(b.data, b.len, PK_PATTERN_SPEC_AUTO, &p, &e), PK_OK);
    pk_pattern_free(p);
    CHECK_INT(eval_count(b.data, obs, &st), 40);
    pk_buf_free(&b);
    pk_pattern_obs_free(obs);
}

struct eval_ctx {
    const char *data, *pattern;
    size_t want;
};

static void eval_under_failure(void *vctx)
{
    struct eval_ctx *c = vctx;
    pk_pattern_obs *obs = NULL;
    pk_pattern *p = NULL;
    pk_error e;
    pk_pattern_result r = {0};
    json_t *j = json_loads(c->data, 0, NULL);
    if (!j) return; /* jansson's own allocation failed */
    pk_status st = pk_pattern_obs_new(&obs, &e);
    if (!st) st = pk_pattern_obs_add(obs, j, PK_PATTERN_SPEC_AUTO, &e);
    if (!st) st = pk_pattern_parse(c->pattern, strlen(c->pattern), PK_PATTERN_SPEC_AUTO, &p, &e);
    if (!st) st = pk_pattern_eval(p, obs, &r, &e);
    if (st)
        CHECK_INT(st, PK_ENOMEM);
    else
        CHECK_INT(r.count, c->want);
    pk_pattern_result_free(&r);
    pk_pattern_free(p);
    pk_pattern_obs_free(obs);
    json_decref(j);
}

TEST(eval_survives_every_allocation_failure)
{
    struct eval_ctx c = {
        "[" OD21("observed-data--1", "2020-01-01T00:00:00Z",
                 "[\"x--1\"]") "," OD21("observed-data--2", "2020-01-01T00:00:05Z",
                                        "[\"x--2\"]") ","
                                                      "{\"type\":\"x\",\"id\":\"x--1\",\"v\":"
                                                      "\"abc\",\"r_ref\":\"x--2\"},{\"type\":"
                                                      "\"x\",\"id\":\"x--2\",\"v\":\"abd\","
                                                      "\"b_bin\":\"aGk=\"}]",
        "([x:v MATCHES '^ab' AND x:r_ref.v = 'abd'] FOLLOWEDBY [x:b_bin = h'6869']) "
        "WITHIN 5 SECONDS",
        2};
    long n = pkt_each_alloc_failure(eval_under_failure, &c);
    CHECK(n > 10);
}

TEST(match_objects_without_a_set)
{
    pk_pattern *p = parse_ok("[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND "
                             "network-traffic:dst_port = 22]");
    REQUIRE(p);
    json_t *nt = load("{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\","
                      "\"dst_ref\":\"ipv4-addr--1\",\"dst_port\":22}");
    json_t *ip = load("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"203.0.113.9\"}");
    json_t *other = load("{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"10.0.0.1\"}");
    REQUIRE(nt && ip && other);
    const json_t *both[] = {nt, ip}, *wrong[] = {nt, other}, *alone[] = {nt};
    int m = -1;
    pk_error e;
    const pk_pattern_node *obsn = pk_pattern_root(p);
    CHECK_INT(pk_pattern_match_objects(obsn, both, 2, &m, &e), PK_OK);
    CHECK_INT(m, 1);
    CHECK_INT(pk_pattern_match_objects(obsn, wrong, 2, &m, &e), PK_OK);
    CHECK_INT(m, 0);
    CHECK_INT(pk_pattern_match_objects(obsn, alone, 1, &m, &e), PK_OK);
    CHECK_INT(m, 0);
    CHECK_INT(pk_pattern_match_objects(obsn->child[0], both, 2, &m, &e), PK_OK);
    CHECK_INT(m, 1);
    pk_pattern_free(p);
    p = parse_ok("[a:x = 1] AND [b:y = 2]");
    REQUIRE(p);
    CHECK_INT(pk_pattern_match_objects(pk_pattern_root(p), both, 2, &m, &e), PK_EINVAL);
    pk_pattern_free(p);
    json_decref(nt);
    json_decref(ip);
    json_decref(other);
}

/* ---- shared by threads -------------------------------------------------- */

#include <pthread.h>

struct thr {
    const pk_pattern *p;
    const pk_pattern_obs *obs;
    size_t got;
    pk_status st;
};

static void *thr_eval(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 200; i++) {
        pk_pattern_result r;
        pk_error e;
        t->st = pk_pattern_eval(t->p, t->obs, &r, &e);
        t->got = r.count;
        pk_pattern_result_free(&r);
        if (t->st) break;
    }
    return NULL;
}

TEST(eval_is_thread_safe_on_shared_pattern_and_set)
{
    json_t *j = load("[" OD21("observed-data--1", "2020-01-01T00:00:00Z", "[\"x--1\"]") "," OD21(
        "observed-data--2", "2020-01-01T00:00:09Z",
        "[\"x--2\"]") ",{\"type\":\"x\",\"id\":\"x--1\",\"v\":\"abcabc\"},"
                      "{\"type\":\"x\",\"id\":\"x--2\",\"v\":\"abd\"}]");
    REQUIRE(j);
    pk_pattern_obs *obs;
    pk_error e;
    REQUIRE(pk_pattern_obs_new(&obs, &e) == PK_OK);
    CHECK_INT(pk_pattern_obs_add(obs, j, PK_PATTERN_SPEC_AUTO, &e), PK_OK);
    json_decref(j);
    pk_pattern *p = parse_ok("([x:v MATCHES '^(abc)+$'] FOLLOWEDBY [x:v LIKE 'ab_']) WITHIN 10 "
                             "SECONDS");
    REQUIRE(p);
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){p, obs, 0, PK_OK};
        CHECK_INT(pthread_create(&th[i], NULL, thr_eval, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(t[i].st, PK_OK);
        CHECK_INT(t[i].got, 2);
    }
    pk_pattern_free(p);
    pk_pattern_obs_free(obs);
}

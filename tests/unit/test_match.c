/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the match engine: normalisation, the index and its file
 * image, every adapter through the scanner, and the engine against a naive
 * reference matcher on a few thousand generated observations. */
#include "picket/picket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "harness.h"
#include "match/match_int.h"
#include "match/scan_int.h"

/* ---- helpers ------------------------------------------------------------- */

typedef struct got {
    pk_buf b;
    int bad;
    char last_bad[300];
} got;

static void on_alert(void *ud, const pk_match_alert *a)
{
    got *g = ud;
    pk_buf_addf(&g->b, "%ld %s %s %s %.*s %s|", a->line, pk_ioc_type_name(a->type), a->value,
                a->how, (int)a->observed_len, a->observed, a->field);
}

static void on_bad(void *ud, const pk_error *e)
{
    got *g = ud;
    g->bad++;
    pk_error_format(e, g->last_bad, sizeof g->last_bad);
}

static pk_match_index *build(const char *iocs)
{
    pk_match_compiler *c = pk_match_compiler_new();
    pk_match_index *ix = NULL;
    if (!c) return NULL;
    size_t rej = 0;
    if (pk_match_compiler_add_list(c, iocs, strlen(iocs), "t", NULL, NULL, NULL, &rej, NULL) ==
            PK_OK &&
        rej == 0)
        pk_match_compile(c, &ix, NULL);
    pk_match_compiler_free(c);
    return ix;
}

/* Scan `log` fed in chunks of `chunk` bytes (0: whole); the alerts as text. */
static char *scan_chunked(pk_match_index *ix, pk_match_format fmt, const char *map, const char *log,
                          size_t chunk, got *g)
{
    pk_buf_init(&g->b, 0);
    g->bad = 0;
    g->last_bad[0] = '\0';
    pk_match_options opt = {fmt, map, 0};
    pk_match_callbacks cb = {on_alert, on_bad, g};
    pk_match_scanner *s;
    if (pk_match_scanner_new(ix, &opt, &cb, &s, NULL) != PK_OK) return NULL;
    pk_match_scanner_begin(s, "log", NULL);
    size_t n = strlen(log);
    if (!chunk) chunk = n ? n : 1;
    for (size_t i = 0; i < n; i += chunk)
        pk_match_scanner_feed(s, log + i, n - i < chunk ? n - i : chunk, NULL);
    pk_match_scanner_end(s, NULL);
    pk_match_scanner_free(s);
    pk_buf_addc(&g->b, '\0');
    return g->b.data;
}

static char *scan(pk_match_index *ix, pk_match_format fmt, const char *log, got *g)
{
    return scan_chunked(ix, fmt, NULL, log, 0, g);
}

/* ---- normalisation ------------------------------------------------------- */

TEST(type_names_round_trip)
{
    for (int t = 1; t < PK_IOC_TYPE_MAX_; t++) {
        const char *n = pk_ioc_type_name((pk_ioc_type)t);
        CHECK_INT(pk_ioc_type_parse(n, strlen(n)), t);
    }
    CHECK_INT(pk_ioc_type_parse("domain-name", 11), PK_IOC_DOMAIN);
    CHECK_INT(pk_ioc_type_parse("bogus", 5), PK_IOC_NONE);
    CHECK_STR(pk_ioc_type_name((pk_ioc_type)99), "");
}

TEST(ipv4_is_strict)
{
    uint8_t a[4];
    CHECK(pki_parse_ipv4("1.2.3.4", 7, a) && a[0] == 1 && a[3] == 4);
    CHECK(pki_parse_ipv4("255.255.255.255", 15, a));
    CHECK(!pki_parse_ipv4("256.1.1.1", 9, a));
    CHECK(!pki_parse_ipv4("01.1.1.1", 8, a));
    CHECK(!pki_parse_ipv4("1.2.3", 5, a));
    CHECK(!pki_parse_ipv4("1.2.3.4.5", 9, a));
    CHECK(!pki_parse_ipv4("1.2.3.4 ", 8, a));
    CHECK(!pki_parse_ipv4("1.2.3.1234", 10, a));
}

TEST(ipv6_forms)
{
    uint8_t a[16], b[16];
    CHECK(pki_parse_ipv6("2001:db8::1", 11, a));
    CHECK(pki_parse_ipv6("[2001:DB8:0::1]", 15, b));
    CHECK(memcmp(a, b, 16) == 0);
    CHECK(pki_parse_ipv6("fe80::1%eth0", 12, a));
    CHECK(!pki_parse_ipv6("2001:db8::g", 11, a));
    CHECK(!pki_parse_ipv6("1.2.3.4", 7, a));
}

TEST(names_urls_email_hex)
{
    uint8_t k[PKI_KEY_MAX];
    size_t n = pki_norm_domain("WWW.Evil.COM.", 13, k);
    CHECK_INT(n, 12);
    CHECK(memcmp(k, "www.evil.com", 12) == 0);
    CHECK_INT(pki_norm_domain("a..b", 4, k), 0);
    CHECK_INT(pki_norm_domain("a b.com", 7, k), 0);
    n = pki_norm_url("HTTP://User@Evil.COM:80/A/b?c=D#frag", 36, k);
    CHECK_INT(n, 23);
    CHECK(memcmp(k, "http://evil.com/A/b?c=D", 23) == 0);
    n = pki_norm_url("https://evil.com:8443", 21, k);
    CHECK(n == 22 && memcmp(k, "https://evil.com:8443/", 22) == 0);
    CHECK_INT(pki_norm_url("evil.com/x", 10, k), 0);
    n = pki_norm_email("\"Boss\" <Boss@CEO.Example>", 25, k);
    CHECK(n == 16 && memcmp(k, "boss@ceo.example", 16) == 0);
    CHECK_INT(pki_norm_email("a@b@c", 5, k), 0);
    CHECK_INT(pki_parse_hex("DA:39:a3", 8, k, 64, 1), 3);
    CHECK_INT(pki_parse_hex("DA:39:a3", 8, k, 64, 0), 0);
    CHECK_INT(pki_parse_hex("abc", 3, k, 64, 0), 0);
}

TEST(guess_types)
{
    CHECK_INT(pki_guess_type("10.0.0.1", 8), PK_IOC_IPV4);
    CHECK_INT(pki_guess_type("::1", 3), PK_IOC_IPV6);
    CHECK_INT(pki_guess_type("10.0.0.0/8", 10), PK_IOC_CIDR);
    CHECK_INT(pki_guess_type("2001:db8::/32", 13), PK_IOC_CIDR);
    CHECK_INT(pki_guess_type("http://x.y/z", 12), PK_IOC_URL);
    CHECK_INT(pki_guess_type("a@b.c", 5), PK_IOC_EMAIL);
    CHECK_INT(pki_guess_type("d41d8cd98f00b204e9800998ecf8427e", 32), PK_IOC_MD5);
    CHECK_INT(pki_guess_type("evil.com", 8), PK_IOC_DOMAIN);
    CHECK_INT(pki_guess_type("1.2.3", 5), PK_IOC_NONE);
    CHECK_INT(pki_guess_type("plainword", 9), PK_IOC_NONE);
}

/* ---- matching ------------------------------------------------------------ */

TEST(domain_suffixes_and_lookalikes)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    got g;
    const char *log = "{\"dns\":{\"rrname\":\"evil.com\"}}\n"
                      "{\"dns\":{\"rrname\":\"A.B.EVIL.COM.\"}}\n"
                      "{\"dns\":{\"rrname\":\"notevil.com\"}}\n"
                      "{\"dns\":{\"rrname\":\"evil.com.attacker.net\"}}\n"
                      "{\"dns\":{\"rrname\":\"evil.co\"}}\n";
    CHECK_STR(scan(ix, PK_FMT_EVE, log, &g),
              "1 domain evil.com exact evil.com dns.rrname|"
              "2 domain evil.com subdomain A.B.EVIL.COM. dns.rrname|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

TEST(cidrs_nest_most_specific_first)
{
    pk_match_index *ix = build("10.0.0.0/8\n10.1.0.0/16\n10.1.2.0/24\n10.1.2.3\n"
                               "cidr\t2001:db8::/32\ncidr\t2001:db8:1::/48\n0.0.0.0/0\n");
    REQUIRE(ix);
    got g;
    CHECK_STR(
        scan(ix, PK_FMT_TEXT, "10.1.2.3\n10.1.3.1\n11.0.0.1\n2001:db8:1::9 2001:db9::1\n", &g),
        "1 ipv4 10.1.2.3 exact 10.1.2.3 text|"
        "1 cidr 10.1.2.0/24 cidr 10.1.2.3 text|"
        "1 cidr 10.1.0.0/16 cidr 10.1.2.3 text|"
        "1 cidr 10.0.0.0/8 cidr 10.1.2.3 text|"
        "1 cidr 0.0.0.0/0 cidr 10.1.2.3 text|"
        "2 cidr 10.1.0.0/16 cidr 10.1.3.1 text|"
        "2 cidr 10.0.0.0/8 cidr 10.1.3.1 text|"
        "2 cidr 0.0.0.0/0 cidr 10.1.3.1 text|"
        "3 cidr 0.0.0.0/0 cidr 11.0.0.1 text|"
        "4 cidr 2001:db8:1::/48 cidr 2001:db8:1::9 text|"
        "4 cidr 2001:db8::/32 cidr 2001:db8:1::9 text|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

/* The networks' keys lie together at the end of the key pool in entry
 * order (loading reads their prefix bytes as one run); a repeated network
 * still shares one key and gives an alert per line. */
TEST(network_keys_gathered_in_entry_order)
{
    pk_match_index *ix = build("evil.com\n10.1.0.0/16\ncidr\t2001:db8::/32\n10.0.0.0/8\n"
                               "10.1.2.3\n10.1.0.0/16\nzzz.org\n");
    REQUIRE(ix);
    const pki_entry *e = ix->entries;
    uint64_t next = 0;
    size_t nets = 0;
    for (size_t i = 0; i < ix->h->n_entries; i++) {
        if (e[i].type != PK_IOC_CIDR) continue;
        if (i > 0 && (e[i - 1].flags & PKI_F_MORE)) {
            CHECK_INT(e[i].key_off, e[i - 1].key_off);
            continue;
        }
        if (nets++) CHECK_INT(e[i].key_off, next);
        next = (uint64_t)e[i].key_off + e[i].key_len;
    }
    CHECK_INT(nets, 3);
    CHECK_INT(next, ix->h->size_keys);
    got g;
    CHECK_STR(scan(ix, PK_FMT_TEXT, "10.1.9.9 2001:db8::1\n", &g),
              "1 cidr 10.1.0.0/16 cidr 10.1.9.9 text|1 cidr 10.1.0.0/16 cidr 10.1.9.9 text|"
              "1 cidr 10.0.0.0/8 cidr 10.1.9.9 text|1 cidr 2001:db8::/32 cidr 2001:db8::1 text|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

TEST(same_value_on_two_lines_gives_two_alerts)
{
    pk_match_index *ix = build("1.2.3.4\n# x\nipv4\t1.2.3.4\n");
    REQUIRE(ix);
    pk_match_index_info info;
    pk_match_index_info_get(ix, &info);
    CHECK_INT(info.entries, 2);
    CHECK_INT(info.keys, 1);
    got g;
    CHECK_STR(scan(ix, PK_FMT_TEXT, "x 1.2.3.4 y\n", &g),
              "1 ipv4 1.2.3.4 exact 1.2.3.4 text|1 ipv4 1.2.3.4 exact 1.2.3.4 text|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

TEST(chunking_does_not_change_results)
{
    pk_match_index *ix = build("evil.com\n10.0.0.0/8\nmd5\td41d8cd98f00b204e9800998ecf8427e\n");
    REQUIRE(ix);
    const char *log = "{\"src_ip\":\"10.9.9.9\",\"dns\":{\"rrname\":\"x.evil.com\"}}\r\n"
                      "{\"fileinfo\":{\"md5\":\"D41D8CD98F00B204E9800998ECF8427E\"}}\n"
                      "{\"broken\":\n"
                      "{\"src_ip\":\"10.1.1.1\"}";
    got whole, bytes;
    char *a = scan_chunked(ix, PK_FMT_EVE, NULL, log, 0, &whole);
    char *b = scan_chunked(ix, PK_FMT_EVE, NULL, log, 1, &bytes);
    CHECK_STR(b, a);
    CHECK_INT(whole.bad, 1);
    CHECK_INT(bytes.bad, 1);
    CHECK_STR(whole.last_bad, "log:3: unexpected end of line");
    CHECK(strstr(a, "4 cidr 10.0.0.0/8 cidr 10.1.1.1 src_ip|") != NULL);
    pk_buf_free(&whole.b);
    pk_buf_free(&bytes.b);
    pk_match_index_free(ix);
}

TEST(json_escapes_and_nesting)
{
    pk_match_index *ix = build("evil.com\nfilename\tbad.exe\n");
    REQUIRE(ix);
    got g;
    /* an escaped name, a key that only looks like a wanted one, arrays of objects */
    const char *log =
        "{\"dns\":{\"rrname\":\"\\u0065vil.com\"}}\n"
        "{\"x\":{\"dns\":{\"rrname\":\"evil.com\"}}}\n"
        "{\"dns\":{\"answers\":[{\"rdata\":\"a.evil.com\"},{\"rdata\":\"1.2.3.4\"}]}}\n"
        "{\"fileinfo\":{\"filename\":\"C:\\\\temp\\\\bad.exe\"}}\n";
    CHECK_STR(scan(ix, PK_FMT_EVE, log, &g),
              "1 domain evil.com exact evil.com dns.rrname|"
              "3 domain evil.com subdomain a.evil.com dns.answers.rdata|"
              "4 filename bad.exe exact C:\\temp\\bad.exe fileinfo.filename|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

TEST(zeek_tsv_header_and_sets)
{
    pk_match_index *ix = build("evil.com\n10.0.0.1\n");
    REQUIRE(ix);
    got g;
    const char *log =
        "#separator \\x09\n#set_separator\t,\n#unset_field\t-\n#empty_field\t(empty)\n"
        "#fields\tts\tid.orig_h\tquery\tanswers\n"
        "#types\ttime\taddr\tstring\tvector[string]\n"
        "1.5\t10.0.0.1\t-\tx.evil.com,10.0.0.1\n"
        "2\t10.0.0.2\n";
    CHECK_STR(scan(ix, PK_FMT_AUTO, log, &g), "7 ipv4 10.0.0.1 exact 10.0.0.1 id.orig_h|"
                                              "7 domain evil.com subdomain x.evil.com answers|"
                                              "7 ipv4 10.0.0.1 exact 10.0.0.1 answers|");
    CHECK_INT(g.bad, 1);
    CHECK_STR(g.last_bad, "log:8: 2 fields where #fields names 4");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

TEST(jsonl_map_nested_and_flat)
{
    pk_match_index *ix = build("10.0.0.1\nuser-account\troot\n");
    REQUIRE(ix);
    got g;
    const char *log =
        "{\"client\":{\"ip\":\"10.0.0.1\"},\"who\":\"root\",\"src_ip\":\"10.0.0.1\"}\n"
        "{\"client.ip\":\"10.0.0.1\"}\n";
    CHECK_STR(scan_chunked(ix, PK_FMT_JSONL, "client.ip=ip, who=user-account", log, 0, &g),
              "1 ipv4 10.0.0.1 exact 10.0.0.1 client.ip|"
              "1 user-account root exact root who|"
              "2 ipv4 10.0.0.1 exact 10.0.0.1 client.ip|");
    pk_buf_free(&g.b);
    pk_match_options opt = {PK_FMT_JSONL, "client.ip", 0};
    pk_match_scanner *s = NULL;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_match_scanner_new(ix, &opt, NULL, &s, &err), PK_EINVAL);
    CHECK_STR(err.message, "map item 'client.ip' is not path=type");
    CHECK(s == NULL);
    pk_match_index_free(ix);
}

/* ---- the file image ------------------------------------------------------ */

TEST(index_image_round_trip_and_every_damage_refused)
{
    pk_match_index *ix = build("10.0.0.1\n10.0.0.0/8\nevil.com\ncidr\t2001:db8::/32\n");
    REQUIRE(ix);
    pk_match_index *back = NULL;
    CHECK_INT(pk_match_index_from_memory(ix->base, ix->size, &back, NULL), PK_OK);
    got g;
    CHECK_STR(scan(back, PK_FMT_TEXT, "10.0.0.1 www.evil.com\n", &g),
              "1 ipv4 10.0.0.1 exact 10.0.0.1 text|1 cidr 10.0.0.0/8 cidr 10.0.0.1 text|"
              "1 domain evil.com subdomain www.evil.com text|");
    pk_buf_free(&g.b);
    pk_match_index_free(back);
    uint8_t *copy = pk_malloc(ix->size);
    REQUIRE(copy);
    size_t refused = 0;
    for (size_t i = 0; i < ix->size; i++) {
        memcpy(copy, ix->base, ix->size);
        copy[i] ^= 0x5a;
        pk_match_index *x = NULL;
        if (pk_match_index_from_memory(copy, ix->size, &x, NULL) != PK_OK)
            refused++;
        else
            pk_match_index_free(x);
    }
    CHECK_INT(refused, ix->size);
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_from_memory(ix->base, ix->size - 8, &back, &err), PK_EPARSE);
    CHECK_STR(err.message, "not a valid picket index: size differs from the header (truncated?)");
    pk_free(copy);
    pk_match_index_free(ix);
}

/* Load copy (a damaged image) after sealing it with a correct checksum
 * when seal is set; the error message, or "ok". */
static const char *load_damaged(uint8_t *copy, size_t size, int seal, pk_error *err)
{
    if (seal) {
        pki_header *h = (pki_header *)(void *)copy;
        h->checksum = pki_image_checksum(copy, size);
    }
    pk_error_clear(err);
    pk_match_index *x = NULL;
    if (pk_match_index_from_memory(copy, size, &x, err) == PK_OK) {
        pk_match_index_free(x);
        return "ok";
    }
    return err->message;
}

/* Damage that a forger re-checksums is still refused, by the check that
 * names it, wherever in the one-pass validation (steps of 256 KiB) the
 * entry or slot lies: a list of 40,000 values has 640 KB of entries and
 * 400 KB of table slots. */
/* pki_norm_url's authority (userinfo, IPv6, port) and its path, copied 16
 * bytes a step while 16 are left: a byte up to 0x20 or 0x7f anywhere in it
 * refuses the URL. */
static const char *norm_url_str(const char *url, char *out)
{
    uint8_t k[PKI_KEY_MAX + 64];
    size_t n = pki_norm_url(url, strlen(url), k);
    memcpy(out, k, n);
    out[n] = '\0';
    return n ? out : "(refused)";
}

TEST(url_authority_and_long_paths)
{
    char o[PKI_KEY_MAX + 64];
    CHECK_STR(norm_url_str("http://user:pw@Evil.com/x", o), "http://evil.com/x");
    CHECK_STR(norm_url_str("http://user@evil.com:8080/x", o), "http://evil.com:8080/x");
    CHECK_STR(norm_url_str("http://u:p@evil.com:80/x", o), "http://evil.com/x");
    CHECK_STR(norm_url_str("http://[2001:DB8::1]:8080/x", o), "http://[2001:db8::1]:8080/x");
    CHECK_STR(norm_url_str("http://[2001:db8::1]/x", o), "http://[2001:db8::1]/x");
    CHECK_STR(norm_url_str("http://evil.com/a@b:c", o), "http://evil.com/a@b:c");
    CHECK_STR(norm_url_str("http://evil.com?q=a:b@c", o), "http://evil.com/?q=a:b@c");
    CHECK_STR(norm_url_str("https://evil.com:443", o), "https://evil.com/");
    CHECK_STR(norm_url_str("http://evil.com:8x/", o), "(refused)");
    const char *path = "/0123456789abcdef/0123456789abcdef/012345"; /* 41 bytes */
    char url[128], want[128];
    snprintf(url, sizeof url, "HTTP://EVIL.com%s#frag", path);
    snprintf(want, sizeof want, "http://evil.com%s", path);
    CHECK_STR(norm_url_str(url, o), want);
    size_t at[] = {0, 1, 15, 16, 17, 31, 32, 40};
    const char bad[] = {' ', '\t', 0x01, 0x7f};
    for (size_t i = 0; i < sizeof at / sizeof *at; i++)
        for (size_t b = 0; b < sizeof bad; b++) {
            snprintf(url, sizeof url, "http://evil.com%s", path);
            url[15 + at[i]] = bad[b];
            CHECK_STR(norm_url_str(url, o), "(refused)");
        }
}

/* pki_norm_url with the authority found and the host lowered 16 bytes a
 * step against the byte loop: random URLs of random pieces (userinfo,
 * ports, brackets, upper case, bad bytes, long hosts), the same key or the
 * same refusal. */
static uint64_t rnd(void);
TEST(url_simd_equals_byte_loop)
{
    static const char *const pieces[] = {"http://",
                                         "HTTPS://",
                                         "ftp://",
                                         "://",
                                         "evil.com",
                                         "EVIL.Com",
                                         "a",
                                         "b-c.",
                                         "user:pw@",
                                         "@",
                                         ":",
                                         ":80",
                                         ":443",
                                         ":8080",
                                         "[2001:db8::1]",
                                         "[",
                                         "]",
                                         "/",
                                         "/x/y",
                                         "?q=a:b@c",
                                         "#frag",
                                         "?",
                                         "#",
                                         " ",
                                         "\t",
                                         "\x7f",
                                         "\x01",
                                         "\xc3\xa9",
                                         ".",
                                         "0123456789abcdefGHIJ",
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"};
    const size_t np = sizeof pieces / sizeof *pieces;
    char url[600];
    uint8_t a[PKI_KEY_MAX + 64], b[PKI_KEY_MAX + 64];
    size_t differ = 0, good = 0;
    for (int i = 0; i < 100000; i++) {
        size_t n = 0;
        if (i % 4) n += (size_t)snprintf(url, sizeof url, "%s", i % 8 == 1 ? "HTTP://" : "http://");
        for (int k = (int)(rnd() % 12); k >= 0 && n < 500; k--) {
            const char *pc = pieces[rnd() % np];
            size_t l = strlen(pc);
            memcpy(url + n, pc, l);
            n += l;
        }
        size_t x = pki_norm_url_bytes(url, n, a), y = pki_norm_url(url, n, b);
        differ += x != y || memcmp(a, b, x) != 0;
        good += x != 0;
    }
    CHECK_INT(differ, 0);
    CHECK(good > 15000);
}

/* The parts of a distinguished name found 16 bytes a step (pki_dn_next)
 * against the byte loop, on random names of random pieces: the same parts,
 * roles and bounds in the same order. */
TEST(dn_parts_simd_equal_byte_loop)
{
    static const char *const pieces[] = {"CN=",
                                         "cn=",
                                         "Cn=",
                                         "emailAddress=",
                                         "EMAILADDRESS=",
                                         "email",
                                         "C=US",
                                         "O=x",
                                         ",",
                                         "/",
                                         " ",
                                         ", ",
                                         "\\",
                                         "\\,",
                                         "a.example",
                                         "c",
                                         "e",
                                         "CN",
                                         "=",
                                         "user@example.com",
                                         "0123456789abcdef"};
    const size_t np = sizeof pieces / sizeof *pieces;
    char v[700];
    size_t differ = 0, parts = 0;
    for (int round = 0; round < 50000; round++) {
        size_t n = 0;
        for (int k = (int)(rnd() % 16); k >= 0 && n < 600; k--) {
            const char *pc = pieces[rnd() % np];
            size_t l = strlen(pc);
            memcpy(v + n, pc, l);
            n += l;
        }
        memset(v + n, round & 1 ? ',' : 'c', 16); /* what follows is read, never taken */
        size_t i1 = 0, i2 = 0, s1 = 0, s2 = 0, e1 = 0, e2 = 0;
        for (;;) {
            uint8_t r1 = pki_dn_next(v, n, &i1, &s1, &e1, 0),
                    r2 = pki_dn_next(v, n, &i2, &s2, &e2, 1);
            if (r1 != r2 || (r1 && (s1 != s2 || e1 != e2 || i1 != i2))) {
                differ++;
                break;
            }
            if (!r1) break;
            parts++;
        }
    }
    CHECK_INT(differ, 0);
    CHECK(parts > 20000);
}

TEST(index_checks_behind_a_valid_checksum)
{
    pk_buf list;
    pk_buf_init(&list, 0);
    pk_buf_adds(&list, "10.0.0.0/8\ncidr\t2001:db8::/32\nevil.com\n");
    for (int i = 0; i < 40000; i++)
        pk_buf_addf(&list, "host%d.example.org\n", i);
    pk_match_index *ix = build(list.data);
    pk_buf_free(&list);
    REQUIRE(ix);
    size_t size = ix->size;
    uint8_t *copy = pk_malloc(size);
    REQUIRE(copy);
    pk_error err;
    const pki_header *h0 = (const pki_header *)(const void *)ix->base;
    REQUIRE(h0->n_entries == 40003 && h0->table_slots > 40003);
    size_t ne = h0->n_entries, v4 = ne, v6 = ne;
    const pki_entry *e0 = (const pki_entry *)(const void *)(ix->base + h0->off_entries);
    for (size_t i = 0; i < ne; i++) {
        if (e0[i].type == PK_IOC_CIDR && e0[i].key_len == 5) v4 = i;
        if (e0[i].type == PK_IOC_CIDR && e0[i].key_len == 17) v6 = i;
    }
    REQUIRE(v4 < ne && v6 < ne);
    /* entries at the start, across the first step boundary, and last; in
     * each lane of the AVX2 loop (four entries a step, from each step's
     * first) and in the plain loop after it (the last entries) */
    size_t step_entry = ((256u << 10) - h0->off_entries) / sizeof(pki_entry);
    size_t where[] = {
        0,      1,      2,      3,      step_entry, step_entry + 1, step_entry + 2, step_entry + 3,
        ne - 6, ne - 5, ne - 4, ne - 3, ne - 2,     ne - 1};
    for (size_t w = 0; w < sizeof where / sizeof *where; w++) {
        memcpy(copy, ix->base, size);
        pki_header *h = (pki_header *)(void *)copy;
        pki_entry *e = (pki_entry *)(void *)(copy + h->off_entries);
        e[where[w]].key_off = (uint32_t)h->size_keys;
        CHECK_STR(load_damaged(copy, size, 0, &err),
                  "not a valid picket index: checksum mismatch (damaged file)");
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: an entry points outside its section");
        memcpy(copy, ix->base, size);
        e[where[w]].src = (uint32_t)h->size_strings;
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: an entry points outside its section");
        memcpy(copy, ix->base, size);
        e[where[w]].type = PK_IOC_TYPE_MAX_;
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: an entry points outside its section");
        memcpy(copy, ix->base, size);
        e[where[w]].type = 0;
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: an entry points outside its section");
        memcpy(copy, ix->base, size);
        e[where[w]].flags |= PKI_F_MORE;
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: a group of equal keys is broken");
    }
    struct {
        size_t entry, byte; /* the byte of the entry's key to set */
        uint8_t value;
        int key_len; /* > 0: set the key length instead */
        const char *msg;
    } nets[] = {
        {v4, 4, 33, 0, "a network has a bad prefix"},
        {v6, 16, 129, 0, "a network has a bad prefix"},
        {v4, 4, 32, 0, "ok"},
        {v6, 16, 128, 0, "ok"},
        {v4, 0, 0, 6, "a network has a bad key"},
    };
    for (size_t k = 0; k < sizeof nets / sizeof *nets; k++) {
        memcpy(copy, ix->base, size);
        pki_header *h = (pki_header *)(void *)copy;
        pki_entry *e = (pki_entry *)(void *)(copy + h->off_entries);
        if (nets[k].key_len)
            e[nets[k].entry].key_len = (uint16_t)nets[k].key_len;
        else
            copy[h->off_keys + e[nets[k].entry].key_off + nets[k].byte] = nets[k].value;
        const char *res = load_damaged(copy, size, 1, &err);
        if (strcmp(nets[k].msg, "ok") == 0)
            CHECK_STR(res, "ok");
        else
            CHECK(strstr(res, nets[k].msg) != NULL);
    }
    /* a slot naming no entry: the first used slot, and the last */
    const uint64_t *t0 = (const uint64_t *)(const void *)(ix->base + h0->off_table);
    size_t first = 0, last = 0;
    for (size_t i = 0; i < h0->table_slots; i++)
        if (t0[i]) {
            if (!first) first = i + 1;
            last = i + 1;
        }
    REQUIRE(first && last > first);
    size_t slots[] = {first - 1, last - 1};
    for (size_t k = 0; k < 2; k++) {
        memcpy(copy, ix->base, size);
        pki_header *h = (pki_header *)(void *)copy;
        uint64_t *t = (uint64_t *)(void *)(copy + h->off_table);
        t[slots[k]] = (t[slots[k]] & ~(uint64_t)UINT32_MAX) | (uint32_t)(ne + 1);
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: a table slot points at no entry");
        /* a tag but entry + 1 == 0 */
        memcpy(copy, ix->base, size);
        t[slots[k]] = (uint64_t)0xabcd << 32;
        CHECK_STR(load_damaged(copy, size, 1, &err),
                  "not a valid picket index: a table slot points at no entry");
    }
    /* a header field: damage is named first, a re-checksummed one by its check */
    memcpy(copy, ix->base, size);
    ((pki_header *)(void *)copy)->bloom_blocks = 0;
    CHECK_STR(load_damaged(copy, size, 0, &err),
              "not a valid picket index: checksum mismatch (damaged file)");
    CHECK_STR(load_damaged(copy, size, 1, &err), "not a valid picket index: bad filter size");
    memcpy(copy, ix->base, size);
    CHECK_STR(load_damaged(copy, size, 0, &err), "ok");
    pk_free(copy);
    pk_match_index_free(ix);
}

/* The same with the plain loops (above: AVX2 where the CPU has it). */
TEST(index_checks_behind_a_valid_checksum_plain)
{
    pki_index_simd(0);
    test_index_checks_behind_a_valid_checksum();
    pki_index_simd(1);
}

/* The checksum as the format defines it: a 64-bit Fletcher sum, word by
 * word, then the tail zero-filled as one more word. */
static uint64_t checksum_by_words(const uint8_t *p, size_t n)
{
    uint64_t a = 0x243f6a8885a308d3ull, b = n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        a += w;
        b += a;
    }
    w = 0;
    memcpy(&w, p + i, n - i);
    a += w;
    b += a;
    return pki_mix(a ^ 0x13198a2e03707344ull, b ^ 0xa4093822299f31d0ull);
}

/* The checksum summed 16 words a step in vector lanes (AVX2, or the plain
 * form) equals the word loop at every length and alignment. */
TEST(checksum_blocks_equal_word_loop)
{
    size_t cap = 70000;
    uint8_t *buf = pk_malloc(cap + 8);
    REQUIRE(buf);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < cap + 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(i % 97 == 0 ? 0xff : x >> 56);
    }
    size_t lens[] = {1000, 4095, 4096, 65536 + 7, 70000};
    for (int simd = 1; simd >= 0; simd--) {
        pki_index_simd(simd);
        size_t bad = 0;
        for (size_t off = 0; off < 8; off++) {
            for (size_t n = 0; n <= 600; n++)
                bad += pki_checksum(buf + off, n) != checksum_by_words(buf + off, n);
            for (size_t k = 0; k < sizeof lens / sizeof *lens; k++)
                bad += pki_checksum(buf + off, lens[k]) != checksum_by_words(buf + off, lens[k]);
        }
        CHECK_INT(bad, 0);
    }
    pki_index_simd(1);
    pk_free(buf);
}

TEST(index_save_and_load)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    char path[] = "/tmp/picket-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    CHECK_INT(pk_match_index_save(ix, path, NULL), PK_OK);
    pk_match_index *back = NULL;
    CHECK_INT(pk_match_index_load(path, &back, NULL), PK_OK);
    pk_match_index_info a, b;
    pk_match_index_info_get(ix, &a);
    pk_match_index_info_get(back, &b);
    CHECK_INT(a.bytes, b.bytes);
    CHECK_INT(b.per_type[PK_IOC_DOMAIN], 1);
    pk_match_index_free(back);
    unlink(path);
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_load(path, &back, &err), PK_EIO);
    CHECK_STR(err.file, path);
    pk_match_index_free(ix);
}

/* A .pki read into huge pages (as large files are; here any size) loads
 * and scans like the mapped one, and damage or truncation is refused the
 * same way. */
TEST(index_read_into_huge_pages)
{
    pk_match_index *ix = build("10.0.0.0/8\nevil.com\ncidr\t2001:db8::/32\n1.2.3.4\n");
    REQUIRE(ix);
    char path[] = "/tmp/picket-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(pk_match_index_save(ix, path, NULL) == PK_OK);
    char thp[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(thp, sizeof thp, f)) thp[0] = '\0';
        fclose(f);
    }
    int usable = strstr(thp, "[always]") || strstr(thp, "[madvise]");
    pki_index_read_min(0);
    pk_match_index *back = NULL;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_load(path, &back, &err), PK_OK);
    REQUIRE(back);
    CHECK_INT(back->huge, usable);
    CHECK_INT(back->size, ix->size);
    got g;
    CHECK_STR(scan(back, PK_FMT_TEXT, "1.2.3.4 www.evil.com 2001:db8::5\n", &g),
              "1 ipv4 1.2.3.4 exact 1.2.3.4 text|1 domain evil.com subdomain www.evil.com text|"
              "1 cidr 2001:db8::/32 cidr 2001:db8::5 text|");
    pk_buf_free(&g.b);
    pk_match_index_free(back);
    /* a byte changed in the file; then the file cut short */
    uint8_t *copy = pk_malloc(ix->size);
    REQUIRE(copy);
    memcpy(copy, ix->base, ix->size);
    copy[ix->size / 2] ^= 0x5a;
    fd = open(path, O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    CHECK_INT(write(fd, copy, ix->size), (long)ix->size);
    close(fd);
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_load(path, &back, &err), PK_EPARSE);
    CHECK_STR(err.message, "not a valid picket index: checksum mismatch (damaged file)");
    CHECK_STR(err.file, path);
    CHECK(truncate(path, (off_t)(ix->size - 64)) == 0);
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_load(path, &back, &err), PK_EPARSE);
    CHECK_STR(err.message, "not a valid picket index: size differs from the header (truncated?)");
    pk_free(copy);
    pk_match_index_free(ix);
    /* 1.3 MB: the file is read a MiB at a time as it is checked, and the
     * networks' keys (the pool's end) lie past the first MiB when their
     * entries are checked; a prefix changed there, the file resealed */
    pk_buf list;
    pk_buf_init(&list, 0);
    pk_buf_adds(&list, "10.0.0.0/8\ncidr\t2001:db8::/32\n");
    for (int i = 0; i < 40000; i++)
        pk_buf_addf(&list, "host%d.example.org\n", i);
    ix = build(list.data);
    pk_buf_free(&list);
    REQUIRE(ix);
    const pki_entry *e = ix->entries;
    size_t v4 = ix->h->n_entries;
    for (size_t i = 0; i < ix->h->n_entries; i++)
        if (e[i].type == PK_IOC_CIDR && e[i].key_len == 5) v4 = i;
    REQUIRE(v4 < ix->h->n_entries);
    size_t prefix = ix->h->off_keys + e[v4].key_off + 4;
    CHECK(prefix > ((size_t)1 << 20));
    copy = pk_malloc(ix->size);
    REQUIRE(copy);
    for (int bad = 0; bad < 2; bad++) {
        memcpy(copy, ix->base, ix->size);
        if (bad) copy[prefix] = 33;
        pki_header *h = (pki_header *)(void *)copy;
        h->checksum = pki_image_checksum(copy, ix->size);
        fd = open(path, O_WRONLY | O_TRUNC);
        REQUIRE(fd >= 0);
        CHECK_INT(write(fd, copy, ix->size), (long)ix->size);
        close(fd);
        pk_error_clear(&err);
        back = NULL;
        CHECK_INT(pk_match_index_load(path, &back, &err), bad ? PK_EPARSE : PK_OK);
        if (bad) CHECK_STR(err.message, "not a valid picket index: a network has a bad prefix");
        pk_match_index_free(back);
    }
    pki_index_read_min((size_t)8 << 20);
    pk_free(copy);
    unlink(path);
    pk_match_index_free(ix);
}

static void count_bad(void *ud, const pk_error *e)
{
    long *last = ud;
    last[0]++;
    last[1] = e->line;
}

/* A list read from a file in chunks gives the same index as the same text
 * added whole, line numbers go on across chunks, and a repeated value shares
 * its key (one group of two entries). */
TEST(list_file_read_in_chunks_equals_list_in_memory)
{
    pk_buf list;
    pk_buf_init(&list, 0);
    for (int i = 0; i < 40000; i++) /* ~ 800 KB: several read chunks */
        pk_buf_addf(&list, "host%05d.example.org\n", i);
    pk_buf_adds(&list, "not a value\n10.1.2.3\nhost00007.example.org"); /* no final newline */
    char path[] = "/tmp/picket-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    CHECK_INT(write(fd, list.data, list.len), (long)list.len);
    close(fd);
    pk_match_compiler *a = pk_match_compiler_new(), *b = pk_match_compiler_new();
    REQUIRE(a && b);
    long bad_a[2] = {0, 0}, bad_b[2] = {0, 0};
    size_t added = 0, rej = 0;
    CHECK_INT(pk_match_compiler_add_list(a, list.data, list.len, path, count_bad, bad_a, &added,
                                         &rej, NULL),
              PK_OK);
    CHECK_INT(added, 40002);
    CHECK_INT(rej, 1);
    CHECK_INT(pk_match_compiler_add_list_file(b, path, count_bad, bad_b, &added, &rej, NULL),
              PK_OK);
    CHECK_INT(added, 40002);
    CHECK_INT(rej, 1);
    CHECK_INT(bad_a[1], 40001);
    CHECK_INT(bad_b[1], 40001);
    pk_match_index *ia = NULL, *ib = NULL;
    CHECK_INT(pk_match_compile(a, &ia, NULL), PK_OK);
    CHECK_INT(pk_match_compile(b, &ib, NULL), PK_OK);
    CHECK_INT(pk_match_compiler_count(a), 0); /* its values went into the index */
    REQUIRE(ia && ib);
    CHECK_INT(ia->size, ib->size);
    CHECK(memcmp(ia->base, ib->base, ia->size) == 0);
    CHECK_INT(ia->h->n_entries, 40002);
    CHECK_INT(ia->h->n_keys, 40001);
    CHECK_INT(ia->h->size_keys, 40000 * 21 + 4); /* the repeated key's bytes are dropped */
    got g;
    char *r = scan(ib, PK_FMT_TEXT, "x host00007.example.org 10.1.2.3\n", &g);
    CHECK_STR(r, "1 domain host00007.example.org exact host00007.example.org text|"
                 "1 domain host00007.example.org exact host00007.example.org text|"
                 "1 ipv4 10.1.2.3 exact 10.1.2.3 text|");
    pk_buf_free(&g.b);
    /* the compiler can be filled and compiled again */
    CHECK_INT(pk_match_compiler_add(a, PK_IOC_NONE, "evil.com", 8, "t", 1, NULL, NULL), PK_OK);
    pk_match_index *ic = NULL;
    CHECK_INT(pk_match_compile(a, &ic, NULL), PK_OK);
    REQUIRE(ic);
    CHECK_INT(ic->h->n_entries, 1);
    pk_match_index_free(ic);
    pk_match_index_free(ia);
    pk_match_index_free(ib);
    pk_match_compiler_free(a);
    pk_match_compiler_free(b);
    pk_buf_free(&list);
    unlink(path);
}

/* ---- allocation failures ------------------------------------------------- */

static void compile_and_scan(void *ctx)
{
    (void)ctx;
    pk_match_compiler *c = pk_match_compiler_new();
    if (!c) return;
    static const char list[] = "10.0.0.1\nevil.com\n10.0.0.0/8\nevil.com\n";
    /* a gated pattern on a connection, and one that needs the window */
    static const char p1[] = "[network-traffic:dst_port = 53] OR [url:value LIKE '%/x/%']";
    static const char p2[] = "[ipv4-addr:value ISSUBSET '10.0.0.0/8'] AND [file:size > 1]";
    pk_match_index *ix = NULL;
    if (pk_match_compiler_add_list(c, list, sizeof list - 1, "t", NULL, NULL, NULL, NULL, NULL) ==
            PK_OK &&
        pk_match_compiler_add_indicator(c, "indicator--1", p1, sizeof p1 - 1, NULL) == PK_OK &&
        pk_match_compiler_add_indicator(c, "indicator--2", p2, sizeof p2 - 1, NULL) == PK_OK)
        pk_match_compile(c, &ix, NULL);
    pk_match_compiler_free(c);
    if (!ix) return;
    pk_match_scanner *s = NULL;
    pk_match_options opt = {PK_FMT_AUTO, "a.b=ip", 0};
    if (pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK) {
        static const char log[] =
            "{\"a\":{\"b\":\"10.0.0.1\"}}\n"
            "{\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\",\"dest_port\":53}\n"
            "{\"event_type\":\"fileinfo\",\"src_ip\":\"10.0.0.2\",\"fileinfo\":{\"size\":5}}\n";
        pk_match_scanner_feed(s, log, sizeof log - 1, NULL);
        pk_match_scanner_free(s);
    }
    pk_match_sightings *g = pk_match_sightings_new();
    if (g) {
        pk_match_alert a;
        memset(&a, 0, sizeof a);
        a.type = PK_IOC_IPV4;
        a.value = "10.0.0.1";
        a.ioc_source = "t";
        a.ioc_line = 1;
        if (pk_match_sightings_add(g, &a) == PK_OK) {
            pk_buf b;
            pk_buf_init(&b, 0);
            pk_match_sightings_json(g, "s", &b, NULL);
            pk_buf_free(&b);
        }
        pk_match_sightings_free(g);
    }
    pk_match_index_free(ix);
}

TEST(every_allocation_failure_is_survived)
{
    long n = pkt_each_alloc_failure(compile_and_scan, NULL);
    CHECK(n > 10);
}

/* ---- the engine against a naive reference -------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct ref_ioc {
    int kind; /* 0 ip, 1 cidr, 2 domain */
    uint32_t a;
    int plen;
    char name[32];
} ref_ioc;

static int ends_with_label(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) return 0;
    if (strcmp(s + n - m, suffix) != 0) return 0;
    return m == n || s[n - m - 1] == '.';
}

TEST(engine_equals_naive_reference_on_generated_observations)
{
    /* small spaces so that hits, nested networks and near misses are common */
    enum { NIOC = 300, NOBS = 4000 };
    ref_ioc iocs[NIOC];
    pk_buf list;
    pk_buf_init(&list, 0);
    for (int i = 0; i < NIOC; i++) {
        ref_ioc *r = &iocs[i];
        r->kind = (int)(rnd() % 3);
        r->a = 0x0a000000u | (uint32_t)(rnd() % 4096);
        if (r->kind == 0) {
            pk_buf_addf(&list, "ipv4\t10.0.%u.%u\n", (r->a >> 8) & 255, r->a & 255);
        } else if (r->kind == 1) {
            r->plen = 20 + (int)(rnd() % 13);
            r->a &= r->plen ? ~0u << (32 - r->plen) : 0;
            pk_buf_addf(&list, "cidr\t10.0.%u.%u/%d\n", (r->a >> 8) & 255, r->a & 255, r->plen);
        } else {
            snprintf(r->name, sizeof r->name, "%s%u.%s", rnd() % 2 ? "" : "x.",
                     (unsigned)(rnd() % 50), rnd() % 2 ? "com" : "net");
            pk_buf_addf(&list, "domain\t%s\n", r->name);
        }
    }
    pk_match_index *ix = build(list.data);
    pk_buf_free(&list);
    REQUIRE(ix);
    pk_buf log;
    pk_buf_init(&log, 0);
    size_t want = 0;
    for (int i = 0; i < NOBS; i++) {
        if (rnd() % 2) {
            uint32_t a = 0x0a000000u | (uint32_t)(rnd() % 4096);
            pk_buf_addf(&log, "{\"src_ip\":\"10.0.%u.%u\"}\n", (a >> 8) & 255, a & 255);
            for (int j = 0; j < NIOC; j++)
                if ((iocs[j].kind == 0 && iocs[j].a == a) ||
                    (iocs[j].kind == 1 && (a & (~0u << (32 - iocs[j].plen))) == iocs[j].a))
                    want++;
        } else {
            char name[64];
            snprintf(name, sizeof name, "%s%s%u.%s", rnd() % 3 ? "" : "a.", rnd() % 4 ? "" : "x.",
                     (unsigned)(rnd() % 60), rnd() % 2 ? "com" : "net");
            pk_buf_addf(&log, "{\"dns\":{\"rrname\":\"%s\"}}\n", name);
            for (int j = 0; j < NIOC; j++)
                if (iocs[j].kind == 2 && ends_with_label(name, iocs[j].name)) want++;
        }
    }
    got g;
    char *out = scan(ix, PK_FMT_EVE, log.data, &g);
    size_t alerts = 0;
    for (const char *p = out; p && (p = strchr(p, '|')); p++)
        alerts++;
    CHECK_INT(alerts, want);
    CHECK(want > 500);
    pk_buf_free(&g.b);
    pk_buf_free(&log);
    pk_match_index_free(ix);
}

/* ---- output -------------------------------------------------------------- */

TEST(alert_json_escapes)
{
    pk_match_alert a;
    memset(&a, 0, sizeof a);
    a.indicator_id = "indicator--1";
    a.type = PK_IOC_FILENAME;
    a.value = "a\"b";
    a.observed = "x\n\\y";
    a.observed_len = 4;
    a.field = "f";
    a.how = "exact";
    a.source = "s";
    a.line = 3;
    pk_buf b;
    pk_buf_init(&b, 0);
    CHECK_INT(pk_match_alert_json(&a, &b), PK_OK);
    CHECK_STR(b.data,
              "{\"indicator_id\":\"indicator--1\",\"type\":\"filename\",\"value\":\"a\\\"b\","
              "\"observed\":\"x\\n\\\\y\",\"match\":\"exact\",\"field\":\"f\",\"source\":"
              "\"s\",\"line\":3}\n");
    pk_buf_free(&b);
}

/* The alert line written in one piece (output.c) against the same line put
 * together from pki_json_escape and snprintf, on random bytes of every
 * value (all 256, escapes included) and lengths on both sides of the one-
 * piece form's limit. */
TEST(alert_json_equals_piecewise_form)
{
    pk_buf b, want;
    pk_buf_init(&b, 0);
    pk_buf_init(&want, 0);
    char str[5][1200];
    for (int round = 0; round < 3000; round++) {
        size_t len[5];
        for (int k = 0; k < 5; k++) {
            size_t cap = round % 7 == 0 ? 1100 : 40;
            len[k] = (size_t)(rnd() % cap);
            for (size_t i = 0; i < len[k]; i++) {
                uint64_t r = rnd();
                str[k][i] = (char)(r % 4 ? 'a' + (int)(r >> 8) % 26 : (int)((r >> 16) & 255));
                if (k != 2 && str[k][i] == 0) str[k][i] = 'z'; /* C strings but observed */
            }
            str[k][len[k]] = '\0';
        }
        pk_match_alert a;
        memset(&a, 0, sizeof a);
        long line = (long)(rnd() % 3 ? rnd() % 100000 : rnd() >> 1);
        if (round & 1) {
            a.indicator_id = str[0];
        } else {
            a.ioc_source = str[0];
            a.ioc_line = round % 5 ? line : -line;
        }
        a.type = (pk_ioc_type)(1 + round % 12);
        a.value = str[1];
        a.observed = str[2];
        a.observed_len = len[2];
        a.field = str[3];
        a.how = round % 3 ? "exact" : "subdomain";
        a.source = str[4];
        a.line = line;
        a.time = round % 4 ? "2024-03-21T05:46:40.786948Z" : NULL;
        pk_buf_reset(&b);
        pk_buf_reset(&want);
        REQUIRE(pk_match_alert_json(&a, &b) == PK_OK);
        if (a.indicator_id) {
            pk_buf_adds(&want, "{\"indicator_id\":");
            pki_json_escape(&want, a.indicator_id, strlen(a.indicator_id));
        } else {
            char ioc[300];
            int n = snprintf(ioc, sizeof ioc, "%s:%ld", a.ioc_source, a.ioc_line);
            pk_buf_adds(&want, "{\"ioc\":");
            pki_json_escape(&want, ioc, (size_t)n < sizeof ioc ? (size_t)n : sizeof ioc - 1);
        }
        pk_buf_addf(&want, ",\"type\":\"%s\",\"value\":", pk_ioc_type_name(a.type));
        pki_json_escape(&want, a.value, strlen(a.value));
        pk_buf_adds(&want, ",\"observed\":");
        pki_json_escape(&want, a.observed, a.observed_len);
        pk_buf_addf(&want, ",\"match\":\"%s\",\"field\":", a.how);
        pki_json_escape(&want, a.field, strlen(a.field));
        pk_buf_adds(&want, ",\"source\":");
        pki_json_escape(&want, a.source, strlen(a.source));
        pk_buf_addf(&want, ",\"line\":%ld", a.line);
        if (a.time) pk_buf_addf(&want, ",\"time\":\"%s\"", a.time);
        pk_buf_adds(&want, "}\n");
        CHECK_INT((long)b.len, (long)want.len);
        if (b.len != want.len || memcmp(b.data, want.data, b.len) != 0) {
            CHECK_STR(b.data, want.data);
            break;
        }
    }
    pk_buf_free(&b);
    pk_buf_free(&want);
}

/* An IPv4 key's text (pki_key_text, one per alert) is inet_ntop's, and a
 * network's that and snprintf's "/%u". */
TEST(ipv4_and_cidr_key_text_equal_inet_ntop)
{
    char txt[64], want[INET_ADDRSTRLEN];
    for (int round = 0; round < 20000; round++) {
        uint32_t r = (uint32_t)rnd();
        uint8_t k[4] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24)};
        if (round < 256) k[0] = k[1] = k[2] = k[3] = (uint8_t)round; /* 0, 9, 10, 99, 100, 255 */
        REQUIRE(inet_ntop(AF_INET, k, want, sizeof want));
        size_t n = pki_key_text(PK_IOC_IPV4, k, 4, txt, sizeof txt);
        CHECK_INT((long)n, (long)strlen(want));
        if (strcmp(txt, want) != 0) {
            CHECK_STR(txt, want);
            break;
        }
        uint8_t c[5] = {k[0], k[1], k[2], k[3], (uint8_t)(rnd() % 33)}; /* a network */
        char cw[40];
        snprintf(cw, sizeof cw, "%s/%u", want, c[4]);
        CHECK_INT((long)pki_key_text(PK_IOC_CIDR, c, 5, txt, sizeof txt), (long)strlen(cw));
        if (strcmp(txt, cw) != 0) {
            CHECK_STR(txt, cw);
            break;
        }
    }
}

TEST(sightings_merge_counts_and_times)
{
    pk_match_sightings *a = pk_match_sightings_new(), *b = pk_match_sightings_new();
    REQUIRE(a && b);
    pk_match_alert x;
    memset(&x, 0, sizeof x);
    x.indicator_id = "indicator--00000000-0000-4000-8000-000000000001";
    x.type = PK_IOC_IPV4;
    x.value = "1.2.3.4";
    x.time = "t";
    x.time_ms = 2000;
    CHECK_INT(pk_match_sightings_add(a, &x), PK_OK);
    x.time_ms = 1000;
    CHECK_INT(pk_match_sightings_add(b, &x), PK_OK);
    x.time_ms = 5000;
    CHECK_INT(pk_match_sightings_add(b, &x), PK_OK);
    CHECK_INT(pk_match_sightings_merge(a, b), PK_OK);
    CHECK_INT(pk_match_sightings_count(a), 1);
    pk_buf out;
    pk_buf_init(&out, 0);
    CHECK_INT(pk_match_sightings_json(a, "s1", &out, NULL), PK_OK);
    CHECK(strstr(out.data, "\"count\":3,\"first_seen\":\"1970-01-01T00:00:01.000Z\","
                           "\"last_seen\":\"1970-01-01T00:00:05.000Z\"") != NULL);
    pk_buf_free(&out);
    pk_match_sightings_free(a);
    pk_match_sightings_free(b);
}

/* ---- STIX patterns: the engine against the pattern evaluator ------------- */

#include <jansson.h>

#include "picket/pattern.h"

enum { NREC = 2500, WIN = 16 };

typedef struct grec {
    int src, dst, dom, file; /* pool indexes; -1 none */
    int sport, dport, udp, size;
    int64_t ms;
} grec;

static const char *const pat_text[] = {
    "[ipv4-addr:value = '10.0.0.1'] OR [domain-name:value = 'd1.example']",
    "[file:hashes.MD5 = '00000000000000000000000000000002' AND file:name = 'f2.exe']",
    "[ipv4-addr:value = '10.0.0.3'] FOLLOWEDBY [domain-name:value = 'd3.example']",
    "([ipv4-addr:value = '10.0.0.4'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.5']) WITHIN 30 SECONDS",
    "[domain-name:value = 'd6.example'] REPEATS 3 TIMES",
    "[ipv4-addr:value = '10.0.0.7'] AND [domain-name:value = 'd7.example']",
    "[domain-name:value = 'd8.example' AND domain-name:value LIKE 'd8.%']",
    "[ipv4-addr:value IN ('10.0.0.9', '10.0.0.10')] AND [file:name MATCHES '^f[0-3]\\\\.exe$']",
    /* without usable anchors: found through networks and object types */
    "[domain-name:value LIKE 'd1%.example']",
    "[ipv4-addr:value ISSUBSET '10.0.0.8/30']",
    "[domain-name:value MATCHES '^d[23]\\\\.'] AND [ipv4-addr:value ISSUBSET '10.0.0.4/31']",
    "([file:name LIKE 'f3%'] REPEATS 2 TIMES) WITHIN 60 SECONDS",
    "[ipv4-addr:value NOT = '10.0.0.1' AND ipv4-addr:value ISSUBSET '10.0.0.0/30']",
    "[domain-name:value = 'd2.example' OR domain-name:value LIKE 'd4%']",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/29'] FOLLOWEDBY [file:hashes.MD5 LIKE '%3']",
    "[file:hashes.MD5 > '00000000000000000000000000000003'] OR [process:name = 'x.exe']",
    /* connections and file sizes (read only because such patterns are loaded) */
    "[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value = '10.0.0.3']",
    "[file:size > 4900]",
    "[network-traffic:protocols[*] = 'udp' AND network-traffic:src_port < 1024] FOLLOWEDBY "
    "[domain-name:value LIKE 'd5%']",
    "[network-traffic:src_ref.value ISSUBSET '10.0.0.8/30' AND network-traffic:dst_port = 4444] "
    "AND [file:size < 100]",
};
#define NPAT (sizeof pat_text / sizeof *pat_text)

/* The reference is the evaluator run at every record: whatever finds a
 * pattern's candidates (index values, networks, object types) must lose no
 * record that takes part in a match. */
static void ref_record(json_t *arr, const grec *r, int i)
{
    json_t *refs = json_array();
    char id[96], v[64];
    int vals[2] = {r->src, r->dst};
    for (int k = 0; k < 2; k++) {
        snprintf(id, sizeof id, "ipv4-addr--00000000-0000-4000-8000-%012d", i * 4 + k);
        snprintf(v, sizeof v, "10.0.0.%d", vals[k]);
        json_array_append_new(arr, json_pack("{ss ss ss ss}", "type", "ipv4-addr", "spec_version",
                                             "2.1", "id", id, "value", v));
        json_array_append_new(refs, json_string(id));
    }
    if (r->dom >= 0) {
        snprintf(id, sizeof id, "domain-name--00000000-0000-4000-8000-%012d", i * 4 + 2);
        snprintf(v, sizeof v, "d%d.example", r->dom);
        json_array_append_new(arr, json_pack("{ss ss ss ss}", "type", "domain-name", "spec_version",
                                             "2.1", "id", id, "value", v));
        json_array_append_new(refs, json_string(id));
    }
    if (r->file >= 0) {
        char h[40];
        snprintf(id, sizeof id, "file--00000000-0000-4000-8000-%012d", i * 4 + 3);
        snprintf(v, sizeof v, "f%d.exe", r->file);
        snprintf(h, sizeof h, "%032d", r->file);
        json_array_append_new(arr, json_pack("{ss ss ss ss s{ss} si}", "type", "file",
                                             "spec_version", "2.1", "id", id, "name", v, "hashes",
                                             "MD5", h, "size", r->size));
        json_array_append_new(refs, json_string(id));
    }
    {
        char s0[96], s1[96];
        snprintf(id, sizeof id, "network-traffic--00000000-0000-4000-a000-%012d", i);
        snprintf(s0, sizeof s0, "ipv4-addr--00000000-0000-4000-8000-%012d", i * 4);
        snprintf(s1, sizeof s1, "ipv4-addr--00000000-0000-4000-8000-%012d", i * 4 + 1);
        json_array_append_new(
            arr, json_pack("{ss ss ss ss ss si si s[s]}", "type", "network-traffic", "spec_version",
                           "2.1", "id", id, "src_ref", s0, "dst_ref", s1, "src_port", r->sport,
                           "dst_port", r->dport, "protocols", r->udp ? "udp" : "tcp"));
        json_array_append_new(refs, json_string(id));
    }
    char ts[PK_TIME_STRLEN];
    pk_time t = pk_time_from_ms(r->ms);
    pk_time_format(&t, 3, ts);
    snprintf(id, sizeof id, "observed-data--00000000-0000-4000-9000-%012d", i);
    json_array_append_new(arr, json_pack("{ss ss ss ss ss ss ss si so}", "type", "observed-data",
                                         "spec_version", "2.1", "id", id, "created", ts, "modified",
                                         ts, "first_observed", ts, "last_observed", ts,
                                         "number_observed", 1, "object_refs", refs));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The space-separated words of b->data, sorted (in place). */
static void sort_words(pk_buf *b)
{
    if (!b->data) return;
    size_t n = 0;
    for (char *p = b->data; *p; p++)
        n += *p == ' ';
    char **w = pk_calloc(n + 1, sizeof *w);
    char *copy = pk_strdup(b->data);
    if (!w || !copy) {
        pk_free(w);
        pk_free(copy);
        return;
    }
    size_t k = 0;
    for (char *tok = strtok(copy, " "); tok && k <= n; tok = strtok(NULL, " "))
        w[k++] = tok;
    qsort(w, k, sizeof *w, cmp_str);
    pk_buf_reset(b);
    for (size_t i = 0; i < k; i++)
        pk_buf_addf(b, "%s ", w[i]);
    pk_free(w);
    pk_free(copy);
}

static void on_alert_pairs(void *ud, const pk_match_alert *a)
{
    pk_buf *b = ud;
    pk_buf_addf(b, "%s@%ld ", a->indicator_id, a->line);
}

TEST(engine_equals_pattern_evaluator_on_generated_records)
{
    grec *rec = pk_calloc(NREC, sizeof *rec);
    REQUIRE(rec);
    pk_buf log;
    pk_buf_init(&log, 0);
    int64_t ms = 1711000000000;
    for (int i = 0; i < NREC; i++) {
        grec *r = &rec[i];
        ms += 1000 + (int64_t)(rnd() % 20000);
        r->ms = ms;
        r->src = (int)(rnd() % 12);
        r->dst = (int)(rnd() % 12);
        r->dom = rnd() % 2 ? (int)(rnd() % 12) : -1;
        r->file = r->dom < 0 && rnd() % 2 ? (int)(rnd() % 5) : -1;
        static const int ports[] = {53, 80, 443, 4444, 1023, 50000};
        r->sport = ports[rnd() % 6];
        r->dport = ports[rnd() % 6];
        r->udp = (int)(rnd() % 3 == 0);
        r->size = (int)(rnd() % 5000);
        char ts[PK_TIME_STRLEN];
        pk_time t = pk_time_from_ms(ms);
        pk_time_format(&t, 3, ts);
        pk_buf_addf(&log,
                    "{\"timestamp\":\"%s\",\"src_ip\":\"10.0.0.%d\",\"src_port\":%d,"
                    "\"dest_ip\":\"10.0.0.%d\",\"dest_port\":%d,\"proto\":\"%s\"",
                    ts, r->src, r->sport, r->dst, r->dport, r->udp ? "UDP" : "TCP");
        if (r->dom >= 0) pk_buf_addf(&log, ",\"dns\":{\"rrname\":\"d%d.example\"}", r->dom);
        if (r->file >= 0)
            pk_buf_addf(&log,
                        ",\"fileinfo\":{\"filename\":\"/x/f%d.exe\",\"md5\":\"%032d\","
                        "\"size\":%d}",
                        r->file, r->file, r->size);
        pk_buf_adds(&log, "}\n");
    }
    /* the engine */
    pk_match_compiler *c = pk_match_compiler_new();
    REQUIRE(c);
    char ids[NPAT][64];
    for (size_t p = 0; p < NPAT; p++) {
        snprintf(ids[p], sizeof ids[p], "indicator--00000000-0000-4000-8000-%012zu", p);
        CHECK_INT(
            pk_match_compiler_add_indicator(c, ids[p], pat_text[p], strlen(pat_text[p]), NULL),
            PK_OK);
    }
    pk_match_index *ix = NULL;
    CHECK_INT(pk_match_compile(c, &ix, NULL), PK_OK);
    pk_match_compiler_free(c);
    REQUIRE(ix);
    pk_buf engine;
    pk_buf_init(&engine, 0);
    pk_match_options opt = {PK_FMT_EVE, NULL, WIN};
    pk_match_callbacks cb = {on_alert_pairs, NULL, &engine};
    pk_match_scanner *s = NULL;
    REQUIRE(pk_match_scanner_new(ix, &opt, &cb, &s, NULL) == PK_OK);
    pk_match_scanner_feed(s, log.data, log.len, NULL);
    pk_match_scanner_free(s);
    /* the evaluator, record by record, over the same window */
    pk_buf want;
    pk_buf_init(&want, 0);
    pk_pattern *pp[NPAT];
    for (size_t p = 0; p < NPAT; p++)
        CHECK_INT(
            pk_pattern_parse(pat_text[p], strlen(pat_text[p]), PK_PATTERN_SPEC_21, &pp[p], NULL),
            PK_OK);
    size_t matches = 0, per[NPAT] = {0};
    for (int i = 0; i < NREC; i++) {
        int first = i - WIN + 1 > 0 ? i - WIN + 1 : 0;
        json_t *arr = NULL;
        pk_pattern_obs *obs = NULL;
        for (size_t p = 0; p < NPAT; p++) {
            if (!arr) {
                arr = json_array();
                for (int j = first; j <= i; j++)
                    ref_record(arr, &rec[j], j);
                pk_pattern_obs_new(&obs, NULL);
                CHECK_INT(pk_pattern_obs_add(obs, arr, PK_PATTERN_SPEC_21, NULL), PK_OK);
            }
            pk_pattern_result res = {NULL, 0};
            CHECK_INT(pk_pattern_eval(pp[p], obs, &res, NULL), PK_OK);
            if (res.count && res.index[res.count - 1] == (size_t)(i - first)) {
                pk_buf_addf(&want, "%s@%d ", ids[p], i + 1);
                matches++;
                per[p]++;
            }
            pk_pattern_result_free(&res);
        }
        pk_pattern_obs_free(obs);
        json_decref(arr);
    }
    sort_words(&engine);
    sort_words(&want);
    const char *ge = engine.data ? engine.data : "", *gw = want.data ? want.data : "";
    if (strcmp(ge, gw) != 0) { /* name the first differences, not two huge strings */
        int shown = 0;
        while ((*ge || *gw) && shown < 8) {
            size_t le = strcspn(ge, " "), lw = strcspn(gw, " ");
            int d = !*ge ? 1 : !*gw ? -1 : strncmp(ge, gw, le > lw ? le : lw);
            if (d) {
                fprintf(stderr, "  %s %.*s\n",
                        d < 0 ? "engine only:" : "evaluator only:", (int)(d < 0 ? le : lw),
                        d < 0 ? ge : gw);
                shown++;
            }
            if (d <= 0) ge += le + (ge[le] == ' ');
            if (d >= 0) gw += lw + (gw[lw] == ' ');
        }
        CHECK(!"the engine and the evaluator differ");
    }
    CHECK(matches > 200);
    for (size_t p = 0; p < NPAT; p++) /* no pattern is tested vacuously */
        CHECK(per[p] > 0);
    for (size_t p = 0; p < NPAT; p++)
        pk_pattern_free(pp[p]);
    pk_buf_free(&engine);
    pk_buf_free(&want);
    pk_buf_free(&log);
    pk_free(rec);
    pk_match_index_free(ix);
}

TEST(indicators_that_can_never_match_are_refused)
{
    pk_match_compiler *c = pk_match_compiler_new();
    REQUIRE(c);
    pk_error err;
    pk_error_clear(&err);
    const char *p = "[file:mime_type = 'application/x-dosexec']";
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--1", p, strlen(p), &err), PK_ENOTFOUND);
    CHECK(strstr(err.message, "'file:mime_type' is not in what the logs give") != NULL);
    /* connections and file sizes are read (for such patterns only) */
    const char *q = "[network-traffic:dst_port = 4444] AND [file:size > 10]";
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--2", q, strlen(q), NULL), PK_OK);
    q = "[url:value LIKE '%/x/%'] OR [process:name = 'x.exe']";
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--3", q, strlen(q), NULL), PK_OK);
    q = "[url:value LIKE '%/x/%'] AND [process:name = 'x.exe']";
    pk_error_clear(&err);
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--4", q, strlen(q), &err), PK_ENOTFOUND);
    CHECK(strstr(err.message, "'process:name'") != NULL);
    q = "[ipv4-addr:value = '1.2.3.4'] AND [process:name = 'x.exe']"; /* anchored */
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--6", q, strlen(q), NULL), PK_ENOTFOUND);
    p = "[network-traffic:dst_byte_count > 1000]";
    pk_error_clear(&err);
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--5", p, strlen(p), &err), PK_ENOTFOUND);
    CHECK(strstr(err.message, "network-traffic:dst_byte_count") != NULL);
    CHECK_INT(pk_match_compiler_add_indicator(c, "indicator--1", "[x", 2, NULL), PK_EPARSE);
    CHECK_INT(pk_match_compiler_count(c), 0);
    pk_match_compiler_free(c);
}

/* ---- the scan path's shortcuts (issue 5) --------------------------------- */

/* Skipped sub-objects are stepped over 64 bytes at a time (a prefix XOR of
 * the quotes), and strings end through a 64-byte mask: every placement of a
 * record's parts against those blocks gives the same values. */
TEST(block_boundaries_do_not_change_results)
{
    pk_match_index *ix = build("evil.com\n10.1.2.3\n");
    REQUIRE(ix);
    char line[600], pad[200];
    char *want = NULL;
    for (int n = 0; n < 140; n++) {
        memset(pad, 'x', (size_t)n);
        pad[n] = '\0';
        if (n > 3) memcpy(pad + n / 2, "\\\"", 2); /* an escaped quote somewhere */
        snprintf(line, sizeof line,
                 "{\"pad\":\"%s\",\"flow\":{\"a\":\"%s\",\"b\":[1,{\"c\":\"}]\"}],\"d\":{}},"
                 "\"src_ip\":\"10.1.2.3\",\"k%s\":1,\"dns\":{\"rrname\":\"a.evil.com\"}}\n",
                 pad, pad, n % 2 ? "" : "zz");
        got g;
        char *a = scan(ix, PK_FMT_EVE, line, &g);
        CHECK_INT(g.bad, 0);
        if (!want) {
            want = pk_strdup(a);
            CHECK_STR(want, "1 ipv4 10.1.2.3 exact 10.1.2.3 src_ip|"
                            "1 domain evil.com subdomain a.evil.com dns.rrname|");
        } else {
            CHECK_STR(a, want);
        }
        pk_buf_free(&g.b);
    }
    pk_free(want);
    pk_match_index_free(ix);
}

/* The block skip leaves every doubt to the bracket-by-bracket skip: its
 * reasons are the ones reported. */
TEST(malformed_skipped_objects_keep_their_reasons)
{
    pk_match_index *ix = build("10.1.2.3\n");
    REQUIRE(ix);
    static const struct {
        const char *line, *why;
    } cases[] = {
        {"{\"flow\":{\"a\":[1}},\"src_ip\":\"10.1.2.3\"}", "log:1: mismatched bracket"},
        {"{\"flow\":{\"a\":\"open}}", "log:1: unterminated string"},
        {"{\"flow\":{\"a\":{\"b\":1}", "log:1: unexpected end of line"},
        {"{\"flow\":{\"a\\\\\":\"\\\"\",\"b\":[}},\"src_ip\":\"10.1.2.3\"}",
         "log:1: mismatched bracket"},
        {"{\"src_ip\":\"10.1.2.3\",\"n\":12 3}", "log:1: expected ',' or a closing bracket"},
        {"{\"src_ip\":\"10.1.2.3\",\"n\":x}", "log:1: unexpected character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        got g;
        CHECK_STR(scan(ix, PK_FMT_EVE, cases[i].line, &g), "");
        CHECK_INT(g.bad, 1);
        CHECK_STR(g.last_bad, cases[i].why);
        pk_buf_free(&g.b);
    }
    /* nesting deeper than the skip allows, inside a skipped object */
    char deep[300];
    size_t o = 0;
    o += (size_t)snprintf(deep + o, sizeof deep - o, "{\"flow\":");
    for (int i = 0; i < 70; i++)
        deep[o++] = '[';
    deep[o] = '\0';
    got g;
    CHECK_STR(scan(ix, PK_FMT_EVE, deep, &g), "");
    CHECK_STR(g.last_bad, "log:1: nested too deep");
    pk_buf_free(&g.b);
    /* a backslash makes the block skip give up; the slow skip takes over */
    CHECK_STR(
        scan(ix, PK_FMT_EVE,
             "{\"alert\":{\"signature\":\"a \\\"}]\\\\\",\"x\":[\"]\"]},\"src_ip\":\"10.1.2.3\"}",
             &g),
        "1 ipv4 10.1.2.3 exact 10.1.2.3 src_ip|");
    CHECK_INT(g.bad, 0);
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

/* Numbers are stepped over 16 digits at a time; a key whose length and end
 * bytes look like a wanted one's still needs the whole name; the empty key
 * is looked up. */
TEST(scalars_and_look_alike_keys)
{
    pk_match_index *ix = build("10.1.2.3\n");
    REQUIRE(ix);
    got g;
    CHECK_STR(scan(ix, PK_FMT_EVE,
                   "{\"flow_id\":123456789012345678901234567890,\"n\":-1.5e3,\"t\":true,"
                   "\"sxc_ip\":\"10.1.2.3\",\"src_ip\":\"10.1.2.3\",\"\":null,\"m\":12ab}\n",
                   &g),
              "1 ipv4 10.1.2.3 exact 10.1.2.3 src_ip|");
    CHECK_INT(g.bad, 0);
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

static void on_alert_time(void *ud, const pk_match_alert *a)
{
    got *g = ud;
    pk_buf_addf(&g->b, "%ld %.*s %s|", a->line, (int)a->observed_len, a->observed,
                a->time ? a->time : "-");
}

/* Queued probes point at values in the lines instead of copying them; an
 * unescaped value is copied (its scratch is reused); a record with more
 * probes than the queue's first size grows it; hits keep their order. */
TEST(probe_queue_values_and_order)
{
    pk_match_index *ix = build("evil.com\n10.1.2.3\n");
    REQUIRE(ix);
    pk_buf log;
    pk_buf_init(&log, 0);
    pk_buf_adds(&log, "{\"timestamp\":\"2024-03-21T05:46:40.5+0000\",\"dns\":{\"answers\":[");
    for (int i = 0; i < 50; i++)
        pk_buf_addf(&log, "%s{\"rrname\":\"h%d.b.c.d.%s\"}", i ? "," : "", i,
                    i % 2 ? "evil.com" : "good.com");
    pk_buf_adds(&log, "]},\"src_ip\":\"10.1.2.3\"}\n"
                      "{\"dns\":{\"rrname\":\"\\u0061.evil.com\"},\"dest_ip\":\"10.1.2.3\"}\n");
    pk_buf_addc(&log, '\0');
    got g;
    pk_buf_init(&g.b, 0);
    g.bad = 0;
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_callbacks cb = {on_alert_time, on_bad, &g};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, &cb, &s, NULL) == PK_OK);
    pk_match_scanner_feed(s, log.data, log.len - 1, NULL);
    pk_match_scanner_end(s, NULL);
    pk_match_scanner_free(s);
    pk_buf want;
    pk_buf_init(&want, 0);
    for (int i = 1; i < 50; i += 2)
        pk_buf_addf(&want, "1 h%d.b.c.d.evil.com 2024-03-21T05:46:40.5Z|", i);
    pk_buf_adds(&want, "1 10.1.2.3 2024-03-21T05:46:40.5Z|2 a.evil.com -|2 10.1.2.3 -|");
    pk_buf_addc(&g.b, '\0');
    CHECK_STR(g.b.data, want.data);
    CHECK_INT(g.bad, 0);
    pk_buf_free(&want);
    pk_buf_free(&g.b);
    pk_buf_free(&log);
    pk_match_index_free(ix);
}

/* Files are read 128 KiB at a time: lines across read boundaries, a line
 * longer than the first buffer (1 MiB) and a last line without a newline. */
TEST(scan_file_lines_across_reads)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    char path[] = "/tmp/picket-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    REQUIRE(f);
    long lines = 0;
    for (int i = 0; i < 3000; i++, lines++) /* ~300 KiB: two read boundaries */
        fprintf(f, "{\"pad\":\"%0*d\",\"dns\":{\"rrname\":\"x%d.evil.com\"}}\n", 40 + i % 50, i, i);
    fprintf(f, "{\"pad\":\"");
    for (int i = 0; i < 1500000; i++)
        fputc('y', f);
    fprintf(f, "\",\"dns\":{\"rrname\":\"long.evil.com\"}}\n");
    lines++;
    fprintf(f, "{\"dns\":{\"rrname\":\"last.evil.com\"}}");
    lines++;
    fclose(f);
    got g;
    pk_buf_init(&g.b, 0);
    g.bad = 0;
    pk_match_options opt = {PK_FMT_AUTO, NULL, 0};
    pk_match_callbacks cb = {on_alert, on_bad, &g};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, &cb, &s, NULL) == PK_OK);
    CHECK_INT(pk_match_scan_file(s, path, 0, NULL, NULL), PK_OK);
    pk_match_stats st;
    pk_match_scanner_stats(s, &st);
    pk_match_scanner_free(s);
    unlink(path);
    pk_buf_addc(&g.b, '\0');
    CHECK_INT((long)st.lines, lines);
    CHECK_INT((long)st.alerts, 3002);
    CHECK(strstr(g.b.data, "2999 domain evil.com subdomain x2998.evil.com dns.rrname|3000 domain "
                           "evil.com subdomain x2999.evil.com dns.rrname|") != NULL);
    CHECK(strstr(g.b.data, "|3001 domain evil.com subdomain long.evil.com dns.rrname|3002 domain "
                           "evil.com subdomain last.evil.com dns.rrname|") != NULL);
    CHECK_INT(g.bad, 0);
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

/* The filter test has a portable and an AVX2 form (chosen at run time): both
 * pass the same probes, so give the same alerts on a few thousand values. */
TEST(filter_test_forms_agree)
{
    pk_buf iocs, log;
    pk_buf_init(&iocs, 0);
    pk_buf_init(&log, 0);
    for (int i = 0; i < 3000; i++)
        pk_buf_addf(&iocs, "10.%d.%d.%d\nh%d.example\n", i % 200, i % 7, i % 250, i);
    for (int i = 0; i < 4000; i++)
        pk_buf_addf(&log, "{\"src_ip\":\"10.%d.%d.%d\",\"dns\":{\"rrname\":\"a.h%d.example\"}}\n",
                    i % 210, i % 7, (i * 7) % 255, i * 3);
    pk_buf_addc(&log, '\0');
    pk_match_index *ix = build(iocs.data);
    REQUIRE(ix);
    char *out[2];
    for (int form = 0; form < 2; form++) {
        got g;
        pk_buf_init(&g.b, 0);
        g.bad = 0;
        pk_match_options opt = {PK_FMT_EVE, NULL, 0};
        pk_match_callbacks cb = {on_alert, on_bad, &g};
        pk_match_scanner *s;
        REQUIRE(pk_match_scanner_new(ix, &opt, &cb, &s, NULL) == PK_OK);
        if (form == 0) s->avx2 = 0; /* the portable form; form 1 keeps what the CPU offers */
        pk_match_scanner_feed(s, log.data, log.len - 1, NULL);
        pk_match_scanner_end(s, NULL);
        pk_match_scanner_free(s);
        pk_buf_addc(&g.b, '\0');
        out[form] = g.b.data;
    }
    CHECK_STR(out[1], out[0]);
    CHECK(strlen(out[0]) > 10000); /* many hits, so both forms had work */
    pk_free(out[0]);
    pk_free(out[1]);
    pk_buf_free(&iocs);
    pk_buf_free(&log);
    pk_match_index_free(ix);
}

/* Compact members take the walker's tight loop and anything else the general
 * code, from the same byte: mixing them in one record changes nothing. */
TEST(compact_and_spaced_members_mix)
{
    pk_match_index *ix = build("evil.com\n10.1.2.3\n");
    REQUIRE(ix);
    static const char *const lines[] = {
        "{\"timestamp\":\"2024-03-21T05:46:40Z\",\"src_ip\":\"10.1.2.3\",\"dns\":{\"rrname\":"
        "\"a.evil.com\"}}",
        "{\"timestamp\" : \"2024-03-21T05:46:40Z\", \"src_ip\":\"10.1.2.3\",\"dns\": {\"rrname\":"
        "\"a.evil.com\"}}",
        "{\"time\\u0073tamp\":\"x\",\"timestamp\":\"2024-03-21T05:46:40Z\",\"src_ip\":\"10.1.2.3\","
        "\"flow\":{\"a\":1},\"dns\":{\"rrname\":\"a.evil.com\",\"n\":[1,2]}}",
        "{\"timestamp\":\"2024-03-21T05:46:40Z\",\"n\":-12,\"t\":true,\"src_ip\":\"10.1.2.3\","
        "\"dns\":{\"x\":\"\\\"\",\"rrname\":\"a.evil.com\"}}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        got g;
        pk_buf_init(&g.b, 0);
        g.bad = 0;
        pk_match_options opt = {PK_FMT_EVE, NULL, 0};
        pk_match_callbacks cb = {on_alert_time, on_bad, &g};
        pk_match_scanner *s;
        REQUIRE(pk_match_scanner_new(ix, &opt, &cb, &s, NULL) == PK_OK);
        pk_match_scanner_feed(s, lines[i], strlen(lines[i]), NULL);
        pk_match_scanner_end(s, NULL);
        pk_match_scanner_free(s);
        pk_buf_addc(&g.b, '\0');
        CHECK_STR(g.b.data, "1 10.1.2.3 2024-03-21T05:46:40Z|1 a.evil.com 2024-03-21T05:46:40Z|");
        CHECK_INT(g.bad, 0);
        pk_buf_free(&g.b);
    }
    /* a stats record is skipped whichever way its event_type is read */
    got g;
    CHECK_STR(scan(ix, PK_FMT_EVE,
                   "{\"event_type\":\"stats\",\"src_ip\":\"10.1.2.3\"}\n"
                   "{\"event_type\" :\"stats\",\"src_ip\":\"10.1.2.3\"}\n"
                   "{\"event_type\":\"statsx\",\"src_ip\":\"10.1.2.3\"}\n",
                   &g),
              "3 ipv4 10.1.2.3 exact 10.1.2.3 src_ip|");
    CHECK_INT(g.bad, 0);
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

/* ---- the JSON fast path against the walker ------------------------------- */

/* Lines of every shape the walker meets: EVE records with wanted and
 * skipped sub-objects, arrays of strings and objects, empty containers,
 * scalars of every kind, Zeek-style flat keys, spacing, escapes. */
static const char *const jf_lines[] = {
    "{\"timestamp\":\"2024-03-21T05:46:40.003238+0000\",\"flow_id\":139302744690089,\"in_iface\":"
    "\"eth0\",\"event_type\":\"flow\",\"src_ip\":\"10.24.37.211\",\"src_port\":38845,\"dest_ip\":"
    "\"52.29.109.10\",\"dest_port\":443,\"proto\":\"TCP\",\"app_proto\":\"tls\",\"flow\":{"
    "\"pkts_toserver\":283,\"bytes_toclient\":867077,\"start\":\"2024-03-21T05:46:40+0000\","
    "\"age\":289,\"state\":\"closed\",\"alerted\":false},\"tcp\":{\"tcp_flags\":\"1b\",\"syn\":"
    "true,\"fin\":true,\"state\":\"closed\"}}",
    "{\"timestamp\":\"2024-03-21T05:54:58.952230+0000\",\"flow_id\":194454249537550,"
    "\"event_type\":\"dns\",\"src_ip\":\"52.184.236.50\",\"src_port\":49725,\"dest_ip\":"
    "\"10.108.221.68\",\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"version\":2,\"type\":"
    "\"answer\",\"id\":34114,\"flags\":\"8180\",\"qr\":true,\"rrname\":\"api.evil.com\","
    "\"rrtype\":\"A\",\"answers\":[{\"rrname\":\"api.evil.com\",\"rrtype\":\"A\",\"ttl\":300,"
    "\"rdata\":\"10.1.2.3\"},{\"rrname\":\"x.evil.com\",\"rdata\":\"10.1.2.4\"}],\"grouped\":{"
    "\"A\":[\"10.1.2.3\",\"10.1.2.4\"],\"CNAME\":[]}}}",
    "{\"timestamp\":\"2024-03-21T06:36:38.482819+0000\",\"event_type\":\"http\",\"src_ip\":"
    "\"142.61.125.104\",\"dest_ip\":\"10.1.2.3\",\"tx_id\":0,\"http\":{\"hostname\":"
    "\"www.evil.com\",\"url\":\"/portal/869959.js\",\"http_user_agent\":\"Mozilla/5.0 (X11; "
    "Linux x86_64; rv:120.0)\",\"http_refer\":\"http://a.evil.com/x\",\"status\":200,"
    "\"length\":14150}}",
    "{\"timestamp\":\"2024-03-21T06:28:20.054400+0000\",\"event_type\":\"tls\",\"src_ip\":"
    "\"10.188.237.149\",\"dest_ip\":\"10.74.50.54\",\"tls\":{\"subject\":\"CN=zoom.evil.com\","
    "\"issuerdn\":\"C=US, O=Let's Encrypt, CN=R3\",\"fingerprint\":\"b0:65:d7:2e:93:54:9c:6f:7b:50:"
    "0a:59:ac:02:23:66:68:9a:9c:b9\",\"sni\":\"zoom.evil.com\",\"ja3\":{\"hash\":\"4ab7\","
    "\"string\":\"771,4865-4866,0-23\"}}}",
    "{\"timestamp\":\"2024-03-21T05:46:40.177140+0000\",\"event_type\":\"smtp\",\"src_ip\":"
    "\"10.36.135.160\",\"smtp\":{\"helo\":\"mx.evil.com\",\"mail_from\":\"<a@evil.com>\","
    "\"rcpt_to\":[\"<b@evil.com>\",\"<c@corp.example>\"]},\"email\":{\"from\":\"A <a@evil.com>\","
    "\"to\":[\"b@evil.com\"],\"attachment\":[\"x.exe\"]}}",
    "{\"timestamp\":\"2024-03-21T05:46:40.163213+0000\",\"event_type\":\"fileinfo\",\"fileinfo\":{"
    "\"filename\":\"/verify/"
    "43476.png\",\"gaps\":false,\"md5\":\"a4fa7bbea5dc49d4d921bc5ff1c0cc21\","
    "\"size\":177582,\"stored\":null,\"tx_id\":-1.5e3}}",
    "{\"timestamp\":\"2024-03-21T05:46:40Z\",\"event_type\":\"stats\",\"stats\":{\"uptime\":1}}",
    "{\"event_type\":\"alert\",\"src_ip\":\"10.1.2.3\",\"alert\":{\"signature\":\"ET [x] {y}\","
    "\"metadata\":{\"a\":[[1,2],[{\"b\":\"}\"}]],\"c\":{}}},\"e\":[],\"f\":{},\"g\":\"\"}",
    "{\"ts\":1711000000.123,\"id.orig_h\":\"10.1.2.3\",\"id\":{\"resp_h\":\"10.1.2.4\"},"
    "\"query\":\"www.evil.com\",\"answers\":[\"10.1.2.5\",\"evil.com\"],\"\":\"empty key\"}",
    "{}",
    "{\"a\":{\"b\":{\"c\":{\"d\":[[[[{\"e\":[1]}]]]]}}},\"src_ip\":\"10.1.2.3\"}",
    "{\"timestamp\" : \"2024-03-21T05:46:40Z\", \"src_ip\":\"10.1.2.3\",\"dns\": {\"rrname\":"
    "\"a.evil.com\"}}",
    "{\"time\\u0073tamp\":\"x\",\"src_ip\":\"10.1.2.3\",\"dns\":{\"rrname\":\"a.e\\\"vil.com\"}}",
    "{\"src_ip\":\"10.1.2.3\",\"n\":1\"x\",\"dns\":{\"rrname\":\"a.evil.com\"}}",
    "{\"src_ip\":\"10.1.2.3\",\"flow\":{\"a\":1,\"b\":\"x\"y\"},\"dns\":{\"rrname\":\"evil.com\"}}",
    "{\"a\":1,}",
    "[1,2]",
    "{\"src_ip\":\"10.1.2.3\"} x",
};

/* One walk of a line: its result and what it recorded, in offsets. */
static void jf_record(pk_match_scanner *s, const char *p, size_t n, pk_buf *out)
{
    s->nobs = 0;
    s->time = NULL;
    s->path = NULL;
    s->time_state = 0;
    const char *why = pki_json_line(s, p, n, &s->fields.eve);
    pk_buf_addf(out, "[%s]", why ? why : "ok");
    for (size_t i = 0; i < s->nobs; i++)
        pk_buf_addf(out, " %ld+%u/%u/%u/%s", (long)(s->obs[i].v - p), s->obs[i].len, s->obs[i].role,
                    s->obs[i].esc, s->obs[i].field ? s->obs[i].field : "-");
    if (s->time) pk_buf_addf(out, " t%ld+%zu/%d", (long)(s->time - p), s->time_len, s->time_esc);
    if (s->path) pk_buf_addf(out, " p%ld+%zu", (long)(s->path - p), s->path_len);
    pk_buf_addc(out, '\n');
}

/* A mutation of line i, number k: a byte replaced, inserted or deleted,
 * chosen from the bytes that matter to JSON (deterministic). */
static size_t jf_mutate(const char *src, size_t n, unsigned k, char *out)
{
    static const char set[] = "\"\\{}[]:, \t\r\x01-0a";
    uint32_t x = 2654435761u * (k + 1);
    size_t at = (x >> 8) % (n + 1);
    char c = set[(x >> 3) % (sizeof set - 1)];
    switch (k % 3) {
    case 0: /* replace */
        memcpy(out, src, n);
        if (at < n) out[at] = c;
        return n;
    case 1: /* insert */
        memcpy(out, src, at);
        out[at] = c;
        memcpy(out + at + 1, src + at, n - at);
        return n + 1;
    default: /* delete */
        if (at == n) at = n - 1;
        memcpy(out, src, at);
        memcpy(out + at, src + at + 1, n - at - 1);
        return n - 1;
    }
}

/* Every form of the fast path (masks in plain C, SSE2, AVX2 when the CPU
 * has it) gives the walker's result, values and reasons, on well formed
 * and mutated lines starting at every offset of a 64-byte block, with the
 * line's end right before its PKI_PAD readable bytes (ASan sees a read
 * past them). */
TEST(json_fast_path_forms_agree_with_walker)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    int modes[PKI_JSON_NMODES], nm = pki_json_modes(modes);
    char line[2048];
    long lines = 0, ok = 0, diffs = 0;
    unsigned long fast_before = s->jfast;
    size_t nl = sizeof jf_lines / sizeof *jf_lines;
    for (size_t i = 0; i < nl; i++) {
        size_t n0 = strlen(jf_lines[i]);
        for (unsigned k = 0; k <= 300; k++) {
            size_t n = n0;
            if (k == 0) {
                memcpy(line, jf_lines[i], n0);
            } else {
                n = jf_mutate(jf_lines[i], n0, k * 131 + (unsigned)i, line);
                if (k > 150 && n) { /* two changes */
                    char once[2048];
                    memcpy(once, line, n);
                    n = jf_mutate(once, n, k * 7919 + (unsigned)i, line);
                }
            }
            if (!n) continue;
            /* every alignment for the lines as written, a few for mutations */
            for (size_t off = 0; off < 64; off += k ? 21 : 1) {
                char *buf = pk_malloc(off + n + PKI_PAD);
                REQUIRE(buf);
                memset(buf, 'x', off + n + PKI_PAD); /* the pad is not the line's */
                memcpy(buf + off, line, n);
                pk_buf ref, fb;
                pk_buf_init(&ref, 0);
                pk_buf_init(&fb, 0);
                s->jmode = PKI_JSON_WALK;
                jf_record(s, buf + off, n, &ref);
                pk_buf_addc(&ref, '\0');
                if (strncmp(ref.data, "[ok]", 4) == 0) ok++;
                for (int m = 0; m < nm; m++) {
                    s->jmode = modes[m];
                    pk_buf_reset(&fb);
                    jf_record(s, buf + off, n, &fb);
                    pk_buf_addc(&fb, '\0');
                    if (strcmp(ref.data, fb.data) != 0 && diffs++ < 5)
                        PKT_FAIL("mode %d, line %zu mutation %u at offset %zu: %.*s\n  walker %s"
                                 "  fast   %s",
                                 modes[m], i, k, off, (int)n, line, ref.data, fb.data);
                }
                lines++;
                pk_buf_free(&ref);
                pk_buf_free(&fb);
                pk_free(buf);
            }
        }
    }
    CHECK_INT(diffs, 0);
    CHECK(ok > 1000);                                  /* well formed lines were compared... */
    CHECK(ok < lines);                                 /* ...and malformed ones */
    CHECK(s->jfast - fast_before > (unsigned long)ok); /* the fast path took most of them */
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
}

/* The same through the scanner: a log of those lines and their mutations,
 * fed in chunks of every size from 1 byte (lines cut anywhere) to the
 * whole, gives the same alerts and malformed-line reports with and
 * without the fast path. */
static char *jf_scan(pk_match_index *ix, int mode, const char *log, size_t n, size_t chunk, got *g)
{
    pk_buf_init(&g->b, 0);
    g->bad = 0;
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_callbacks cb = {on_alert, on_bad, g};
    pk_match_scanner *s;
    if (pk_match_scanner_new(ix, &opt, &cb, &s, NULL) != PK_OK) return NULL;
    s->jmode = mode;
    pk_match_scanner_begin(s, "log", NULL);
    for (size_t i = 0; i < n; i += chunk)
        pk_match_scanner_feed(s, log + i, n - i < chunk ? n - i : chunk, NULL);
    pk_match_scanner_end(s, NULL);
    pk_buf_addf(&g->b, "bad %d, fast %lu", g->bad, mode == PKI_JSON_WALK ? 0 : s->jfast);
    pk_match_scanner_free(s);
    pk_buf_addc(&g->b, '\0');
    return g->b.data;
}

TEST(json_fast_path_same_alerts_in_any_chunking)
{
    pk_match_index *ix = build("evil.com\n10.1.2.3\n10.1.2.4\nb@evil.com\n");
    REQUIRE(ix);
    pk_buf log;
    pk_buf_init(&log, 0);
    char line[2048];
    size_t nl = sizeof jf_lines / sizeof *jf_lines;
    for (unsigned k = 0; k < 40; k++)
        for (size_t i = 0; i < nl; i++) {
            size_t n = strlen(jf_lines[i]);
            if (k % 4 == 0)
                memcpy(line, jf_lines[i], n);
            else
                n = jf_mutate(jf_lines[i], n, k * 31 + (unsigned)i, line);
            for (size_t c = 0; c < n; c++)
                if (line[c] == '\n') line[c] = ' ';
            pk_buf_add(&log, line, n);
            pk_buf_addc(&log, '\n');
        }
    got g0;
    char *ref = jf_scan(ix, PKI_JSON_WALK, log.data, log.len, log.len, &g0);
    REQUIRE(ref);
    CHECK(g0.bad > 50);
    CHECK(strlen(ref) > 2000);
    static const size_t chunks[] = {1, 2, 3, 7, 63, 64, 65, 127, 4096, 0};
    int modes[PKI_JSON_NMODES], nm = pki_json_modes(modes);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        int mode = modes[c % (size_t)nm];
        got g;
        char *out = jf_scan(ix, mode, log.data, log.len, chunks[c] ? chunks[c] : log.len, &g);
        REQUIRE(out);
        const char *tail = strrchr(out, ',');
        CHECK(tail && strtoul(tail + 7, NULL, 10) > 200); /* the fast path took lines */
        CHECK_INT(g.bad, g0.bad);
        CHECK(strncmp(out, ref, (size_t)(strrchr(ref, ',') - ref)) == 0);
        pk_buf_free(&g.b);
    }
    pk_buf_free(&g0.b);
    pk_buf_free(&log);
    pk_match_index_free(ix);
}

/* ---- which parent domains are probed ------------------------------------- */

/* How many probes matching one value of a role queues. */
static size_t probes_for(pk_match_scanner *s, uint8_t role, const char *v)
{
    char pad[512] = {0}; /* values lie in padded lines or buffers (scan_int.h) */
    size_t n = strlen(v);
    if (n + 64 > sizeof pad) return (size_t)-1;
    memcpy(pad, v, n);
    pki_flush_probes(s);
    pki_match_value(s, role, "f", pad, n);
    size_t q = s->nq;
    pki_flush_probes(s);
    return q;
}

/* The index records the label counts of its domains, and only parent domains
 * of those counts are probed: no hit is lost (IDN in punycode, raw UTF-8,
 * capitals and the root dot normalise first), no probe is spent on a suffix
 * no indicator can equal. */
TEST(parent_domains_probed_only_for_label_counts_in_the_index)
{
    pk_match_index *ix = build("domain\tevil.com\ndomain\ta.b.example.org\n"
                               "domain\tc.d.e.f.g.h.deep.net\ndomain\txn--bcher-kva.example\n"
                               "domain\tTrail.Example.\ndomain\tb\xc3\xbc"
                               "cher.example\n");
    REQUIRE(ix);
    CHECK(ix->h->domain_labels == ((1ull << 2) | (1ull << 4) | (1ull << 8)));
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    CHECK_INT(probes_for(s, R_DOMAIN, "evil.com"), 1);
    CHECK_INT(probes_for(s, R_DOMAIN, "x.y.z.evil.com"), 2); /* y.z.evil.com, evil.com */
    CHECK_INT(probes_for(s, R_DOMAIN, "com"), 0);
    CHECK_INT(probes_for(s, R_DOMAIN, "z.evil.com."), 1);
    CHECK_INT(probes_for(s, R_DOMAIN, "a.b.c.d.e.f.g.h.i.j"), 3); /* 8, 4 and 2 labels */
    CHECK_INT(probes_for(s, R_DOMAIN, "a..evil.com"), 0);         /* not a name */
    CHECK_INT(probes_for(s, R_HOST, "10.1.2.3"), 0); /* an address (none indexed), not a name */
    pk_match_scanner_free(s);
    got g;
    const char *log = "{\"dns\":{\"rrname\":\"x.y.z.EVIL.com\"}}\n"
                      "{\"dns\":{\"rrname\":\"q.a.b.example.org.\"}}\n"
                      "{\"dns\":{\"rrname\":\"b.example.org\"}}\n"
                      "{\"dns\":{\"rrname\":\"1.2.3.4.5.6.7.8.9.c.d.e.f.g.h.deep.net\"}}\n"
                      "{\"dns\":{\"rrname\":\"www.XN--BCHER-KVA.example\"}}\n"
                      "{\"dns\":{\"rrname\":\"trail.example\"}}\n"
                      "{\"dns\":{\"rrname\":\"d.e.f.g.h.deep.net\"}}\n"
                      "{\"dns\":{\"rrname\":\"www.B\xc3\xbc"
                      "cher.example.\"}}\n";
    CHECK_STR(scan(ix, PK_FMT_EVE, log, &g),
              "1 domain evil.com subdomain x.y.z.EVIL.com dns.rrname|"
              "2 domain a.b.example.org subdomain q.a.b.example.org. dns.rrname|"
              "4 domain c.d.e.f.g.h.deep.net subdomain 1.2.3.4.5.6.7.8.9.c.d.e.f.g.h.deep.net "
              "dns.rrname|"
              "5 domain xn--bcher-kva.example subdomain www.XN--BCHER-KVA.example dns.rrname|"
              "6 domain trail.example exact trail.example dns.rrname|"
              "8 domain b\xc3\xbc"
              "cher.example subdomain www.B\xc3\xbc"
              "cher.example. dns.rrname|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);

    /* 63 labels and more share one bit: such suffixes are all probed */
    pk_buf name, list;
    pk_buf_init(&name, 0);
    pk_buf_init(&list, 0);
    for (int i = 0; i < 63; i++)
        pk_buf_adds(&name, "a.");
    pk_buf_adds(&name, "com"); /* 64 labels */
    pk_buf_addf(&list, "domain\t%s\n", name.data);
    ix = build(list.data);
    REQUIRE(ix);
    CHECK(ix->h->domain_labels == 1ull << 63);
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    pk_buf log2;
    pk_buf_init(&log2, 0);
    pk_buf_addf(&log2, "b.c.%s", name.data); /* 66 labels: 66, 65, 64 and 63 probed */
    CHECK_INT(probes_for(s, R_DOMAIN, log2.data), 4);
    CHECK_INT(probes_for(s, R_DOMAIN, name.data + 2), 1); /* 63 labels */
    CHECK_INT(probes_for(s, R_DOMAIN, name.data + 4), 0); /* 62 labels: none */
    pk_match_scanner_free(s);
    pk_buf_reset(&log2);
    pk_buf_addf(&log2, "{\"dns\":{\"rrname\":\"b.c.%s\"}}\n", name.data);
    char *out = scan(ix, PK_FMT_EVE, log2.data, &g);
    CHECK(out && strstr(out, " subdomain b.c.a.a.") != NULL);
    pk_buf_free(&g.b);
    pk_match_index_free(ix);

    /* no domain indicators: names cost no probe */
    ix = build("10.1.2.3\n");
    REQUIRE(ix);
    CHECK(ix->h->domain_labels == 0);
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    CHECK_INT(probes_for(s, R_DOMAIN, "a.b.evil.com"), 0);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
    pk_buf_free(&name);
    pk_buf_free(&list);
    pk_buf_free(&log2);
}

/* The scanner hashes its scratch keys reading whole words past their end;
 * the value is the file format's pki_hash for every length and alignment. */
TEST(padded_hash_equals_file_format_hash)
{
    uint8_t buf[400];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rnd();
    size_t differ = 0;
    for (size_t n = 0; n <= 300; n++)
        for (size_t off = 0; off < 8; off++)
            for (unsigned t = 1; t < 3; t++)
                differ += pki_hash_padded(t * 4, buf + off, n) != pki_hash(t * 4, buf + off, n);
    CHECK_INT(differ, 0);
    CHECK(pki_hash_padded(4, buf, 5) != pki_hash(4, buf, 6)); /* the length counts */
}

/* An index written by an older picket is refused with what to do. */
TEST(older_index_format_is_refused)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    uint8_t *copy = pk_malloc(ix->size);
    REQUIRE(copy);
    memcpy(copy, ix->base, ix->size);
    uint32_t v = 1;
    memcpy(copy + offsetof(pki_header, version), &v, 4);
    pk_match_index *back = NULL;
    pk_error err;
    pk_error_clear(&err);
    CHECK_INT(pk_match_index_from_memory(copy, ix->size, &back, &err), PK_EPARSE);
    CHECK_STR(err.message,
              "index format version 1, this picket reads version 2: run picket compile again");
    CHECK(back == NULL);
    pk_free(copy);
    pk_match_index_free(ix);
}

/* An address field dismissed after its first two numbers (dull_16) yields
 * what the whole parse yields (R_SRC_IP takes no such shortcut): random
 * quads of 1 to 4 digits a part, leading zeros, junk after, around the
 * /16s of an index that has some. */
TEST(dull_16_loses_no_probe)
{
    pk_match_index *ix = build("10.1.2.3\n10.12.0.9\n100.200.3.4\n1.2.3.4\n9.99.1.1\n"
                               "192.0.2.0/24\n172.16.0.0/12\n");
    REQUIRE(ix);
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    static const unsigned firsts[] = {10, 100, 1, 9, 192, 172, 0, 255, 256, 999, 1000};
    static const unsigned seconds[] = {1, 12, 200, 2, 99, 0, 16, 20, 31, 32, 255, 256, 1000};
    size_t differ = 0, hits = 0;
    for (int i = 0; i < 20000; i++) {
        char v[64];
        unsigned a = firsts[rnd() % (sizeof firsts / sizeof *firsts)];
        unsigned b = seconds[rnd() % (sizeof seconds / sizeof *seconds)];
        const char *z1 = rnd() % 8 ? "" : "0", *z2 = rnd() % 8 ? "" : "0";
        const char *junk = rnd() % 6 ? "" : (rnd() & 1 ? "x" : ":80");
        snprintf(v, sizeof v, "%s%u.%s%u.%u.%u%s", z1, a, z2, b, (unsigned)(rnd() % 300),
                 (unsigned)(rnd() % 300), junk);
        size_t x = probes_for(s, R_IP, v), y = probes_for(s, R_SRC_IP, v);
        differ += x != y;
        hits += x != 0;
    }
    CHECK_INT(differ, 0);
    CHECK(hits > 300);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
}

/* Addresses of a /16 that holds no IPv4 key cost no probe (the image's
 * v4keys bit map); networks and IPv4-mapped IPv6 addresses still hit. */
TEST(addresses_of_a_16_without_indicators_cost_no_probe)
{
    pk_match_index *ix = build("10.1.2.3\n192.0.2.0/24\n2001:db8::7\n");
    REQUIRE(ix);
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    CHECK_INT(probes_for(s, R_IP, "10.1.9.9"), 1);  /* same /16: probed */
    CHECK_INT(probes_for(s, R_IP, "10.2.0.1"), 0);  /* no key in 10.2/16 */
    CHECK_INT(probes_for(s, R_IP, "192.0.2.5"), 1); /* the network's hit, no probe */
    CHECK_INT(probes_for(s, R_IP, "::ffff:10.1.2.3"), 2);
    CHECK_INT(probes_for(s, R_IP, "::ffff:10.9.2.3"), 1);
    /* an address field is dismissed after two numbers of a dull /16; what
     * starts so is never IPv6, and a bad quad is no address */
    CHECK_INT(probes_for(s, R_IP, "10.2.0.1x"), 0);
    CHECK_INT(probes_for(s, R_IP, "10.1.2.300"), 0);
    CHECK_INT(probes_for(s, R_IP, "010.1.2.3"), 0);
    CHECK_INT(probes_for(s, R_IP, "10.01.2.3"), 0);
    CHECK_INT(probes_for(s, R_IP, "::1.2.3.4"), 1); /* IPv6 (IPv4-compatible) */
    CHECK_INT(probes_for(s, R_IP, "10.1.0.0"), 1);
    pk_match_scanner_free(s);
    got g;
    CHECK_STR(scan(ix, PK_FMT_EVE,
                   "{\"src_ip\":\"10.1.2.3\",\"dest_ip\":\"10.1.2.4\"}\n"
                   "{\"src_ip\":\"::ffff:10.1.2.3\",\"dest_ip\":\"192.0.2.200\"}\n"
                   "{\"src_ip\":\"2001:DB8::7\",\"dest_ip\":\"10.3.2.3\"}\n",
                   &g),
              "1 ipv4 10.1.2.3 exact 10.1.2.3 src_ip|2 ipv4 10.1.2.3 exact ::ffff:10.1.2.3 src_ip|"
              "2 cidr 192.0.2.0/24 cidr 192.0.2.200 dest_ip|"
              "3 ipv6 2001:db8::7 exact 2001:DB8::7 src_ip|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
}

/* The line ends stage 1 finds (drain's lines) are memchr's, wherever the
 * '\n' falls in a 64-byte block and wherever the bytes read so far end
 * (lim), in every form; a line longer than PKI_JF_MAX is left to memchr. */
TEST(json_fast_path_finds_line_ends)
{
    pk_match_index *ix = build("evil.com\n");
    REQUIRE(ix);
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    s->fmt = F_EVE;
    size_t cap = 65536;
    char *buf = pk_malloc(cap + PKI_PAD);
    REQUIRE(buf);
    memset(buf, '\n', cap + PKI_PAD); /* newlines past lim must not count */
    /* lines of every length from 0 to 200, then one too long */
    static const char pat[] = "{\"a\":\"b\\\"c\",\"n\":[1,2]}";
    size_t len = 0;
    for (size_t l = 0; l <= 200; l++) {
        for (size_t i = 0; i < l; i++)
            buf[len + i] = pat[i % (sizeof pat - 1)];
        buf[len + l] = '\n';
        len += l + 1;
    }
    size_t longl = PKI_JF_MAX + 100;
    memset(buf + len, 'x', longl);
    buf[len + longl] = '\n';
    size_t total = len + longl + 1;
    REQUIRE(total <= cap);
    int modes[PKI_JSON_NMODES], nm = pki_json_modes(modes);
    long checked = 0, found = 0, bad = 0;
    for (int m = 0; m < nm; m++) {
        s->jmode = modes[m];
        for (size_t p = 0; p < total;) {
            const char *nl = memchr(buf + p, '\n', total - p);
            size_t want = (size_t)(nl - (buf + p));
            /* lim: the whole rest, and cut just before, at and after the '\n' */
            size_t lims[4] = {total - p, want, want + 1, want + 2};
            for (int k = 0; k < 4; k++) {
                size_t lim = lims[k];
                if (lim > total - p) continue;
                size_t fl = pki_json_find_line(s, buf + p, lim);
                size_t exp = want < lim ? want : PKI_JF_NOLINE;
                if (want >= PKI_JF_MAX) exp = PKI_JF_NONE; /* memchr's */
                if (fl != exp && bad++ < 5)
                    PKT_FAIL("mode %d at %zu, lim %zu: %zu, memchr says %zu", modes[m], p, lim, fl,
                             exp);
                found += fl == want;
                checked++;
            }
            p += want + 1;
        }
    }
    CHECK_INT(bad, 0);
    CHECK(found > 200 * nm); /* most lines were found by stage 1 */
    CHECK(checked > 800 * nm);
    pk_free(buf);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
}

#ifdef PKI_HAVE_IPV4_SIMD
/* The scanner's dotted-quad parser (SIMD, reads past the value) says what
 * the strict one says, on random forms near an address. */
TEST(simd_ipv4_parser_equals_strict_one)
{
    if (!pki_ipv4_simd_ok()) SKIP("no SSE4.1 here");
    static const char alpha[] = "0123456789..........12a 5:";
    char buf[64];
    size_t differ = 0, valid = 0;
    for (int i = 0; i < 300000; i++) {
        size_t n = 5 + rnd() % 13;
        for (size_t j = 0; j < sizeof buf; j++)
            buf[j] = j < n ? alpha[rnd() % (i % 2 ? 12 : sizeof alpha - 1)] : (char)rnd();
        if (i % 3 == 0) /* a near address: a.b.c.d with 1 to 3 digits each */
            n = (size_t)snprintf(buf, sizeof buf, "%u.%u.%u.%u", (unsigned)(rnd() % 300),
                                 (unsigned)(rnd() % 260), (unsigned)(rnd() % 300),
                                 (unsigned)(rnd() % 256));
        if (i % 7 == 0 && n > 2) buf[rnd() % n] = '0'; /* leading zeros */
        uint8_t a[4], b[4];
        int x = pki_parse_ipv4(buf, n, a), y = pki_parse_ipv4_simd(buf, n, b);
        differ += x != y || (x && memcmp(a, b, 4) != 0);
        valid += x;
    }
    CHECK_INT(differ, 0);
    CHECK(valid > 50000);
    uint8_t a[4];
    CHECK(pki_parse_ipv4_simd("255.254.0.9\0                ", 11, a) && a[0] == 255 &&
          a[1] == 254 && a[2] == 0 && a[3] == 9);
    CHECK(!pki_parse_ipv4_simd("1.2.3.04\0                ", 8, a));
    CHECK(!pki_parse_ipv4_simd("1.2.3.256\0                ", 9, a));
    CHECK(!pki_parse_ipv4_simd("1.2.3.4.\0                ", 8, a));
    CHECK(!pki_parse_ipv4_simd(".1.2.3.4\0                ", 8, a));
}
#endif

#ifdef PKI_HAVE_NAME_AVX512
/* The scanner's 64-bytes-a-step name normaliser gives what the byte loop
 * gives (key, dots, refusals) on random strings near names, of every length
 * across the 64-byte steps. */
TEST(avx512_name_normaliser_equals_byte_loop)
{
    if (!pki_name_avx512_ok()) SKIP("no AVX-512BW here");
    static const char alpha[] = "abcXYZ019-_.......\xc3\xbc\x80\xff :/@\x7f";
    char buf[300];
    size_t differ = 0, names = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = rnd() % 262;
        int plain = i % 4 != 0; /* mostly bytes a name may hold */
        for (size_t j = 0; j < n; j++)
            buf[j] = alpha[rnd() % (plain ? 18 : sizeof alpha - 1)];
        if (i % 5 == 0)
            for (size_t j = 0; j < n; j++) /* long labels: dots every 60 to 70 bytes */
                buf[j] = j % (60 + (size_t)(i % 11)) == 59 ? '.' : 'a';
        uint8_t k1[300], k2[300], k3[320], d1[128], d2[128], d3[128];
        size_t n1 = 0, n2 = 0, n3 = 0;
        size_t a = pki_norm_domain_dots(buf, n, k1, d1, &n1);
        size_t b = pki_norm_domain_dots_avx512(buf, n, k2, d2, &n2);
        size_t c = pki_norm_domain_dots_avx512_pad(buf, n, k3, d3, &n3);
        differ += a != b || (a && (memcmp(k1, k2, a) != 0 || n1 != n2 || memcmp(d1, d2, n1) != 0));
        differ += a != c || (a && (memcmp(k1, k3, a) != 0 || n1 != n3 || memcmp(d1, d3, n1) != 0));
        names += a != 0;
    }
    CHECK_INT(differ, 0);
    CHECK(names > 20000);
}
#endif

/* Kinds of value the index holds no key of cost nothing: not parsed, not
 * normalised, not probed; with patterns everything is still read. */
TEST(kinds_without_indicators_are_not_read)
{
    pk_match_index *ix = build("domain\tevil.com\n");
    REQUIRE(ix);
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_scanner *s;
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    CHECK_INT(probes_for(s, R_URL, "http://a.evil.com/x"), 1); /* the host as a name only */
    CHECK_INT(probes_for(s, R_URL_ONLY, "http://a.evil.com/x"), 0);
    CHECK_INT(probes_for(s, R_HASH, "d41d8cd98f00b204e9800998ecf8427e"), 0);
    CHECK_INT(probes_for(s, R_EMAIL, "a@evil.com"), 0);
    CHECK_INT(probes_for(s, R_FILENAME, "/tmp/x.exe"), 0);
    CHECK_INT(probes_for(s, R_USER, "root"), 0);
    CHECK_INT(probes_for(s, R_IP, "10.1.2.3"), 0);
    CHECK_INT(probes_for(s, R_HOST, "a.evil.com"), 1);
    pk_match_scanner_free(s);
    got g;
    CHECK_STR(scan(ix, PK_FMT_EVE,
                   "{\"http\":{\"hostname\":\"x.evil.com\",\"url\":\"/a\"},"
                   "\"email\":{\"from\":\"a@evil.com\"}}\n",
                   &g),
              "1 domain evil.com subdomain x.evil.com http.hostname|");
    pk_buf_free(&g.b);
    pk_match_index_free(ix);
    ix = build("d41d8cd98f00b204e9800998ecf8427e\n");
    REQUIRE(ix);
    REQUIRE(pk_match_scanner_new(ix, &opt, NULL, &s, NULL) == PK_OK);
    CHECK_INT(probes_for(s, R_HASH, "D41D8CD98F00B204E9800998ECF8427E"), 1);
    CHECK_INT(probes_for(s, R_HOST, "a.evil.com"), 0);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
}

#ifdef PKI_HAVE_IPV4_SIMD
/* Digests are decoded 16 digits a step: the same bytes and refusals as the
 * byte loop, for plain and colon-separated forms of every length. */
TEST(simd_hex_decoder_equals_byte_loop)
{
    if (!pki_ipv4_simd_ok()) SKIP("no SSE4.1 here");
    static const char alpha[] = "0123456789abcdefABCDEF0123456789abcdefABCDEFg:G ";
    char buf[200];
    size_t differ = 0, good = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = (size_t)(i % 3 == 0 ? 32 + 8 * (rnd() % 5) : rnd() % 140);
        for (size_t j = 0; j < n; j++)
            buf[j] = alpha[rnd() % (i % 4 ? 44 : sizeof alpha - 1)];
        if (i % 9 == 0)
            for (size_t j = 2; j < n; j += 3)
                buf[j] = ':';
        uint8_t a[80], b[80];
        size_t x = pki_parse_hex(buf, n, a, 64, 1), y = pki_parse_hex_simd(buf, n, b, 64);
        differ += x != y || memcmp(a, b, x) != 0;
        good += x != 0;
    }
    CHECK_INT(differ, 0);
    CHECK(good > 50000);
}

/* The colon form (certificate fingerprints, 8 bytes a step): every length
 * 3m - 1 with m up to past the cap, one byte changed in some of them (a
 * digit, a colon, a bad byte), against the byte loop. */
TEST(simd_hex_decoder_colon_form_equals_byte_loop)
{
    if (!pki_ipv4_simd_ok()) SKIP("no SSE4.1 here");
    static const char digits[] = "0123456789abcdefABCDEF";
    static const char other[] = ":g/ 0aF";
    char buf[260];
    size_t differ = 0, good = 0;
    for (int i = 0; i < 100000; i++) {
        size_t m = 1 + (size_t)(rnd() % 70), n = 3 * m - 1;
        for (size_t j = 0; j < n; j++)
            buf[j] = j % 3 == 2 ? ':' : digits[rnd() % (sizeof digits - 1)];
        if (i % 3 == 0) buf[rnd() % n] = other[rnd() % (sizeof other - 1)];
        uint8_t a[80], b[80];
        size_t x = pki_parse_hex(buf, n, a, 64, 1), y = pki_parse_hex_simd(buf, n, b, 64);
        differ += x != y || memcmp(a, b, x) != 0;
        good += x != 0 && m >= 8;
    }
    CHECK_INT(differ, 0);
    CHECK(good > 50000);
}
#endif

/* A name seen again in a record (a DNS query and its answers, a
 * certificate's CN and the SNI) takes a copy of the first one's probes:
 * the alerts are those of matching every name anew, on generated records
 * that repeat names in every field that holds one, in other cases, escaped,
 * with a port, up to 40 times a record (past the memo's four names and the
 * queue's first growth), in any chunking. */
static char *seen_scan(pk_match_index *ix, int noseen, const char *log, size_t chunk, got *g,
                       unsigned long *copies)
{
    pk_buf_init(&g->b, 0);
    g->bad = 0;
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    pk_match_callbacks cb = {on_alert, on_bad, g};
    pk_match_scanner *s;
    if (pk_match_scanner_new(ix, &opt, &cb, &s, NULL) != PK_OK) return NULL;
    s->noseen = noseen;
    pk_match_scanner_begin(s, "log", NULL);
    size_t n = strlen(log);
    for (size_t i = 0; i < n; i += chunk)
        pk_match_scanner_feed(s, log + i, n - i < chunk ? n - i : chunk, NULL);
    pk_match_scanner_end(s, NULL);
    *copies = s->seen_copies;
    pk_match_scanner_free(s);
    pk_buf_addc(&g->b, '\0');
    return g->b.data;
}

TEST(names_seen_again_in_a_record_give_the_same_alerts)
{
    pk_match_index *ix = build("evil.com\nphish.example.net\ndomain\tx.y.bad.org\n10.9.8.7\n");
    REQUIRE(ix);
    static const char *names[] = {
        "evil.com",         "a.evil.com", "A.Evil.COM",   "cdn.phish.example.net",
        "x.y.bad.org",      "y.bad.org",  "good.example", "evil.com.",
        "a.evil\\u002ecom", "10.9.8.7",   "*.evil.com",   "notevil.com"};
    const size_t nn = sizeof names / sizeof names[0];
    pk_buf log;
    pk_buf_init(&log, 0);
    rng_state = 0x5eed5eedull;
    for (int r = 0; r < 400; r++) {
        const char *a = names[rnd() % nn], *b = names[rnd() % nn];
        switch (rnd() % 4) {
        case 0: { /* a DNS record: query, answers, CNAME data */
            int na = (int)(rnd() % 40);
            pk_buf_addf(
                &log,
                "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"%s\",\"rdata\":\"%s\",\"answers\":[",
                a, b);
            for (int i = 0; i < na; i++)
                pk_buf_addf(&log, "%s{\"rrname\":\"%s\",\"rdata\":\"%s\"}", i ? "," : "",
                            rnd() % 2 ? a : names[rnd() % nn], rnd() % 3 ? b : a);
            pk_buf_addf(&log, "]}}\n");
            break;
        }
        case 1: /* a certificate */
            pk_buf_addf(&log,
                        "{\"event_type\":\"tls\",\"tls\":{\"subject\":\"C=US, CN=%s\","
                        "\"issuerdn\":\"CN=%s\",\"sni\":\"%s\"}}\n",
                        a, b, rnd() % 2 ? a : b);
            break;
        case 2: /* a host with and without a port, and a URL to it */
            pk_buf_addf(&log,
                        "{\"event_type\":\"http\",\"http\":{\"hostname\":\"%s%s\",\"url\":\"/x\","
                        "\"http_refer\":\"http://%s/y\"}}\n",
                        a, rnd() % 2 ? ":8080" : "", a);
            break;
        default: /* the same name in a record after a malformed one */
            pk_buf_addf(&log,
                        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"%s\"\n"
                        "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"%s\",\"rdata\":\"%s\"}}\n",
                        a, a, a);
            break;
        }
    }
    pk_buf_addc(&log, '\0');
    got want, g;
    unsigned long copies = 0, none = 0;
    char *ref = seen_scan(ix, 1, log.data, log.len, &want, &none);
    REQUIRE(ref);
    CHECK(none == 0);
    CHECK(strlen(ref) > 20000); /* thousands of alerts */
    CHECK(want.bad > 50);       /* the malformed records of case 3 */
    static const size_t chunks[] = {1 << 20, 4096, 333, 61};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        char *out = seen_scan(ix, 0, log.data, chunks[c], &g, &copies);
        REQUIRE(out);
        CHECK_STR(out, ref);
        CHECK(copies > 1000);
        CHECK(g.bad == want.bad);
        pk_buf_free(&g.b);
    }
    pk_buf_free(&want.b);
    pk_buf_free(&log);
    pk_match_index_free(ix);
}

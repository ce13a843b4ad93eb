/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Values to keys: both sides of a match (the indicator and the observed value)
 * go through the same normalisation, so that equal things compare equal as
 * bytes: addresses and hashes become binary, names and e-mail lower case, URLs
 * canonical (scheme and host lower case, default port and fragment dropped).
 */
#include "match_int.h"

#include <arpa/inet.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static const char *const type_names[PK_IOC_TYPE_MAX_] = {
    "",    "ipv4", "ipv6",   "cidr",   "domain",   "url",         "email",
    "md5", "sha1", "sha256", "sha512", "filename", "user-account"};

const char *pk_ioc_type_name(pk_ioc_type t)
{
    return (unsigned)t < PK_IOC_TYPE_MAX_ ? type_names[t] : "";
}

pk_ioc_type pk_ioc_type_parse(const char *s, size_t n)
{
    static const struct {
        const char *name;
        pk_ioc_type t;
    } alias[] = {
        {"ipv4-addr", PK_IOC_IPV4},   {"ipv6-addr", PK_IOC_IPV6},  {"domain-name", PK_IOC_DOMAIN},
        {"email-addr", PK_IOC_EMAIL}, {"hostname", PK_IOC_DOMAIN}, {"email", PK_IOC_EMAIL},
        {"sha-1", PK_IOC_SHA1},       {"sha-256", PK_IOC_SHA256},  {"sha-512", PK_IOC_SHA512},
        {"file", PK_IOC_FILENAME},    {"user", PK_IOC_USER},       {"ip", PK_IOC_IPV4}};
    for (int i = 1; i < PK_IOC_TYPE_MAX_; i++)
        if (strlen(type_names[i]) == n && strncasecmp(type_names[i], s, n) == 0)
            return (pk_ioc_type)i;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strlen(alias[i].name) == n && strncasecmp(alias[i].name, s, n) == 0) return alias[i].t;
    return PK_IOC_NONE;
}

int pki_parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    /* dotted quad, 1 to 3 digits a part, no leading zeros (010 is octal to
     * some parsers and decimal to others): 7 to 15 bytes */
    if (n < 7 || n > 15) return 0;
    const char *p = s, *e = s + n;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (p >= e || *p != '.') return 0;
            p++;
        }
        unsigned v, d;
        if (p >= e || (v = (unsigned)(uint8_t)*p - '0') > 9) return 0;
        p++;
        if (p < e && (d = (unsigned)(uint8_t)*p - '0') <= 9) {
            if (v == 0) return 0;
            v = v * 10 + d;
            p++;
            if (p < e && (d = (unsigned)(uint8_t)*p - '0') <= 9) {
                v = v * 10 + d;
                p++;
                if (v > 255) return 0;
            }
        }
        out[part] = (uint8_t)v;
    }
    return p == e;
}

#ifdef PKI_HAVE_IPV4_SIMD

int pki_ipv4_simd_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
}

/*
 * The dotted quad in one 16-byte register: digit and dot masks say whether
 * the bytes are right, the dots where the four parts end; a shuffle built
 * from those ends (no table) puts each part's last three digits in its own
 * 32-bit lane, zeros in front, and two multiply-adds make the lanes the
 * values.  Logged addresses have random digit counts, so the byte-by-byte
 * parser's branches on them mispredict about once an address.
 */
__attribute__((target("sse4.1,ssse3"))) int pki_parse_ipv4_simd(const char *s, size_t n,
                                                                uint8_t out[4])
{
    if (n < 7 || n > 15) return 0;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i t = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    uint32_t in = (1u << n) - 1;
    uint32_t dig =
        (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t));
    uint32_t dot = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & in;
    uint32_t d2 = dot & (dot - 1), d3 = d2 & (d2 - 1);
    /* only digits and dots, and three dots */
    if (((dig | dot) & in) != in || !d3 || (d3 & (d3 - 1))) return 0;
    int p1 = __builtin_ctz(dot), p2 = __builtin_ctz(d2), p3 = __builtin_ctz(d3);
    __m128i end = _mm_setr_epi32(p1, p2, p3, (int)n);
    __m128i start = _mm_setr_epi32(0, p1 + 1, p2 + 1, p3 + 1);
    __m128i len = _mm_sub_epi32(end, start);
    /* lane k's bytes take the positions end-3, end-2, end-1 of the line;
     * those before the part's start, and the fourth, become zero (0xff) */
    const __m128i spread = _mm_set1_epi32(0x01010101);
    __m128i pos = _mm_add_epi8(_mm_mullo_epi32(end, spread), _mm_set1_epi32(0x00fffefd));
    __m128i off = _mm_or_si128(_mm_cmpgt_epi8(_mm_mullo_epi32(start, spread), pos),
                               _mm_set1_epi32((int)0xff000000u));
    __m128i x = _mm_shuffle_epi8(t, _mm_or_si128(pos, off));
    __m128i val = _mm_madd_epi16(_mm_maddubs_epi16(x, _mm_set1_epi32(0x00010a64)),
                                 _mm_set1_epi16(1)); /* 100 h + 10 t + 1 o */
    /* a part of 2 or 3 digits below 10 or 100 has a leading zero */
    __m128i two = _mm_cmpeq_epi32(len, _mm_set1_epi32(2)),
            three = _mm_cmpeq_epi32(len, _mm_set1_epi32(3));
    __m128i least = _mm_or_si128(_mm_and_si128(two, _mm_set1_epi32(10)),
                                 _mm_and_si128(three, _mm_set1_epi32(100)));
    __m128i bad =
        _mm_or_si128(_mm_cmpgt_epi32(val, _mm_set1_epi32(255)), _mm_cmpgt_epi32(least, val));
    bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmplt_epi32(len, _mm_set1_epi32(1)),
                                         _mm_cmpgt_epi32(len, _mm_set1_epi32(3))));
    if (!_mm_testz_si128(bad, bad)) return 0;
    __m128i b = _mm_packus_epi16(_mm_packus_epi32(val, val), val);
    uint32_t r = (uint32_t)_mm_cvtsi128_si32(b);
    memcpy(out, &r, 4);
    return 1;
}
#endif

int pki_parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
    char tmp[64];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') s++, n -= 2;
    const char *pct = memchr(s, '%', n); /* zone id: fe80::1%eth0 */
    if (pct) n = (size_t)(pct - s);
    if (n < 2 || n >= sizeof tmp || !memchr(s, ':', n)) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.'))
            return 0;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

static inline uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* What each byte becomes in a name: itself for a byte of a label (letters in
 * lower case; bytes from 0x80 up are raw UTF-8, kept), '.' for the dot, 0 for
 * any byte no name holds (a name is letters, digits, '-', '_', '.' and UTF-8). */
static const uint8_t name_byte[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x2e, 0x00,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x5f,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

size_t pki_norm_domain_dots(const char *s, size_t n, uint8_t *out, uint8_t *dots, size_t *ndots)
{
    if (n && s[n - 1] == '.') n--; /* the root label */
    if (n == 0 || n > 253) return 0;
    size_t nd = 0, start = 0; /* start: first byte of the current label */
    for (size_t i = 0; i < n; i++) {
        uint8_t k = name_byte[(uint8_t)s[i]];
        out[i] = k;
        if (k == '.') {
            if (i == start || i - start > 63) return 0; /* empty or overlong label */
            dots[nd++] = (uint8_t)i;
            start = i + 1;
        } else if (!k) {
            return 0;
        }
    }
    if (n == start || n - start > 63) return 0;
    *ndots = nd;
    return n;
}

#ifdef PKI_HAVE_NAME_AVX512
int pki_name_avx512_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f");
}

/* The byte classes of pki_norm_domain_dots as mask compares, 64 bytes at a
 * time; only the dots are visited one by one (to check the label lengths
 * and note where they are).  pad: out has room for whole 64-byte steps,
 * and they are stored whole (zeros past n): what reads the key next (the
 * queue's copy, the hash) then gets its bytes forwarded from the store,
 * which a masked store does not do (the load waits for the store to reach
 * the cache). */
__attribute__((target("avx512bw,avx512f"))) static inline __attribute__((always_inline)) size_t
norm_domain_avx512(const char *s, size_t n, uint8_t *out, uint8_t *dots, size_t *ndots, int pad)
{
    if (n && s[n - 1] == '.') n--; /* the root label */
    if (n == 0 || n > 253) return 0;
    size_t nd = 0, start = 0;
    for (size_t off = 0; off < n; off += 64) {
        size_t len = n - off < 64 ? n - off : 64;
        __mmask64 in = len == 64 ? ~0ull : (1ull << len) - 1;
        __m512i v = _mm512_maskz_loadu_epi8(in, s + off);
        __mmask64 up =
            _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('A')), _mm512_set1_epi8(25));
        __m512i low = _mm512_mask_add_epi8(v, up, v, _mm512_set1_epi8(32));
        __mmask64 alpha = _mm512_cmple_epu8_mask(_mm512_sub_epi8(low, _mm512_set1_epi8('a')),
                                                 _mm512_set1_epi8(25));
        __mmask64 digit =
            _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')), _mm512_set1_epi8(9));
        __mmask64 dot = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('.')) & in;
        __mmask64 ok = alpha | digit | dot | _mm512_movepi8_mask(v) |
                       _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('-')) |
                       _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('_'));
        if ((ok & in) != in) return 0;
        if (pad)
            _mm512_storeu_si512((void *)(out + off), low);
        else
            _mm512_mask_storeu_epi8(out + off, in, low);
        while (dot) {
            size_t i = off + (size_t)__builtin_ctzll(dot);
            if (i == start || i - start > 63) return 0; /* empty or overlong label */
            dots[nd++] = (uint8_t)i;
            start = i + 1;
            dot &= dot - 1;
        }
    }
    if (n == start || n - start > 63) return 0;
    *ndots = nd;
    return n;
}

__attribute__((target("avx512bw,avx512f"))) size_t
pki_norm_domain_dots_avx512(const char *s, size_t n, uint8_t *out, uint8_t *dots, size_t *ndots)
{
    return norm_domain_avx512(s, n, out, dots, ndots, 0);
}

__attribute__((target("avx512bw,avx512f"))) size_t
pki_norm_domain_dots_avx512_pad(const char *s, size_t n, uint8_t *out, uint8_t *dots, size_t *ndots)
{
    return norm_domain_avx512(s, n, out, dots, ndots, 1);
}
#endif

size_t pki_norm_domain(const char *s, size_t n, uint8_t *out)
{
    uint8_t dots[128];
    size_t nd;
    return pki_norm_domain_dots(s, n, out, dots, &nd);
}

unsigned pki_domain_labels(const uint8_t *k, size_t n)
{
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++)
        labels += k[i] == '.';
    return labels;
}

size_t pki_norm_email(const char *s, size_t n, uint8_t *out)
{
    /* "Name <user@host>" and "<user@host>" as mail headers write them */
    const char *lt = memchr(s, '<', n);
    if (lt) {
        const char *gt = memchr(lt, '>', n - (size_t)(lt - s));
        if (!gt) return 0;
        n = (size_t)(gt - lt - 1);
        s = lt + 1;
    }
    while (n && (*s == ' ' || *s == '"'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '"'))
        n--;
    const char *at = memchr(s, '@', n);
    if (!at || at == s || n > 320) return 0;
    size_t local = (size_t)(at - s);
    if (memchr(at + 1, '@', n - local - 1)) return 0;
    for (size_t i = 0; i < local; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == '"' || c == 0x7f) return 0;
        /* Local parts are case-sensitive on paper and folded by practically
         * every mail system; folding here means a case change cannot evade. */
        out[i] = lower(c);
    }
    out[local] = '@';
    size_t d = pki_norm_domain(at + 1, n - local - 1, out + local + 1);
    return d ? local + 1 + d : 0;
}

/*
 * The authority's end (the first '/', '?' or '#' from p, or e) and its last
 * '@' and ':' before that, 16 bytes a step while 16 are left (no byte past e
 * is read), then byte by byte.
 */
static inline __attribute__((always_inline)) const char *
url_authority(const char *p, const char *e, const char **at, const char **lastc, int simd)
{
    const char *q = p;
#if defined(__SSE2__)
    for (; simd && e - q >= 16; q += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        uint32_t stop = (uint32_t)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('?'))),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('#'))));
        uint32_t before = stop ? (1u << __builtin_ctz(stop)) - 1 : 0xffff;
        uint32_t a = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('@'))) & before;
        uint32_t c = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))) & before;
        if (a) *at = q + 31 - __builtin_clz(a);
        if (c) *lastc = q + 31 - __builtin_clz(c);
        if (stop) return q + __builtin_ctz(stop);
    }
#else
    (void)simd;
#endif
    for (; q < e; q++) {
        char c = *q;
        if (c == '/' || c == '?' || c == '#') break;
        if (c == '@') *at = q;
        if (c == ':') *lastc = q;
    }
    return q;
}

/* The host (hl bytes at p) to out in lower case; 0 when it holds a control
 * byte or a space.  16 bytes a step while 16 are left before e (out has
 * room: it trails the input). */
static inline __attribute__((always_inline)) int url_host(const char *p, size_t hl, const char *e,
                                                          uint8_t *out, int simd)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; simd && i < hl && e - (p + i) >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        uint32_t in = hl - i >= 16 ? 0xffff : (1u << (hl - i)) - 1;
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
        if ((uint32_t)_mm_movemask_epi8(bad) & in) return 0;
        /* 'A'..'Z' + 32: the bytes from 'A' on, shifted to the bottom of the
         * signed range, are upper-case letters when below -128 + 26 */
        __m128i up = _mm_cmplt_epi8(_mm_sub_epi8(v, _mm_set1_epi8((char)('A' + 128))),
                                    _mm_set1_epi8(-128 + 26));
        v = _mm_add_epi8(v, _mm_and_si128(up, _mm_set1_epi8(32)));
        _mm_storeu_si128((__m128i *)(void *)(out + i), v);
    }
    if (i >= hl) return 1;
#else
    (void)simd;
    (void)e;
#endif
    for (; i < hl; i++) {
        uint8_t c = lower((uint8_t)p[i]);
        if (c <= ' ' || c == 0x7f) return 0;
        out[i] = c;
    }
    return 1;
}

static inline __attribute__((always_inline)) size_t norm_url(const char *s, size_t n, uint8_t *out,
                                                             int simd)
{
    if (n > PKI_KEY_MAX - 8) return 0;
    const char *colon = NULL;
    for (size_t i = 0; i + 2 < n && i < 16; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            colon = s + i;
            break;
        }
    if (!colon || colon == s) return 0;
    size_t o = 0, sl = (size_t)(colon - s);
    for (size_t i = 0; i < sl; i++) {
        uint8_t c = lower((uint8_t)s[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return 0;
        out[o++] = c;
    }
    memcpy(out + o, "://", 3);
    o += 3;
    const char *p = colon + 3, *e = s + n;
    /* the authority's end, its last '@' and its last ':' in one pass */
    const char *at = NULL, *lastc = NULL;
    const char *hend = url_authority(p, e, &at, &lastc, simd);
    /* authority: drop userinfo, lower-case the host, drop the default port */
    if (at) p = at + 1;
    const char *port = NULL;
    if (p < hend && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(hend - p));
        if (!rb) return 0;
        if (rb + 1 < hend && rb[1] == ':') port = rb + 1;
    } else if (lastc && lastc >= p) {
        port = lastc;
    }
    const char *host_end = port ? port : hend;
    if (host_end == p) return 0;
    size_t hl = (size_t)(host_end - p);
    if (hl && p[hl - 1] == '.') hl--;
    if (!url_host(p, hl, e, out + o, simd)) return 0;
    o += hl;
    if (port) {
        size_t pl = (size_t)(hend - port - 1);
        int dflt =
            (pl == 2 && memcmp(port + 1, "80", 2) == 0 && sl == 4 && memcmp(out, "http", 4) == 0) ||
            (pl == 3 && memcmp(port + 1, "443", 3) == 0 && sl == 5 &&
             memcmp(out, "https", 5) == 0) ||
            pl == 0;
        if (!dflt) {
            out[o++] = ':';
            for (size_t i = 0; i < pl; i++) {
                if (port[1 + i] < '0' || port[1 + i] > '9') return 0;
                out[o++] = (uint8_t)port[1 + i];
            }
        }
    }
    const char *path = hend;
    const char *hash = memchr(path, '#', (size_t)(e - path));
    if (hash) e = hash;
    if (path == e || *path != '/') out[o++] = '/';
    const char *q = path;
#if defined(__SSE2__)
    /* 16 bytes a step while 16 are left (no byte past e is read) */
    for (; simd && e - q >= 16; q += 16, o += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(' ')), v),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
        if (_mm_movemask_epi8(bad)) return 0;
        _mm_storeu_si128((__m128i *)(void *)(out + o), v);
    }
#endif
    for (; q < e; q++) {
        if ((uint8_t)*q <= ' ' || *q == 0x7f) return 0;
        out[o++] = (uint8_t)*q;
    }
    return o;
}

size_t pki_norm_url(const char *s, size_t n, uint8_t *out)
{
    return norm_url(s, n, out, 1);
}

size_t pki_norm_url_bytes(const char *s, size_t n, uint8_t *out)
{
    return norm_url(s, n, out, 0);
}

/* Hex digit values plus one, 0 for anything else. */
static const int8_t hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

size_t pki_parse_hex(const char *s, size_t n, uint8_t *out, size_t cap, int colons)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t o = 0, i = 0;
    if (!colons) { /* plain digits: pairs, no separator to look for */
        if (n & 1 || n / 2 > cap) return 0;
        for (; i < n; i += 2) {
            int hi = hexv[u[i]] - 1, lo = hexv[u[i + 1]] - 1;
            if ((hi | lo) < 0) return 0;
            out[o++] = (uint8_t)(hi << 4 | lo);
        }
        return o;
    }
    while (i < n) {
        if (o && u[i] == ':') i++;
        if (i + 2 > n || o >= cap) return 0;
        int hi = hexv[u[i]] - 1, lo = hexv[u[i + 1]] - 1;
        if ((hi | lo) < 0) return 0;
        out[o++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return o;
}

#ifdef PKI_HAVE_IPV4_SIMD
/* 16 hex digits in v to 8 bytes at out; 0 when one is no hex digit. */
__attribute__((target("sse4.1,ssse3"))) static inline int hex16_reg(__m128i v, uint8_t *out)
{
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    __m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i isl = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l);
    if (_mm_movemask_epi8(_mm_or_si128(isd, isl)) != 0xffff) return 0;
    __m128i nib =
        _mm_or_si128(_mm_and_si128(isd, d), _mm_and_si128(isl, _mm_add_epi8(l, _mm_set1_epi8(10))));
    /* pairs: high nibble * 16 + low nibble, then the 16-bit lanes to bytes */
    __m128i w = _mm_maddubs_epi16(nib, _mm_set1_epi16(0x0110));
    __m128i b = _mm_packus_epi16(w, w);
    _mm_storel_epi64((__m128i *)(void *)out, b);
    return 1;
}

/* 16 hex digits at p to 8 bytes at out; 0 when one is no hex digit. */
__attribute__((target("sse4.1,ssse3"))) static inline int hex16(const char *p, uint8_t *out)
{
    return hex16_reg(_mm_loadu_si128((const __m128i *)(const void *)p), out);
}

/* "xx:xx:...:xx" (23 bytes at p) to 8 bytes at out; 0 when a digit or a
 * colon is not one.  Two loads, [0,16) and [7,23), and two shuffles pick
 * the 16 digits; nothing past p + 23 is read. */
__attribute__((target("sse4.1,ssse3"))) static inline int hex16_colons(const char *p, uint8_t *out)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 7));
    const __m128i colon = _mm_set1_epi8(':');
    /* colons at 2, 5, 8, 11, 14 (in a) and 17, 20 (10 and 13 in b) */
    if ((_mm_movemask_epi8(_mm_cmpeq_epi8(a, colon)) & 0x4924) != 0x4924 ||
        (_mm_movemask_epi8(_mm_cmpeq_epi8(b, colon)) & 0x2400) != 0x2400)
        return 0;
    const __m128i pa = _mm_setr_epi8(0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, -1, -1, -1, -1, -1);
    const __m128i pb = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 9, 11, 12, 14, 15);
    return hex16_reg(_mm_or_si128(_mm_shuffle_epi8(a, pa), _mm_shuffle_epi8(b, pb)), out);
}

/* Certificate fingerprints as Suricata writes them: m bytes as 3m - 1
 * characters, a colon between every two digits, m >= 8.  8 bytes a step,
 * the last step overlapping; 0 when the value is not exactly that form
 * (the byte loop then decides: colons may also be left out). */
__attribute__((target("sse4.1,ssse3"))) static size_t hex_colons(const char *s, size_t n,
                                                                 uint8_t *out, size_t cap)
{
    size_t m = (n + 1) / 3;
    if ((n + 1) % 3 || m < 8 || m > cap) return 0;
    size_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const char *p = s + 3 * j;
        if (!hex16_colons(p, out + j)) return 0;
        if (j + 8 < m && p[23] != ':') return 0; /* the colon after this step's last byte */
    }
    if (j < m && !hex16_colons(s + 3 * (m - 8), out + m - 8)) return 0;
    return m;
}

__attribute__((target("sse4.1,ssse3"))) size_t pki_parse_hex_simd(const char *s, size_t n,
                                                                  uint8_t *out, size_t cap)
{
    if (n & 1) { /* an odd length: maybe the colon form */
        size_t m = n >= 23 ? hex_colons(s, n, out, cap) : 0;
        return m ? m : pki_parse_hex(s, n, out, cap, 1);
    }
    if (n < 16 || n / 2 > cap) return pki_parse_hex(s, n, out, cap, 1);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        if (!hex16(s + i, out + i / 2)) return pki_parse_hex(s, n, out, cap, 1);
    if (i < n && !hex16(s + n - 16, out + n / 2 - 8)) /* the tail, overlapping */
        return pki_parse_hex(s, n, out, cap, 1);
    return n / 2;
}
#endif

static size_t hash_len(pk_ioc_type t)
{
    switch (t) {
    case PK_IOC_MD5:
        return 16;
    case PK_IOC_SHA1:
        return 20;
    case PK_IOC_SHA256:
        return 32;
    case PK_IOC_SHA512:
        return 64;
    default:
        return 0;
    }
}

size_t pki_make_key(pk_ioc_type *type, const char *s, size_t n, uint8_t *out, const char **why)
{
    size_t k;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    *why = "empty value";
    if (n == 0) return 0;
    *why = "value too long";
    if (n > PKI_KEY_MAX - 8) return 0;
    switch (*type) {
    case PK_IOC_IPV4:
        *why = "not an IPv4 address";
        return pki_parse_ipv4(s, n, out) ? 4 : 0;
    case PK_IOC_IPV6:
        *why = "not an IPv6 address";
        if (!pki_parse_ipv6(s, n, out)) return 0;
        return 16;
    case PK_IOC_CIDR: {
        *why = "not a network (address/prefix)";
        const char *sl = memchr(s, '/', n);
        if (!sl) return 0;
        size_t al = (size_t)(sl - s);
        char *end;
        char num[8];
        size_t pl = n - al - 1;
        if (pl == 0 || pl > 3) return 0;
        memcpy(num, sl + 1, pl);
        num[pl] = '\0';
        for (size_t i = 0; i < pl; i++)
            if (num[i] < '0' || num[i] > '9') return 0;
        long plen = strtol(num, &end, 10);
        size_t alen;
        if (pki_parse_ipv4(s, al, out)) {
            alen = 4;
            if (plen > 32) return 0;
        } else if (pki_parse_ipv6(s, al, out)) {
            alen = 16;
            if (plen > 128) return 0;
        } else {
            return 0;
        }
        /* clear host bits so 10.1.2.3/8 means 10.0.0.0/8 */
        for (size_t bit = (size_t)plen; bit < alen * 8; bit++)
            out[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        if ((size_t)plen == alen * 8) {
            *type = alen == 4 ? PK_IOC_IPV4 : PK_IOC_IPV6;
            return alen;
        }
        out[alen] = (uint8_t)plen;
        return alen + 1;
    }
    case PK_IOC_DOMAIN:
        *why = "not a domain name";
        return pki_norm_domain(s, n, out);
    case PK_IOC_URL:
        *why = "not a URL (scheme://host/...)";
        return pki_norm_url(s, n, out);
    case PK_IOC_EMAIL:
        *why = "not an e-mail address";
        return pki_norm_email(s, n, out);
    case PK_IOC_MD5:
    case PK_IOC_SHA1:
    case PK_IOC_SHA256:
    case PK_IOC_SHA512:
        *why = "not a hash of that type (hex digits of the right length)";
        k = pki_parse_hex(s, n, out, 64, 0);
        return k == hash_len(*type) ? k : 0;
    case PK_IOC_FILENAME:
    case PK_IOC_USER:
        memcpy(out, s, n);
        return n;
    default:
        *why = "cannot tell the type of this value; write type<TAB>value";
        return 0;
    }
}

pk_ioc_type pki_guess_type(const char *s, size_t n)
{
    uint8_t tmp[PKI_KEY_MAX];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n > PKI_KEY_MAX - 8) return PK_IOC_NONE;
    if (pki_parse_ipv4(s, n, tmp)) return PK_IOC_IPV4;
    if (pki_parse_ipv6(s, n, tmp)) return PK_IOC_IPV6;
    if (memchr(s, '/', n) && !memchr(s, ':', n) ? 1 : 0) {
        pk_ioc_type t = PK_IOC_CIDR;
        const char *why;
        if (pki_make_key(&t, s, n, tmp, &why)) return PK_IOC_CIDR;
    }
    if (memchr(s, '/', n) && memchr(s, ':', n)) {
        pk_ioc_type t = PK_IOC_CIDR;
        const char *why;
        if (pki_make_key(&t, s, n, tmp, &why)) return PK_IOC_CIDR;
        if (pki_norm_url(s, n, tmp)) return PK_IOC_URL;
    }
    if (memchr(s, '@', n)) return pki_norm_email(s, n, tmp) ? PK_IOC_EMAIL : PK_IOC_NONE;
    size_t h = pki_parse_hex(s, n, tmp, 64, 0);
    if (h == 16) return PK_IOC_MD5;
    if (h == 20) return PK_IOC_SHA1;
    if (h == 32) return PK_IOC_SHA256;
    if (h == 64) return PK_IOC_SHA512;
    if (memchr(s, '.', n) && pki_norm_domain(s, n, tmp)) {
        /* the last label of a name is letters: 1.2.3 is not a domain */
        const char *last = s + n;
        while (last > s && last[-1] != '.')
            last--;
        int alpha = 0;
        for (const char *q = last; q < s + n; q++)
            if ((*q | 32) >= 'a' && (*q | 32) <= 'z') alpha = 1;
        if (alpha) return PK_IOC_DOMAIN;
    }
    return PK_IOC_NONE;
}

/* v in decimal, NUL-terminated; its length. */
static size_t dec_text(unsigned v, char *out)
{
    size_t o = 0;
    if (v >= 100) out[o++] = (char)('0' + v / 100);
    if (v >= 10) out[o++] = (char)('0' + v / 10 % 10);
    out[o++] = (char)('0' + v % 10);
    out[o] = '\0';
    return o;
}

/* inet_ntop's text of an IPv4 address (16 bytes of room), without its
 * printf: alerts are mostly on addresses and networks. */
static size_t ipv4_text(const uint8_t *key, char *out)
{
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        o += dec_text(key[i], out + o);
        if (i < 3) out[o++] = '.';
    }
    return o;
}

size_t pki_key_text(unsigned type, const uint8_t *key, size_t n, char *out, size_t cap)
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    switch (type) {
    case PK_IOC_IPV4:
        if (n == 4 && cap >= 16) return ipv4_text(key, out);
        break;
    case PK_IOC_IPV6:
        if (n == 16 && inet_ntop(AF_INET6, key, out, (socklen_t)cap)) return strlen(out);
        break;
    case PK_IOC_CIDR:
        if (n == 5 && cap >= 20) {
            o = ipv4_text(key, out);
            out[o++] = '/';
            return o + dec_text(key[4], out + o);
        }
        if ((n == 5 && inet_ntop(AF_INET, key, out, (socklen_t)cap)) ||
            (n == 17 && inet_ntop(AF_INET6, key, out, (socklen_t)cap))) {
            o = strlen(out);
            o += (size_t)snprintf(out + o, cap - o, "/%u", key[n - 1]);
            return o;
        }
        break;
    case PK_IOC_MD5:
    case PK_IOC_SHA1:
    case PK_IOC_SHA256:
    case PK_IOC_SHA512:
        for (size_t i = 0; i < n && o + 3 < cap; i++) {
            out[o++] = hx[key[i] >> 4];
            out[o++] = hx[key[i] & 15];
        }
        out[o] = '\0';
        return o;
    default:
        if (n >= cap) n = cap - 1;
        memcpy(out, key, n);
        out[n] = '\0';
        return n;
    }
    out[0] = '\0';
    return 0;
}

void pki_json_escape(pk_buf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    pk_buf_addc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
        pk_buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15], 0};
        switch (c) {
        case '"':
            pk_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            pk_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            pk_buf_add(b, "\\n", 2);
            break;
        case '\t':
            pk_buf_add(b, "\\t", 2);
            break;
        case '\r':
            pk_buf_add(b, "\\r", 2);
            break;
        default:
            pk_buf_add(b, esc, 6);
        }
    }
    pk_buf_add(b, s + run, n - run);
    pk_buf_addc(b, '"');
}

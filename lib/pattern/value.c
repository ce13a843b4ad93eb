/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value codecs for patterns: base64 and hex (b'' and h'' constants and the
 * _bin/_hex properties they compare with), CIDR ranges for ISSUBSET and
 * ISSUPERSET, and LIKE wildcard matching.
 */
#include "pattern_int.h"

#include <arpa/inet.h>
#include <string.h>

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long pki_base64_decode(const char *s, size_t n, unsigned char *out)
{
    /* Strict: length a multiple of 4, padding only at the end, and the unused
     * bits of the last group zero, so that each byte string has one text. */
    if (n % 4) return -1;
    long o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (c == '=') {
                if (i + 4 != n || k < 2) return -1;
                pad++;
                v[k] = 0;
            } else {
                if (pad) return -1;
                if ((v[k] = b64val(c)) < 0) return -1;
            }
        }
        unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                          ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        if (pad == 2 && (w & 0xFFFF)) return -1;
        if (pad == 1 && (w & 0xFF)) return -1;
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2) out[o++] = (unsigned char)(w >> 8);
        if (pad < 1) out[o++] = (unsigned char)w;
    }
    return o;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long pki_hex_decode(const char *s, size_t n, unsigned char *out)
{
    if (n % 2) return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

pk_status pki_base64_encode(pk_buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned long w = (unsigned long)p[i] << 16;
        if (i + 1 < n) w |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n) w |= p[i + 2];
        char q[4] = {tab[(w >> 18) & 63], tab[(w >> 12) & 63], tab[(w >> 6) & 63], tab[w & 63]};
        if (i + 1 >= n) q[2] = '=';
        if (i + 2 >= n) q[3] = '=';
        if (pk_buf_add(b, q, 4)) return PK_ENOMEM;
    }
    return PK_OK;
}

pk_status pki_hex_encode(pk_buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char q[2] = {tab[p[i] >> 4], tab[p[i] & 15]};
        if (pk_buf_add(b, q, 2)) return PK_ENOMEM;
    }
    return PK_OK;
}

int pki_cidr_parse(const char *s, size_t n, pki_cidr *out)
{
    char tmp[64];
    size_t alen = n;
    const char *slash = memchr(s, '/', n);
    int prefix = -1;
    if (slash) {
        alen = (size_t)(slash - s);
        size_t plen = n - alen - 1;
        if (plen == 0 || plen > 3) return -1;
        prefix = 0;
        for (size_t i = 0; i < plen; i++) {
            char c = slash[1 + i];
            if (c < '0' || c > '9') return -1;
            prefix = prefix * 10 + (c - '0');
        }
        if (plen > 1 && slash[1] == '0') return -1;
    }
    if (alen == 0 || alen >= sizeof tmp) return -1;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, tmp, out->addr) == 1) {
        out->family = 4;
        if (prefix < 0) prefix = 32;
        if (prefix > 32) return -1;
    } else if (inet_pton(AF_INET6, tmp, out->addr) == 1) {
        out->family = 6;
        if (prefix < 0) prefix = 128;
        if (prefix > 128) return -1;
    } else {
        return -1;
    }
    out->prefix = prefix;
    int bytes = out->family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;
        if (keep >= 8) continue;
        if (keep <= 0)
            out->addr[i] = 0;
        else
            out->addr[i] &= (unsigned char)(0xFF << (8 - keep));
    }
    return 0;
}

int pki_cidr_within(const pki_cidr *inner, const pki_cidr *outer)
{
    if (inner->family != outer->family) return 0;
    if (inner->prefix < outer->prefix) return 0;
    int full = outer->prefix / 8, rest = outer->prefix % 8;
    if (memcmp(inner->addr, outer->addr, (size_t)full) != 0) return 0;
    if (rest) {
        unsigned char m = (unsigned char)(0xFF << (8 - rest));
        if ((inner->addr[full] & m) != (outer->addr[full] & m)) return 0;
    }
    return 1;
}

/* Length of the UTF-8 character starting at s[0] (1 for invalid bytes). */
static size_t u8len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (l > n) return 1;
    for (size_t i = 1; i < l; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) return 1;
    return l;
}

int pki_like(const char *s, size_t n, const char *pat, size_t pn, int bytes)
{
    /* The classic two-cursor wildcard match: on a mismatch go back to just
     * after the last '%' and let it swallow one more character.  O(n*m) in
     * the worst case, never exponential, whatever the number of '%'. */
    size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
    while (i < n) {
        if (j < pn && pat[j] == '%') {
            star_j = ++j;
            star_i = i;
            continue;
        }
        if (j < pn && pat[j] == '_') {
            i += bytes ? 1 : u8len(s + i, n - i);
            j++;
            continue;
        }
        if (j < pn && pat[j] == s[i]) {
            i++;
            j++;
            continue;
        }
        if (star_j == (size_t)-1) return 0;
        star_i += bytes ? 1 : u8len(s + star_i, n - star_i);
        i = star_i;
        j = star_j;
    }
    while (j < pn && pat[j] == '%')
        j++;
    return j == pn;
}

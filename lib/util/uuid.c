/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UUIDs: random version 4 for new objects, name-based version 5 for STIX
 * cyber-observables, whose ids must be the same wherever they are computed.
 * SHA-1 is here only because RFC 4122's version 5 is defined on it.
 */
#include "picket/util.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* SHA-1 per FIPS 180-4, section 6.1. */
typedef struct {
    uint32_t h[5];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
} sha1_ctx;

static inline uint32_t rol(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    for (int t = 16; t < 80; t++)
        w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) {
            f = (b & cc) | (~b & d);
            k = 0x5a827999;
        } else if (t < 40) {
            f = b ^ cc ^ d;
            k = 0x6ed9eba1;
        } else if (t < 60) {
            f = (b & cc) | (b & d) | (cc & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ cc ^ d;
            k = 0xca62c1d6;
        }
        uint32_t tmp = rol(a, 5) + f + e + k + w[t];
        e = d;
        d = cc;
        cc = rol(b, 30);
        b = a;
        a = tmp;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
    static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
    c->fill = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->bytes += n;
    while (n) {
        size_t k = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, k);
        c->fill += k;
        p += k;
        n -= k;
        if (c->fill == 64) {
            sha1_block(c, c->block);
            c->fill = 0;
        }
    }
}

static void sha1_final(sha1_ctx *c, uint8_t out[20])
{
    uint64_t bits = c->bytes * 8;
    unsigned char pad = 0x80;
    sha1_update(c, &pad, 1);
    pad = 0;
    while (c->fill != 56)
        sha1_update(c, &pad, 1);
    unsigned char len[8];
    for (int k = 0; k < 8; k++)
        len[k] = (unsigned char)(bits >> (56 - 8 * k));
    sha1_update(c, len, 8);
    for (int k = 0; k < 5; k++) {
        out[4 * k] = (uint8_t)(c->h[k] >> 24);
        out[4 * k + 1] = (uint8_t)(c->h[k] >> 16);
        out[4 * k + 2] = (uint8_t)(c->h[k] >> 8);
        out[4 * k + 3] = (uint8_t)c->h[k];
    }
}

void pk_sha1(const void *p, size_t n, uint8_t out[20])
{
    sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, p, n);
    sha1_final(&c, out);
}

pk_status pk_uuid_v4(pk_uuid *out)
{
    size_t got = 0;
    while (got < sizeof out->b) {
        ssize_t r = getrandom(out->b + got, sizeof out->b - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return PK_EIO;
        }
        got += (size_t)r;
    }
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
    return PK_OK;
}

void pk_uuid_v5(pk_uuid *out, const pk_uuid *ns, const void *name, size_t n)
{
    sha1_ctx c;
    uint8_t digest[20];
    sha1_init(&c);
    sha1_update(&c, ns->b, 16);
    sha1_update(&c, name, n);
    sha1_final(&c, digest);
    memcpy(out->b, digest, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void pk_uuid_format(const pk_uuid *u, char out[PK_UUID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[u->b[i] >> 4];
        *p++ = hex[u->b[i] & 15];
    }
    *p = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

pk_status pk_uuid_parse(const char *s, size_t n, pk_uuid *out)
{
    if (n != 36) return PK_EPARSE;
    size_t j = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return PK_EPARSE;
            i++;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return PK_EPARSE;
        out->b[j++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return PK_OK;
}

int pk_uuid_version(const pk_uuid *u)
{
    return u->b[6] >> 4;
}

int pk_uuid_is_rfc4122(const pk_uuid *u)
{
    return (u->b[8] & 0xc0) == 0x80;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of lib/pattern shared across its files: the pk_pattern struct,
 * value codecs (base64, hex, CIDR, LIKE) and tree comparison for tests.
 */
#ifndef PK_PATTERN_INT_H
#define PK_PATTERN_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "picket/pattern.h"

struct pk_pattern {
    pk_arena *arena;
    const pk_pattern_node *root;
    const char *canonical;
    pk_pattern_anchors anchors;
    pcre2_code **regex; /* every compiled regex, freed with the pattern */
    size_t nregex, regex_cap;
    pk_pattern_spec spec;
    size_t nterms; /* comparisons; node->term < nterms */
};

/* A MATCHES regex: compiled for text (UTF-8) and, when every code point of
 * it is below 256, also for binary values (one byte per code point). */
typedef struct pki_regex {
    pcre2_code *text;
    pcre2_code *bin; /* NULL when the regex has code points past 255 */
} pki_regex;

/* pcre2 contexts that allocate through pk_malloc (process-wide, created once). */
pcre2_general_context *pki_pcre2_gctx(void);

/* Canonical text into the arena; NULL on ENOMEM.  spec20: START/STOP print
 * '...' strings (STIX 2.0) instead of t'...'. */
const char *pki_pattern_print(pk_arena *a, const pk_pattern_node *root, int spec20);
/* Compute p->anchors; PK_ENOMEM on failure. */
pk_status pki_pattern_anchors(pk_pattern *p);
/* 1 when the two trees are the same (kinds, paths, values, qualifiers). */
int pki_pattern_equal(const pk_pattern_node *a, const pk_pattern_node *b);

/* Decoders.  They return the decoded length, or -1 when the text is not
 * valid.  out must hold at least n bytes (hex: n/2, base64: n/4*3). */
long pki_base64_decode(const char *s, size_t n, unsigned char *out);
long pki_hex_decode(const char *s, size_t n, unsigned char *out);
/* Encoders into a pk_buf. */
pk_status pki_base64_encode(pk_buf *b, const unsigned char *p, size_t n);
pk_status pki_hex_encode(pk_buf *b, const unsigned char *p, size_t n);

/* An IPv4 or IPv6 address range: family 4 or 6, 16 bytes (IPv4 in the first
 * 4), prefix length. */
typedef struct pki_cidr {
    int family;
    unsigned char addr[16];
    int prefix;
} pki_cidr;
/* Parse "a.b.c.d", "a.b.c.d/n", an IPv6 address, optionally "/n".  0 on
 * success, -1 when it is not one. Host bits are cleared. */
int pki_cidr_parse(const char *s, size_t n, pki_cidr *out);
/* 1 when inner's range lies within outer's (same family). */
int pki_cidr_within(const pki_cidr *inner, const pki_cidr *outer);

/* SQL LIKE: % any run, _ one character (one UTF-8 character, or one byte
 * when `bytes`).  No escape character. */
int pki_like(const char *s, size_t n, const char *pat, size_t pn, int bytes);

#endif /* PK_PATTERN_INT_H */

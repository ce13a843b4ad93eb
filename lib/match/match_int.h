/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the match engine shared across lib/match/: the .pki layout,
 * the key hash, value normalisation and the scanner's observation record.
 *
 * The index file is one flat image, little-endian, every section 64-byte
 * aligned and addressed by an offset from the start, so the bytes of the file
 * are the in-memory index: loading is mmap + validation, no parsing.
 *
 *   header      magic, version, sizes, section offsets, checksum
 *   entries     pki_entry[n_entries], sorted by (type, key); equal keys are
 *               adjacent and all but the last carry PKI_F_MORE
 *   keys        normalised keys, equal keys stored once
 *   strings     NUL-terminated names: IOC list files, indicator ids, patterns
 *   v4keys      bit map of the /16s that hold an IPv4 key (8 KiB)
 *   bloom       split-block Bloom filter: 32-byte blocks of 8 words, one bit
 *               set in each word per key (about 16 bits a key, ~0.1% false
 *               positives); it fits in cache where the table does not, so most
 *               misses cost one cache line
 *   table       open addressing (linear probing) at 80% load, u64 slot =
 *               tag(32) | entry+1; the filter keeps most misses out, so the
 *               long probe runs of a full table are rarely walked
 *   v4, v6      CIDR networks sorted by (start, prefix length) with the index
 *               of the nearest enclosing network: a binary search finds the
 *               nearest network starting at or before an address, and its
 *               parent chain holds every network that contains it, the most
 *               specific first (prefixes nest or are disjoint)
 *   patterns    indicators decided by the pattern evaluator (id, pattern)
 */
#ifndef PICKET_MATCH_INT_H
#define PICKET_MATCH_INT_H

#include <stdatomic.h>
#include <string.h>

#include "picket/match.h"

#define PKI_MAGIC "PICKETIX"
#define PKI_VERSION 2u /* 2: domain_labels, v4keys */
#define PKI_BYTE_ORDER 0x01020304u

typedef struct pki_header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint64_t file_size;
    uint64_t checksum; /* pki_image_checksum: every byte, this field as 0 */
    uint32_t n_entries, n_keys;
    uint32_t n_v4, n_v6;
    uint32_t n_patterns, bloom_blocks;
    uint64_t table_slots; /* about 1.25 x n_keys; an address is (h32 * slots) >> 32 */
    uint64_t off_entries, off_keys, size_keys, off_strings, size_strings;
    uint64_t off_bloom, off_table, off_v4, off_v6, off_patterns;
    uint32_t per_type[16];
    /* bit k: some domain key has k labels (bit 63: 63 or more), so that the
     * scanner probes only the parent domains that can be in the index */
    uint64_t domain_labels;
    /* 8 KiB: a bit per /16 that holds an IPv4 key, so that the scanner
     * probes no address of a /16 without indicators (private ranges) */
    uint64_t off_v4keys;
    uint8_t reserved[24];
} pki_header;

/* An indicator value.  src is a string offset: the IOC list's file name, or
 * (PKI_F_STIX) the indicator id; aux is the list line, or for STIX entries
 * the pattern index + 1 when the pattern evaluator decides (0: exact). */
typedef struct pki_entry {
    uint32_t key_off;
    uint16_t key_len;
    uint8_t type;
    uint8_t flags;
    uint32_t src;
    uint32_t aux;
} pki_entry;
#define PKI_F_MORE 1u /* the next entry has the same type and key */
#define PKI_F_STIX 2u

typedef struct pki_v4 {
    uint32_t start, end; /* host order, inclusive */
    uint32_t parent;     /* index + 1 of the nearest enclosing network, 0 none */
    uint32_t entry;      /* first entry of this network */
} pki_v4;

typedef struct pki_v6 {
    uint8_t start[16], end[16];
    uint32_t parent, entry;
} pki_v6;

typedef struct pki_pattern {
    uint32_t id;      /* string offset of the indicator id */
    uint32_t pattern; /* string offset of the pattern text */
} pki_pattern;

struct pk_match_index {
    atomic_int refs;
    const uint8_t *base;
    size_t size;
    void *mapped; /* mmap base, or NULL */
    size_t mapped_size;
    int huge;       /* the image lies on 2 MiB pages (read_huge in index.c) */
    uint8_t *owned; /* pk_malloc'd image, or NULL */
    const pki_header *h;
    const pki_entry *entries;
    const uint8_t *keys;
    const char *strings;
    const uint32_t *bloom;
    void *bloom_copy; /* the filter on huge pages (see index.c), or NULL */
    size_t bloom_copy_size;
    const uint64_t *table;
    uint64_t table_slots;
    uint8_t v4_16[8192];   /* bit per /16: does any IPv4 network touch it? */
    const uint8_t *v4keys; /* bit per /16: does it hold an IPv4 key? (the image's) */
    uint8_t v4any[8192];   /* v4_16 | v4keys: can an address of this /16 hit at all? */
    const pki_v4 *v4;
    const pki_v6 *v6;
    const pki_pattern *patterns;
    void *compiled; /* pattern evaluator state (pattern.c), or NULL */
};

/* ---- hashing ------------------------------------------------------------- */

static inline uint64_t pki_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t pki_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The key hash, fixed by the file format (a change needs a new version): a
 * 128-bit-multiply fold over 16-byte strides, seeded by the type. */
#define PKI_HASH_K1 0x9fb21c651e98df25ull
#define PKI_HASH_K2 0xc2b2ae3d27d4eb4full

/* The hash's seed and its 16-byte strides; *p and *n are left at the last
 * 0 to 15 bytes, which the two forms below read each their own way. */
static inline uint64_t pki_hash_strides(unsigned type, const uint8_t **p, size_t *n)
{
    uint64_t h = pki_mix((uint64_t)*n ^ PKI_HASH_K1 ^ ((uint64_t)type << 56), PKI_HASH_K2 + type);
    for (; *n >= 16; *p += 16, *n -= 16)
        h = pki_mix(pki_load64(*p) ^ PKI_HASH_K1 ^ h, pki_load64(*p + 8) ^ PKI_HASH_K2);
    return h;
}

static inline uint64_t pki_hash(unsigned type, const uint8_t *p, size_t n)
{
    const uint64_t k1 = PKI_HASH_K1, k2 = PKI_HASH_K2;
    uint64_t h = pki_hash_strides(type, &p, &n);
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = pki_load64(p);
        memcpy(&b, p + 8, n - 8);
    } else {
        memcpy(&a, p, n);
    }
    return pki_mix(h ^ a ^ k2, b ^ k1 ^ (uint64_t)n);
}

/* pki_hash of a key followed by at least 16 readable bytes (the scanner's
 * scratch key): the same value, with the last 1 to 15 bytes read as two
 * words and masked instead of copied byte by byte. */
static inline uint64_t pki_hash_padded(unsigned type, const uint8_t *p, size_t n)
{
    const uint64_t k1 = PKI_HASH_K1, k2 = PKI_HASH_K2;
    uint64_t h = pki_hash_strides(type, &p, &n);
    uint64_t a = pki_load64(p), b = pki_load64(p + 8);
    if (n >= 8) {
        b = n > 8 ? b & (~0ull >> (128 - 8 * n)) : 0;
    } else {
        a = n ? a & (~0ull >> (64 - 8 * n)) : 0;
        b = 0;
    }
    return pki_mix(h ^ a ^ k2, b ^ k1 ^ (uint64_t)n);
}

uint64_t pki_checksum(const uint8_t *p, size_t n);
uint64_t pki_image_checksum(const uint8_t *img, size_t size);
/* Whether loading may use the AVX2 forms of the checksum and the checks (when
 * the CPU has it; the default): the tests and fuzzing compare both. */
void pki_index_simd(int on);
/* The smallest .pki file loading reads into huge pages rather than maps
 * (default 8 MiB; the tests lower it to reach that path with small files). */
void pki_index_read_min(size_t bytes);

/* Split-block Bloom filter (the Parquet layout). */
static const uint32_t pki_bloom_salt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                           0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

static inline const uint32_t *pki_bloom_block(const uint32_t *bloom, uint32_t blocks, uint64_t h)
{
    return bloom + 8 * (size_t)(((h >> 32) * (uint64_t)blocks) >> 32);
}

static inline int pki_bloom_test(const uint32_t *blk, uint64_t h)
{
    uint32_t x = (uint32_t)h;
    uint32_t miss = 0;
    for (int i = 0; i < 8; i++)
        miss |= ~blk[i] & (1u << ((x * pki_bloom_salt[i]) >> 27));
    return miss == 0;
}

/* ---- values -------------------------------------------------------------- */

#define PKI_KEY_MAX 4096 /* longest normalised key (URLs); longer values are refused */

int pki_parse_ipv4(const char *s, size_t n, uint8_t out[4]);
#if defined(__x86_64__) && defined(__GNUC__)
#define PKI_HAVE_IPV4_SIMD 1
/* pki_parse_ipv4 (the same answer) without a branch on the digit counts, for
 * CPUs with SSE4.1 (pki_ipv4_simd_ok) and values followed by at least 16
 * readable bytes (the scanner's lines and scratch buffers all are): it
 * reads 16 bytes from s whatever n is. */
int pki_parse_ipv4_simd(const char *s, size_t n, uint8_t out[4]);
int pki_ipv4_simd_ok(void);
#endif
int pki_parse_ipv6(const char *s, size_t n, uint8_t out[16]);
/* Normalise into out (at least n + 8 bytes; PKI_KEY_MAX caps); returns the
 * length, 0 when the value is not one of its kind. */
size_t pki_norm_domain(const char *s, size_t n, uint8_t *out);
/* pki_norm_domain that also gives the offsets of the dots in the key (a
 * name of at most 253 bytes has at most 126: dots holds 128). */
size_t pki_norm_domain_dots(const char *s, size_t n, uint8_t *out, uint8_t *dots, size_t *ndots);
#if defined(__x86_64__) && defined(__GNUC__)
#define PKI_HAVE_NAME_AVX512 1
/* pki_norm_domain_dots (the same answer and key) 64 bytes a step with
 * AVX-512BW masked loads and stores (nothing read or written past n), for
 * CPUs where pki_name_avx512_ok. */
size_t pki_norm_domain_dots_avx512(const char *s, size_t n, uint8_t *out, uint8_t *dots,
                                   size_t *ndots);
/* The same, out holding whole 64-byte steps (256 bytes for any name) and
 * written whole (zeros past n): the scanner's scratch key, read again at
 * once. */
size_t pki_norm_domain_dots_avx512_pad(const char *s, size_t n, uint8_t *out, uint8_t *dots,
                                       size_t *ndots);
int pki_name_avx512_ok(void);
#endif
/* How many labels a normalised name has. */
unsigned pki_domain_labels(const uint8_t *k, size_t n);
/* The bit of a label count in pki_header.domain_labels (63 for 63 and more). */
static inline uint64_t pki_labels_bit(size_t labels)
{
    return 1ull << (labels < 63 ? labels : 63);
}
#define PKI_V4KEYS_SIZE 8192
size_t pki_norm_email(const char *s, size_t n, uint8_t *out);
size_t pki_norm_url(const char *s, size_t n, uint8_t *out);
/* pki_norm_url byte by byte (the same answer and key), for the tests. */
size_t pki_norm_url_bytes(const char *s, size_t n, uint8_t *out);
/* Hex (any case, ':' between bytes allowed when colons) to bytes; returns the
 * byte count, 0 when not hex. */
size_t pki_parse_hex(const char *s, size_t n, uint8_t *out, size_t cap, int colons);
#ifdef PKI_HAVE_IPV4_SIMD
/* pki_parse_hex(s, n, out, cap, 1) (the same answer) 16 digits a step when
 * they are plain digits (no ':'), for CPUs where pki_ipv4_simd_ok; reads
 * nothing past s + n. */
size_t pki_parse_hex_simd(const char *s, size_t n, uint8_t *out, size_t cap);
#endif
/* The key of a value of `type`; for CIDR the address then the prefix length.
 * Returns the key length and may change *type (a /32 network is an address);
 * 0 and *why set when invalid. */
size_t pki_make_key(pk_ioc_type *type, const char *s, size_t n, uint8_t *out, const char **why);
pk_ioc_type pki_guess_type(const char *s, size_t n);
/* The canonical text of a key, NUL-terminated in out (PKI_KEY_MAX*2+64). */
size_t pki_key_text(unsigned type, const uint8_t *key, size_t n, char *out, size_t cap);

void pki_json_escape(pk_buf *b, const char *s, size_t n);

/* ---- probing ------------------------------------------------------------- */

static inline uint64_t pki_slot(uint64_t h, uint64_t slots)
{
    return ((h & 0xffffffffull) * slots) >> 32;
}

/* The table part of a probe (the filter said maybe). */
static inline long pki_probe_table(const pk_match_index *ix, unsigned type, const uint8_t *key,
                                   size_t n, uint64_t h)
{
    uint64_t slots = ix->table_slots, i = pki_slot(h, slots);
    uint32_t tag = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t s = ix->table[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) == tag) {
            const pki_entry *e = &ix->entries[(uint32_t)s - 1];
            if (e->type == type && e->key_len == n && memcmp(ix->keys + e->key_off, key, n) == 0)
                return (long)((uint32_t)s - 1);
        }
        if (++i == slots) i = 0;
    }
}

/* The first entry whose key is (type, key), or -1. */
static inline long pki_probe(const pk_match_index *ix, unsigned type, const uint8_t *key, size_t n,
                             uint64_t h)
{
    const uint32_t *blk = pki_bloom_block(ix->bloom, ix->h->bloom_blocks, h);
    if (!pki_bloom_test(blk, h)) return -1;
    uint64_t slots = ix->table_slots, i = pki_slot(h, slots);
    uint32_t tag = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t s = ix->table[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) == tag) {
            const pki_entry *e = &ix->entries[(uint32_t)s - 1];
            if (e->type == type && e->key_len == n && memcmp(ix->keys + e->key_off, key, n) == 0)
                return (long)((uint32_t)s - 1);
        }
        if (++i == slots) i = 0;
    }
}

long pki_find_v4(const pk_match_index *ix, uint32_t addr);
long pki_find_v6(const pk_match_index *ix, const uint8_t addr[16]);

/* ---- pattern support (pattern.c) ---------------------------------------- */
pk_status pki_patterns_prepare(pk_match_index *ix, pk_error *err);
void pki_patterns_release(pk_match_index *ix);

#endif /* PICKET_MATCH_INT_H */

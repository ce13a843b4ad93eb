/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scanner's internals shared by scan.c (line loop, probing, alerts),
 * fields.c (field tables), adapters.c (JSON, Zeek TSV, free text) and
 * pattern.c (windows for non-exact patterns).
 */
#ifndef PICKET_SCAN_INT_H
#define PICKET_SCAN_INT_H

#include "match_int.h"

/* What a field holds, so the scanner knows how to read its value. */
enum {
    R_NONE = 0,
    R_IP,        /* IPv4 or IPv6 address */
    R_HOST,      /* address or domain name (DNS answers, SMTP HELO) */
    R_DOMAIN,    /* domain name (an address is read as one) */
    R_URL,       /* whole URL */
    R_HTTP_HOST, /* HTTP Host: a name, and the host part of the URL */
    R_HTTP_PATH, /* HTTP request target: joined to the host to make the URL */
    R_EMAIL,     /* address, or "Name <address>" */
    R_HASH,      /* hex digest; its length says which */
    R_FILENAME,  /* file name or path: the whole and the last component */
    R_USER,      /* account name */
    R_DN,        /* X.509 distinguished name: CN and emailAddress */
    R_TEXT,      /* free text: everything that looks like an observable */
    R_TIME,      /* the record's time */
    R_EVENT,     /* EVE event_type (stats records carry no observables) */
    R_URL_ONLY,  /* a URL whose host is matched elsewhere (joined HTTP URLs, text) */
    /* only in the tables of scanners whose index has patterns on connections
     * or file sizes (pki_fields_add_net): read for the pattern evaluator */
    R_SRC_IP,   /* an address (matched as R_IP) that is the connection's source */
    R_DST_IP,   /* ... its destination */
    R_SRC_PORT, /* numbers and names, never probed */
    R_DST_PORT,
    R_PROTO,
    R_SIZE,
};

/* Window-only value kinds (pki_pat_observe), after the pk_ioc_type numbers:
 * which address is the source or destination, ports, protocol, file size. */
enum {
    PKI_W_SRC_IP = 24,
    PKI_W_DST_IP,
    PKI_W_SRC_PORT,
    PKI_W_DST_PORT,
    PKI_W_PROTO,
    PKI_W_SIZE,
};

typedef struct pki_fieldspec {
    const char *path;
    uint8_t role;
} pki_fieldspec;

#define PKI_FTAB_SLOTS 512
typedef struct pki_fslot {
    uint64_t h;
    const char *name;
    uint8_t used, role;
    uint8_t prefix; /* some wanted field lies below this path */
    uint8_t leaf_len;
    char leaf[44];
} pki_fslot;

typedef struct pki_ftab {
    /* h | 1 of each used slot, 0 when free: the lookup reads this 4 KiB
     * array and touches a 64-byte slot only on a likely hit (the slots
     * together are 32 KiB, more than the L1 cache) */
    uint64_t tag[PKI_FTAB_SLOTS];
    /* a bit per (length, first two bytes) of every entered key, hashed
     * to 15 bits: a key whose bit is clear is in no path, and costs the
     * scanner neither a hash nor a lookup (most keys of a log line) */
    uint64_t kf[512];
    pki_fslot slot[PKI_FTAB_SLOTS];
    unsigned count;
} pki_ftab;

/* The filter bit of a key of n > 0 bytes at k: its length and first two
 * bytes (the first alone when n is 1) multiplied into 15 bits.  Reads two
 * bytes at k. */
static inline unsigned pki_kf_bit(const char *k, size_t n)
{
    uint16_t w;
    memcpy(&w, k, 2);
    uint32_t v = (n < 2 ? (uint32_t)(w & 0xff) : (uint32_t)w) | (uint32_t)n << 16;
    return (v * 0x9e3779b1u) >> 17;
}

/* May a key of n > 0 bytes at k be in t? */
static inline int pki_kf_maybe(const pki_ftab *t, const char *k, size_t n)
{
    unsigned b = pki_kf_bit(k, n);
    return (int)(t->kf[b >> 6] >> (b & 63)) & 1;
}

typedef struct pki_fields {
    pki_ftab eve, zeek, jsonl, any;
    char *map_store;
} pki_fields;

pk_status pki_fields_build(pki_fields *f, const char *map, pk_error *err);
/* Add the connection and file-size fields (R_SRC_IP...R_SIZE) to the EVE,
 * Zeek and generic tables; 0 when a table is full. */
int pki_fields_add_net(pki_fields *f);
void pki_fields_free(pki_fields *f);
uint8_t pki_role_of_type(const char *s, size_t n);

#define PKI_PATH_ROOT 0x6a09e667f3bcc909ull

/* The first 16 bytes of a key of n <= 16 bytes as two words, the bytes
 * past n zero (as a slot's leaf is stored).  Reads 8 or 16 bytes from k
 * whatever n is: the scanner's buffers are padded for it. */
static inline void pki_key16(const char *k, size_t n, uint64_t *a, uint64_t *b)
{
    uint64_t x = pki_load64((const uint8_t *)k), y = 0;
    if (n <= 8)
        x = n ? x & (~0ull >> (64 - 8 * n)) : 0;
    else
        y = pki_load64((const uint8_t *)k + 8) & (~0ull >> (64 - 8 * (n - 8)));
    *a = x;
    *b = y;
}

/* Hash of one key appended to a path, from its words (pki_key16) or, past
 * 16 bytes, from its bytes. */
static inline uint64_t pki_path_mix(uint64_t parent, uint64_t a, uint64_t b, size_t n)
{
    return pki_mix(parent ^ a ^ 0x9fb21c651e98df25ull, b ^ 0xc2b2ae3d27d4eb4full ^ (uint64_t)n);
}

/* Hash of one key appended to a path.  Reads up to 16 bytes from k
 * whatever n is: the scanner's buffers are padded for it. */
static inline uint64_t pki_path_hash(uint64_t parent, const char *k, size_t n)
{
    uint64_t a, b;
    if (n <= 16) {
        pki_key16(k, n, &a, &b);
    } else {
        a = pki_hash(0, (const uint8_t *)k, n);
        b = 0x5851f42d4c957f2dull;
    }
    return pki_path_mix(parent, a, b, n);
}

/* The slot whose path hash is h, or NULL. */
static inline __attribute__((always_inline)) const pki_fslot *pki_ftab_slot(const pki_ftab *t,
                                                                            uint64_t h)
{
    uint32_t i = (uint32_t)h & (PKI_FTAB_SLOTS - 1);
    for (;;) {
        uint64_t g = t->tag[i];
        if (!g) return NULL;
        if (g == (h | 1) && t->slot[i].h == h) return &t->slot[i];
        i = (i + 1) & (PKI_FTAB_SLOTS - 1);
    }
}

/* Is the leaf of s the key of n <= 16 bytes whose words are a, b?  (The
 * leaf is stored zero-padded; 16 bytes of it are readable.) */
static inline int pki_leaf_is(const pki_fslot *s, size_t n, uint64_t a, uint64_t b)
{
    return s->leaf_len == n && a == pki_load64((const uint8_t *)s->leaf) &&
           b == pki_load64((const uint8_t *)s->leaf + 8);
}

static inline const pki_fslot *pki_ftab_find(const pki_ftab *t, uint64_t h, const char *leaf,
                                             size_t n)
{
    const pki_fslot *s = pki_ftab_slot(t, h);
    if (!s) return NULL;
    if (n > 16) return s->leaf_len == n && memcmp(s->leaf, leaf, n) == 0 ? s : NULL;
    uint64_t a, b;
    pki_key16(leaf, n, &a, &b);
    return pki_leaf_is(s, n, a, b) ? s : NULL;
}

/* pki_ftab_find(t, pki_path_hash(parent, k, n), k, n) in one: a key of up
 * to 16 bytes is loaded and masked once, for the hash and for the compare
 * with the slot's leaf (the walk looks up ~15 keys a line). */
static inline const pki_fslot *pki_ftab_lookup(const pki_ftab *t, uint64_t parent, const char *k,
                                               size_t n)
{
    if (n > 16) return pki_ftab_find(t, pki_path_hash(parent, k, n), k, n);
    uint64_t a, b;
    pki_key16(k, n, &a, &b);
    const pki_fslot *s = pki_ftab_slot(t, pki_path_mix(parent, a, b, n));
    return s && pki_leaf_is(s, n, a, b) ? s : NULL;
}

/* One value found in a record, matched once the record proved well formed. */
typedef struct pki_obs {
    const char *v;
    uint32_t len;
    uint8_t role;
    uint8_t esc; /* 0 plain, 1 JSON escapes, 2 Zeek \xHH escapes */
    const char *field;
} pki_obs;

/* Resolved per-input formats. */
enum { F_UNKNOWN = 0, F_EVE, F_ZEEK_JSON, F_ZEEK_TSV, F_JSONL, F_JSON_ANY, F_TEXT };

#define PKI_PAD 64 /* readable bytes past the end of any line */

/*
 * The JSON walk's fast path (adapters.c) sees a line as bit masks first, a
 * bit per byte in 64-bit words: its quotes, the bytes that end a scalar,
 * its brackets outside strings, which bytes lie inside strings, and the
 * positions of the strings' closing quotes in order.  The word after the
 * line's last block is set, so that a search for the next quote or scalar
 * end always stops.  Lines longer than PKI_JF_MAX take the byte-by-byte
 * walker.
 */
#define PKI_JF_MAX 16384
#define PKI_JF_WORDS (PKI_JF_MAX / 64 + 2)
typedef struct pki_jfast {
    uint64_t q[PKI_JF_WORDS];     /* '"' */
    uint64_t br[PKI_JF_WORDS];    /* { } [ ] outside strings */
    uint64_t in[PKI_JF_WORDS];    /* inside a string (an opening quote is, a closing one not) */
    uint64_t cq[PKI_JF_WORDS];    /* closing quotes */
    uint16_t cc[PKI_JF_WORDS];    /* closing quotes before each block */
    uint16_t ci[PKI_JF_MAX + 64]; /* the positions of the closing quotes, in order */
    unsigned nb;                  /* 64-byte blocks in the line */
    /* set by pki_json_find_line: the line whose masks these are */
    const char *line;
    size_t n;
    int ok; /* stage 1 took it */
} pki_jfast;

/* How pki_json_line walks a line: chosen at the first line (AUTO) from what
 * the CPU offers; tests set it to compare the forms. */
enum {
    PKI_JSON_AUTO = 0,
    PKI_JSON_WALK,        /* the byte-by-byte walker only */
    PKI_JSON_FAST_C,      /* masks in plain C, then the fast path */
    PKI_JSON_FAST_SSE2,   /* masks with SSE2 (x86-64) */
    PKI_JSON_FAST_AVX2,   /* masks with AVX2 (chosen at run time) */
    PKI_JSON_FAST_AVX512, /* masks and the list with AVX-512 BW and VBMI2 (run time) */
};
#define PKI_JSON_NMODES 4 /* fast forms (C, SSE2, AVX2, AVX-512) */
/* The fast forms this machine runs, slowest first (the last is the one
 * chosen): their count. */
int pki_json_modes(int modes[PKI_JSON_NMODES]);

struct pk_match_scanner {
    pk_match_index *ix;
    pk_match_callbacks cb;
    pk_match_format want;
    int fmt;
    unsigned window;
    pki_fields fields;
    int has_map;
    int avx2;            /* the filter test may use AVX2 (scan.c) */
    int ipv4simd;        /* pki_parse_ipv4_simd may run */
    int avx512;          /* pki_norm_domain_dots_avx512 may run */
    int jmode;           /* PKI_JSON_*: how JSON lines are walked (adapters.c) */
    unsigned long jfast; /* JSON lines the fast path took (the rest: the walker) */
    uint64_t dom_labels; /* the index's domain_labels: which parent domains to probe */
    unsigned kinds;      /* bit per pk_ioc_type the index holds: the rest is not even read */

    char *buf; /* lines being assembled; PKI_PAD spare bytes after cap */
    size_t cap, len;
    /* the lines being matched: a queued probe points at an observed value
     * in here instead of copying it (it stays put until the batch has run) */
    const char *stable_lo, *stable_hi;
    size_t max_line;

    char *source;
    long line;
    pk_match_stats st;

    /* Zeek TSV header state */
    char sep, setsep;
    char unset[16], empty[16];
    size_t unset_len, empty_len;
    uint8_t *colrole;
    const char **colname;
    char *colstore;
    size_t ncols;
    int *collist;

    /* the record being matched */
    pki_obs *obs;
    size_t nobs, obscap;
    const char *time;
    size_t time_len;
    int time_esc;
    const char *host, *path;
    size_t host_len, path_len;
    const char *host_field, *path_field;
    int time_state; /* 0 not yet formatted, 1 formatted, -1 none */
    char timebuf[PK_TIME_STRLEN];
    int64_t time_ms;

    /* scratch */
    uint8_t key[PKI_KEY_MAX + 64];
    char text[PKI_KEY_MAX * 2 + 64];
    char unesc[PKI_KEY_MAX + 64];
    char url[PKI_KEY_MAX * 2 + 64];

    void *pat; /* pattern windows (pattern.c) */

    pki_jfast jf; /* the masks of the JSON line being walked (adapters.c) */

    /* the record's probes, batched so that their cache misses overlap; without
     * patterns a record's batch runs after the next record is parsed */
    struct pki_probe_item *q, *q2;
    size_t nq, qcap, nq2, qcap2;
    pk_buf qbytes, qbytes2; /* keys and observed values of the queued probes */
    struct pki_recctx {
        long line;
        const char *time;
        size_t time_len;
        int time_esc, time_state;
        int64_t time_ms;
        char timebuf[PK_TIME_STRLEN];
    } pend; /* the record whose batch is q2 */
    /* the names of this record queued so far (match_domain), in the lines:
     * the same name again (a DNS query's name and its answer's, a
     * certificate's CN and the SNI) takes a copy of their probes instead of
     * being normalised and hashed again; valid while nq has not been reset
     * (qruns counts the runs of the queue) */
    struct pki_seen {
        const char *v;
        uint32_t n, q0, q1;
        unsigned long run;
    } seen[4];
    unsigned nseen;
    unsigned long qruns;
    unsigned long seen_copies; /* names matched by a copy (tests) */
    int noseen;                /* tests: match every name anew */
};

/* A queued probe: a key to look up, or (ei set) a network hit already found. */
typedef struct pki_probe_item {
    uint64_t h;
    const char *obs; /* the observed value in the lines, or NULL: at ooff in the byte store */
    uint32_t koff, ooff, olen;
    uint16_t klen;
    uint8_t type, pass;
    long ei; /* >= 0: a direct hit (CIDR) */
    const char *field, *how;
} pki_probe_item;

void pki_flush_probes(pk_match_scanner *s);
/* Run the deferred batch of the previous record (a no-op when none). */
void pki_flush_pending(pk_match_scanner *s);

/* adapters.c: scan one line (n bytes at p, PKI_PAD readable after), filling
 * s->obs; return NULL when well formed, "" to skip the line silently, or
 * the reason it is malformed. */
const char *pki_json_line(pk_match_scanner *s, const char *p, size_t n, const pki_ftab *t);
/* The length of the line at p, up to its '\n' among the first lim bytes,
 * found by the JSON fast path's stage 1 (which pki_json_line on that line
 * then does not repeat); PKI_JF_NOLINE when there is no '\n', PKI_JF_NONE
 * when the caller must search itself (not JSON, no fast path, a long line). */
size_t pki_json_find_line(pk_match_scanner *s, const char *p, size_t lim);
#define PKI_JF_NOLINE ((size_t)-1)
#define PKI_JF_NONE ((size_t)-2)
const char *pki_tsv_line(pk_match_scanner *s, const char *p, size_t n);
void pki_text_extract(pk_match_scanner *s, const char *p, size_t n, const char *field);
int pki_add_obs(pk_match_scanner *s, uint8_t role, const char *field, const char *v, size_t n,
                uint8_t esc);
size_t pki_unescape(const char *v, size_t n, int esc, char *out, size_t cap);

/* scan.c: match one value of a known kind (already unescaped).  v must be
 * followed by at least 16 readable bytes (the lines have PKI_PAD, scratch
 * buffers spare room): addresses are parsed 16 bytes at a time. */
void pki_match_value(pk_match_scanner *s, uint8_t role, const char *field, const char *v, size_t n);
/* The next matched part of a distinguished name from *i on ("CN=" R_HOST,
 * "emailAddress=" R_EMAIL, 0 none left), its value [*st, *en); simd 0 for
 * the byte loop (the tests compare the two).  16 bytes after v are read. */
uint8_t pki_dn_next(const char *v, size_t n, size_t *i, size_t *st, size_t *en, int simd);
void pki_emit(pk_match_scanner *s, uint32_t ei, const char *field, const char *observed,
              size_t olen, const char *how);

/* pattern.c */
pk_status pki_pat_scanner_init(pk_match_scanner *s, pk_error *err);
void pki_pat_scanner_free(pk_match_scanner *s);
void pki_pat_record_begin(pk_match_scanner *s);
void pki_pat_candidate(pk_match_scanner *s, uint32_t ei, const char *field, const char *observed,
                       size_t olen, const char *how);
/* Remember a value of the current record for the window (a no-op without patterns). */
void pki_pat_observe(pk_match_scanner *s, unsigned type, const char *v, size_t n);
/* The current record's time in ms (its own, or now when it has none). */
int64_t pki_record_ms(pk_match_scanner *s);
void pki_pat_record_end(pk_match_scanner *s);
void pki_pat_stream_reset(pk_match_scanner *s);

#endif /* PICKET_SCAN_INT_H */

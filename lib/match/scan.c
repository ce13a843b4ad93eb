/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scanner: assemble lines from any chunking, pick the adapter, and match
 * each value of a well formed record: normalise it into a key, hash it, ask
 * the Bloom filter, and only then the table (match_int.h).  Domains are probed
 * once per suffix (a.b.evil.com, b.evil.com, evil.com, com) so that an
 * indicator evil.com hits its subdomains and never notevil.com; addresses are
 * probed exactly and then in the CIDR arrays.
 */
#include "scan_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The bit of a kind of value in pk_match_scanner.kinds. */
#define KIND(t) (1u << (t))
#define BUF_INIT ((size_t)1 << 20)
#define LINE_MAX_DEFAULT ((size_t)64 << 20)

int pk_match_format_parse(const char *s)
{
    static const char *const names[] = {"auto", "eve", "zeek", "jsonl", "text"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) return i;
    if (strcmp(s, "json") == 0) return PK_FMT_JSONL;
    return -1;
}

pk_status pk_match_scanner_new(pk_match_index *ix, const pk_match_options *opt,
                               const pk_match_callbacks *cb, pk_match_scanner **out, pk_error *err)
{
    *out = NULL;
    if (!ix) return pk_error_set(err, PK_EINVAL, "no index");
    pk_match_scanner *s = pk_calloc(1, sizeof *s);
    if (!s) return pk_error_set(err, PK_ENOMEM, "out of memory");
    s->ix = pk_match_index_ref(ix);
    s->dom_labels = ix->h->domain_labels;
    for (int t = 1; t < PK_IOC_TYPE_MAX_; t++)
        if (ix->h->per_type[t]) s->kinds |= KIND(t);
    if (ix->h->n_v4) s->kinds |= KIND(PK_IOC_IPV4);
    if (ix->h->n_v6) s->kinds |= KIND(PK_IOC_IPV6);
    if (cb) s->cb = *cb;
    s->want = opt ? opt->format : PK_FMT_AUTO;
    s->window = opt && opt->window ? opt->window : 64;
    s->max_line = LINE_MAX_DEFAULT;
    pk_buf_init(&s->qbytes, 0);
    pk_buf_init(&s->qbytes2, 0);
    s->cap = BUF_INIT;
    s->buf = pk_malloc(s->cap + PKI_PAD);
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    s->avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
#ifdef PKI_HAVE_IPV4_SIMD
    s->ipv4simd = pki_ipv4_simd_ok();
#endif
#ifdef PKI_HAVE_NAME_AVX512
    s->avx512 = pki_name_avx512_ok();
#endif
    pk_status rc = PK_OK;
    if (!s->buf) {
        rc = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    memset(s->buf + s->cap, 0, PKI_PAD);
    if ((rc = pki_fields_build(&s->fields, opt ? opt->map : NULL, err)) != PK_OK) goto fail;
    s->has_map = opt && opt->map && *opt->map;
    if ((rc = pki_pat_scanner_init(s, err)) != PK_OK) goto fail;
    if (s->pat) s->kinds = ~0u; /* the window wants every value */
    if ((rc = pk_match_scanner_begin(s, "-", err)) != PK_OK) goto fail;
    *out = s;
    return PK_OK;
fail:
    pk_match_scanner_free(s);
    return rc;
}

static void reset_tsv(pk_match_scanner *s)
{
    pk_free(s->colrole);
    pk_free(s->colname);
    pk_free(s->colstore);
    pk_free(s->collist);
    s->colrole = NULL;
    s->colname = NULL;
    s->colstore = NULL;
    s->collist = NULL;
    s->ncols = 0;
    s->sep = '\t';
    s->setsep = ',';
    memcpy(s->unset, "-", 2);
    s->unset_len = 1;
    memcpy(s->empty, "(empty)", 8);
    s->empty_len = 7;
}

void pk_match_scanner_free(pk_match_scanner *s)
{
    if (!s) return;
    pki_pat_scanner_free(s);
    reset_tsv(s);
    pki_fields_free(&s->fields);
    pk_free(s->obs);
    pk_free(s->q);
    pk_free(s->q2);
    pk_buf_free(&s->qbytes);
    pk_buf_free(&s->qbytes2);
    pk_free(s->buf);
    pk_free(s->source);
    pk_match_index_free(s->ix);
    pk_free(s);
}

pk_status pk_match_scanner_begin(pk_match_scanner *s, const char *source, pk_error *err)
{
    char *name = pk_strdup(source ? source : "-");
    if (!name) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_free(s->source);
    s->source = name;
    pki_flush_pending(s);
    s->line = 0;
    s->len = 0;
    s->fmt = F_UNKNOWN;
    reset_tsv(s);
    pki_pat_stream_reset(s);
    return PK_OK;
}

void pk_match_scanner_stats(const pk_match_scanner *s, pk_match_stats *out)
{
    *out = s->st;
}

/* ---- time ---------------------------------------------------------------- */

static void record_time(pk_match_scanner *s)
{
    if (s->time_state) return;
    s->time_state = -1;
    if (!s->time || !s->time_len || s->time_len > 60) return;
    char t[80];
    size_t n = s->time_esc ? pki_unescape(s->time, s->time_len, s->time_esc, t, 70)
                           : (memcpy(t, s->time, s->time_len), s->time_len);
    t[n] = '\0';
    pk_time tm;
    int num = n > 0;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || t[i] == '.')) num = 0;
    if (num) { /* epoch seconds with a fraction (Zeek) */
        char *dot;
        errno = 0;
        long long sec = strtoll(t, &dot, 10);
        /* years 0000..9999 only, as RFC 3339 can write them */
        if (errno || sec < -62167219200LL || sec > 253402300799LL) return;
        long nsec = 0;
        int digits = 0;
        if (*dot == '.')
            for (const char *q = dot + 1; *q && digits < 9; q++, digits++)
                nsec = nsec * 10 + (*q - '0');
        for (int d = digits; d < 9; d++)
            nsec *= 10;
        tm.sec = sec;
        tm.nsec = (int32_t)nsec;
        tm.digits = (int8_t)digits;
    } else if (pk_time_parse(t, n, PK_TIME_RFC3339, &tm, NULL) != PK_OK) {
        /* Suricata writes the offset without a colon (-0600), some logs none */
        if (n >= 5 && (t[n - 5] == '+' || t[n - 5] == '-') && n + 2 < sizeof t) {
            memmove(t + n - 1, t + n - 2, 3);
            t[n - 2] = ':';
            n++;
        } else if (n && t[n - 1] >= '0' && t[n - 1] <= '9' && n + 2 < sizeof t) {
            t[n++] = 'Z';
        }
        if (pk_time_parse(t, n, PK_TIME_RFC3339, &tm, NULL) != PK_OK) return;
    }
    pk_time_format(&tm, -1, s->timebuf);
    s->time_ms = pk_time_to_ms(&tm);
    s->time_state = 1;
}

int64_t pki_record_ms(pk_match_scanner *s)
{
    record_time(s);
    if (s->time_state == 1) return s->time_ms;
    pk_time now = pk_time_now();
    return pk_time_to_ms(&now);
}

#define OBSERVE(s, t, v, n)                                                                        \
    do {                                                                                           \
        if ((s)->pat) pki_pat_observe((s), (t), (v), (n));                                         \
    } while (0)

/* ---- hits ---------------------------------------------------------------- */

void pki_emit(pk_match_scanner *s, uint32_t ei, const char *field, const char *observed,
              size_t olen, const char *how)
{
    const pk_match_index *ix = s->ix;
    const pki_entry *e = &ix->entries[ei];
    pk_match_alert a;
    memset(&a, 0, sizeof a);
    const char *src = ix->strings + e->src;
    if (e->flags & PKI_F_STIX) {
        a.indicator_id = src;
    } else {
        a.ioc_source = src;
        a.ioc_line = (long)e->aux;
    }
    a.type = (pk_ioc_type)e->type;
    pki_key_text(e->type, ix->keys + e->key_off, e->key_len, s->text, sizeof s->text);
    a.value = s->text;
    a.observed = observed;
    a.observed_len = olen;
    a.field = field ? field : "text";
    a.how = how;
    a.source = s->source;
    a.line = s->line;
    record_time(s);
    if (s->time_state == 1) {
        a.time = s->timebuf;
        a.time_ms = s->time_ms;
    }
    s->st.alerts++;
    if (s->cb.alert) s->cb.alert(s->cb.ud, &a);
}

static void hit_group(pk_match_scanner *s, uint32_t ei, const char *field, const char *obs,
                      size_t olen, const char *how)
{
    const pki_entry *ent = s->ix->entries;
    for (;;) {
        if ((ent[ei].flags & PKI_F_STIX) && ent[ei].aux)
            pki_pat_candidate(s, ei, field, obs, olen, how);
        else
            pki_emit(s, ei, field, obs, olen, how);
        if (!(ent[ei].flags & PKI_F_MORE)) break;
        ei++;
    }
}

/* Append n bytes to a queue's byte store; its offset in *off, 0 on failure
 * (no room).  The common case (room left) is a bare copy. */
static inline int qb_put(pk_buf *b, const void *p, size_t n, uint32_t *off)
{
    if (b->len + n < b->cap && b->len + n <= UINT32_MAX) {
        char *d = b->data + b->len;
        switch (n) { /* the usual key sizes without a call (addresses, digests) */
        case 0:
            break;
        case 4:
            memcpy(d, p, 4);
            break;
        case 16:
            memcpy(d, p, 16);
            break;
        case 20:
            memcpy(d, p, 20);
            break;
        case 32:
            memcpy(d, p, 32);
            break;
        default:
            memcpy(d, p, n);
        }
        *off = (uint32_t)b->len;
        b->len += n;
        return 1;
    }
    if (b->len + n > UINT32_MAX || pk_buf_add(b, p, n) != PK_OK) return 0;
    *off = (uint32_t)(b->len - n);
    return 1;
}

/* qb_put of a key in the scratch key buffer (64 readable bytes after any
 * key): one of up to 64 bytes is copied as 64, without a call. */
static inline int qb_put_key(pk_buf *b, const uint8_t *k, size_t n, uint32_t *off)
{
    if (n <= 64 && b->len + 64 < b->cap && b->len + n <= UINT32_MAX) {
        memcpy(b->data + b->len, k, 64);
        *off = (uint32_t)b->len;
        b->len += n;
        return 1;
    }
    return qb_put(b, k, n, off);
}

/* The next free queue item, growing the queue (or, at its cap, running what
 * is queued); NULL when no memory at all. */
static inline pki_probe_item *q_slot(pk_match_scanner *s)
{
    if (s->nq == s->qcap) {
        size_t nc = s->qcap ? s->qcap * 2 : 64;
        pki_probe_item *nq = nc <= 65536 ? pk_realloc(s->q, nc * sizeof *nq) : NULL;
        if (!nq) {
            pki_flush_probes(s); /* no room: run what we have */
            if (s->qcap == 0) return NULL;
        } else {
            s->q = nq;
            s->qcap = nc;
        }
    }
    return &s->q[s->nq];
}

static inline int in_lines(const pk_match_scanner *s, const char *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    return a >= (uintptr_t)s->stable_lo && a + n <= (uintptr_t)s->stable_hi;
}

/* The observed value of a probe: pointed at when it lies in the lines being
 * scanned (they stay put until the pending batch has run: see drain),
 * copied otherwise (scratch buffers are reused by the next value). */
static inline int q_obs(pk_match_scanner *s, pki_probe_item *it, const char *obs, size_t olen)
{
    it->olen = (uint32_t)olen;
    if (in_lines(s, obs, olen)) {
        it->obs = obs;
        return 1;
    }
    it->obs = NULL;
    return qb_put(&s->qbytes, obs, olen, &it->ooff);
}

/*
 * Probes are queued per record and run together at its end: computing every
 * hash and prefetching every filter block first, then every table slot that
 * passed, lets the cache misses of one record overlap instead of queueing
 * one behind the other (with 1M keys the 2 MB filter lives in L3 at best).
 * Hits come out in the order the values were seen.
 */
static inline __attribute__((always_inline)) void enqueue(pk_match_scanner *s, unsigned type,
                                                          const uint8_t *k, size_t n, long ei,
                                                          const char *field, const char *obs,
                                                          size_t olen, const char *how, int padded)
{
    pki_probe_item *it = q_slot(s);
    if (!it) return;
    size_t at = s->qbytes.len;
    if (!(padded ? qb_put_key(&s->qbytes, k, n, &it->koff) : qb_put(&s->qbytes, k, n, &it->koff)) ||
        !q_obs(s, it, obs, olen)) {
        s->qbytes.len = at;
        return;
    }
    s->nq++;
    it->klen = (uint16_t)n;
    it->type = (uint8_t)type;
    it->ei = ei;
    it->field = field;
    it->how = how;
    it->pass = 0;
    if (ei < 0) {
        it->h = padded ? pki_hash_padded(type, k, n) : pki_hash(type, k, n);
        __builtin_prefetch(pki_bloom_block(s->ix->bloom, s->ix->h->bloom_blocks, it->h));
    }
}

/* A domain and those of its parent domains the index can hold: k is the
 * normalised name (kn bytes), dots[nd] the offsets of its dots.  A suffix is
 * probed only when some domain key has as many labels as it (the index's
 * domain_labels): with indicators of two labels, a.b.evil.com costs one probe
 * (evil.com) instead of four.  The key is stored once and each probe points
 * into it. */
static void enqueue_domain(pk_match_scanner *s, const uint8_t *k, size_t kn, const uint8_t *dots,
                           size_t nd, const char *field, const char *obs, size_t olen)
{
    uint64_t want = s->dom_labels, labels = nd + 1;
    /* the bits of 1..labels labels */
    if (!(want & (labels >= 63 ? ~1ull : (2ull << labels) - 2))) return;
    uint32_t koff = 0, ooff = 0;
    const char *optr = in_lines(s, obs, olen) ? obs : NULL;
    size_t at = s->qbytes.len;
    if (!qb_put_key(&s->qbytes, k, kn, &koff)) return;
    if (!optr && !qb_put(&s->qbytes, obs, olen, &ooff)) {
        s->qbytes.len = at;
        return;
    }
    const uint32_t *bloom = s->ix->bloom;
    uint32_t blocks = s->ix->h->bloom_blocks;
    /* the label counts wanted, most first (the name, then its parents);
     * past 62 labels bit 63 stands for several, so those go one by one */
    uint64_t m = labels < 63 ? want & ((2ull << labels) - 2) : 0;
    for (size_t j = 0; labels < 63 ? m != 0 : j <= nd; j++) {
        if (labels < 63) {
            unsigned l = 63u - (unsigned)__builtin_clzll(m);
            m &= ~(1ull << l);
            j = labels - l;
        } else if (!(want & pki_labels_bit(labels - j))) {
            continue;
        }
        size_t i = j ? (size_t)dots[j - 1] + 1 : 0;
        pki_probe_item *it = q_slot(s);
        if (!it) return;
        if (s->nq == 0) { /* the queue was run to make room: the key went with it */
            if (!qb_put_key(&s->qbytes, k, kn, &koff)) return;
            if (!optr && !qb_put(&s->qbytes, obs, olen, &ooff)) return;
        }
        s->nq++;
        it->koff = koff + (uint32_t)i;
        it->klen = (uint16_t)(kn - i);
        it->obs = optr;
        it->ooff = ooff;
        it->olen = (uint32_t)olen;
        it->type = PK_IOC_DOMAIN;
        it->ei = -1;
        it->field = field;
        it->how = i ? "subdomain" : "exact";
        it->pass = 0;
        it->h = pki_hash_padded(PK_IOC_DOMAIN, k + i, kn - i); /* k is s->key */
        __builtin_prefetch(pki_bloom_block(bloom, blocks, it->h));
    }
}

/* The filter half of a batch: mark the probes that passed and prefetch
 * their table slots; how many are left to look at (passed, or direct). */
static size_t filter_batch(const pk_match_index *ix, pki_probe_item *q, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        pki_probe_item *it = &q[i];
        if (it->ei >= 0) {
            left++;
        } else if (pki_bloom_test(pki_bloom_block(ix->bloom, ix->h->bloom_blocks, it->h), it->h)) {
            it->pass = 1;
            __builtin_prefetch(&ix->table[pki_slot(it->h, ix->table_slots)]);
            left++;
        }
    }
    return left;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* filter_batch with the eight words of a filter block tested at once (one
 * multiply, shift and test instead of eight); chosen at run time. */
__attribute__((target("avx2"))) static size_t filter_batch_avx2(const pk_match_index *ix,
                                                                pki_probe_item *q, size_t n)
{
    const __m256i salt = _mm256_loadu_si256((const __m256i *)(const void *)pki_bloom_salt);
    const __m256i one = _mm256_set1_epi32(1);
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        pki_probe_item *it = &q[i];
        if (it->ei >= 0) {
            left++;
            continue;
        }
        const uint32_t *blk = pki_bloom_block(ix->bloom, ix->h->bloom_blocks, it->h);
        __m256i x = _mm256_set1_epi32((int)(uint32_t)it->h);
        __m256i bits = _mm256_sllv_epi32(one, _mm256_srli_epi32(_mm256_mullo_epi32(x, salt), 27));
        if (_mm256_testc_si256(_mm256_loadu_si256((const __m256i *)(const void *)blk), bits)) {
            it->pass = 1;
            __builtin_prefetch(&ix->table[pki_slot(it->h, ix->table_slots)]);
            left++;
        }
    }
    return left;
}
#endif

static inline size_t filter(const pk_match_scanner *s, pki_probe_item *q, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (s->avx2) return filter_batch_avx2(s->ix, q, n);
#endif
    return filter_batch(s->ix, q, n);
}

/* The table half: hits of the current queue, in the order they were seen. */
static void hit_batch(pk_match_scanner *s)
{
    const pk_match_index *ix = s->ix;
    const char *base = s->qbytes.data;
    for (size_t i = 0; i < s->nq; i++) {
        pki_probe_item *it = &s->q[i];
        long ei = it->ei;
        if (ei < 0 && it->pass)
            ei = pki_probe_table(ix, it->type, (const uint8_t *)base + it->koff, it->klen, it->h);
        if (ei >= 0)
            hit_group(s, (uint32_t)ei, it->field, it->obs ? it->obs : base + it->ooff, it->olen,
                      it->how);
    }
}

void pki_flush_probes(pk_match_scanner *s)
{
    s->qruns++;
    if (!s->nq) return;
    if (filter(s, s->q, s->nq)) hit_batch(s);
    s->nq = 0;
    pk_buf_reset(&s->qbytes);
}

/* One word each way.  The barrier keeps the compiler from pairing the
 * words into 16-byte moves: the lengths were just stored one word at a
 * time, and a wider load over two such stores is not forwarded from them
 * (it waits until they reach the cache: a third of record_probes_done's
 * samples). */
#define SWAP_WORD(a, b)                                                                            \
    do {                                                                                           \
        __typeof__(a) t_ = (a);                                                                    \
        (a) = (b);                                                                                 \
        (b) = t_;                                                                                  \
        __asm__ volatile("" ::: "memory");                                                         \
    } while (0)

static void swap_queues(pk_match_scanner *s)
{
    s->qruns++; /* the record's names point into the other queue now */
    SWAP_WORD(s->q, s->q2);
    SWAP_WORD(s->nq, s->nq2);
    SWAP_WORD(s->qcap, s->qcap2);
    SWAP_WORD(s->qbytes.data, s->qbytes2.data);
    SWAP_WORD(s->qbytes.len, s->qbytes2.len);
    SWAP_WORD(s->qbytes.cap, s->qbytes2.cap);
    SWAP_WORD(s->qbytes.max, s->qbytes2.max);
}

static void save_ctx(pk_match_scanner *s, struct pki_recctx *c)
{
    c->line = s->line;
    c->time = s->time;
    c->time_len = s->time_len;
    c->time_esc = s->time_esc;
    c->time_state = s->time_state;
    c->time_ms = s->time_ms;
    if (s->time_state == 1) memcpy(c->timebuf, s->timebuf, sizeof c->timebuf);
}

static void load_ctx(pk_match_scanner *s, const struct pki_recctx *c)
{
    s->line = c->line;
    s->time = c->time;
    s->time_len = c->time_len;
    s->time_esc = c->time_esc;
    s->time_state = c->time_state;
    s->time_ms = c->time_ms;
    if (c->time_state == 1) memcpy(s->timebuf, c->timebuf, sizeof s->timebuf);
}

void pki_flush_pending(pk_match_scanner *s)
{
    if (!s->nq2) return;
    /* mostly nothing passes the filter: then the record's context is not needed */
    if (!filter(s, s->q2, s->nq2)) {
        s->nq2 = 0;
        pk_buf_reset(&s->qbytes2);
        return;
    }
    struct pki_recctx now;
    save_ctx(s, &now);
    load_ctx(s, &s->pend);
    swap_queues(s);
    hit_batch(s);
    s->nq = 0;
    pk_buf_reset(&s->qbytes);
    swap_queues(s);
    load_ctx(s, &now);
}

/* End of a record's matching: run its batch now (patterns need the record's
 * hits before its window moves on), or keep it until the next record has
 * been parsed, so that its filter reads are in cache by then. */
static void record_probes_done(pk_match_scanner *s)
{
    if (s->pat) {
        pki_flush_probes(s);
        return;
    }
    pki_flush_pending(s);
    if (!s->nq) return;
    save_ctx(s, &s->pend);
    swap_queues(s);
}

static inline void probe(pk_match_scanner *s, unsigned type, const uint8_t *k, size_t n,
                         const char *field, const char *obs, size_t olen, const char *how)
{
    enqueue(s, type, k, n, -1, field, obs, olen, how, 0);
}

/* probe for a key in s->key (16 readable bytes after any key) */
static inline void probe_key(pk_match_scanner *s, unsigned type, size_t n, const char *field,
                             const char *obs, size_t olen)
{
    enqueue(s, type, s->key, n, -1, field, obs, olen, "exact", 1);
}

static inline void direct(pk_match_scanner *s, uint32_t ei, const char *field, const char *obs,
                          size_t olen, const char *how)
{
    enqueue(s, 0, NULL, 0, (long)ei, field, obs, olen, how, 0);
}

/* Does v (n bytes) start with lit (lower case, len bytes), in any case? */
static inline int starts_ci(const char *v, size_t n, const char *lit, size_t len)
{
    if (n < len) return 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)v[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)lit[i]) return 0;
    }
    return 1;
}

/* A dotted quad; v lies in the lines or a scratch buffer, with 16 readable
 * bytes after it. */
static inline int parse_ipv4(const pk_match_scanner *s, const char *v, size_t n, uint8_t a[4])
{
#ifdef PKI_HAVE_IPV4_SIMD
    if (s->ipv4simd) return pki_parse_ipv4_simd(v, n, a);
#endif
    return pki_parse_ipv4(v, n, a);
}

/* A name normalised (pki_norm_domain_dots); v lies in the lines or a
 * scratch buffer. */
static inline size_t norm_domain(const pk_match_scanner *s, const char *v, size_t n, uint8_t *k,
                                 uint8_t *dots, size_t *nd)
{
#ifdef PKI_HAVE_NAME_AVX512
    if (s->avx512) return pki_norm_domain_dots_avx512_pad(v, n, k, dots, nd);
#endif
    return pki_norm_domain_dots(v, n, k, dots, nd);
}

/*
 * An address field whose value starts with two numbers and dots ("10.1.")
 * in a /16 that holds no IPv4 key and touches no network: nothing can hit
 * it, whatever the rest says.  If it is an address, its /16 is those two
 * numbers; if not, it is no IPv6 address either (that text has a colon
 * before any dot), so an address field yields nothing.  Reading two numbers
 * is half of parsing four, and the /16 test needs no more: a sensor's
 * private addresses stop here.  Not for names (a bad quad is read as a
 * name) nor with patterns (the window wants the value).  16 bytes of v are
 * read (scan_int.h).
 */
static inline int dull_16(const pk_match_scanner *s, const char *v, size_t n)
{
#if defined(__SSE2__)
    if (n < 7) return 0;
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)v);
    uint32_t dig = (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(
        _mm_sub_epi8(x, _mm_set1_epi8((char)('0' + 128))), _mm_set1_epi8(-128 + 10)));
    uint32_t dot = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
    uint32_t d2 = dot & (dot - 1);
    if (!d2) return 0;
    uint32_t p1 = (uint32_t)__builtin_ctz(dot), p2 = (uint32_t)__builtin_ctz(d2);
    uint32_t l1 = p2 - p1 - 1;
    if (p1 - 1 > 2 || l1 - 1 > 2) return 0; /* 1 to 3 digits each */
    uint32_t want = ((1u << p2) - 1) & ~(1u << p1);
    if ((dig & want) != want) return 0;
    /* each number's digits (their low nibbles) shifted so that the last
     * lands in byte 2, zeros in front: no branch on the digit counts, which
     * are random */
    uint32_t wa, wb;
    memcpy(&wa, v, 4);
    memcpy(&wb, v + p1 + 1, 4);
    wa = ((wa & 0x0f0f0f0fu) << (8 * (3 - p1))) & 0xffffffu;
    wb = ((wb & 0x0f0f0f0fu) << (8 * (3 - l1))) & 0xffffffu;
    uint32_t a = (wa & 0xff) * 100 + (wa >> 8 & 0xff) * 10 + (wa >> 16);
    uint32_t b = (wb & 0xff) * 100 + (wb >> 8 & 0xff) * 10 + (wb >> 16);
    if ((a | b) > 255) return 0; /* not an address: let the parser say so */
    uint32_t x16 = a << 8 | b;
    const pk_match_index *ix = s->ix;
    return !(ix->v4any[x16 >> 3] & (1u << (x16 & 7)));
#else
    (void)s, (void)v, (void)n;
    return 0;
#endif
}

static int match_ipv4(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    const pk_match_index *ix = s->ix;
    uint8_t a[4];
    if (n <= 15 && parse_ipv4(s, v, n, a)) {
        OBSERVE(s, PK_IOC_IPV4, v, n);
        uint32_t x16 = (uint32_t)a[0] << 8 | a[1];
        if (ix->v4keys[x16 >> 3] & (1u << (x16 & 7)))
            probe(s, PK_IOC_IPV4, a, 4, field, v, n, "exact");
        if (ix->v4_16[x16 >> 3] & (1u << (x16 & 7))) {
            uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
            long i = pki_find_v4(ix, x);
            while (i >= 0) {
                direct(s, ix->v4[i].entry, field, v, n, "cidr");
                i = (long)ix->v4[i].parent - 1;
            }
        }
        return 1;
    }
    return 0;
}

static int match_ipv6(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    const pk_match_index *ix = s->ix;
    uint8_t a[16];
    if (n >= 2 && memchr(v, ':', n) && pki_parse_ipv6(v, n, a)) {
        OBSERVE(s, PK_IOC_IPV6, v, n);
        probe(s, PK_IOC_IPV6, a, 16, field, v, n, "exact");
        if (ix->h->n_v6) {
            long i = pki_find_v6(ix, a);
            while (i >= 0) {
                direct(s, ix->v6[i].entry, field, v, n, "cidr");
                i = (long)ix->v6[i].parent - 1;
            }
        }
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) { /* ::ffff:1.2.3.4 is 1.2.3.4 */
            const uint8_t *b = a + 12;
            uint32_t x16 = (uint32_t)b[0] << 8 | b[1];
            if (ix->v4keys[x16 >> 3] & (1u << (x16 & 7)))
                probe(s, PK_IOC_IPV4, b, 4, field, v, n, "exact");
            if (ix->h->n_v4) {
                uint32_t x =
                    (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
                for (long i = pki_find_v4(ix, x); i >= 0; i = (long)ix->v4[i].parent - 1)
                    direct(s, ix->v4[i].entry, field, v, n, "cidr");
            }
        }
        return 1;
    }
    return 0;
}

static inline int match_ip(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    return match_ipv4(s, field, v, n) || match_ipv6(s, field, v, n);
}

/* The probes of a name queued earlier in the record (seen), again for the
 * same bytes at v in field: the same keys, hashes and order as matching it
 * anew would queue.  0 when they cannot be copied (no room without running
 * the queue). */
static int again_domain(pk_match_scanner *s, const struct pki_seen *e, const char *field,
                        const char *v, size_t n)
{
    size_t cnt = e->q1 - e->q0;
    if (e->run != s->qruns || s->nq < e->q1 || s->nq + cnt > s->qcap) return 0;
    const char *optr = in_lines(s, v, n) ? v : NULL;
    uint32_t ooff = 0;
    if (!optr && !qb_put(&s->qbytes, v, n, &ooff)) return 0;
    OBSERVE(s, PK_IOC_DOMAIN, v, n);
    s->seen_copies++;
    for (size_t j = 0; j < cnt; j++) {
        pki_probe_item *it = &s->q[s->nq++];
        *it = s->q[e->q0 + j];
        it->field = field;
        it->obs = optr;
        it->ooff = ooff;
        it->olen = (uint32_t)n;
        it->pass = 0;
    }
    return 1;
}

/* 1 when v is a name (and was matched as one) */
static int match_domain(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    uint8_t *k = s->key;
    if (n > 253 + 1) return 0;
    for (unsigned i = 0; i < s->nseen; i++)
        if (s->seen[i].n == n && memcmp(s->seen[i].v, v, n) == 0 &&
            again_domain(s, &s->seen[i], field, v, n))
            return 1;
    uint8_t dots[128];
    size_t nd;
    size_t kn = norm_domain(s, v, n, k, dots, &nd);
    if (!kn) return 0;
    OBSERVE(s, PK_IOC_DOMAIN, v, n);
    size_t q0 = s->nq;
    unsigned long run = s->qruns;
    enqueue_domain(s, k, kn, dots, nd, field, v, n);
    if (s->nseen < sizeof s->seen / sizeof s->seen[0] && run == s->qruns && !s->noseen &&
        in_lines(s, v, n))
        s->seen[s->nseen++] = (struct pki_seen){v, (uint32_t)n, (uint32_t)q0, (uint32_t)s->nq, run};
    return 1;
}

static void match_host(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    if (!(s->kinds & (KIND(PK_IOC_IPV4) | KIND(PK_IOC_IPV6) | KIND(PK_IOC_DOMAIN)))) return;
    if (n && v[0] == '*' && n > 2 && v[1] == '.') v += 2, n -= 2; /* *.evil.com in certificates */
    /* an IPv6 address is never a name (':'), so it is tried last and a
     * name costs no search for a colon */
    if (((unsigned)(uint8_t)v[0] - '0' <= 9 && match_ipv4(s, field, v, n)) ||
        match_domain(s, field, v, n))
        return;
    match_ipv6(s, field, v, n);
}

/* The role of a distinguished name's part at v (m bytes left): "CN=" is a
 * host, "emailAddress=" an e-mail address; 0 for any other.  *klen: the
 * name's length with its '='. */
static inline uint8_t dn_part(const char *v, size_t m, size_t *klen)
{
    if (starts_ci(v, m, "cn=", 3)) return *klen = 3, R_HOST;
    if (starts_ci(v, m, "emailaddress=", 13)) return *klen = 13, R_EMAIL;
    return 0;
}

/*
 * The next part of a distinguished name that is matched, from *i on: a
 * "CN=" or "emailAddress=" at the start or after ',', '/' or ' '.  Its
 * value is [*st, *en) (up to a ',', a '/' or a '\' that is not the last
 * byte), and the search goes on after its end.  0 when none is left.  The
 * SIMD form finds the places that can start a part (the byte 'c' or 'e' in
 * any case, after a separator) and the value's end 16 bytes a step; v has
 * 16 readable bytes after n (scan_int.h).
 */
static inline __attribute__((always_inline)) uint8_t dn_next(const char *v, size_t n, size_t *i,
                                                             size_t *st, size_t *en, int simd)
{
    size_t klen = 0, j = *i;
    uint8_t role = 0;
#if defined(__SSE2__)
    if (simd) {
        uint32_t prev = j == 0 || v[j - 1] == ',' || v[j - 1] == '/' || v[j - 1] == ' ';
        while (j < n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + j));
            uint32_t sep = (uint32_t)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8(' '))));
            __m128i lo = _mm_or_si128(x, _mm_set1_epi8(0x20));
            uint32_t ce = (uint32_t)_mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(lo, _mm_set1_epi8('c')), _mm_cmpeq_epi8(lo, _mm_set1_epi8('e'))));
            uint32_t in = n - j >= 16 ? 0xffff : (1u << (n - j)) - 1;
            uint32_t cand = ((sep << 1) | prev) & ce & in;
            prev = (sep >> 15) & 1;
            for (; cand; cand &= cand - 1) {
                size_t at = j + (size_t)__builtin_ctz(cand);
                if ((role = dn_part(v + at, n - at, &klen))) {
                    j = at;
                    goto found;
                }
            }
            j += 16;
        }
        return 0;
    found:;
        size_t e = j + klen;
        *st = e;
        for (;; e += 16) {
            if (e >= n) {
                e = n;
                break;
            }
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + e));
            uint32_t stop = (uint32_t)_mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))));
            uint32_t bs = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
            uint32_t in = n - e >= 16 ? 0xffff : (1u << (n - e)) - 1;
            uint32_t before_last = n - e >= 17 ? 0xffff : (1u << (n - e - 1)) - 1;
            /* a '\' stops the value unless it is the last byte */
            stop = (stop & in) | (bs & before_last);
            if (stop) {
                e += (size_t)__builtin_ctz(stop);
                break;
            }
        }
        *en = e;
        *i = e + 1;
        return role;
    }
#else
    (void)simd;
#endif
    for (; j < n; j++) {
        if (j && v[j - 1] != ',' && v[j - 1] != '/' && v[j - 1] != ' ') continue;
        if ((role = dn_part(v + j, n - j, &klen))) break;
    }
    if (!role) return 0;
    size_t e = j + klen;
    *st = e;
    while (e < n && v[e] != ',' && v[e] != '/' && !(v[e] == '\\' && e + 1 < n))
        e++;
    *en = e;
    *i = e + 1;
    return role;
}

uint8_t pki_dn_next(const char *v, size_t n, size_t *i, size_t *st, size_t *en, int simd)
{
    return simd ? dn_next(v, n, i, st, en, 1) : dn_next(v, n, i, st, en, 0);
}

static void match_dn(pk_match_scanner *s, const char *field, const char *v, size_t n)
{
    /* "CN=a.example, O=x" (Suricata, Zeek) and "/C=US/CN=a.example" (OpenSSL) */
    size_t i = 0, st, en;
    uint8_t role;
    while ((role = dn_next(v, n, &i, &st, &en, 1))) {
        if (role == R_HOST)
            match_host(s, field, v + st, en - st);
        else
            pki_match_value(s, R_EMAIL, field, v + st, en - st);
    }
}

static __attribute__((noinline)) void match_ip_field(pk_match_scanner *s, const char *field,
                                                     const char *v, size_t n)
{
    if (!match_ipv4(s, field, v, n)) match_ipv6(s, field, v, n);
}

static __attribute__((noinline)) void match_value(pk_match_scanner *s, uint8_t role,
                                                  const char *field, const char *v, size_t n);

/* Address fields, the most common values (two a flow), take a short way:
 * most stop at dull_16, and none pays for the frame of the other kinds. */
void pki_match_value(pk_match_scanner *s, uint8_t role, const char *field, const char *v, size_t n)
{
    if (n == 0 || n > PKI_KEY_MAX - 8) return;
    s->st.observations++;
    if (role != R_IP || s->pat) {
        match_value(s, role, field, v, n);
        return;
    }
    if (!(s->kinds & (KIND(PK_IOC_IPV4) | KIND(PK_IOC_IPV6))) || dull_16(s, v, n)) return;
    match_ip_field(s, field, v, n);
}

static void match_value(pk_match_scanner *s, uint8_t role, const char *field, const char *v,
                        size_t n)
{
    uint8_t *k = s->key;
    size_t kn;
    switch (role) {
    case R_IP:
        if (!(s->kinds & (KIND(PK_IOC_IPV4) | KIND(PK_IOC_IPV6)))) break;
        if (!s->pat && dull_16(s, v, n)) break;
        match_ip(s, field, v, n);
        break;
    case R_SRC_IP:
    case R_DST_IP:
        OBSERVE(s, role == R_SRC_IP ? PKI_W_SRC_IP : PKI_W_DST_IP, v, n);
        match_ip(s, field, v, n);
        break;
    case R_SRC_PORT:
    case R_DST_PORT:
    case R_PROTO:
    case R_SIZE:
        OBSERVE(s, PKI_W_SRC_PORT + (role - R_SRC_PORT), v, n);
        break;
    case R_HTTP_HOST: {
        size_t hn = n;
        if (hn && v[0] != '[') { /* host:port */
            const char *c = memchr(v, ':', hn);
            if (c && !memchr(c + 1, ':', hn - (size_t)(c - v) - 1)) hn = (size_t)(c - v);
        }
        match_host(s, field, v, hn);
        break;
    }
    case R_HOST:
    case R_DOMAIN:
        match_host(s, field, v, n);
        break;
    case R_URL:
    case R_URL_ONLY:
        if (role == R_URL_ONLY && !(s->kinds & KIND(PK_IOC_URL))) break;
        if ((kn = pki_norm_url(v, n, k))) {
            OBSERVE(s, PK_IOC_URL, v, n);
            if (s->kinds & KIND(PK_IOC_URL)) probe_key(s, PK_IOC_URL, kn, field, v, n);
        }
        if (role == R_URL && kn) { /* the host of a referrer or link: domain indicators too */
            const char *h = memchr(v, ':', n);
            h = h ? h + 3 : v;
            const char *e = v + n, *he = h;
            while (he < e && *he != '/' && *he != '?' && *he != '#')
                he++;
            const char *at = memchr(h, '@', (size_t)(he - h));
            if (at) h = at + 1;
            pki_match_value(s, R_HTTP_HOST, field, h, (size_t)(he - h));
        }
        break;
    case R_EMAIL:
        if (!(s->kinds & KIND(PK_IOC_EMAIL))) break;
        if ((kn = pki_norm_email(v, n, k))) {
            /* the bare address of "Name <a@b>", as an email-addr value would hold it */
            const char *lt = memchr(v, '<', n),
                       *gt = lt ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
            if (lt && gt) {
                n = (size_t)(gt - lt - 1);
                v = lt + 1;
            }
            while (n && (*v == ' ' || *v == '"'))
                v++, n--;
            while (n && (v[n - 1] == ' ' || v[n - 1] == '"'))
                n--;
            OBSERVE(s, PK_IOC_EMAIL, v, n);
            probe_key(s, PK_IOC_EMAIL, kn, field, v, n);
        }
        break;
    case R_HASH: {
        if (!(s->kinds &
              (KIND(PK_IOC_MD5) | KIND(PK_IOC_SHA1) | KIND(PK_IOC_SHA256) | KIND(PK_IOC_SHA512))))
            break;
#ifdef PKI_HAVE_IPV4_SIMD
        kn = s->ipv4simd ? pki_parse_hex_simd(v, n, k, 64) : pki_parse_hex(v, n, k, 64, 1);
#else
        kn = pki_parse_hex(v, n, k, 64, 1);
#endif
        unsigned t = kn == 16   ? PK_IOC_MD5
                     : kn == 20 ? PK_IOC_SHA1
                     : kn == 32 ? PK_IOC_SHA256
                     : kn == 64 ? PK_IOC_SHA512
                                : 0;
        if (t && s->pat) {
            char hx[140];
            size_t hn = 0;
            for (size_t i = 0; i < n && hn < sizeof hx; i++)
                if (v[i] != ':') hx[hn++] = v[i];
            pki_pat_observe(s, t, hx, hn);
        }
        if (t) probe_key(s, t, kn, field, v, n);
        break;
    }
    case R_FILENAME: {
        if (!(s->kinds & KIND(PK_IOC_FILENAME))) break;
        probe(s, PK_IOC_FILENAME, (const uint8_t *)v, n, field, v, n, "exact");
        size_t b = n;
        while (b > 0 && v[b - 1] != '/' && v[b - 1] != '\\')
            b--;
        OBSERVE(s, PK_IOC_FILENAME, v + b, n - b); /* file:name has no directory */
        if (b > 0 && b < n)
            probe(s, PK_IOC_FILENAME, (const uint8_t *)v + b, n - b, field, v, n, "exact");
        break;
    }
    case R_USER:
        if (!(s->kinds & KIND(PK_IOC_USER))) break;
        OBSERVE(s, PK_IOC_USER, v, n);
        probe(s, PK_IOC_USER, (const uint8_t *)v, n, field, v, n, "exact");
        break;
    case R_DN:
        match_dn(s, field, v, n);
        break;
    case R_TEXT:
        pki_text_extract(s, v, n, field);
        break;
    default:
        break;
    }
}

/* ---- lines --------------------------------------------------------------- */

static int sniff(pk_match_scanner *s, const char *p, size_t n)
{
    switch (s->want) {
    case PK_FMT_EVE:
        return F_EVE;
    case PK_FMT_JSONL:
        return F_JSONL;
    case PK_FMT_TEXT:
        return F_TEXT;
    case PK_FMT_ZEEK:
        return p[0] == '#' ? F_ZEEK_TSV : F_ZEEK_JSON;
    default:
        break;
    }
    if ((n > 10 && memcmp(p, "#separator", 10) == 0) || (n > 7 && memcmp(p, "#fields", 7) == 0))
        return F_ZEEK_TSV;
    if (p[0] == '{') {
        if (memmem(p, n, "\"event_type\"", 12)) return F_EVE;
        if (memmem(p, n, "\"_path\"", 7) || memmem(p, n, "\"id.orig_h\"", 11)) return F_ZEEK_JSON;
        return F_JSON_ANY;
    }
    return F_TEXT;
}

static void malformed(pk_match_scanner *s, const char *why)
{
    s->st.malformed++;
    if (!s->cb.malformed) return;
    pk_error e;
    pk_error_clear(&e);
    pk_error_set(&e, PK_EPARSE, "%s", why);
    pk_error_at(&e, s->source, s->line, 0);
    s->cb.malformed(s->cb.ud, &e);
}

static void process_line(pk_match_scanner *s, const char *p, size_t n)
{
    s->line++;
    s->st.lines++;
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    if (n == 0) return;
    if (s->fmt == F_UNKNOWN) s->fmt = sniff(s, p, n);
    s->nseen = 0;
    s->nobs = 0;
    s->time = NULL;
    s->path = NULL;
    s->time_state = 0;
    const char *why = NULL;
    switch (s->fmt) {
    case F_EVE:
        why = pki_json_line(s, p, n, &s->fields.eve);
        break;
    case F_ZEEK_JSON:
        why = pki_json_line(s, p, n, &s->fields.zeek);
        break;
    case F_JSONL:
        why = pki_json_line(s, p, n, &s->fields.jsonl);
        break;
    case F_JSON_ANY:
        why = pki_json_line(s, p, n, &s->fields.any);
        break;
    case F_ZEEK_TSV:
        why = pki_tsv_line(s, p, n);
        break;
    default:
        break;
    }
    if (why) {
        if (*why) malformed(s, why);
        return;
    }
    s->st.records++;
    if (s->pat) pki_pat_record_begin(s);
    if (s->fmt == F_TEXT) {
        pki_text_extract(s, p, n, "text");
        record_probes_done(s);
        if (s->pat) pki_pat_record_end(s);
        return;
    }
    char host[260];
    size_t hostn = 0;
    for (size_t i = 0; i < s->nobs; i++) {
        const pki_obs *o = &s->obs[i];
        const char *v = o->v;
        size_t vn = o->len;
        if (o->esc) {
            vn = pki_unescape(o->v, o->len, o->esc, s->unesc, sizeof s->unesc);
            v = s->unesc;
            if (!vn) continue;
        }
        if (o->role == R_HTTP_PATH) { /* an escaped path: keep the unescaped copy */
            if (vn < sizeof s->url / 2) {
                memcpy(s->url + sizeof s->url / 2, v, vn);
                s->path = s->url + sizeof s->url / 2;
                s->path_len = vn;
            }
            continue;
        }
        if (o->role == R_HTTP_HOST && !hostn && vn < sizeof host) {
            memcpy(host, v, vn);
            hostn = vn;
        }
        pki_match_value(s, o->role, o->field, v, vn);
    }
    if (s->path && s->path_len) {
        const char *u = s->path;
        size_t un = s->path_len;
        if (!(un > 7 && (starts_ci(u, un, "http://", 7) || starts_ci(u, un, "https://", 8)))) {
            if (!hostn || un + hostn + 8 > sizeof s->url / 2) goto done;
            memcpy(s->url, "http://", 7);
            memcpy(s->url + 7, host, hostn);
            size_t o = 7 + hostn;
            if (u[0] != '/') s->url[o++] = '/';
            memcpy(s->url + o, u, un);
            u = s->url;
            un = o + un;
        }
        pki_match_value(s, R_URL_ONLY, s->path_field, u, un);
    }
done:
    record_probes_done(s);
    if (s->pat) pki_pat_record_end(s);
}

/* Match every complete line in the buffer; keep the partial last one. */
static void drain(pk_match_scanner *s)
{
    char *p = s->buf, *e = s->buf + s->len;
    s->stable_lo = p;
    s->stable_hi = e;
    for (;;) {
        /* JSON lines are found by the JSON walk's stage 1 (adapters.c),
         * which pki_json_line then does not repeat */
        size_t n = pki_json_find_line(s, p, (size_t)(e - p));
        if (n == PKI_JF_NOLINE) break;
        if (n == PKI_JF_NONE) {
            char *nl = memchr(p, '\n', (size_t)(e - p));
            if (!nl) break;
            n = (size_t)(nl - p);
        }
        process_line(s, p, n);
        s->jf.line = NULL;
        p += n + 1;
    }
    pki_flush_pending(s); /* before the lines it points into move */
    s->stable_lo = s->stable_hi = NULL;
    size_t rest = (size_t)(e - p);
    if (p != s->buf && rest) memmove(s->buf, p, rest);
    s->len = rest;
}

/* Room for at least one more byte: grow, or give up on an overlong line. */
static pk_status make_room(pk_match_scanner *s, pk_error *err)
{
    if (s->len < s->cap) return PK_OK;
    if (s->cap < s->max_line) {
        size_t nc = s->cap * 2;
        char *nb = pk_realloc(s->buf, nc + PKI_PAD);
        if (!nb) return pk_error_set(err, PK_ENOMEM, "out of memory (a %zu-byte line)", s->len);
        memset(nb + nc, 0, PKI_PAD);
        s->buf = nb;
        s->cap = nc;
        return PK_OK;
    }
    /* a line longer than max_line: report it and drop what we have of it; the
     * rest up to its newline is dropped as the start of the next "line". */
    s->line++;
    s->st.lines++;
    malformed(s, "line too long");
    s->line--;
    s->st.lines--;
    s->len = 0;
    return PK_OK;
}

pk_status pk_match_scanner_feed(pk_match_scanner *s, const void *data, size_t n, pk_error *err)
{
    const char *d = data;
    s->st.bytes += n;
    while (n) {
        pk_status rc = make_room(s, err);
        if (rc != PK_OK) return rc;
        size_t take = s->cap - s->len < n ? s->cap - s->len : n;
        memcpy(s->buf + s->len, d, take);
        s->len += take;
        d += take;
        n -= take;
        drain(s);
    }
    return PK_OK;
}

pk_status pk_match_scanner_end(pk_match_scanner *s, pk_error *err)
{
    if (s->len) {
        s->stable_lo = s->buf;
        s->stable_hi = s->buf + s->len;
        process_line(s, s->buf, s->len);
        s->len = 0;
    }
    pki_flush_pending(s);
    s->stable_lo = s->stable_hi = NULL;
    return PK_OK;
}

pk_status pk_match_scan_file(pk_match_scanner *s, const char *path, int follow, volatile int *stop,
                             pk_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot open: %s", strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "is a directory");
    }
    pk_status rc = pk_match_scanner_begin(s, path, err);
    if (rc != PK_OK) {
        close(fd);
        return rc;
    }
    gzFile gz = NULL;
    unsigned char magic[2];
    if (is_stdin || !S_ISREG(st.st_mode) ||
        (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {
        gz = gzdopen(fd, "rb"); /* reads plain input through unchanged */
        if (!gz) {
            close(fd);
            return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
        gzbuffer(gz, 1 << 18);
    }
    off_t pos = 0;
    for (;;) {
        if ((rc = make_room(s, err)) != PK_OK) break;
        size_t room = s->cap - s->len;
        ssize_t r;
        if (gz) {
            int gr = gzread(gz, s->buf + s->len, (unsigned)(room > (1u << 30) ? 1u << 30 : room));
            r = gr;
            if (gr < 0) {
                int zerr;
                const char *m = gzerror(gz, &zerr);
                pk_error_at(err, path, s->line + 1, 0);
                rc = pk_error_set(err, PK_EIO, "cannot read: %s",
                                  zerr == Z_ERRNO ? strerror(errno) : m);
                break;
            }
        } else {
            r = read(fd, s->buf + s->len, room > (128u << 10) ? (128u << 10) : room);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                pk_error_at(err, path, s->line + 1, 0);
                rc = pk_error_set(err, PK_EIO, "cannot read: %s", strerror(errno));
                break;
            }
        }
        if (r > 0) {
            pos += r;
            s->len += (size_t)r;
            s->st.bytes += (size_t)r;
            drain(s);
            continue;
        }
        if (!follow || (stop && *stop)) break;
        /* follow: wait for more; start over when the file was truncated */
        if (gz) gzclearerr(gz);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (!gz && fstat(fd, &st) == 0 && st.st_size < pos) {
            lseek(fd, 0, SEEK_SET);
            pos = 0;
            s->len = 0;
        }
    }
    if (rc == PK_OK) rc = pk_match_scanner_end(s, err);
    if (gz)
        gzclose(gz);
    else
        close(fd);
    return rc;
}

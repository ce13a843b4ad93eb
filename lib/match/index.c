/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The indicator index: the compiler that collects values, the build of the
 * flat image (layout in match_int.h), saving it, and mapping and validating a
 * .pki file.  Validation is complete (every offset, index and parent link is
 * checked against its bounds), so a scanner never checks again on the hot path.
 */
#include "match_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <immintrin.h>

/*
 * The compiler stages values where the index will hold them.  One buffer,
 * `img`, is laid out like the image's first sections: header space, then
 * the entries (the image's pki_entry array, in the order added), then the
 * key bytes (key_off counts from there, as in the image).  pk_match_compile
 * sorts the entries in place, moves the keys down behind them and builds the
 * filter, table and networks after them in the same buffer, which becomes
 * the index: peak memory is the index itself, not the index plus a staged
 * copy of its values.  Growing moves the key bytes up when the entries need
 * room; a large buffer grows by remapping (glibc's realloc uses mremap for
 * mapped chunks), so doubling does not double what is resident.
 */
#define STAGE_HDR ((size_t)((sizeof(pki_header) + 63) & ~(size_t)63))

struct pk_match_compiler {
    uint8_t *img;      /* staging; see above */
    size_t n, cap;     /* entries */
    size_t klen, kcap; /* key bytes */
    pk_buf strings;    /* NUL-terminated names, offset 0 is "" */
    pk_map *strmap;    /* name -> offset + 1 */
    pki_pattern *patterns;
    size_t npat, patcap;
};

static pki_entry *stage_entries(const pk_match_compiler *c)
{
    return (pki_entry *)(c->img + STAGE_HDR);
}

static uint8_t *stage_keys(const pk_match_compiler *c)
{
    return c->img + STAGE_HDR + c->cap * sizeof(pki_entry);
}

pk_match_compiler *pk_match_compiler_new(void)
{
    pk_match_compiler *c = pk_calloc(1, sizeof *c);
    if (!c) return NULL;
    pk_buf_init(&c->strings, (size_t)UINT32_MAX);
    c->strmap = pk_map_new(16);
    if (!c->strmap || pk_buf_addc(&c->strings, '\0') != PK_OK) {
        pk_match_compiler_free(c);
        return NULL;
    }
    return c;
}

void pk_match_compiler_free(pk_match_compiler *c)
{
    if (!c) return;
    pk_free(c->img);
    pk_free(c->patterns);
    pk_buf_free(&c->strings);
    pk_map_free(c->strmap);
    pk_free(c);
}

size_t pk_match_compiler_count(const pk_match_compiler *c)
{
    return c ? c->n : 0;
}

/* The offset of `s` in the string pool, adding it once. */
static pk_status intern(pk_match_compiler *c, const char *s, uint32_t *off)
{
    size_t n = strlen(s);
    void *v;
    if (pk_map_find(c->strmap, s, n, &v)) {
        *off = (uint32_t)((uintptr_t)v - 1);
        return PK_OK;
    }
    size_t at = c->strings.len;
    if (pk_buf_add(&c->strings, s, n + 1) != PK_OK) return PK_ENOMEM;
    if (pk_map_put(c->strmap, s, n, (void *)(uintptr_t)(at + 1)) != PK_OK) {
        c->strings.len = at;
        return PK_ENOMEM;
    }
    *off = (uint32_t)at;
    return PK_OK;
}

/* Make room for one more entry and `klen` more key bytes. */
static pk_status stage_grow(pk_match_compiler *c, size_t klen)
{
    size_t cap = c->cap, kcap = c->kcap;
    if (c->n == cap) cap = cap ? cap * 2 : 1024;
    while (kcap - c->klen < klen)
        kcap = kcap ? kcap * 2 : 16384;
    if (cap == c->cap && kcap == c->kcap) return PK_OK;
    if (kcap > (size_t)UINT32_MAX + 16384) return PK_ELIMIT;
    size_t old_keys = STAGE_HDR + c->cap * sizeof(pki_entry);
    uint8_t *img = pk_realloc(c->img, STAGE_HDR + cap * sizeof(pki_entry) + kcap);
    if (!img) return PK_ENOMEM;
    if (cap != c->cap && c->klen) /* the entries grew: the keys move up behind them */
        memmove(img + STAGE_HDR + cap * sizeof(pki_entry), img + old_keys, c->klen);
    c->img = img;
    c->cap = cap;
    c->kcap = kcap;
    return PK_OK;
}

static pk_status push_item(pk_match_compiler *c, pk_ioc_type type, const uint8_t *key, size_t klen,
                           uint8_t flags, uint32_t src, uint32_t aux, pk_error *err)
{
    if (c->n >= 0x7fffffff) return pk_error_set(err, PK_ELIMIT, "more than 2^31 indicator values");
    if (c->n == c->cap || c->kcap - c->klen < klen) {
        pk_status rc = stage_grow(c, klen);
        if (rc == PK_ELIMIT)
            return pk_error_set(err, PK_ELIMIT, "the index would pass 4 GiB of keys");
        if (rc != PK_OK) return pk_error_set(err, PK_ENOMEM, "out of memory (indicator values)");
    }
    memcpy(stage_keys(c) + c->klen, key, klen);
    stage_entries(c)[c->n++] =
        (pki_entry){(uint32_t)c->klen, (uint16_t)klen, (uint8_t)type, flags, src, aux};
    c->klen += klen;
    return PK_OK;
}

pk_status pki_compiler_add_key(pk_match_compiler *c, pk_ioc_type type, const char *value, size_t n,
                               uint32_t src, uint32_t aux, uint8_t flags, pk_error *err);
pk_status pki_compiler_add_key(pk_match_compiler *c, pk_ioc_type type, const char *value, size_t n,
                               uint32_t src, uint32_t aux, uint8_t flags, pk_error *err)
{
    uint8_t key[PKI_KEY_MAX];
    const char *why;
    if (type == PK_IOC_NONE) type = pki_guess_type(value, n);
    size_t k = pki_make_key(&type, value, n, key, &why);
    if (!k) return pk_error_set(err, PK_EPARSE, "%s", why);
    return push_item(c, type, key, k, flags, src, aux, err);
}

pk_status pki_compiler_intern(pk_match_compiler *c, const char *s, uint32_t *off);
pk_status pki_compiler_intern(pk_match_compiler *c, const char *s, uint32_t *off)
{
    return intern(c, s, off);
}

pk_status pki_compiler_add_pattern(pk_match_compiler *c, const char *id, const char *pattern,
                                   uint32_t *index);
pk_status pki_compiler_add_pattern(pk_match_compiler *c, const char *id, const char *pattern,
                                   uint32_t *index)
{
    if (c->npat == c->patcap) {
        size_t nc = c->patcap ? c->patcap * 2 : 64;
        pki_pattern *np = pk_realloc(c->patterns, nc * sizeof *np);
        if (!np) return PK_ENOMEM;
        c->patterns = np;
        c->patcap = nc;
    }
    uint32_t a, b;
    if (intern(c, id, &a) != PK_OK || intern(c, pattern, &b) != PK_OK) return PK_ENOMEM;
    c->patterns[c->npat] = (pki_pattern){a, b};
    *index = (uint32_t)c->npat++;
    return PK_OK;
}

pk_status pk_match_compiler_add(pk_match_compiler *c, pk_ioc_type type, const char *value, size_t n,
                                const char *source, long line, const char *indicator_id,
                                pk_error *err)
{
    uint32_t src;
    if (!c || !value) return pk_error_set(err, PK_EINVAL, "no compiler or value");
    if (intern(c, indicator_id ? indicator_id : (source ? source : ""), &src) != PK_OK)
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    return pki_compiler_add_key(c, type, value, n, src,
                                indicator_id ? 0 : (uint32_t)(line > 0 ? line : 0),
                                indicator_id ? PKI_F_STIX : 0, err);
}

/* Add the lines of `text`, counting them on *lineno (the last line read).
 * Counts go to *ok and *no. */
static pk_status add_lines(pk_match_compiler *c, const char *text, size_t n, const char *source,
                           uint32_t src, long *lineno, pk_match_bad_fn bad, void *ud, size_t *ok,
                           size_t *no, pk_error *err)
{
    const char *p = text, *e = text + n;
    long line = *lineno;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        const char *le = nl ? nl : e;
        line++;
        const char *s = p;
        p = nl ? nl + 1 : e;
        while (s < le && (*s == ' ' || *s == '\t'))
            s++;
        const char *t = le;
        while (t > s && (t[-1] == '\r' || t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (s == t || *s == '#') continue;
        pk_ioc_type type = PK_IOC_NONE;
        const char *tab = memchr(s, '\t', (size_t)(t - s));
        const char *v = s;
        if (tab) {
            type = pk_ioc_type_parse(s, (size_t)(tab - s));
            v = tab + 1;
            if (type == PK_IOC_NONE) {
                pk_error e2;
                pk_error_clear(&e2);
                pk_error_set(&e2, PK_EPARSE, "unknown type '%.*s'", (int)(tab - s), s);
                pk_error_at(&e2, source, line, 1);
                if (bad) bad(ud, &e2);
                (*no)++;
                continue;
            }
        }
        pk_error e2;
        pk_error_clear(&e2);
        pk_status rc =
            pki_compiler_add_key(c, type, v, (size_t)(t - v), src, (uint32_t)line, 0, &e2);
        if (rc == PK_OK) {
            (*ok)++;
        } else if (rc == PK_EPARSE) {
            pk_error_at(&e2, source, line, (long)(v - s) + 1);
            if (bad) bad(ud, &e2);
            (*no)++;
        } else {
            if (err) *err = e2;
            *lineno = line;
            return rc;
        }
    }
    *lineno = line;
    return PK_OK;
}

pk_status pk_match_compiler_add_list(pk_match_compiler *c, const char *text, size_t n,
                                     const char *source, pk_match_bad_fn bad, void *ud,
                                     size_t *added, size_t *rejected, pk_error *err)
{
    size_t ok = 0, no = 0;
    uint32_t src;
    if (!source) source = "-";
    if (intern(c, source, &src) != PK_OK) return pk_error_set(err, PK_ENOMEM, "out of memory");
    long line = 0;
    pk_status rc = add_lines(c, text, n, source, src, &line, bad, ud, &ok, &no, err);
    if (added) *added = ok;
    if (rejected) *rejected = no;
    return rc;
}

/* The file is read in chunks and its complete lines added as they come: the
 * list is never held whole (at 1M values it is as big as the index). */
pk_status pk_match_compiler_add_list_file(pk_match_compiler *c, const char *path,
                                          pk_match_bad_fn bad, void *ud, size_t *added,
                                          size_t *rejected, pk_error *err)
{
    size_t ok = 0, no = 0;
    uint32_t src;
    if (intern(c, path, &src) != PK_OK) return pk_error_set(err, PK_ENOMEM, "out of memory");
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot open: %s", strerror(errno));
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    gzbuffer(gz, 1 << 17);
    size_t cap = (size_t)1 << 18, len = 0;
    char *buf = pk_malloc(cap);
    pk_status rc = buf ? PK_OK : pk_error_set(err, PK_ENOMEM, "out of memory reading %s", path);
    long line = 0;
    int r = 0;
    while (rc == PK_OK) {
        if (len == cap) { /* a line longer than the buffer */
            char *nb = cap > ((size_t)1 << 30) ? NULL : pk_realloc(buf, cap * 2);
            if (!nb) {
                rc = pk_error_set(err, PK_ENOMEM, "out of memory reading %s", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - len < ((size_t)1 << 30) ? cap - len : ((size_t)1 << 30);
        r = gzread(gz, buf + len, (unsigned)want);
        if (r <= 0) break;
        len += (size_t)r;
        const char *last = NULL;
        for (size_t i = len; i > 0; i--)
            if (buf[i - 1] == '\n') {
                last = buf + i;
                break;
            }
        if (!last) continue;
        size_t done = (size_t)(last - buf);
        rc = add_lines(c, buf, done, path, src, &line, bad, ud, &ok, &no, err);
        memmove(buf, buf + done, len - done);
        len -= done;
    }
    if (r < 0 && rc == PK_OK) {
        int zerr;
        const char *m = gzerror(gz, &zerr);
        pk_error_at(err, path, 0, 0);
        rc = pk_error_set(err, PK_EIO, "cannot read: %s", zerr == Z_ERRNO ? strerror(errno) : m);
    }
    gzclose(gz);
    if (rc == PK_OK && len) rc = add_lines(c, buf, len, path, src, &line, bad, ud, &ok, &no, err);
    pk_free(buf);
    if (added) *added = ok;
    if (rejected) *rejected = no;
    return rc;
}

/* ---- building ------------------------------------------------------------ */

/* Entry order: (type, key, source, aux, flags).  Equal keys end up adjacent
 * and networks in (address, prefix length) order, which the network arrays
 * need; the rest makes the image the same whatever order values came in. */
static inline int cmp_entry(const pki_entry *x, const pki_entry *y, const uint8_t *keys)
{
    if (x->type != y->type) return x->type < y->type ? -1 : 1;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(keys + x->key_off, keys + y->key_off, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    if (x->aux != y->aux) return x->aux < y->aux ? -1 : 1;
    if (x->flags != y->flags) return x->flags < y->flags ? -1 : 1;
    return 0;
}

static void sift_down(pki_entry *a, size_t i, size_t n, const uint8_t *keys)
{
    pki_entry v = a[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cmp_entry(&a[c], &a[c + 1], keys) < 0) c++;
        if (cmp_entry(&v, &a[c], keys) >= 0) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = v;
}

/* In-place introsort.  glibc's qsort_r is a merge sort with a temporary
 * array as big as the input (16 MB for 1M entries), which would be the
 * compile's peak; this one allocates nothing. */
static void sort_entries(pki_entry *a, size_t n, const uint8_t *keys, int depth)
{
    while (n > 16) {
        if (depth-- == 0) { /* heapsort: a bad pivot sequence cannot go quadratic */
            for (size_t i = n / 2; i-- > 0;)
                sift_down(a, i, n, keys);
            for (size_t e = n - 1; e > 0; e--) {
                pki_entry t = a[0];
                a[0] = a[e];
                a[e] = t;
                sift_down(a, 0, e, keys);
            }
            return;
        }
        size_t m = n / 2;
        /* median of three into a[0] */
        if (cmp_entry(&a[m], &a[0], keys) < 0) {
            pki_entry t = a[m];
            a[m] = a[0];
            a[0] = t;
        }
        if (cmp_entry(&a[n - 1], &a[m], keys) < 0) {
            pki_entry t = a[n - 1];
            a[n - 1] = a[m];
            a[m] = t;
            if (cmp_entry(&a[m], &a[0], keys) < 0) {
                t = a[m];
                a[m] = a[0];
                a[0] = t;
            }
        }
        pki_entry piv = a[m];
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare partition */
            while (cmp_entry(&a[i], &piv, keys) < 0)
                i++;
            while (cmp_entry(&piv, &a[j], keys) < 0)
                j--;
            if (i >= j) break;
            pki_entry t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller side */
        size_t left = j + 1;
        if (left < n - left) {
            sort_entries(a, left, keys, depth);
            a += left;
            n -= left;
        } else {
            sort_entries(a + left, n - left, keys, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        pki_entry v = a[i];
        size_t j = i;
        while (j > 0 && cmp_entry(&v, &a[j - 1], keys) < 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Fletcher over 64-bit words: a sum and a sum of sums, so any change to one
 * word and any swap of two is caught; it runs at memory speed, which a
 * 50 MB index needs to be ready in milliseconds.  Not a defence against a
 * forger: validation, not the checksum, is what keeps reads in bounds.
 *
 * Word by word the sum of sums is a chain of dependent adds (8 bytes a
 * cycle, slower than the memory).  Over N words from (a, b) the result is
 * a + sum(w[j]) and b + N*a + sum((N - j) * w[j]), so blocks of 16 words
 * are summed in vector lanes instead: per block, B += A, then A += the
 * block's words (lane by lane); after M blocks word j = 16m + 4k + l has
 * weight 16 * (M - 1 - m) + 16 - 4k - l, which is 16 * B + (16 - 4k - l) * A
 * summed over the lanes.  The same value, all of it modulo 2^64. */
typedef uint64_t ck_vec __attribute__((vector_size(32)));
typedef uint64_t ck_uvec __attribute__((vector_size(32), aligned(1), may_alias));

static inline __attribute__((always_inline)) void ck_blocks(const uint8_t *p, size_t m,
                                                            uint64_t *s1, uint64_t *s2)
{
    ck_vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
    for (size_t i = 0; i < m; i++, p += 128) {
        const ck_uvec *v = (const ck_uvec *)(const void *)p;
        b0 += a0;
        b1 += a1;
        b2 += a2;
        b3 += a3;
        a0 += v[0];
        a1 += v[1];
        a2 += v[2];
        a3 += v[3];
    }
    /* A lane's weight in the block: 16 - l for a0, 12 - l for a1, ... */
    const ck_vec w = {16, 15, 14, 13};
    ck_vec sa = a0 + a1 + a2 + a3,
           sb = 16 * (b0 + b1 + b2 + b3) + w * a0 + (w - 4) * a1 + (w - 8) * a2 + (w - 12) * a3;
    *s2 += (uint64_t)(16 * m) * *s1 + sb[0] + sb[1] + sb[2] + sb[3];
    *s1 += sa[0] + sa[1] + sa[2] + sa[3];
}

__attribute__((target("avx2"))) static void ck_blocks_avx2(const uint8_t *p, size_t m, uint64_t *s1,
                                                           uint64_t *s2)
{
    ck_blocks(p, m, s1, s2);
}

static void ck_blocks_base(const uint8_t *p, size_t m, uint64_t *s1, uint64_t *s2)
{
    ck_blocks(p, m, s1, s2);
}

static int have_avx2(void);

static void fletcher_words(const uint8_t *p, size_t n, uint64_t *s1, uint64_t *s2, int last)
{
    uint64_t a = *s1, b = *s2;
    size_t i = n / 128 * 128;
    if (i) (have_avx2() ? ck_blocks_avx2 : ck_blocks_base)(p, i / 128, &a, &b);
    for (; i + 8 <= n; i += 8) {
        a += pki_load64(p + i);
        b += a;
    }
    if (last) { /* the tail as one more word, zero-filled (even when empty) */
        uint64_t t = 0;
        memcpy(&t, p + i, n - i);
        a += t;
        b += a;
    }
    *s1 = a;
    *s2 = b;
}

static void fletcher(const uint8_t *p, size_t n, uint64_t *s1, uint64_t *s2)
{
    fletcher_words(p, n, s1, s2, 1);
}

#define CK_A0 0x243f6a8885a308d3ull

static uint64_t ck_final(uint64_t a, uint64_t b)
{
    return pki_mix(a ^ 0x13198a2e03707344ull, b ^ 0xa4093822299f31d0ull);
}

uint64_t pki_checksum(const uint8_t *p, size_t n)
{
    uint64_t a = CK_A0, b = (uint64_t)n;
    fletcher(p, n, &a, &b);
    return ck_final(a, b);
}

#define CHUNK ((size_t)4 << 20)

static uint64_t image_checksum(const uint8_t *img, size_t size, int mapped)
{
    pki_header h;
    memcpy(&h, img, sizeof h);
    h.checksum = 0;
    uint64_t a = CK_A0, b = (uint64_t)size;
    fletcher((const uint8_t *)&h, sizeof h, &a, &b);
    for (size_t off = sizeof h; off < size; off += CHUNK) {
        size_t len = size - off < CHUNK ? size - off : CHUNK;
        fletcher(img + off, len, &a, &b);
    }
    return ck_final(a, b);
}

uint64_t pki_image_checksum(const uint8_t *img, size_t size)
{
    return image_checksum(img, size, 0);
}

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static void be128(const uint8_t *a, uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | a[i];
        l = l << 8 | a[8 + i];
    }
    *hi = h;
    *lo = l;
}

static int lt128(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
    return ah < bh || (ah == bh && al < bl);
}

static pk_status index_wrap(uint8_t *img, size_t size, int owned, void *mapped, size_t mapped_size,
                            int huge, pk_match_index **out, pk_error *err);

/* Drop the bytes of repeated keys from the staged pool (every entry of a
 * group points at its first one's bytes by now), keeping the order of the
 * rest: a bitmap of the live bytes, its running popcount for the new
 * offsets, then the live runs slide down.  The two temporary arrays are a
 * fifth of the pool; without memory the pool just keeps the dead bytes. */
static void compact_keys(pk_match_compiler *c, pki_entry *ent, size_t n)
{
    size_t klen = c->klen, words = (klen + 63) / 64;
    uint8_t *k = stage_keys(c);
    uint64_t *live = pk_calloc(words ? words : 1, sizeof *live);
    uint32_t *rank = pk_malloc((words ? words : 1) * sizeof *rank);
    if (!live || !rank) {
        pk_free(live);
        pk_free(rank);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (ent[i - 1].flags & PKI_F_MORE)) continue;
        for (size_t x = ent[i].key_off, e = x + ent[i].key_len; x < e; x++)
            live[x / 64] |= 1ull << (x % 64);
    }
    uint32_t r = 0;
    for (size_t w = 0; w < words; w++) {
        rank[w] = r;
        r += (uint32_t)__builtin_popcountll(live[w]);
    }
    for (size_t i = 0; i < n; i++) {
        size_t x = ent[i].key_off;
        uint64_t below = x % 64 ? live[x / 64] & ((1ull << (x % 64)) - 1) : 0;
        ent[i].key_off = rank[x / 64] + (uint32_t)__builtin_popcountll(below);
    }
    size_t out = 0, x = 0;
    while (x < klen) {
        if (!(live[x / 64] >> (x % 64) & 1)) {
            x++;
            continue;
        }
        size_t y = x + 1;
        while (y < klen && (live[y / 64] >> (y % 64) & 1))
            y++;
        memmove(k + out, k + x, y - x);
        out += y - x;
        x = y;
    }
    c->klen = out;
    pk_free(live);
    pk_free(rank);
}

/* Copy the networks' keys to the end of the staged pool in entry order (the
 * old bytes are then dead, and compact_keys drops them): loading reads each
 * network's prefix byte, and in the order values came those reads are
 * cache misses all over the pool; together they are one run.  1 if moved;
 * without memory (or room below 4 GiB) they stay where they are. */
static int gather_nets(pk_match_compiler *c, size_t n)
{
    pki_entry *ent = stage_entries(c);
    size_t nb = 0;
    for (size_t i = 0; i < n; i++)
        if (ent[i].type == PK_IOC_CIDR && !(i > 0 && (ent[i - 1].flags & PKI_F_MORE)))
            nb += ent[i].key_len;
    if (!nb || c->klen + nb >= UINT32_MAX) return 0;
    if (c->kcap - c->klen < nb) {
        size_t keys = STAGE_HDR + c->cap * sizeof(pki_entry);
        uint8_t *img = pk_realloc(c->img, keys + c->klen + nb);
        if (!img) return 0;
        c->img = img;
        c->kcap = c->klen + nb;
        ent = stage_entries(c);
    }
    uint8_t *k = stage_keys(c);
    for (size_t i = 0; i < n; i++) {
        if (ent[i].type != PK_IOC_CIDR) continue;
        if (i > 0 && (ent[i - 1].flags & PKI_F_MORE)) { /* the group's bytes are moved */
            ent[i].key_off = ent[i - 1].key_off;
            continue;
        }
        memcpy(k + c->klen, k + ent[i].key_off, ent[i].key_len);
        ent[i].key_off = (uint32_t)c->klen;
        c->klen += ent[i].key_len;
    }
    return 1;
}

pk_status pk_match_compile(pk_match_compiler *c, pk_match_index **out, pk_error *err)
{
    *out = NULL;
    if (!c->img && stage_grow(c, 0) != PK_OK) return pk_error_set(err, PK_ENOMEM, "out of memory");
    size_t n = c->n;
    pki_entry *ent = stage_entries(c);
    const uint8_t *skeys = stage_keys(c);
    for (size_t i = 0; i < n; i++) /* a failed compile may have left groups marked */
        ent[i].flags &= (uint8_t)~PKI_F_MORE;
    int depth = 2;
    for (size_t x = n; x > 1; x >>= 1)
        depth += 2;
    sort_entries(ent, n, skeys, depth);

    /* groups of equal keys share the first one's bytes; count distinct exact
     * keys and networks */
    size_t nkeys = 0, n4 = 0, n6 = 0;
    uint32_t per_type[16] = {0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ent[i - 1].type == ent[i].type && ent[i - 1].key_len == ent[i].key_len &&
            memcmp(skeys + ent[i - 1].key_off, skeys + ent[i].key_off, ent[i].key_len) == 0) {
            ent[i].key_off = ent[i - 1].key_off;
            ent[i - 1].flags |= PKI_F_MORE;
            continue;
        }
        ent[i].flags &= (uint8_t)~PKI_F_MORE;
        per_type[ent[i].type & 15]++;
        if (ent[i].type == PK_IOC_CIDR && ent[i].key_len == 5)
            n4++;
        else if (ent[i].type == PK_IOC_CIDR)
            n6++;
        else
            nkeys++;
    }
    int moved = gather_nets(c, n);
    ent = stage_entries(c);
    if (moved || nkeys + n4 + n6 < n) compact_keys(c, ent, n);
    size_t keybytes = c->klen;
    if (keybytes >= UINT32_MAX || c->strings.len >= UINT32_MAX)
        return pk_error_set(err, PK_ELIMIT, "the index would pass 4 GiB of keys or names");
    uint64_t slots = nkeys + nkeys / 4 + 16;
    size_t blocks = (nkeys * 16 + 255) / 256;
    if (blocks < 1) blocks = 1;

    size_t off = STAGE_HDR;
    size_t o_entries = off;
    off = align64(off + n * sizeof(pki_entry));
    size_t o_keys = off;
    off = align64(off + keybytes);
    size_t o_strings = off;
    off = align64(off + c->strings.len);
    size_t o_v4keys = off;
    off = align64(off + PKI_V4KEYS_SIZE);
    size_t o_bloom = off;
    off = align64(off + blocks * 32);
    size_t o_table = off;
    off = align64(off + slots * 8);
    size_t o_v4 = off;
    off = align64(off + n4 * sizeof(pki_v4));
    size_t o_v6 = off;
    off = align64(off + n6 * sizeof(pki_v6));
    size_t o_pat = off;
    off = align64(off + c->npat * sizeof(pki_pattern));
    size_t size = off;

    /* the staging buffer becomes the image: grow it if the image is bigger,
     * move the keys down behind the entries, then fill in the rest */
    size_t staged = STAGE_HDR + c->cap * sizeof(pki_entry) + c->kcap;
    size_t skeys_off = STAGE_HDR + c->cap * sizeof(pki_entry);
    if (size > staged) {
        uint8_t *g = pk_realloc(c->img, size);
        if (!g) return pk_error_set(err, PK_ENOMEM, "out of memory (%zu byte index)", size);
        c->img = g;
    }
    uint8_t *img = c->img;
    if (o_keys != skeys_off) memmove(img + o_keys, img + skeys_off, keybytes);
    memset(img, 0, o_entries);
    memset(img + o_keys + keybytes, 0, size - (o_keys + keybytes));
    if (size < staged) { /* give the rest back (a mapped chunk shrinks in place) */
        uint8_t *g = pk_realloc(img, size);
        if (g) img = g;
    }
    c->img = NULL; /* the index owns it now; the compiler is empty */
    c->n = c->cap = c->klen = c->kcap = 0;

    pki_header *h = (pki_header *)img;
    memcpy(h->magic, PKI_MAGIC, 8);
    h->version = PKI_VERSION;
    h->byte_order = PKI_BYTE_ORDER;
    h->file_size = size;
    h->n_entries = (uint32_t)n;
    h->n_keys = (uint32_t)nkeys;
    h->n_v4 = (uint32_t)n4;
    h->n_v6 = (uint32_t)n6;
    h->n_patterns = (uint32_t)c->npat;
    h->bloom_blocks = (uint32_t)blocks;
    h->table_slots = slots;
    h->off_entries = o_entries;
    h->off_keys = o_keys;
    h->size_keys = keybytes;
    h->off_strings = o_strings;
    h->size_strings = c->strings.len;
    h->off_bloom = o_bloom;
    h->off_v4keys = o_v4keys;
    h->off_table = o_table;
    h->off_v4 = o_v4;
    h->off_v6 = o_v6;
    h->off_patterns = o_pat;
    for (int t = 0; t < 16; t++)
        h->per_type[t] = per_type[t];

    ent = (pki_entry *)(img + o_entries);
    const uint8_t *kp = img + o_keys;
    for (size_t i = 0; i < n; i++)
        if (ent[i].type == PK_IOC_DOMAIN)
            h->domain_labels |=
                pki_labels_bit(pki_domain_labels(kp + ent[i].key_off, ent[i].key_len));
    uint32_t *bloom = (uint32_t *)(img + o_bloom);
    uint8_t *v4keys = img + o_v4keys;
    uint64_t *table = (uint64_t *)(img + o_table);
    pki_v4 *v4 = (pki_v4 *)(img + o_v4);
    pki_v6 *v6 = (pki_v6 *)(img + o_v6);
    memcpy(img + o_strings, c->strings.data, c->strings.len);
    if (c->npat) memcpy(img + o_pat, c->patterns, c->npat * sizeof(pki_pattern));

    size_t i4 = 0, i6 = 0;
    uint32_t stack[130];
    size_t sp4 = 0, sp6 = 0;
    uint32_t stack6[130];
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (ent[i - 1].flags & PKI_F_MORE)) continue; /* not the first of its group */
        const uint8_t *k = kp + ent[i].key_off;
        if (ent[i].type != PK_IOC_CIDR) {
            uint64_t hv = pki_hash(ent[i].type, k, ent[i].key_len);
            uint32_t *blk = bloom + 8 * (size_t)(((hv >> 32) * (uint64_t)blocks) >> 32);
            for (int j = 0; j < 8; j++)
                blk[j] |= 1u << (((uint32_t)hv * pki_bloom_salt[j]) >> 27);
            uint64_t s = pki_slot(hv, slots);
            while (table[s])
                if (++s == slots) s = 0;
            table[s] = (hv & 0xffffffff00000000ull) | (uint64_t)(i + 1);
            if (ent[i].type == PK_IOC_IPV4)
                v4keys[k[0] << 5 | k[1] >> 3] |= (uint8_t)(1u << (k[1] & 7));
        } else if (ent[i].key_len == 5) {
            uint32_t a = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
            unsigned pl = k[4];
            uint32_t end = pl == 0 ? 0xffffffffu : a | (0xffffffffu >> pl);
            while (sp4 && v4[stack[sp4 - 1]].end < a)
                sp4--;
            v4[i4] = (pki_v4){a, end, sp4 ? stack[sp4 - 1] + 1 : 0, (uint32_t)i};
            if (sp4 < 130) stack[sp4++] = (uint32_t)i4;
            i4++;
        } else {
            pki_v6 *v = &v6[i6];
            unsigned pl = k[16];
            memcpy(v->start, k, 16);
            for (unsigned b = 0; b < 128; b++) {
                uint8_t bit = (uint8_t)(0x80u >> (b % 8));
                if (b >= pl)
                    v->end[b / 8] |= bit;
                else
                    v->end[b / 8] |= (uint8_t)(k[b / 8] & bit);
            }
            uint64_t sh, sl, eh, el;
            be128(v->start, &sh, &sl);
            while (sp6) {
                be128(v6[stack6[sp6 - 1]].end, &eh, &el);
                if (!lt128(eh, el, sh, sl)) break;
                sp6--;
            }
            v->parent = sp6 ? stack6[sp6 - 1] + 1 : 0;
            v->entry = (uint32_t)i;
            if (sp6 < 130) stack6[sp6++] = (uint32_t)i6;
            i6++;
        }
    }
    h->checksum = pki_image_checksum(img, size);
    return index_wrap(img, size, 1, NULL, 0, 0, out, err);
}

/* ---- loading and validation ---------------------------------------------- */

static pk_status bad_index(pk_error *err, const char *what)
{
    return pk_error_set(err, PK_EPARSE, "not a valid picket index: %s", what);
}

static int section_ok(uint64_t off, uint64_t count, uint64_t elem, uint64_t size)
{
    if (off % 8 || off < sizeof(pki_header) || off > size) return 0;
    if (elem && count > (size - off) / elem) return 0;
    return 1;
}

/* The first of count elements of elem bytes from off whose first byte lies
 * at or after pos. */
static uint64_t first_at(uint64_t pos, uint64_t off, uint64_t elem, uint64_t count)
{
    if (pos <= off) return 0;
    uint64_t i = (pos - off + elem - 1) / elem;
    return i < count ? i : count;
}

/* What is wrong with entry i, or NULL. */
static const char *entry_why(const pki_header *h, const uint8_t *img, const pki_entry *e, size_t i)
{
    if ((uint64_t)e[i].key_off + e[i].key_len > h->size_keys || e[i].type == 0 ||
        e[i].type >= PK_IOC_TYPE_MAX_ || e[i].src >= h->size_strings)
        return "an entry points outside its section";
    if (e[i].type == PK_IOC_CIDR && e[i].key_len != 5 && e[i].key_len != 17)
        return "a network has a bad key";
    if (e[i].type == PK_IOC_CIDR && e[i].key_len == 5 && (img + h->off_keys)[e[i].key_off + 4] > 32)
        return "a network has a bad prefix";
    if (e[i].type == PK_IOC_CIDR && e[i].key_len == 17 &&
        (img + h->off_keys)[e[i].key_off + 16] > 128)
        return "a network has a bad prefix";
    if ((e[i].flags & PKI_F_STIX) && e[i].aux > h->n_patterns)
        return "an entry names a missing pattern";
    if ((e[i].flags & PKI_F_MORE) &&
        (i + 1 >= h->n_entries || e[i + 1].type != e[i].type || e[i + 1].key_off != e[i].key_off ||
         e[i + 1].key_len != e[i].key_len))
        return "a group of equal keys is broken";
    return NULL;
}

/* A file read into memory as it is validated (read_huge): need() reads on
 * until the first `upto` bytes are there, so that each step is checked
 * right after it was copied, while it is in cache.  NULL: all there. */
typedef struct pk_loader {
    int fd;
    uint8_t *img;
    size_t done, size;
    int errnum; /* after a failed need(): errno, or 0 when the file shrank */
} pk_loader;

#define LOAD_CHUNK ((size_t)1 << 20)

static int need(pk_loader *ld, size_t upto)
{
    while (ld && ld->done < upto) {
        size_t want = ld->size - ld->done < LOAD_CHUNK ? ld->size - ld->done : LOAD_CHUNK;
        ssize_t r = pread(ld->fd, ld->img + ld->done, want, (off_t)ld->done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            ld->errnum = r < 0 ? errno : 0;
            return 0;
        }
        ld->done += (size_t)r;
    }
    return 1;
}

/* Networks' keys among entries [i0, i1): a prefix length after 4 or 16
 * address bytes.  Their keys lie anywhere in the pool (in the order the
 * values came), so each read is a cache miss: they are prefetched 16
 * entries ahead, which overlaps the misses. */
static unsigned nets_bad(const pki_header *h, const uint8_t *img, const pki_entry *e, size_t i0,
                         size_t i1)
{
    const uint8_t *keys = img + h->off_keys;
    unsigned bad = 0;
    for (size_t i = i0; i < i1; i++) {
        if (i + 16 < i1 && e[i + 16].type == PK_IOC_CIDR) {
            uint64_t end = (uint64_t)e[i + 16].key_off + e[i + 16].key_len;
            if (end && end <= h->size_keys) __builtin_prefetch(keys + end - 1);
        }
        const pki_entry *x = &e[i];
        if (x->type != PK_IOC_CIDR) continue;
        uint64_t end = (uint64_t)x->key_off + x->key_len;
        unsigned v6 = x->key_len == 17;
        bad |= (x->key_len != 5 && !v6) || (end <= h->size_keys && keys[end - 1] > (v6 ? 128 : 32));
    }
    return bad;
}

/* Entry i's checks but a network's prefix; *net says whether it is one. */
static inline unsigned entry_bad(const pki_header *h, const pki_entry *e, size_t i, unsigned *net)
{
    const pki_entry *x = &e[i];
    unsigned bad = ((uint64_t)x->key_off + x->key_len > h->size_keys) | (x->type == 0) |
                   (x->type >= PK_IOC_TYPE_MAX_) | (x->src >= h->size_strings) |
                   ((x->flags & PKI_F_STIX) != 0 && x->aux > h->n_patterns);
    if (x->flags & PKI_F_MORE) {
        const pki_entry *y = x + (i + 1 < h->n_entries);
        bad |= (i + 1 >= h->n_entries) | (y->type != x->type) | (y->key_off != x->key_off) |
               (y->key_len != x->key_len);
    }
    *net |= x->type == PK_IOC_CIDR;
    return bad;
}

/* entry_bad over four entries at a time in AVX2, as long as the entry after
 * the four is there to compare a group's link with; returns where it
 * stopped.  An entry is two 64-bit words, q0 = key_off | key_len << 32 |
 * type << 48 | flags << 56 and q1 = src | aux << 32; the unpacks give the
 * q0 (q1) of entries i, i+2, i+1, i+3, and those of i+1... for the links.
 * Every value compared is below 2^63, so signed compares do. */
__attribute__((target("avx2"))) static size_t entries_avx2(const pki_header *h, const pki_entry *e,
                                                           size_t i, size_t i1, unsigned *bad,
                                                           unsigned *net)
{
    size_t last = h->n_entries ? (size_t)h->n_entries - 1 : 0;
    size_t end = last < i1 ? last : i1; /* the four and the one after them */
    const __m256i zero = _mm256_setzero_si256(), m32 = _mm256_set1_epi64x(0xffffffff),
                  m16 = _mm256_set1_epi64x(0xffff), m8 = _mm256_set1_epi64x(0xff),
                  low56 = _mm256_set1_epi64x(0x00ffffffffffffffll),
                  keys = _mm256_set1_epi64x((long long)h->size_keys),
                  strs = _mm256_set1_epi64x((long long)h->size_strings - 1),
                  pats = _mm256_set1_epi64x((long long)h->n_patterns),
                  tmax = _mm256_set1_epi64x(PK_IOC_TYPE_MAX_ - 2),
                  cidr = _mm256_set1_epi64x(PK_IOC_CIDR),
                  more = _mm256_set1_epi64x((long long)PKI_F_MORE << 56),
                  stix = _mm256_set1_epi64x((long long)PKI_F_STIX << 56);
    __m256i acc = zero, nets = zero;
    for (; i + 4 <= end; i += 4) {
        const __m256i *p = (const __m256i *)(const void *)(e + i);
        __m256i v0 = _mm256_loadu_si256(p), v1 = _mm256_loadu_si256(p + 1);
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(e + i + 1));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(e + i + 3));
        __m256i q0 = _mm256_unpacklo_epi64(v0, v1), q1 = _mm256_unpackhi_epi64(v0, v1);
        __m256i n0 = _mm256_unpacklo_epi64(w0, w1);
        __m256i klen = _mm256_and_si256(_mm256_srli_epi64(q0, 32), m16);
        __m256i type = _mm256_and_si256(_mm256_srli_epi64(q0, 48), m8);
        __m256i kend = _mm256_add_epi64(_mm256_and_si256(q0, m32), klen);
        /* (type - 1) & 255 > MAX - 2: type 0 or MAX and above */
        __m256i tm1 = _mm256_and_si256(_mm256_add_epi64(type, m8), m8);
        __m256i is_stix = _mm256_cmpeq_epi64(_mm256_and_si256(q0, stix), stix);
        __m256i is_more = _mm256_cmpeq_epi64(_mm256_and_si256(q0, more), more);
        __m256i same = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_xor_si256(q0, n0), low56), zero);
        acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(kend, keys));
        acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(tm1, tmax));
        acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(_mm256_and_si256(q1, m32), strs));
        acc = _mm256_or_si256(
            acc, _mm256_and_si256(is_stix, _mm256_cmpgt_epi64(_mm256_srli_epi64(q1, 32), pats)));
        acc = _mm256_or_si256(acc, _mm256_andnot_si256(same, is_more));
        nets = _mm256_or_si256(nets, _mm256_cmpeq_epi64(type, cidr));
    }
    *bad |= !_mm256_testz_si256(acc, acc);
    *net |= !_mm256_testz_si256(nets, nets);
    return i;
}

/* Table slots [i, i1) four at a time in AVX2 (see slots_why); returns where
 * it stopped. */
__attribute__((target("avx2"))) static size_t slots_avx2(const uint64_t *t, size_t i, size_t i1,
                                                         uint32_t n_entries, uint64_t *used,
                                                         unsigned *bad)
{
    const __m256i zero = _mm256_setzero_si256(), m32 = _mm256_set1_epi64x(0xffffffff),
                  last = _mm256_set1_epi64x((long long)n_entries - 1);
    __m256i acc = zero, empty = zero;
    size_t i0 = i;
    for (; i + 4 <= i1; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(t + i));
        __m256i z = _mm256_cmpeq_epi64(v, zero);
        /* (uint32_t)t - 1 as a 32-bit number */
        __m256i x = _mm256_and_si256(_mm256_add_epi64(v, m32), m32);
        acc = _mm256_or_si256(acc, _mm256_andnot_si256(z, _mm256_cmpgt_epi64(x, last)));
        empty = _mm256_sub_epi64(empty, z);
    }
    uint64_t n[4];
    _mm256_storeu_si256((__m256i *)(void *)n, empty);
    *used += (i - i0) - (n[0] + n[1] + n[2] + n[3]);
    *bad |= !_mm256_testz_si256(acc, acc);
    return i;
}

static int simd_off; /* pki_index_simd(0): the plain loops, for the tests */

static int have_avx2(void)
{
    static int v = -1;
    if (v < 0) v = __builtin_cpu_supports("avx2") != 0;
    return v && !simd_off;
}

void pki_index_simd(int on)
{
    simd_off = !on;
}

/* Entries [i0, i1): any bad one (entry_why says which).  Without a branch on
 * the data (AVX2 when there is), then the networks' prefixes, which read
 * their keys (as entry_why does, so that the two agree). */
static const char *entries_why(const pki_header *h, const uint8_t *img, const pki_entry *e,
                               size_t i0, size_t i1, pk_loader *ld, int *failed)
{
    unsigned bad = 0, net = 0;
    size_t i = have_avx2() ? entries_avx2(h, e, i0, i1, &bad, &net) : i0;
    for (; i < i1; i++)
        bad |= entry_bad(h, e, i, &net);
    if (net && ld) { /* their keys may lie further on in the file than read so far */
        uint64_t end = 0;
        for (i = i0; i < i1; i++)
            if (e[i].type == PK_IOC_CIDR && (uint64_t)e[i].key_off + e[i].key_len > end)
                end = (uint64_t)e[i].key_off + e[i].key_len;
        if (!need(ld, h->off_keys + (end < h->size_keys ? end : h->size_keys))) {
            *failed = 1;
            return NULL;
        }
    }
    if (net) bad |= nets_bad(h, img, e, i0, i1);
    if (!bad) return NULL;
    for (i = i0; i < i1; i++) {
        const char *why = entry_why(h, img, e, i);
        if (why) return why;
    }
    return NULL;
}

/* Table slots [i0, i1): each empty or naming an entry; *used counts the
 * others.  Branch-free: a fifth of the slots are empty, at random. */
static const char *slots_why(const uint64_t *t, size_t i0, size_t i1, uint32_t n_entries,
                             uint64_t *used)
{
    uint64_t u = 0;
    unsigned bad = 0;
    size_t i = have_avx2() ? slots_avx2(t, i0, i1, n_entries, used, &bad) : i0;
    for (; i < i1; i++) {
        unsigned full = t[i] != 0;
        u += full;
        bad |= full & ((uint32_t)t[i] - 1u >= n_entries);
    }
    *used += u;
    return bad ? "a table slot points at no entry" : NULL;
}

/* The checks that need only the header: NULL or what is wrong.  They make
 * the sections' loops safe to run. */
static const char *header_why(const pki_header *h, const uint8_t *img, size_t size)
{
    if (!h->table_slots || h->table_slots > UINT32_MAX || h->n_keys >= h->table_slots)
        return "bad table size";
    if (!h->bloom_blocks) return "bad filter size";
    if (!section_ok(h->off_entries, h->n_entries, sizeof(pki_entry), size) ||
        !section_ok(h->off_keys, h->size_keys, 1, size) ||
        !section_ok(h->off_strings, h->size_strings, 1, size) ||
        !section_ok(h->off_bloom, h->bloom_blocks, 32, size) ||
        !section_ok(h->off_v4keys, PKI_V4KEYS_SIZE, 1, size) ||
        !section_ok(h->off_table, h->table_slots, 8, size) ||
        !section_ok(h->off_v4, h->n_v4, sizeof(pki_v4), size) ||
        !section_ok(h->off_v6, h->n_v6, sizeof(pki_v6), size) ||
        !section_ok(h->off_patterns, h->n_patterns, sizeof(pki_pattern), size))
        return "a section lies outside the file";
    if (h->size_strings == 0) return "names are not terminated";
    return NULL;
}

/* The check that reads the file (the names' last byte): after the pass,
 * which checks nothing that reads the names. */
static const char *strings_why(const pki_header *h, const uint8_t *img)
{
    const char *str = (const char *)img + h->off_strings;
    return str[h->size_strings - 1] != '\0' ? "names are not terminated" : NULL;
}

/* The checksum and the checks of the two large sections (entries and table
 * slots) in one pass: each step of STEP bytes is summed, then the entries
 * and slots that begin in it are checked while its bytes are in cache.
 * Separately, the checks read ~26 of a 1M list's 43 MB a second time from
 * memory (~5 ms).  A damaged file is still reported as damaged before any
 * other finding, as when the checksum came first. */
#define STEP ((size_t)256 << 10) /* divides CHUNK */

static pk_status read_failed(const pk_loader *ld, pk_error *err)
{
    return pk_error_set(err, PK_EIO, "cannot read: %s",
                        ld->errnum ? strerror(ld->errnum) : "the file shrank");
}

static pk_status validate(const uint8_t *img, size_t size, pk_loader *ld, pk_error *err)
{
    if (size < sizeof(pki_header)) return bad_index(err, "too short for a header");
    if (!need(ld, sizeof(pki_header))) return read_failed(ld, err);
    const pki_header *h = (const pki_header *)img;
    if (memcmp(h->magic, PKI_MAGIC, 8) != 0) return bad_index(err, "wrong magic");
    if (h->byte_order != PKI_BYTE_ORDER)
        return bad_index(err, "written on a machine of other byte order");
    if (h->version != PKI_VERSION) {
        return pk_error_set(
            err, PK_EPARSE,
            "index format version %u, this picket reads version %u: run picket compile again",
            h->version, PKI_VERSION);
    }
    if (h->file_size != size) return bad_index(err, "size differs from the header (truncated?)");
    const char *why = header_why(h, img, size);
    if (why) {
        if (!need(ld, size)) return read_failed(ld, err);
        if (image_checksum(img, size, 0) != h->checksum)
            return bad_index(err, "checksum mismatch (damaged file)");
        return bad_index(err, why);
    }
    pki_header h0;
    memcpy(&h0, img, sizeof h0);
    h0.checksum = 0;
    uint64_t a = CK_A0, b = (uint64_t)size, used = 0;
    fletcher((const uint8_t *)&h0, sizeof h0, &a, &b);
    const pki_entry *e = (const pki_entry *)(img + h->off_entries);
    const uint64_t *t = (const uint64_t *)(img + h->off_table);
    /* the same sums as image_checksum's: a call of fletcher per CHUNK,
     * whose last STEP adds the tail word */
    int failed = 0;
    for (size_t off = sizeof h0; off < size; off += STEP) {
        size_t len = size - off < STEP ? size - off : STEP;
        /* and a little more: the last entries or slots of the step may end
         * after it, and a group's link is checked against the next entry */
        if (!need(ld, size - (off + len) < 64 ? size : off + len + 64)) return read_failed(ld, err);
        fletcher_words(img + off, len, &a, &b,
                       off + len == size || (off + len - sizeof h0) % CHUNK == 0);
        if (why) continue;
        why =
            entries_why(h, img, e, first_at(off, h->off_entries, sizeof *e, h->n_entries),
                        first_at(off + len, h->off_entries, sizeof *e, h->n_entries), ld, &failed);
        if (failed) return read_failed(ld, err);
        if (!why)
            why = slots_why(t, first_at(off, h->off_table, 8, h->table_slots),
                            first_at(off + len, h->off_table, 8, h->table_slots),
                            (uint32_t)h->n_entries, &used);
    }
    if (ck_final(a, b) != h->checksum) return bad_index(err, "checksum mismatch (damaged file)");
    const char *names = strings_why(h, img); /* header_why's: named before the sections' */
    if (names) return bad_index(err, names);
    if (why) return bad_index(err, why);
    if (used >= h->table_slots) return bad_index(err, "the table has no free slot");
    const pki_v4 *v4 = (const pki_v4 *)(img + h->off_v4);
    for (uint32_t i = 0; i < h->n_v4; i++)
        if (v4[i].parent > i || v4[i].entry >= h->n_entries || v4[i].start > v4[i].end ||
            (i && v4[i].start < v4[i - 1].start))
            return bad_index(err, "an IPv4 network is out of order or bounds");
    const pki_v6 *v6 = (const pki_v6 *)(img + h->off_v6);
    for (uint32_t i = 0; i < h->n_v6; i++)
        if (v6[i].parent > i || v6[i].entry >= h->n_entries ||
            memcmp(v6[i].start, v6[i].end, 16) > 0 ||
            (i && memcmp(v6[i].start, v6[i - 1].start, 16) < 0))
            return bad_index(err, "an IPv6 network is out of order or bounds");
    const pki_pattern *pt = (const pki_pattern *)(img + h->off_patterns);
    for (uint32_t i = 0; i < h->n_patterns; i++)
        if (pt[i].id >= h->size_strings || pt[i].pattern >= h->size_strings)
            return bad_index(err, "a pattern points outside the names");
    return PK_OK;
}

/* Every probe starts with a random read of the filter, and with 1M keys the
 * filter is 2 MB: on 4 KiB pages nearly every probe also misses the TLB, and
 * under a hypervisor a TLB miss walks two page tables.  A copy on one 2 MiB
 * huge page (when the kernel grants it) makes the filter one TLB entry.
 * Small filters stay where they are. */
static void hugepage_bloom(pk_match_index *ix)
{
    size_t n = (size_t)ix->h->bloom_blocks * 32;
    const size_t huge = (size_t)2 << 20;
    if (n < ((size_t)256 << 10) || ix->huge) return;
    size_t len = (n + huge - 1) & ~(huge - 1);
    uint8_t *m = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    /* The aligned part is used; the rest is never touched, so it costs
     * address space only (unmapping it cost two calls and TLB flushes). */
    uint8_t *a = (uint8_t *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
    madvise(a, len, MADV_HUGEPAGE);
#endif
    memcpy(a, ix->bloom, n);
    ix->bloom_copy = m;
    ix->bloom_copy_size = len + huge;
    ix->bloom = (const uint32_t *)a;
}

static pk_status index_wrap(uint8_t *img, size_t size, int owned, void *mapped, size_t mapped_size,
                            int huge, pk_match_index **out, pk_error *err)
{
    pk_match_index *ix = pk_calloc(1, sizeof *ix);
    if (!ix) {
        if (owned) pk_free(img);
        if (mapped) munmap(mapped, mapped_size);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    atomic_init(&ix->refs, 1);
    ix->base = img;
    ix->size = size;
    ix->owned = owned ? img : NULL;
    ix->mapped = mapped;
    ix->mapped_size = mapped_size;
    ix->huge = huge;
    const pki_header *h = ix->h = (const pki_header *)img;
    ix->entries = (const pki_entry *)(img + h->off_entries);
    ix->keys = img + h->off_keys;
    ix->strings = (const char *)img + h->off_strings;
    ix->bloom = (const uint32_t *)(img + h->off_bloom);
    ix->v4keys = img + h->off_v4keys;
    hugepage_bloom(ix);
    ix->table = (const uint64_t *)(img + h->off_table);
    ix->table_slots = h->table_slots;
    ix->v4 = (const pki_v4 *)(img + h->off_v4);
    ix->v6 = (const pki_v6 *)(img + h->off_v6);
    ix->patterns = (const pki_pattern *)(img + h->off_patterns);
    for (uint32_t i = 0; i < h->n_v4; i++) {
        uint32_t a = ix->v4[i].start >> 16, b = ix->v4[i].end >> 16;
        for (uint32_t x = a; x <= b; x++)
            ix->v4_16[x >> 3] |= (uint8_t)(1u << (x & 7));
    }
    for (size_t i = 0; i < sizeof ix->v4any; i++)
        ix->v4any[i] = ix->v4_16[i] | ix->v4keys[i];
    pk_status rc = pki_patterns_prepare(ix, err);
    if (rc != PK_OK) {
        pk_match_index_free(ix);
        return rc;
    }
    *out = ix;
    return PK_OK;
}

pk_status pk_match_index_from_memory(const void *data, size_t n, pk_match_index **out,
                                     pk_error *err)
{
    *out = NULL;
    uint8_t *img = pk_malloc(n ? n : 1);
    if (!img) return pk_error_set(err, PK_ENOMEM, "out of memory");
    if (n) memcpy(img, data, n);
    pk_status rc = validate(img, n, NULL, err);
    if (rc != PK_OK) {
        pk_free(img);
        return rc;
    }
    return index_wrap(img, n, 1, NULL, 0, 0, out, err);
}

static size_t read_min = (size_t)8 << 20;

void pki_index_read_min(size_t bytes)
{
    read_min = bytes;
}

/* Whether the kernel may give anonymous memory 2 MiB pages when asked. */
static int thp_usable(void)
{
    static int v = -1;
    if (v >= 0) return v;
    char buf[128] = "";
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    v = strstr(buf, "[always]") || strstr(buf, "[madvise]");
    return v;
}

/* PAGEMAP_SCAN (Linux 6.7): which pages of a range are mapped how. */
struct pk_page_region {
    uint64_t start, end, categories;
};
struct pk_pm_scan {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PK_PAGEMAP_SCAN _IOWR('f', 16, struct pk_pm_scan)
#define PK_PAGE_IS_HUGE (1u << 6)

/* How many bytes of a fresh mapping of the file the page cache gives on
 * 2 MiB pages: a byte is read every 2 MiB (a fault maps a whole 2 MiB
 * folio at once), then the kernel says which ranges are mapped huge.  -1
 * when it cannot tell (a kernel before 6.7). */
static long long huge_mapped(const uint8_t *m, size_t size)
{
    const volatile uint8_t *p = m;
    for (size_t off = 0; off < size; off += (size_t)2 << 20)
        (void)p[off];
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) return -1;
    long long huge = 0;
    uint64_t at = (uintptr_t)m, end = (uintptr_t)m + size;
    while (at < end) {
        struct pk_page_region r[32];
        struct pk_pm_scan q = {
            sizeof q, 0, at, end, 0, (uintptr_t)r, 32, 0, 0, PK_PAGE_IS_HUGE, 0, PK_PAGE_IS_HUGE};
        int n = ioctl(pm, PK_PAGEMAP_SCAN, &q);
        if (n < 0) {
            huge = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            huge += (long long)(r[i].end - r[i].start);
        if (q.walk_end <= at) break;
        at = q.walk_end;
    }
    close(pm);
    return huge;
}

/* Read a large .pki into anonymous memory on 2 MiB pages instead of mapping
 * it.  Validation touches every page, and on this VM the first touch of a
 * 4 KiB page of a mapping costs ~1.5 us of CPU even after MAP_POPULATE (the
 * hypervisor fills its own page tables then); a mapping is on 2 MiB pages
 * only where the page cache holds 2 MiB folios, which depends on how the
 * file got there (10 to 30 of 43 MB for a .pki just written by picket
 * compile here).  Faulting in ~22 zeroed huge pages and copying costs less,
 * whatever the page cache holds (measured: 21.6 against 25.6 to 34.7 ms of
 * CPU for a whole `picket match` of an empty log with the 1M index).  The
 * file is read into it 1 MiB at a time as validation goes (pk_loader), so
 * each step is checked while the copy is in cache.  The start of the image
 * (the region's start and length in *region, *len), or NULL: map instead. */
static uint8_t *read_huge(size_t size, void **region, size_t *len)
{
    const size_t huge = (size_t)2 << 20;
    size_t n = (size + huge - 1) & ~(huge - 1);
    uint8_t *m = mmap(NULL, n + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
    madvise(a, n, MADV_HUGEPAGE);
#endif
    *region = m;
    *len = n + huge;
    return a;
}

pk_status pk_match_index_load(const char *path, pk_match_index **out, pk_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot open: %s", strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "not a regular file");
    }
    size_t size = (size_t)st.st_size;
    if (size < sizeof(pki_header)) {
        close(fd);
        pk_error_at(err, path, 0, 0);
        return bad_index(err, "too short for a header");
    }
    void *region = NULL;
    size_t region_len = 0;
    int huge = 0;
    uint8_t *img = NULL;
    if (size >= read_min && thp_usable()) {
        /* mapped, if the page cache holds it on 2 MiB pages (or nearly) */
        uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED && huge_mapped(m, size) >= (long long)(size - size / 5)) {
#ifdef MADV_POPULATE_READ
            madvise(m, size, MADV_POPULATE_READ); /* the rest at once */
#endif
            img = region = m;
            region_len = size;
            huge = 1;
        } else if (m != MAP_FAILED) {
            munmap(m, size);
        }
        if (!img && (img = read_huge(size, &region, &region_len))) huge = 2;
    }
    pk_loader ld = {fd, img, 0, size, 0};
    if (!img) {
        /* one bulk fault instead of one per page: validation reads every byte */
        region = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (region == MAP_FAILED) {
            close(fd);
            pk_error_at(err, path, 0, 0);
            return pk_error_set(err, PK_EIO, "cannot map: %s", strerror(errno));
        }
        img = region;
        region_len = size;
    }
    pk_status rc = validate(img, size, huge == 2 ? &ld : NULL, err);
    close(fd);
    if (rc != PK_OK) {
        munmap(region, region_len);
        pk_error_at(err, path, 0, 0);
        return rc;
    }
    return index_wrap(img, size, 0, region, region_len, huge != 0, out, err);
}

pk_status pk_match_index_save(const pk_match_index *ix, const char *path, pk_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot create: %s", strerror(errno));
    }
    size_t done = 0;
    while (done < ix->size) {
        ssize_t w = write(fd, ix->base + done, ix->size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            pk_error_at(err, path, 0, 0);
            return pk_error_set(err, PK_EIO, "cannot write: %s", strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        pk_error_at(err, path, 0, 0);
        return pk_error_set(err, PK_EIO, "cannot write: %s", strerror(e));
    }
    return PK_OK;
}

pk_match_index *pk_match_index_ref(pk_match_index *ix)
{
    if (ix) atomic_fetch_add(&ix->refs, 1);
    return ix;
}

void pk_match_index_free(pk_match_index *ix)
{
    if (!ix || atomic_fetch_sub(&ix->refs, 1) != 1) return;
    pki_patterns_release(ix);
    if (ix->bloom_copy) munmap(ix->bloom_copy, ix->bloom_copy_size);
    if (ix->mapped) munmap(ix->mapped, ix->mapped_size);
    pk_free(ix->owned);
    pk_free(ix);
}

void pk_match_index_info_get(const pk_match_index *ix, pk_match_index_info *out)
{
    memset(out, 0, sizeof *out);
    if (!ix) return;
    out->entries = ix->h->n_entries;
    out->keys = ix->h->n_keys;
    out->cidrs4 = ix->h->n_v4;
    out->cidrs6 = ix->h->n_v6;
    out->patterns = ix->h->n_patterns;
    out->bytes = ix->size;
    for (int t = 0; t < PK_IOC_TYPE_MAX_; t++)
        out->per_type[t] = ix->h->per_type[t];
}

long pki_find_v4(const pk_match_index *ix, uint32_t a)
{
    uint32_t lo = 0, hi = ix->h->n_v4;
    while (lo < hi) { /* first node with start > a */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->v4[mid].start <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t i = lo; /* i - 1 is the last node starting at or before a */
    while (i) {
        const pki_v4 *v = &ix->v4[i - 1];
        if (a <= v->end) return (long)(i - 1);
        i = v->parent;
    }
    return -1;
}

long pki_find_v6(const pk_match_index *ix, const uint8_t a[16])
{
    uint32_t lo = 0, hi = ix->h->n_v6;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(ix->v6[mid].start, a, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t i = lo;
    while (i) {
        const pki_v6 *v = &ix->v6[i - 1];
        if (memcmp(a, v->end, 16) <= 0) return (long)(i - 1);
        i = v->parent;
    }
    return -1;
}

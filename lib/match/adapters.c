/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log adapters: records to observations without building a tree.
 *
 * Why hand-rolled: a JSON library builds a node per key and copies every
 * string, which costs more than the whole match; a log line has 20 to 60 keys
 * of which 2 to 6 matter.  This scanner walks the line once: a SIMD search
 * finds each string's closing quote, a key costs one short hash and one table
 * probe (fields.c), numbers and unwanted strings are stepped over, and the
 * values wanted are recorded as (pointer, length) into the line.  It checks
 * the whole line is well formed JSON structure as it goes (strings
 * terminated, brackets balanced, separators in place), so a malformed line is
 * reported and skipped, never half matched.  bench/match.sh compares it with
 * wc -l and grep on the same files.
 */
#include "scan_int.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first '"' or '\\' in [p, e), or e.  Reads up to 15 bytes past e. */
static inline const char *find_qb(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
    while (p < e) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)));
        if (m) {
            p += __builtin_ctz(m);
            return p < e ? p : e;
        }
        p += 16;
    }
    return e;
#else
    while (p < e && *p != '"' && *p != '\\')
        p++;
    return p;
#endif
}

/* The closing quote of a string whose body starts at p; *esc set when it has
 * escapes.  e when unterminated. */
static inline const char *string_end(const char *p, const char *e, int *esc)
{
    const char *q = find_qb(p, e);
    while (q < e && *q == '\\') {
        *esc = 1;
        if (q + 1 >= e) return e;
        q = find_qb(q + 2, e);
    }
    return q;
}

static inline const char *skip_ws(const char *p, const char *e)
{
    /* logs rarely have any: one compare when there is none */
    if (p < e && (unsigned char)*p > ' ') return p;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Bytes that end a number, true, false or null. */
static const uint8_t scalar_end[256] = {
    [','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1,
};

int pki_add_obs(pk_match_scanner *s, uint8_t role, const char *field, const char *v, size_t n,
                uint8_t esc)
{
    if (role == R_TIME) {
        if (!s->time) {
            s->time = v;
            s->time_len = n;
            s->time_esc = esc;
        }
        return 1;
    }
    if (role == R_HTTP_PATH && !s->path) {
        s->path = v;
        s->path_len = n;
        s->path_field = field;
        if (!esc) return 1;
        /* escaped: let scan.c unescape it through the normal route */
    }
    if (n == 0 || n > 0xffffffffu) return 1;
    if (s->nobs == s->obscap) {
        size_t nc = s->obscap ? s->obscap * 2 : 64;
        if (nc > (1u << 20)) return 0;
        pki_obs *no = pk_realloc(s->obs, nc * sizeof *no);
        if (!no) return 0;
        s->obs = no;
        s->obscap = nc;
    }
    s->obs[s->nobs++] = (pki_obs){v, (uint32_t)n, role, esc, field};
    return 1;
}

typedef struct frame {
    uint64_t h;
    const char *field; /* for array elements */
    uint8_t role;      /* for array elements */
    uint8_t arr;
    uint8_t prefix; /* wanted fields below: walk nested values */
} frame;

/* The next '"', '{', '}', '[' or ']' in [p, e), or e (reads up to 15 bytes
 * past e).  '[' ']' and '{' '}' differ by 0x20, so two compares find both. */
static inline const char *find_structural(const char *p, const char *e)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), ob = _mm_set1_epi8('['), cb = _mm_set1_epi8(']'),
                  up = _mm_set1_epi8(0x20);
    while (p < e) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i lo = _mm_andnot_si128(up, v); /* '{' -> '[', '}' -> ']' */
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, q),
                                 _mm_or_si128(_mm_cmpeq_epi8(lo, ob), _mm_cmpeq_epi8(lo, cb)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) {
            p += __builtin_ctz(bits);
            return p < e ? p : e;
        }
        p += 16;
    }
    return e;
#else
    while (p < e && *p != '"' && *p != '{' && *p != '}' && *p != '[' && *p != ']')
        p++;
    return p;
#endif
}

/* Step over a nested value no wanted field lies in: only strings and the
 * nesting of brackets are looked at (and checked), which is much cheaper
 * than walking its keys.  p is at the '{' or '['; returns the byte after
 * the closing bracket, or NULL with *why set. */
static const char *skip_value(const char *p, const char *e, const char **why)
{
    uint64_t arr = 0; /* bit per level: 1 for '[' */
    int d = 0;
    for (; (p = find_structural(p, e)) < e; p++) {
        switch (*p) {
        case '"': {
            int esc = 0;
            p = string_end(p + 1, e, &esc);
            if (p >= e) {
                *why = "unterminated string";
                return NULL;
            }
            break;
        }
        case '{':
        case '[':
            if (d == 63) {
                *why = "nested too deep";
                return NULL;
            }
            arr = arr << 1 | (*p == '[');
            d++;
            break;
        default: /* '}' or ']' */
            if ((arr & 1) != (*p == ']')) {
                *why = "mismatched bracket";
                return NULL;
            }
            arr >>= 1;
            if (--d == 0) return p + 1;
            break;
        }
    }
    *why = "unexpected end of line";
    return NULL;
}

#if defined(__SSE2__)
/* Bit i set where p[i] == c, for the 16 bytes at p. */
static inline uint64_t eq16(__m128i v, char c)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}

/* Inclusive prefix XOR: bit i = xor of bits 0..i (a quote opens, the next
 * closes: the bits from an opening quote up to before its closing one). */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/*
 * skip_value on 64-byte blocks: quotes, backslashes and brackets of a block
 * become bit masks, the bits inside strings come from a prefix XOR of the
 * quotes, and only the brackets outside strings are visited (an EVE "flow"
 * object of ~270 bytes has two).  Escapes are not modelled: at the first
 * backslash, and on anything skip_value would report (too deep, mismatched,
 * unterminated), this returns NULL and the caller runs skip_value from the
 * start, so the result and the reason are always skip_value's.
 */
static const char *skip_value_fast(const char *p, const char *e)
{
    uint64_t arr = 0, carry = 0;
    int d = 0;
    for (const char *b = p; b < e; b += 64) {
        uint64_t q = 0, bs = 0, br = 0;
        for (int i = 0; i < 4; i++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * i));
            __m128i lo = _mm_andnot_si128(_mm_set1_epi8(0x20), v); /* '{' '}' -> '[' ']' */
            q |= eq16(v, '"') << (16 * i);
            bs |= eq16(v, '\\') << (16 * i);
            br |= (eq16(lo, '[') | eq16(lo, ']')) << (16 * i);
        }
        size_t left = (size_t)(e - b);
        uint64_t valid = left >= 64 ? ~0ull : (1ull << left) - 1;
        int stop = left <= 64;
        if (bs & valid) { /* only the bytes before the first backslash */
            valid &= (bs & -bs) - 1;
            stop = 1;
        }
        uint64_t in = prefix_xor(q & valid) ^ carry;
        for (br &= valid & ~in; br; br &= br - 1) {
            const char *c = b + __builtin_ctzll(br);
            if (*c == '{' || *c == '[') {
                if (d == 63) return NULL;
                arr = arr << 1 | (*c == '[');
                d++;
            } else {
                if ((arr & 1) != (*c == ']')) return NULL;
                arr >>= 1;
                if (--d == 0) return c + 1;
            }
        }
        if (stop) return NULL;
        carry = (uint64_t)((int64_t)in >> 63);
    }
    return NULL;
}
#endif

/*
 * The walker's strings end at the next '"' or '\\' after their start; a
 * search per string puts a SIMD load, compares and a mask on the critical
 * path of every key and value.  The cursor keeps the mask of those bytes for
 * the 64 bytes from where it last searched, so the strings of a block (a
 * key and its value are ~25 bytes) cost a shift and a count each.
 */
typedef struct qb_cursor {
    const char *base; /* the block: [base, base + 64) */
    uint64_t m;       /* bit i: base[i] is '"' or '\\' */
} qb_cursor;

static inline uint64_t qb_mask64(const char *p)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(
                 _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)))
             << (16 * i);
    }
    return m;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == '"' || p[i] == '\\') << i;
    return m;
#endif
}

/* find_qb through the cursor: the first '"' or '\\' in [p, e), or e.
 * Reads up to 63 bytes past e. */
static inline const char *cur_qb(qb_cursor *c, const char *p, const char *e)
{
    while (p < e) {
        uintptr_t off = (uintptr_t)p - (uintptr_t)c->base;
        if (off < 64) {
            uint64_t m = c->m >> off;
            if (m) {
                p += __builtin_ctzll(m);
                return p < e ? p : e;
            }
            p = c->base + 64;
            continue;
        }
        c->base = p;
        c->m = qb_mask64(p);
    }
    return e;
}

static inline const char *cur_string_end(qb_cursor *c, const char *p, const char *e, int *esc)
{
    const char *q = cur_qb(c, p, e);
    while (q < e && *q == '\\') {
        *esc = 1;
        if (q + 1 >= e) return e;
        q = cur_qb(c, q + 2, e);
    }
    return q;
}

/* The end of a number, true, false or null starting at p: the first of
 * , } ] space tab CR, or e.  Digits go 16 at a time (a digit never ends a
 * scalar); reads up to 15 bytes past e. */
static inline const char *scalar_stop(const char *p, const char *e)
{
#if defined(__SSE2__)
    while (p < e) {
        __m128i x =
            _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8('0'));
        unsigned nd =
            ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(9)), x)) &
            0xffffu;
        if (nd) {
            p += __builtin_ctz(nd);
            break;
        }
        p += 16;
    }
    if (p > e) p = e;
#endif
    while (p < e && !scalar_end[(unsigned char)*p])
        p++;
    return p;
}

#define MAX_DEPTH 64

const char *pki_json_line(pk_match_scanner *s, const char *p, size_t n, const pki_ftab *t)
{
    const char *e = p + n;
    frame st[MAX_DEPTH];
    int d = 0;
    qb_cursor cur = {NULL, 0}; /* empty: the first search fills it */
    p = skip_ws(p, e);
    if (p >= e || *p != '{') return "not a JSON object";
    st[d++] = (frame){PKI_PATH_ROOT, NULL, R_NONE, 0, 1};
    p++;
    for (;;) {
    next:;
        frame *f = &st[d - 1];
        uint8_t role = R_NONE;
        const char *field = NULL;
        uint64_t kh = f->h;
        int walk = f->prefix;
        p = skip_ws(p, e);
        if (p >= e) return "unexpected end of line";
        if (!f->arr) {
            if (*p == '}') goto close;
            if (*p != '"') return "expected a key";
            /* The bulk of a log line is members like "key":"text" and
             * "key":123 followed by ,": they go round this tight loop.
             * Anything else (an escape, whitespace, a nested value, an
             * error) leaves it at the member's first byte, with nothing
             * recorded for that member, and the general code below takes
             * it from there, so both ways give the same result. */
            for (;;) {
                const char *k = p + 1, *q = cur_qb(&cur, k, e);
                if (q + 2 >= e || *q != '"' || q[1] != ':') break;
                const char *v = q + 2;
                char c = *v;
                int str = c == '"', nest = c == '{' || c == '[';
                if (!str && !nest && !((c >= '0' && c <= '9') || c == '-')) break;
                const char *ve = str ? cur_qb(&cur, v + 1, e) : NULL;
                if (str && (ve >= e || *ve != '"')) break;
                size_t kl = (size_t)(q - k);
                uint8_t mrole = R_NONE, mwalk = 0;
                const char *mfield = NULL;
                uint64_t mh = f->h;
                if (kl == 0 || pki_kf_maybe(t, k, kl)) {
                    mh = pki_path_hash(f->h, k, kl);
                    const pki_fslot *sl = pki_ftab_find(t, mh, k, kl);
                    if (sl) {
                        mrole = sl->role;
                        mfield = sl->name;
                        mwalk = sl->prefix;
                    }
                }
                if (nest) {
                    if (!mwalk && (c == '{' || mrole == R_NONE)) {
                        const char *why = NULL, *r = NULL;
#if defined(__SSE2__)
                        r = skip_value_fast(v, e);
#endif
                        if (!r && !(r = skip_value(v, e, &why))) return why;
                        p = r;
                    } else {
                        if (d == MAX_DEPTH) return "nested too deep";
                        st[d++] = (frame){mh, mfield, mrole, (uint8_t)(c == '['), mwalk};
                        p = v + 1;
                        goto next;
                    }
                } else if (str) {
                    size_t vl = (size_t)(ve - v - 1);
                    if (mrole == R_EVENT) {
                        if (vl == 5 && memcmp(v + 1, "stats", 5) == 0) return "";
                    } else if (mrole != R_NONE) {
                        if (!pki_add_obs(s, mrole, mfield, v + 1, vl, 0))
                            return "too many values in one record";
                    }
                    p = ve + 1;
                } else {
                    p = scalar_stop(v, e);
                    if (mrole == R_TIME || mrole >= R_SRC_PORT) /* ports and sizes */
                        pki_add_obs(s, mrole, mfield, v, (size_t)(p - v), 0);
                }
                if (p + 1 < e && *p == ',' && p[1] == '"') {
                    p++;
                    continue;
                }
                goto after_value;
            }
            int kesc = 0;
            const char *k = p + 1, *q = cur_string_end(&cur, k, e, &kesc);
            if (q >= e) return "unterminated string";
            size_t kl = (size_t)(q - k);
            p = q + 1;
            walk = 0;
            /* kh matters only for a key in the table (a nested walk starts
             * only under one): the others skip the hash */
            if (!kesc && (kl == 0 || pki_kf_maybe(t, k, kl))) {
                kh = pki_path_hash(f->h, k, kl);
                const pki_fslot *sl = pki_ftab_find(t, kh, k, kl);
                if (sl) {
                    role = sl->role;
                    field = sl->name;
                    walk = sl->prefix;
                }
            }
            if (p + 1 < e && *p == ':' && (unsigned char)p[1] > ' ') {
                p++; /* compact JSON: the value right after the ':' */
            } else {
                p = skip_ws(p, e);
                if (p >= e || *p != ':') return "expected ':' after a key";
                p = skip_ws(p + 1, e);
                if (p >= e) return "unexpected end of line";
            }
        } else {
            if (*p == ']') goto close;
            role = f->role;
            field = f->field;
        }
        switch (*p) {
        case '"': {
            int esc = 0;
            const char *v = p + 1, *q = cur_string_end(&cur, v, e, &esc);
            if (q >= e) return "unterminated string";
            if (role == R_EVENT) {
                if (q - v == 5 && memcmp(v, "stats", 5) == 0) return "";
            } else if (role != R_NONE) {
                if (!pki_add_obs(s, role, field, v, (size_t)(q - v), (uint8_t)esc))
                    return "too many values in one record";
            }
            p = q + 1;
            break;
        }
        case '{':
        case '[':
            if (!walk && (*p == '{' || role == R_NONE)) {
                const char *why = NULL, *r = NULL;
#if defined(__SSE2__)
                r = skip_value_fast(p, e);
#endif
                if (!r && !(r = skip_value(p, e, &why))) return why;
                p = r;
                break;
            }
            if (d == MAX_DEPTH) return "nested too deep";
            st[d++] = (frame){kh, field, role, (uint8_t)(*p == '['), (uint8_t)walk};
            p++;
            continue;
        default: {
            const char *v = p;
            char c = *p;
            if (!((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n'))
                return "unexpected character";
            p = scalar_stop(p, e);
            if (role == R_TIME || role >= R_SRC_PORT) /* ports and sizes are numbers */
                pki_add_obs(s, role, field, v, (size_t)(p - v), 0);
        }
        }
    after_value:
        p = skip_ws(p, e);
        if (p >= e) return "unexpected end of line";
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != (st[d - 1].arr ? ']' : '}')) return "expected ',' or a closing bracket";
    close:
        if (*p != (st[d - 1].arr ? ']' : '}')) return "mismatched bracket";
        d--;
        p++;
        if (d == 0) {
            p = skip_ws(p, e);
            return p == e ? NULL : "text after the JSON object";
        }
        goto after_value;
    }
}

/* ---- Zeek TSV ------------------------------------------------------------ */

/* The Zeek header's \xHH escapes, as in "#separator \x09". */
static size_t unhex_escapes(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (s[i] == '\\' && i + 3 < n + 0 && s[i + 1] == 'x') {
            char h[3] = {s[i + 2], s[i + 3], 0};
            char *end;
            long v = strtol(h, &end, 16);
            if (end == h + 2) {
                out[o++] = (char)v;
                i += 3;
                continue;
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return o;
}

static const char *tsv_header(pk_match_scanner *s, const char *p, size_t n)
{
    const char *e = p + n;
    /* "#separator" is separated from its value by a space, the rest by the separator */
    if (n > 11 && memcmp(p, "#separator ", 11) == 0) {
        char v[8];
        if (unhex_escapes(p + 11, n - 11, v, sizeof v) == 1) s->sep = v[0];
        return NULL;
    }
    const char *sp = memchr(p, s->sep, n);
    if (!sp) return NULL;
    size_t kl = (size_t)(sp - p);
    const char *v = sp + 1;
    size_t vl = (size_t)(e - v);
    if (kl == 14 && memcmp(p, "#set_separator", 14) == 0) {
        char b[8];
        if (unhex_escapes(v, vl, b, sizeof b) == 1) s->setsep = b[0];
    } else if (kl == 12 && memcmp(p, "#unset_field", 12) == 0 && vl < sizeof s->unset) {
        memcpy(s->unset, v, vl);
        s->unset_len = vl;
    } else if (kl == 12 && memcmp(p, "#empty_field", 12) == 0 && vl < sizeof s->empty) {
        memcpy(s->empty, v, vl);
        s->empty_len = vl;
    } else if (kl == 7 && memcmp(p, "#fields", 7) == 0) {
        size_t count = 1;
        for (const char *q = v; q < e; q++)
            count += *q == s->sep;
        if (count > 4096) return "too many fields in #fields";
        pk_free(s->colrole);
        pk_free(s->colname);
        pk_free(s->colstore);
        pk_free(s->collist);
        s->collist = NULL;
        s->ncols = 0;
        s->colrole = pk_calloc(count, 1);
        s->colname = pk_calloc(count, sizeof *s->colname);
        s->colstore = pk_malloc(vl + 1 + 16);
        if (!s->colrole || !s->colname || !s->colstore) return "out of memory";
        memcpy(s->colstore, v, vl);
        memset(s->colstore + vl, 0, 17);
        char *c = s->colstore;
        for (size_t i = 0; i < count; i++) {
            char *end = memchr(c, s->sep, (size_t)(s->colstore + vl - c));
            if (!end) end = s->colstore + vl;
            *end = '\0';
            s->colname[i] = c;
            const pki_fslot *sl =
                pki_ftab_find(&s->fields.zeek, pki_path_hash(PKI_PATH_ROOT, c, (size_t)(end - c)),
                              c, (size_t)(end - c));
            s->colrole[i] = sl ? sl->role : R_NONE;
            if (sl) s->colname[i] = sl->name;
            c = end + 1;
        }
        s->ncols = count;
    } else if (kl == 6 && memcmp(p, "#types", 6) == 0 && s->ncols) {
        size_t count = 1;
        for (const char *q = v; q < e; q++)
            count += *q == s->sep;
        pk_free(s->collist);
        s->collist = pk_calloc(s->ncols, sizeof *s->collist);
        if (!s->collist) return "out of memory";
        const char *c = v;
        for (size_t i = 0; i < count && i < s->ncols; i++) {
            const char *end = memchr(c, s->sep, (size_t)(e - c));
            if (!end) end = e;
            size_t tl = (size_t)(end - c);
            s->collist[i] =
                (tl > 4 && memcmp(c, "set[", 4) == 0) || (tl > 7 && memcmp(c, "vector[", 7) == 0);
            c = end + 1;
        }
    }
    return NULL;
}

const char *pki_tsv_line(pk_match_scanner *s, const char *p, size_t n)
{
    if (n && p[0] == '#') {
        const char *why = tsv_header(s, p, n);
        return why ? why : "";
    }
    if (!s->ncols) return "a data line before the #fields header";
    const char *e = p + n;
    size_t col = 0;
    for (;;) {
        const char *end = memchr(p, s->sep, (size_t)(e - p));
        if (!end) end = e;
        if (col < s->ncols && s->colrole[col] != R_NONE) {
            size_t vl = (size_t)(end - p);
            int unset = (vl == s->unset_len && memcmp(p, s->unset, vl) == 0) ||
                        (vl == s->empty_len && memcmp(p, s->empty, vl) == 0);
            if (!unset) {
                uint8_t role = s->colrole[col];
                int list = s->collist ? s->collist[col] : 0;
                const char *q = p;
                while (q < end) {
                    const char *ve = list ? memchr(q, s->setsep, (size_t)(end - q)) : NULL;
                    if (!ve) ve = end;
                    uint8_t esc = memchr(q, '\\', (size_t)(ve - q)) ? 2 : 0;
                    if (!pki_add_obs(s, role, s->colname[col], q, (size_t)(ve - q), esc))
                        return "too many values in one record";
                    q = ve + 1;
                }
            }
        }
        col++;
        if (end == e) break;
        p = end + 1;
    }
    if (col != s->ncols) {
        static _Thread_local char why[96];
        snprintf(why, sizeof why, "%zu fields where #fields names %zu", col, s->ncols);
        return why;
    }
    return NULL;
}

/* ---- unescaping ---------------------------------------------------------- */

static int hexd(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t pki_unescape(const char *v, size_t n, int esc, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 4 >= cap) return 0;
        char c = v[i];
        if (c != '\\' || i + 1 >= n) {
            out[o++] = c;
            continue;
        }
        char x = v[++i];
        if (esc == 2) { /* Zeek: \xHH, else literal */
            if (x == 'x' && i + 2 < n && hexd(v[i + 1]) >= 0 && hexd(v[i + 2]) >= 0) {
                out[o++] = (char)(hexd(v[i + 1]) << 4 | hexd(v[i + 2]));
                i += 2;
            } else {
                out[o++] = '\\';
                out[o++] = x;
            }
            continue;
        }
        switch (x) {
        case 'n':
            out[o++] = '\n';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'u': {
            unsigned cp = 0;
            if (i + 4 >= n) return 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexd(v[i + k]);
                if (h < 0) return 0;
                cp = cp << 4 | (unsigned)h;
            }
            i += 4;
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xc0 | cp >> 6);
                out[o++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[o++] = (char)(0xe0 | cp >> 12);
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default: /* \" \\ \/ */
            out[o++] = x;
        }
    }
    return o;
}

/* ---- free text ----------------------------------------------------------- */

/* Characters that end a token in free text. */
static int delim(unsigned char c)
{
    return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' ||
           c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == ';' || c == '|' ||
           c == '`' || c == '\\' || c == 0x7f;
}

static int trail_punct(char c)
{
    return c == '.' || c == ':' || c == '!' || c == '?' || c == '=' || c == '/' || c == '-';
}

static void text_part(pk_match_scanner *s, const char *t, const char *e, const char *field)
{
    while (t < e && (trail_punct(*t) || *t == '@'))
        t++;
    while (e > t && (trail_punct(e[-1]) || e[-1] == '@'))
        e--;
    size_t n = (size_t)(e - t);
    if (n < 3) return;
    if (n > 7 && strncasecmp(t, "mailto:", 7) == 0) t += 7, n -= 7;
    uint8_t tmp[16];
    if (memchr(t, '@', n)) {
        pki_match_value(s, R_EMAIL, field, t, n);
        return;
    }
    int hex = 1, dots = 0, colons = 0, alpha = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f'))) hex = 0;
        if (((c | 32) >= 'a' && (c | 32) <= 'z')) alpha = 1;
        dots += c == '.';
        colons += c == ':';
    }
    if (hex && (n == 32 || n == 40 || n == 64 || n == 128)) {
        pki_match_value(s, R_HASH, field, t, n);
        return;
    }
    if (colons >= 2 && pki_parse_ipv6(t, n, tmp)) {
        pki_match_value(s, R_IP, field, t, n);
        return;
    }
    if (dots == 0) return;
    /* host:port and host/path */
    const char *cut = t;
    while (cut < e && *cut != '/' && *cut != ':' && *cut != '?' && *cut != '#')
        cut++;
    if (cut != e) {
        text_part(s, t, cut, field);
        return;
    }
    if (dots == 3 && !alpha) {
        if (pki_parse_ipv4(t, n, tmp)) pki_match_value(s, R_IP, field, t, n);
        return;
    }
    if (alpha) pki_match_value(s, R_DOMAIN, field, t, n);
}

void pki_text_extract(pk_match_scanner *s, const char *p, size_t n, const char *field)
{
    const char *e = p + n;
    while (p < e) {
        while (p < e && delim((unsigned char)*p))
            p++;
        const char *t = p;
        while (p < e && !delim((unsigned char)*p))
            p++;
        if (p - t < 3) continue;
        const char *sch = NULL;
        for (const char *q = t; q + 2 < p && q < t + 12; q++)
            if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
                sch = q;
                break;
            }
        if (sch && sch > t) {
            const char *ue = p;
            while (ue > t && (ue[-1] == '.' || ue[-1] == ',' || ue[-1] == '!' || ue[-1] == '?'))
                ue--;
            pki_match_value(s, R_URL_ONLY, field, t, (size_t)(ue - t));
            const char *h = sch + 3, *he = h;
            while (he < p && *he != '/' && *he != '?' && *he != '#')
                he++;
            const char *at = memchr(h, '@', (size_t)(he - h));
            if (at) h = at + 1;
            text_part(s, h, he, field);
            continue;
        }
        /* key=value and a=b&c=d fragments */
        const char *q = t;
        while (q < p) {
            const char *pe = q;
            while (pe < p && *pe != '=' && *pe != '&')
                pe++;
            text_part(s, q, pe, field);
            q = pe + 1;
        }
    }
}

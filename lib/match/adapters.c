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

/* The byte-by-byte walker: every line the fast path leaves, and the judge
 * of every malformed one. */
static const char *json_walk(pk_match_scanner *s, const char *p, size_t n, const pki_ftab *t)
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

/* ---- the fast path ------------------------------------------------------- */

/*
 * Most lines are compact JSON without escapes.  For those, the bytes the
 * walker looks for are found with bit masks computed 64 bytes at a time
 * over the whole line first (simdjson's stage 1): its quotes, the bytes
 * that end a scalar, its brackets outside strings (a prefix XOR of the
 * quotes says which bytes lie inside strings) and its newline, which gives
 * drain() the line's length; the strings' closing quotes are listed in
 * order.  The walk then takes string ends from the list, checks the one or
 * two bytes between (a member "key":"value", is the key's closing quote,
 * ':', the value's quotes and ','; a number member ends at the first
 * , } ] after it), and steps over unwanted sub-objects on the bracket mask
 * alone.
 *
 * It finds every string end and scalar end exactly where the byte-by-byte
 * walker below finds it, and takes only lines the walker takes, the same
 * way: anything else (a backslash anywhere, whitespace between tokens, a
 * trailing comma, too deep, an odd number of quotes...) makes it give up,
 * and the walker runs the line from the start, so every reason reported
 * is the walker's own and every value recorded the walker's.
 */

enum { JF_OK, JF_SKIP, JF_BAIL };
#define JF_NOLINE ((size_t)-1)
#define JF_LONG ((size_t)-2)

/* Bytes that may start a scalar (the walker's rule: a digit, '-', t, f, n). */
static const uint8_t scalar_first[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['t'] = 1, ['f'] = 1, ['n'] = 1,
};

/* The masks of one 64-byte block, as each form computes them.  Backslashes
 * get no mask: each form ORs its compares into one vector for the line
 * (its bytes past the line too), and only when that has a bit does a
 * memchr over the line say whether the line has one. */
typedef struct jf_masks {
    uint64_t q;  /* '"' */
    uint64_t br; /* { } [ ] */
    uint64_t nl; /* '\n' */
} jf_masks;

static inline void jf_masks_c(const char *p, jf_masks *m, uint64_t *bsany)
{
    uint64_t q = 0, bs = 0, br = 0, nl = 0;
    for (int i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)p[i];
        uint64_t bit = 1ull << i;
        nl |= c == '\n' ? bit : 0;
        q |= c == '"' ? bit : 0;
        bs |= c == '\\' ? bit : 0;
        br |= c == '{' || c == '}' || c == '[' || c == ']' ? bit : 0;
    }
    *m = (jf_masks){q, br, nl};
    *bsany |= bs;
}

#if defined(__SSE2__)
static inline void jf_masks_sse2(const char *p, jf_masks *m, __m128i *bsany)
{
    const __m128i Q = _mm_set1_epi8('"'), B = _mm_set1_epi8('\\'), OB = _mm_set1_epi8('['),
                  CB = _mm_set1_epi8(']'), UP = _mm_set1_epi8(0x20), NL = _mm_set1_epi8('\n');
    uint64_t q = 0, br = 0, nl = 0;
    __m128i bs = *bsany;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i lo = _mm_andnot_si128(UP, v); /* '{' '}' -> '[' ']' */
        __m128i b = _mm_or_si128(_mm_cmpeq_epi8(lo, OB), _mm_cmpeq_epi8(lo, CB));
        int sh = 16 * i;
        q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, Q)) << sh;
        bs = _mm_or_si128(bs, _mm_cmpeq_epi8(v, B));
        br |= (uint64_t)(unsigned)_mm_movemask_epi8(b) << sh;
        nl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, NL)) << sh;
    }
    *m = (jf_masks){q, br, nl};
    *bsany = bs;
}
#endif

#define JF_ANY_C(x) (x)

/* Write the positions of the bits of m (block at base) to o; the new end.
 * Writes at least 6 entries (the array has room past the end): a block
 * has 4 to 5 closing quotes on average, more than 6 seldom, so that the
 * branch is predictable. */
static inline __attribute__((always_inline)) uint16_t *jf_flatten(uint16_t *o, uint64_t m,
                                                                  unsigned base)
{
    unsigned c = (unsigned)__builtin_popcountll(m);
    /* the unused entries get junk (tzcnt of 0 is 64) and are overwritten;
     * m ? ctz : 64 is one tzcnt where the CPU has it */
    for (int i = 0; i < 6; i++) {
        o[i] = (uint16_t)(base + (m ? (unsigned)__builtin_ctzll(m) : 64u));
        m &= m - 1;
    }
    for (int i = 6; m; i++) {
        o[i] = (uint16_t)(base + (unsigned)__builtin_ctzll(m));
        m &= m - 1;
    }
    return o + c;
}

/* Stage 1 with a given mask function and prefix XOR, over the n bytes at
 * L, or (FIND) over the bytes at L up to the first '\n' among the first
 * lim (n is set to its position; to JF_NOLINE when there is none, to
 * JF_LONG when the line would be longer than PKI_JF_MAX).  Sets ok to 0
 * when the line is not one the fast path takes (a backslash, an odd number
 * of quotes).  Reads up to 63 bytes past the line or lim (PKI_PAD). */
#define JF_STAGE1(MASKS, PXOR, FLAT, FIND, BST, BS0, BSANY)                                        \
    do {                                                                                           \
        uint64_t carry = 0;                                                                        \
        BST bs = BS0;                                                                              \
        uint16_t *o = j->ci;                                                                       \
        unsigned b = 0;                                                                            \
        size_t tot = FIND ? lim : n; /* > 0 */                                                     \
        /* the block of the last byte; a block before it (stop) can end the                        \
         * search only with a newline or, for a line search, the length cap */                     \
        unsigned last = (unsigned)((tot - 1) / 64), stop = last;                                   \
        if (FIND && stop > PKI_JF_MAX / 64 - 1) stop = PKI_JF_MAX / 64 - 1;                        \
        for (;; b++) {                                                                             \
            jf_masks m;                                                                            \
            MASKS(L + 64 * (size_t)b, &m, &bs);                                                    \
            uint64_t past = 0; /* bits of the bytes after the line */                              \
            if (__builtin_expect((FIND && m.nl) || b >= stop, 0)) {                                \
                size_t left = tot - 64 * (size_t)b; /* > 0 */                                      \
                if (FIND) {                                                                        \
                    uint64_t nl = left < 64 ? m.nl & ((1ull << left) - 1) : m.nl;                  \
                    if (nl) {                                                                      \
                        n = 64 * (size_t)b + (size_t)__builtin_ctzll(nl);                          \
                        past = ~0ull << (n & 63);                                                  \
                    } else if (left <= 64) {                                                       \
                        n = JF_NOLINE;                                                             \
                        break;                                                                     \
                    } else if (64 * (size_t)b + 64 >= PKI_JF_MAX) {                                \
                        n = JF_LONG;                                                               \
                        break;                                                                     \
                    }                                                                              \
                } else if (left < 64) {                                                            \
                    past = ~0ull << left;                                                          \
                }                                                                                  \
                m.q &= ~past, m.br &= ~past;                                                       \
            }                                                                                      \
            uint64_t in = PXOR(m.q) ^ carry;                                                       \
            carry = (uint64_t)((int64_t)in >> 63);                                                 \
            j->q[b] = m.q;                                                                         \
            j->br[b] = m.br & ~in;                                                                 \
            j->in[b] = in;                                                                         \
            j->cq[b] = m.q & ~in;                                                                  \
            j->cc[b] = (uint16_t)(o - j->ci);                                                      \
            o = FLAT(o, m.q & ~in, 64 * b);                                                        \
            if (past || b >= last) {                                                               \
                b++;                                                                               \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        j->nb = b;                                                                                 \
        /* searches for a quote stop here at the latest */                                         \
        j->q[b] = ~0ull;                                                                           \
        for (int i = 0; i < 8; i++) /* past the last closing quote, positions read n */            \
            o[i] = (uint16_t)n;                                                                    \
        ok = !carry && (!(BSANY(bs)) || (n < JF_LONG && !memchr(L, '\\', n)));                     \
    } while (0)

/* The first set bit at or after position p of mask M: at most n for
 * p <= n (the bytes past the line are set). */
static inline __attribute__((always_inline)) size_t jf_next(const uint64_t *M, size_t p)
{
    uint64_t m = M[p >> 6] >> (p & 63);
    if (__builtin_expect(m != 0, 1)) return p + (size_t)__builtin_ctzll(m);
    size_t w = p >> 6;
    do
        m = M[++w];
    while (!m);
    return 64 * w + (size_t)__builtin_ctzll(m);
}

/* Step over the nested value whose bracket is at v, on the bracket mask:
 * the position of its closing bracket, *k the index of the first closing
 * quote after it; 0 when the walker must judge (mismatched, too deep,
 * unterminated, or v not outside a string by the quotes' parity, so that
 * the strings inside would not pair as they do for the walker). */
static inline __attribute__((always_inline)) size_t jf_skip(const pki_jfast *j, const char *L,
                                                            size_t v, size_t *k)
{
    unsigned b = (unsigned)(v >> 6);
    if (j->in[b] >> (v & 63) & 1) return 0;
    uint64_t mm = j->br[b] & (~0ull << (v & 63)), arr = 0;
    /* most such values hold no bracket: the next one closes */
    uint64_t nx = mm & (mm - 1);
    unsigned nb = b;
    while (!nx && ++nb < j->nb)
        nx = j->br[nb];
    if (nx) {
        unsigned bit = (unsigned)__builtin_ctzll(nx);
        size_t pos = 64 * (size_t)nb + bit;
        if ((unsigned char)L[pos] == (unsigned char)L[v] + 2) { /* { } and [ ] */
            *k = j->cc[nb] + (size_t)__builtin_popcountll(j->cq[nb] & ((1ull << bit) - 1));
            return pos;
        }
    }
    int d = 0;
    for (;;) {
        for (; mm; mm &= mm - 1) {
            unsigned bit = (unsigned)__builtin_ctzll(mm);
            size_t pos = 64 * (size_t)b + bit;
            char c = L[pos];
            if (c == '{' || c == '[') {
                if (d == 63) return 0;
                arr = arr << 1 | (c == '[');
                d++;
            } else {
                if ((arr & 1) != (c == ']')) return 0;
                arr >>= 1;
                if (--d == 0) {
                    *k = j->cc[b] + (size_t)__builtin_popcountll(j->cq[b] & ((1ull << bit) - 1));
                    return pos;
                }
            }
        }
        if (++b >= j->nb) return 0;
        mm = j->br[b];
    }
}

/* The end of the scalar (number, true, false, null) that starts at p < n:
 * the first of , } ] or a byte <= 0x20 at or after p, or n.  Scalars are
 * short: one 16-byte compare finds most ends, where a mask of those bytes
 * in stage 1 cost every block of every line (~3% of a run).  Reads up to 15
 * bytes past n (PKI_PAD). */
#if defined(__SSE2__)
/* jf_scalar_end's compare constants, made once per line and hidden from
 * the compiler, which would otherwise broadcast them again for every
 * scalar (more instructions than the compares). */
typedef struct jf_sk {
    __m128i comma, bracket, blank;
} jf_sk;

static inline __attribute__((always_inline)) void jf_sk_init(jf_sk *k)
{
    k->comma = _mm_set1_epi8(',');
    k->bracket = _mm_set1_epi8(']');
    k->blank = _mm_set1_epi8(0x20);
    __asm__("" : "+x"(k->comma), "+x"(k->bracket), "+x"(k->blank));
}
#else
typedef int jf_sk;
static inline void jf_sk_init(jf_sk *k)
{
    *k = 0;
}
#endif

/* The terminators among the 16 bytes at p, a bit each. */
static inline __attribute__((always_inline)) unsigned jf_scalar_ends16(const char *p,
                                                                       const jf_sk *k)
{
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_andnot_si128(k->blank, v), k->bracket),
                                          _mm_cmpeq_epi8(v, k->comma)),
                             _mm_cmpeq_epi8(_mm_min_epu8(v, k->blank), v));
    return (unsigned)_mm_movemask_epi8(e);
#else
    (void)k;
    unsigned m = 0;
    for (int i = 0; i < 16; i++) {
        unsigned char c = (unsigned char)p[i];
        m |= (unsigned)(c == ',' || c == '}' || c == ']' || c <= 0x20) << i;
    }
    return m;
#endif
}

/* jf_scalar_end past its first 16 bytes (a scalar seldom gets there). */
static __attribute__((noinline)) size_t jf_scalar_end_long(const char *L, size_t p, size_t n)
{
    jf_sk k;
    jf_sk_init(&k);
    for (; p < n; p += 16) {
        unsigned m = jf_scalar_ends16(L + p, &k);
        if (m) {
            size_t r = p + (size_t)__builtin_ctz(m);
            return r < n ? r : n;
        }
    }
    return n;
}

static inline __attribute__((always_inline)) size_t jf_scalar_end(const char *L, size_t p, size_t n,
                                                                  const jf_sk *k)
{
    unsigned m = jf_scalar_ends16(L + p, k);
    if (__builtin_expect(m == 0, 0)) return jf_scalar_end_long(L, p + 16, n);
    size_t r = p + (size_t)__builtin_ctz(m);
    return r < n ? r : n;
}

static inline uint16_t jf_load16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

#define JF_PAIR(a, b) ((uint16_t)((unsigned char)(a) | (unsigned char)(b) << 8))

/* pki_add_obs, its common case inline. */
static inline __attribute__((always_inline)) int jf_obs(pk_match_scanner *s, const pki_fslot *sl,
                                                        const char *v, size_t n)
{
    if (sl->role != R_TIME && sl->role != R_HTTP_PATH && n && s->nobs < s->obscap) {
        s->obs[s->nobs++] = (pki_obs){v, (uint32_t)n, sl->role, 0, sl->name};
        return 1;
    }
    if (sl->role == R_TIME) { /* pki_add_obs's, without the call (one a line) */
        if (!s->time) {
            s->time = v;
            s->time_len = n;
            s->time_esc = 0;
        }
        return 1;
    }
    return pki_add_obs(s, sl->role, sl->name, v, n, 0);
}

/* A string value whose opening quote is at vs and closing quote at x, of
 * the key of slot sl: JF_OK, JF_SKIP (an EVE stats record) or JF_BAIL. */
static inline __attribute__((always_inline)) int
jf_string(pk_match_scanner *s, const pki_fslot *sl, const char *L, size_t vs, size_t x, size_t n)
{
    if (x >= n || x <= vs) return JF_BAIL;
    if (sl && sl->role != R_NONE) {
        if (sl->role == R_EVENT) {
            if (x - vs - 1 == 5 && memcmp(L + vs + 1, "stats", 5) == 0) return JF_SKIP;
        } else if (!jf_obs(s, sl, L + vs + 1, x - vs - 1)) {
            return JF_BAIL;
        }
    }
    return JF_OK;
}

/* A container the fast path is in: the slot of its key (NULL for the
 * line's object), whose role and prefix flag its array elements take. */
typedef struct jframe {
    uint64_t h;
    const pki_fslot *sl;
    int arr;
} jframe;

/*
 * Stage 2: the walk.  The strings' closing quotes are taken in order from
 * their list (k: the first one not yet passed), so that a member's string
 * ends are loads that do not wait for the member before (a search from the
 * previous position would chain them: load, shift, count, load...).  The
 * list pairs quotes by parity, as the walker pairs them when every quote
 * before is in a string it passed: a quote inside a scalar makes this give
 * up, and a skipped value starts and ends outside strings by parity.
 * A scalar's end is searched from its first byte (jf_scalar_end).  The bytes at those positions are
 * checked against what the grammar wants there, and any surprise is
 * JF_BAIL.  L[n] and the bytes after are readable (PKI_PAD) but not the
 * line's: a position at or past n is refused before its bytes are used
 * (the list reads n past its end).  A key's table slot stands for its
 * role, field and prefix flag.
 */
static inline __attribute__((always_inline)) int jf_walk(pk_match_scanner *s, const char *L,
                                                         size_t n, const pki_ftab *t)
{
    const uint16_t *c =
        s->jf.ci; /* the next closing quote (a pointer: one register less than base and index) */
    jframe st[MAX_DEPTH], *f = st;
    const pki_fslot *sl;
    size_t a, x, vs;
    if (L[0] != '{') return JF_BAIL;
    jf_sk sk;
    jf_sk_init(&sk);
    *f = (jframe){PKI_PATH_ROOT, NULL, 0};
    vs = 0;
    goto open_obj;

member: /* a: the opening quote of a key in object f, c[0] its closing one */
    /* The bulk of a line is members "key":"text" and "key":123 followed by
     * ,": they go round this loop; anything else leaves it (x or vs set)
     * for the general code below. */
    for (;;) {
        x = c[0];
        if (x >= n || x <= a) return JF_BAIL;
        uint16_t cv = jf_load16(L + x + 1); /* ':' and the value's first byte */
        if ((uint8_t)cv != ':') return JF_BAIL;
        sl = NULL;
        if (x == a + 1 || pki_kf_maybe(t, L + a + 1, x - a - 1))
            sl = pki_ftab_lookup(t, f->h, L + a + 1, x - a - 1);
        vs = x + 2;
        unsigned char vc = (unsigned char)(cv >> 8);
        if (vc == '"') {
            x = c[1];
            int r = jf_string(s, sl, L, vs, x, n);
            if (r != JF_OK) return r;
            x++;
            c += 2;
        } else if (scalar_first[vc]) {
            if (vs >= n) return JF_BAIL;
            x = jf_scalar_end(L, vs, n, &sk);
            c++;
            if (sl && (sl->role == R_TIME || sl->role >= R_SRC_PORT)) /* ports and sizes */
                jf_obs(s, sl, L + vs, x - vs);
            /* A quote in the scalar: the walker judges.  When a key follows
             * (,"), there is one exactly when the next closing quote comes
             * before that key's opening quote is passed: the scalar's first
             * quote opens a string that the key's quote (or a second one in
             * the scalar) closes.  Otherwise the quote mask says. */
            if (jf_load16(L + x) == JF_PAIR(',', '"')) {
                if (c[0] <= x + 1) return JF_BAIL;
                a = x + 1;
                continue;
            }
            if (jf_next(s->jf.q, vs) < x) return JF_BAIL;
            goto after;
        } else {
            c++;
            goto value;
        }
        /* x <= n + 1: readable */
        if (jf_load16(L + x) != JF_PAIR(',', '"')) goto after;
        a = x + 1;
    }

value: /* a value that starts at vs (< n + 2), of the key (or array) of slot
        * sl; c[0] closes the next string */
    switch (L[vs]) {
    case '"':
        x = c[0];
        int r = jf_string(s, sl, L, vs, x, n);
        if (r != JF_OK) return r;
        x++;
        c++;
        break;
    case '{':
    case '[':
        if (vs >= n) return JF_BAIL;
        /* as the walker: into an object below which a wanted field lies, an
         * array of such objects or of values of a kind; over the rest */
        if (!sl || (!sl->prefix && (L[vs] == '{' || sl->role == R_NONE))) {
            size_t k;
            x = jf_skip(&s->jf, L, vs, &k);
            if (!x) return JF_BAIL;
            c = s->jf.ci + k;
            x++;
            break;
        }
        if (f == st + MAX_DEPTH - 1) return JF_BAIL;
        *++f = (jframe){sl->h, sl, L[vs] == '['};
        if (L[vs] == '[') {
            if (L[vs + 1] == ']') {
                x = vs + 1;
                goto close;
            }
            vs++;
            goto value; /* sl is the array's */
        }
    open_obj: /* vs: the '{' of object f */
        a = vs + 1;
        if (L[a] == '"') goto member;
        if (L[a] != '}') return JF_BAIL;
        x = a;
        goto close;
    default:
        if (!scalar_first[(unsigned char)L[vs]] || vs >= n) return JF_BAIL;
        x = jf_scalar_end(L, vs, n, &sk);
        if (jf_next(s->jf.q, vs) < x) return JF_BAIL;
        if (sl && (sl->role == R_TIME || sl->role >= R_SRC_PORT)) jf_obs(s, sl, L + vs, x - vs);
        break;
    }

after: /* x: the byte after a value in container f */
    for (;;) {
        if (x >= n) return JF_BAIL;
        if (L[x] == ',') {
            if (!f->arr) {
                a = x + 1;
                if (L[a] != '"') return JF_BAIL;
                goto member;
            }
            sl = f->sl;
            vs = x + 1;
            goto value;
        }
        if (L[x] != (f->arr ? ']' : '}')) return JF_BAIL;
    close: /* x: the bracket closing f */
        if (f == st) return x == n - 1 ? JF_OK : JF_BAIL;
        f--;
        x++;
    }
}

/* A form of the fast path: stage 1 with these masks, prefix XOR and list
 * of closing quotes, over a line of known length then the walk
 * (jf_line_NAME), or up to the line's end (jf_find_NAME); ATTR the
 * instructions it may use. */
#define JF_FORM(NAME, ATTR, MASKS, PXOR, FLAT, BST, BS0, BSANY)                                    \
    static ATTR int jf_line_##NAME(pk_match_scanner *s, const char *L, size_t n,                   \
                                   const pki_ftab *t)                                              \
    {                                                                                              \
        pki_jfast *j = &s->jf;                                                                     \
        int ok;                                                                                    \
        size_t lim = 0;                                                                            \
        (void)lim;                                                                                 \
        JF_STAGE1(MASKS, PXOR, FLAT, 0, BST, BS0, BSANY);                                          \
        return ok ? jf_walk(s, L, n, t) : JF_BAIL;                                                 \
    }                                                                                              \
    static ATTR size_t jf_find_##NAME(pk_match_scanner *s, const char *L, size_t lim)              \
    {                                                                                              \
        pki_jfast *j = &s->jf;                                                                     \
        int ok;                                                                                    \
        size_t n = 0;                                                                              \
        JF_STAGE1(MASKS, PXOR, FLAT, 1, BST, BS0, BSANY);                                          \
        j->ok = ok;                                                                                \
        return n;                                                                                  \
    }

JF_FORM(c, , jf_masks_c, prefix_xor, jf_flatten, uint64_t, 0, JF_ANY_C)

#if defined(__SSE2__)
JF_FORM(sse2, , jf_masks_sse2, prefix_xor, jf_flatten, __m128i, _mm_setzero_si128(),
        _mm_movemask_epi8)
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define JF_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt,pclmul")))

static inline JF_AVX2 void jf_masks_avx2(const char *p, jf_masks *m, __m256i *bsany)
{
    const __m256i Q = _mm256_set1_epi8('"'), B = _mm256_set1_epi8('\\'), OB = _mm256_set1_epi8('['),
                  CB = _mm256_set1_epi8(']'), UP = _mm256_set1_epi8(0x20),
                  NL = _mm256_set1_epi8('\n');
    uint64_t r[3][2];
    __m256i bs = *bsany;
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * h));
        __m256i lo = _mm256_andnot_si256(UP, v); /* '{' '}' -> '[' ']' */
        __m256i b = _mm256_or_si256(_mm256_cmpeq_epi8(lo, OB), _mm256_cmpeq_epi8(lo, CB));
        r[0][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, Q));
        bs = _mm256_or_si256(bs, _mm256_cmpeq_epi8(v, B));
        r[2][h] = (uint32_t)_mm256_movemask_epi8(b);
        r[1][h] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, NL));
    }
    m->nl = r[1][0] | r[1][1] << 32; /* dropped by the compiler where unused */
    m->q = r[0][0] | r[0][1] << 32;
    *bsany = bs;
    m->br = r[2][0] | r[2][1] << 32;
}

static inline JF_AVX2 uint64_t prefix_xor_clmul(uint64_t x)
{
    return (uint64_t)_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xff), 0));
}

JF_FORM(avx2, JF_AVX2, jf_masks_avx2, prefix_xor_clmul, jf_flatten, __m256i, _mm256_setzero_si256(),
        _mm256_movemask_epi8)

/* The walk after jf_find_avx2's stage 1, with the same instructions at hand:
 * without them jf_skip's popcount is a call into libgcc and jf_next's
 * shifts and counts are the older, slower forms. */
static JF_AVX2 int jf_walk_avx2(pk_match_scanner *s, const char *L, size_t n, const pki_ftab *t)
{
    return jf_walk(s, L, n, t);
}

/* With AVX-512 (BW for byte compares into mask registers, VBMI2 for the
 * byte compress): a block is one load and four compares, each giving its
 * 64-bit mask directly, and the closing quotes' positions are compressed
 * out of a vector of 0..63 in one instruction instead of a count-trailing-
 * zeros loop.  Chosen at run time where the CPU has all of it. */
#define JF_AVX512                                                                                  \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,avx2,bmi,bmi2,popcnt,pclmul")))

static inline JF_AVX512 void jf_masks_avx512(const char *p, jf_masks *m, uint64_t *bsany)
{
    __m512i v = _mm512_loadu_si512((const void *)p);
    __m512i lo = _mm512_andnot_si512(_mm512_set1_epi8(0x20), v); /* '{' '}' -> '[' ']' */
    m->q = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
    m->br = _mm512_cmpeq_epi8_mask(lo, _mm512_set1_epi8('[')) |
            _mm512_cmpeq_epi8_mask(lo, _mm512_set1_epi8(']'));
    m->nl = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
    *bsany |= _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
}

/* jf_flatten's result in one compress: writes 32 entries (a block has at
 * most 32 closing quotes; the array has room past the end). */
static inline JF_AVX512 uint16_t *jf_flatten_avx512(uint16_t *o, uint64_t m, unsigned base)
{
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
        40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
        17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i c = _mm512_maskz_compress_epi8(m, iota);
    __m512i w = _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(c)),
                                 _mm512_set1_epi16((short)base));
    _mm512_storeu_si512((void *)o, w);
    return o + __builtin_popcountll(m);
}

JF_FORM(avx512, JF_AVX512, jf_masks_avx512, prefix_xor_clmul, jf_flatten_avx512, uint64_t, 0,
        JF_ANY_C)

static JF_AVX512 int jf_walk_avx512(pk_match_scanner *s, const char *L, size_t n, const pki_ftab *t)
{
    return jf_walk(s, L, n, t);
}

#endif

static int jf_cpu_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
           __builtin_cpu_supports("pclmul");
#else
    return 0;
#endif
}

static int jf_cpu_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return jf_cpu_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vbmi2");
#else
    return 0;
#endif
}

int pki_json_modes(int modes[PKI_JSON_NMODES])
{
    int n = 0;
    modes[n++] = PKI_JSON_FAST_C;
#if defined(__SSE2__)
    modes[n++] = PKI_JSON_FAST_SSE2;
#endif
    if (jf_cpu_avx2()) modes[n++] = PKI_JSON_FAST_AVX2;
    if (jf_cpu_avx512()) modes[n++] = PKI_JSON_FAST_AVX512;
    return n;
}

static int jf_mode_auto(void)
{
    int modes[PKI_JSON_NMODES];
    return modes[pki_json_modes(modes) - 1];
}

size_t pki_json_find_line(pk_match_scanner *s, const char *p, size_t lim)
{
    s->jf.line = NULL;
    if (!(s->fmt == F_EVE || s->fmt == F_ZEEK_JSON || s->fmt == F_JSONL || s->fmt == F_JSON_ANY) ||
        s->jmode <= PKI_JSON_WALK)
        return PKI_JF_NONE;
    if (!lim) return PKI_JF_NOLINE;
    size_t n;
    switch (s->jmode) {
#if defined(__x86_64__) && defined(__GNUC__)
    case PKI_JSON_FAST_AVX2:
        n = jf_find_avx2(s, p, lim);
        break;
    case PKI_JSON_FAST_AVX512:
        n = jf_find_avx512(s, p, lim);
        break;
#endif
#if defined(__SSE2__)
    case PKI_JSON_FAST_SSE2:
        n = jf_find_sse2(s, p, lim);
        break;
#endif
    default:
        n = jf_find_c(s, p, lim);
        break;
    }
    if (n == JF_NOLINE) return PKI_JF_NOLINE;
    if (n == JF_LONG) return PKI_JF_NONE;
    s->jf.line = p;
    s->jf.n = n;
    return n;
}

const char *pki_json_line(pk_match_scanner *s, const char *p, size_t n, const pki_ftab *t)
{
    if (!s->jmode) s->jmode = jf_mode_auto();
    if (n && n <= PKI_JF_MAX && s->jmode != PKI_JSON_WALK) {
        int r;
        if (s->jf.line == p && n <= s->jf.n) {
            /* stage 1 ran as the line was found (the bytes from n to jf.n
             * are trailing blanks: no quote, bracket or backslash) */
            if (!s->jf.ok) r = JF_BAIL;
#if defined(__x86_64__) && defined(__GNUC__)
            else if (s->jmode == PKI_JSON_FAST_AVX2)
                r = jf_walk_avx2(s, p, n, t);
            else if (s->jmode == PKI_JSON_FAST_AVX512)
                r = jf_walk_avx512(s, p, n, t);
#endif
            else
                r = jf_walk(s, p, n, t);
        } else {
            switch (s->jmode) {
#if defined(__x86_64__) && defined(__GNUC__)
            case PKI_JSON_FAST_AVX2:
                r = jf_line_avx2(s, p, n, t);
                break;
            case PKI_JSON_FAST_AVX512:
                r = jf_line_avx512(s, p, n, t);
                break;
#endif
#if defined(__SSE2__)
            case PKI_JSON_FAST_SSE2:
                r = jf_line_sse2(s, p, n, t);
                break;
#endif
            default:
                r = jf_line_c(s, p, n, t);
                break;
            }
        }
        s->jf.line = NULL;
        if (r != JF_BAIL) {
            s->jfast++;
            return r == JF_OK ? NULL : "";
        }
        /* the walker starts over: drop what the fast path recorded */
        s->nobs = 0;
        s->time = NULL;
        s->path = NULL;
    }
    s->jf.line = NULL;
    return json_walk(s, p, n, t);
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The STIX pattern lexer and recursive-descent parser, with the semantic rules
 * of the specification checked as the tree is built, so that every error can
 * name the column it is about.  The grammar, loosest binding first:
 *
 *   pattern   := obs_fb EOF
 *   obs_fb    := obs_or  (FOLLOWEDBY obs_or)*
 *   obs_or    := obs_and (OR obs_and)*
 *   obs_and   := obs_q   (AND obs_q)*
 *   obs_q     := ( '[' cmp_or ']' | '(' obs_fb ')' ) qualifier*
 *   cmp_or    := cmp_and (OR cmp_and)*
 *   cmp_and   := cmp     (AND cmp)*
 *   cmp       := '(' cmp_or ')' | EXISTS path | path NOT? op constant
 */
#include "pattern_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tok_kind {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_IDENT,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_BIN,
    T_HEX,
    T_TS,
} tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t start, len; /* in the source */
    char *str;         /* T_STRING: decoded (arena) */
    size_t slen;
} tok;

typedef struct parser {
    const char *s;
    size_t n, pos;
    tok t;        /* current token */
    int have_tok; /* t is valid */
    pk_arena *a;
    pk_pattern *p;
    pk_error *err;
    pk_pattern_spec spec;
    int depth;
    size_t terms;
} parser;

#define COL(off) ((long)(off) + 1)

static pk_status fail(parser *ps, pk_status code, size_t off, const char *fmt, ...) PK_PRINTF(4, 5);
static pk_status fail(parser *ps, pk_status code, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pk_error_setv(ps->err, code, fmt, ap);
    va_end(ap);
    if (ps->err) ps->err->column = COL(off);
    return code;
}

static pk_status nomem(parser *ps)
{
    return fail(ps, PK_ENOMEM, ps->pos, "out of memory");
}

/* ---- lexer -------------------------------------------------------------- */

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes of the white-space character at s[0] (the grammar's set: ASCII
 * space and controls, NEL, NBSP and the Unicode spaces), or 0. */
static size_t space_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c && strchr(" \t\r\n\v\f", c)) return 1;
    if (n >= 2 && c == 0xC2 && ((unsigned char)s[1] == 0x85 || (unsigned char)s[1] == 0xA0))
        return 2;
    if (n >= 3 && c == 0xE1 && (unsigned char)s[1] == 0x9A && (unsigned char)s[2] == 0x80)
        return 3; /* U+1680 */
    if (n >= 3 && c == 0xE2) {
        unsigned char b = (unsigned char)s[1], d = (unsigned char)s[2];
        if (b == 0x80 && ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF))
            return 3;                         /* U+2000..200A, 2028, 2029, 202F */
        if (b == 0x81 && d == 0x9F) return 3; /* U+205F */
    }
    if (n >= 3 && c == 0xE3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

static pk_status skip_space(parser *ps)
{
    for (;;) {
        size_t l;
        while (ps->pos < ps->n && (l = space_len(ps->s + ps->pos, ps->n - ps->pos)))
            ps->pos += l;
        if (ps->pos + 1 < ps->n && ps->s[ps->pos] == '/' && ps->s[ps->pos + 1] == '*') {
            size_t at = ps->pos;
            ps->pos += 2;
            while (ps->pos + 1 < ps->n && !(ps->s[ps->pos] == '*' && ps->s[ps->pos + 1] == '/'))
                ps->pos++;
            if (ps->pos + 1 >= ps->n)
                return fail(ps, PK_EPARSE, at, "comment '/*' is not closed with '*/'");
            ps->pos += 2;
            continue;
        }
        if (ps->pos + 1 < ps->n && ps->s[ps->pos] == '/' && ps->s[ps->pos + 1] == '/') {
            while (ps->pos < ps->n && ps->s[ps->pos] != '\n')
                ps->pos++;
            continue;
        }
        return PK_OK;
    }
}

/* Scan a quoted literal starting at the quote; decode \' and \\ when `decode`. */
static pk_status scan_quoted(parser *ps, size_t q, int decode, tok *t)
{
    size_t i = q + 1;
    char *out = NULL;
    size_t o = 0;
    if (decode) {
        out = pk_arena_alloc(ps->a, ps->n - q + 1);
        if (!out) return nomem(ps);
    }
    for (;;) {
        if (i >= ps->n) return fail(ps, PK_EPARSE, q, "string is not closed with a quote");
        char c = ps->s[i];
        if (c == '\'') break;
        if (c == '\\') {
            if (i + 1 >= ps->n) return fail(ps, PK_EPARSE, q, "string is not closed with a quote");
            char e = ps->s[i + 1];
            if (e != '\'' && e != '\\')
                return fail(ps, PK_EPARSE, i,
                            "invalid escape '\\%c': only \\' and \\\\ are allowed in a string", e);
            if (out) out[o++] = e;
            i += 2;
            continue;
        }
        if (c == '\0') return fail(ps, PK_EPARSE, i, "NUL byte inside a string");
        if (out) out[o++] = c;
        i++;
    }
    if (out) {
        out[o] = '\0';
        t->str = out;
        t->slen = o;
    }
    t->len = i + 1 - t->start;
    ps->pos = i + 1;
    return PK_OK;
}

static pk_status next_token(parser *ps)
{
    pk_status st;
    if ((st = skip_space(ps))) return st;
    tok *t = &ps->t;
    memset(t, 0, sizeof *t);
    t->start = ps->pos;
    ps->have_tok = 1;
    if (ps->pos >= ps->n) {
        t->kind = T_EOF;
        return PK_OK;
    }
    const char *s = ps->s;
    size_t i = ps->pos;
    char c = s[i], d = i + 1 < ps->n ? s[i + 1] : '\0';
    t->len = 1;
    switch (c) {
    case '[':
        t->kind = T_LBRACK;
        break;
    case ']':
        t->kind = T_RBRACK;
        break;
    case '(':
        t->kind = T_LPAREN;
        break;
    case ')':
        t->kind = T_RPAREN;
        break;
    case ':':
        t->kind = T_COLON;
        break;
    case ',':
        t->kind = T_COMMA;
        break;
    case '*':
        t->kind = T_STAR;
        break;
    case '=':
        t->kind = T_EQ;
        if (d == '=') t->len = 2;
        break;
    case '!':
        if (d != '=') return fail(ps, PK_EPARSE, i, "'!' must be followed by '=' (use NOT)");
        t->kind = T_NE;
        t->len = 2;
        break;
    case '<':
        t->kind = d == '=' ? T_LE : d == '>' ? T_NE : T_LT;
        if (d == '=' || d == '>') t->len = 2;
        break;
    case '>':
        t->kind = d == '=' ? T_GE : T_GT;
        if (d == '=') t->len = 2;
        break;
    case '\'':
        t->kind = T_STRING;
        return scan_quoted(ps, i, 1, t);
    default:
        if ((c == 't' || c == 'h' || c == 'b') && d == '\'') {
            t->kind = c == 't' ? T_TS : c == 'h' ? T_HEX : T_BIN;
            return scan_quoted(ps, i + 1, 0, t);
        }
        if (is_ident_start(c)) {
            size_t j = i + 1;
            while (j < ps->n && is_ident_char(s[j]))
                j++;
            t->kind = T_IDENT;
            t->len = j - i;
            break;
        }
        if (c == '.' && !is_digit(d)) {
            t->kind = T_DOT;
            break;
        }
        if (is_digit(c) || c == '.' || ((c == '+' || c == '-') && (is_digit(d) || d == '.'))) {
            size_t j = i;
            if (c == '+' || c == '-') j++;
            size_t ds = j;
            while (j < ps->n && is_digit(s[j]))
                j++;
            size_t nd = j - ds;
            if (j < ps->n && s[j] == '.') {
                size_t fs = ++j;
                while (j < ps->n && is_digit(s[j]))
                    j++;
                if (j == fs) return fail(ps, PK_EPARSE, i, "a number needs digits after its '.'");
                t->kind = T_FLOAT;
            } else {
                if (nd > 1 && s[ds] == '0')
                    return fail(ps, PK_EPARSE, i, "an integer may not have a leading zero");
                t->kind = T_INT;
            }
            if (j < ps->n && (s[j] == 'e' || s[j] == 'E'))
                return fail(ps, PK_EPARSE, i, "exponents are not allowed in numbers");
            t->len = j - i;
            break;
        }
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            return fail(ps, PK_EPARSE, i, "unexpected character '%c'", c);
        return fail(ps, PK_EPARSE, i, "unexpected byte 0x%02x", (unsigned char)c);
    }
    ps->pos = i + t->len;
    return PK_OK;
}

static int is_kw(const parser *ps, const char *kw)
{
    size_t l = strlen(kw);
    return ps->t.kind == T_IDENT && ps->t.len == l && memcmp(ps->s + ps->t.start, kw, l) == 0;
}

static const char *tok_desc(parser *ps, char *buf, size_t n)
{
    if (ps->t.kind == T_EOF) return "the end of the pattern";
    int l = ps->t.len > 40 ? 40 : (int)ps->t.len;
    snprintf(buf, n, "'%.*s'", l, ps->s + ps->t.start);
    return buf;
}

static pk_status expected(parser *ps, const char *what)
{
    char b[64];
    return fail(ps, PK_EPARSE, ps->t.start, "expected %s, found %s", what,
                tok_desc(ps, b, sizeof b));
}

/* ---- node building ------------------------------------------------------- */

typedef struct nvec {
    pk_pattern_node **v;
    size_t n, cap;
} nvec;

static int nvec_push(nvec *v, pk_pattern_node *x)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 8;
        pk_pattern_node **nv = pk_realloc(v->v, nc * sizeof *nv);
        if (!nv) return -1;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = x;
    return 0;
}

static pk_pattern_node *new_node(parser *ps, pk_pattern_node_kind k, size_t off)
{
    pk_pattern_node *x = pk_arena_calloc(ps->a, sizeof *x);
    if (x) {
        x->kind = k;
        x->column = COL(off);
    }
    return x;
}

/* Add `x` to `v`, splicing in its children when it is the same n-ary kind:
 * a OR (b OR c) is a OR b OR c. */
static int push_flat(nvec *v, pk_pattern_node *x, pk_pattern_node_kind k)
{
    if (x->kind == k) {
        for (size_t i = 0; i < x->nchild; i++)
            if (nvec_push(v, (pk_pattern_node *)x->child[i])) return -1;
        return 0;
    }
    return nvec_push(v, x);
}

static pk_pattern_node *finish_nary(parser *ps, nvec *v, pk_pattern_node_kind k)
{
    if (v->n == 1 && v->v[0]->kind != k) return v->v[0];
    if (v->n == 1) return v->v[0];
    pk_pattern_node *x = new_node(ps, k, (size_t)(v->v[0]->column - 1));
    if (!x) return NULL;
    const pk_pattern_node **c = pk_arena_alloc(ps->a, v->n * sizeof *c);
    if (!c) return NULL;
    for (size_t i = 0; i < v->n; i++)
        c[i] = v->v[i];
    x->child = c;
    x->nchild = v->n;
    return x;
}

/* ---- object paths ------------------------------------------------------- */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static int plain_key(const char *k)
{
    if (!is_ident_start(k[0])) return 0;
    for (const char *q = k + 1; *q; q++)
        if (!(is_ident_start(*q) || is_digit(*q))) return 0;
    return 1;
}

/* Write a path's canonical text (type:steps) into b; prop_at gets the offset
 * where the steps begin. */
static pk_status path_text(pk_buf *b, const pk_pattern_path *pa, size_t *prop_at)
{
    if (pk_buf_adds(b, pa->type) || pk_buf_addc(b, ':')) return PK_ENOMEM;
    *prop_at = b->len;
    for (size_t i = 0; i < pa->nsteps; i++) {
        const pk_pattern_step *st = &pa->steps[i];
        if (st->kind == PK_PSTEP_KEY) {
            if (i > 0 && pk_buf_addc(b, '.')) return PK_ENOMEM;
            if (plain_key(st->key)) {
                if (pk_buf_adds(b, st->key)) return PK_ENOMEM;
            } else {
                if (pk_buf_addc(b, '\'')) return PK_ENOMEM;
                for (const char *q = st->key; *q; q++) {
                    if ((*q == '\'' || *q == '\\') && pk_buf_addc(b, '\\')) return PK_ENOMEM;
                    if (pk_buf_addc(b, *q)) return PK_ENOMEM;
                }
                if (pk_buf_addc(b, '\'')) return PK_ENOMEM;
            }
        } else if (st->kind == PK_PSTEP_ANY) {
            if (pk_buf_adds(b, "[*]")) return PK_ENOMEM;
        } else {
            if (pk_buf_addf(b, "[%lld]", (long long)st->index)) return PK_ENOMEM;
        }
    }
    return PK_OK;
}

static pk_status parse_path(parser *ps, const pk_pattern_path **out)
{
    pk_status st;
    size_t at = ps->t.start;
    if (ps->t.kind != T_IDENT) return expected(ps, "an object path such as file:name");
    pk_pattern_path *pa = pk_arena_calloc(ps->a, sizeof *pa);
    if (!pa) return nomem(ps);
    pa->column = COL(at);
    pa->type = pk_arena_strndup(ps->a, ps->s + ps->t.start, ps->t.len);
    if (!pa->type) return nomem(ps);
    if ((st = next_token(ps))) return st;
    if (ps->t.kind != T_COLON) return expected(ps, "':' after the object type");
    pk_pattern_step steps[256];
    size_t ns = 0;
    if ((st = next_token(ps))) return st;
    for (;;) {
        int first = ns == 0, index = 0;
        if (!first) {
            if (ps->t.kind == T_DOT) {
                if ((st = next_token(ps))) return st;
            } else if (ps->t.kind == T_LBRACK) {
                index = 1;
            } else {
                break;
            }
        }
        if (ns == sizeof steps / sizeof *steps)
            return fail(ps, PK_ELIMIT, ps->t.start, "object path has more than %zu steps",
                        sizeof steps / sizeof *steps);
        pk_pattern_step *sp = &steps[ns];
        memset(sp, 0, sizeof *sp);
        if (index) {
            /* [n] or [*] */
            if ((st = next_token(ps))) return st;
            if (ps->t.kind == T_STAR) {
                sp->kind = PK_PSTEP_ANY;
            } else if (ps->t.kind == T_INT) {
                errno = 0;
                char buf[32];
                size_t l = ps->t.len < sizeof buf - 1 ? ps->t.len : sizeof buf - 1;
                memcpy(buf, ps->s + ps->t.start, l);
                buf[l] = '\0';
                long long v = strtoll(buf, NULL, 10);
                if (errno) return fail(ps, PK_EPARSE, ps->t.start, "list index is out of range");
                sp->kind = PK_PSTEP_INDEX;
                sp->index = v;
            } else {
                return expected(ps, "a list index or '*'");
            }
            if ((st = next_token(ps))) return st;
            if (ps->t.kind != T_RBRACK) return expected(ps, "']' after the list index");
            if ((st = next_token(ps))) return st;
            ns++;
            continue;
        }
        sp->kind = PK_PSTEP_KEY;
        if (ps->t.kind == T_STRING) {
            if (ps->t.slen == 0)
                return fail(ps, PK_EPARSE, ps->t.start, "a property name may not be empty");
            sp->key = ps->t.str;
        } else if (ps->t.kind == T_IDENT) {
            /* The grammar has no hyphens in the first property name; later
             * ones may have them (the specification's own examples write
             * extensions.windows-pebinary-ext unquoted). */
            if (first && memchr(ps->s + ps->t.start, '-', ps->t.len))
                return fail(ps, PK_EPARSE, ps->t.start,
                            "a property name with '-' must be quoted: '%.*s'", (int)ps->t.len,
                            ps->s + ps->t.start);
            sp->key = pk_arena_strndup(ps->a, ps->s + ps->t.start, ps->t.len);
            if (!sp->key) return nomem(ps);
        } else {
            return expected(ps, first ? "a property name after ':'" : "a property name after '.'");
        }
        if ((st = next_token(ps))) return st;
        ns++;
    }
    pk_pattern_step *sv = pk_arena_alloc(ps->a, ns * sizeof *sv);
    if (!sv) return nomem(ps);
    memcpy(sv, steps, ns * sizeof *sv);
    pa->steps = sv;
    pa->nsteps = ns;
    pa->simple = 1;
    for (size_t i = 0; i < ns; i++) {
        if (sv[i].kind != PK_PSTEP_KEY) pa->simple = 0;
        if (i + 1 < ns && sv[i].kind == PK_PSTEP_KEY &&
            (ends_with(sv[i].key, "_ref") || ends_with(sv[i].key, "_refs")))
            pa->simple = 0;
    }
    pk_buf b;
    pk_buf_init(&b, 0);
    size_t prop_at = 0;
    if (path_text(&b, pa, &prop_at)) {
        pk_buf_free(&b);
        return nomem(ps);
    }
    pa->text = pk_arena_strndup(ps->a, b.data, b.len);
    pk_buf_free(&b);
    if (!pa->text) return nomem(ps);
    pa->prop = pa->text + prop_at;
    *out = pa;
    return PK_OK;
}

/* ---- constants ---------------------------------------------------------- */

static pk_status parse_constant(parser *ps, pk_pattern_value *v)
{
    tok *t = &ps->t;
    memset(v, 0, sizeof *v);
    v->column = COL(t->start);
    v->lexeme = pk_arena_strndup(ps->a, ps->s + t->start, t->len);
    if (!v->lexeme) return nomem(ps);
    switch (t->kind) {
    case T_STRING:
        v->kind = PK_PV_STRING;
        v->bytes = t->str;
        v->len = t->slen;
        break;
    case T_INT: {
        errno = 0;
        long long x = strtoll(v->lexeme, NULL, 10);
        if (errno)
            return fail(ps, PK_EPARSE, t->start, "integer %s does not fit in 64 bits", v->lexeme);
        v->kind = PK_PV_INT;
        v->i = x;
        v->f = (double)x;
        v->lexeme = v->lexeme[0] == '+' ? v->lexeme + 1 : v->lexeme;
        break;
    }
    case T_FLOAT: {
        v->kind = PK_PV_FLOAT;
        v->f = strtod(v->lexeme, NULL);
        if (!isfinite(v->f))
            return fail(ps, PK_EPARSE, t->start, "number %s is out of range", v->lexeme);
        v->lexeme = v->lexeme[0] == '+' ? v->lexeme + 1 : v->lexeme;
        break;
    }
    case T_IDENT:
        if (is_kw(ps, "true") || is_kw(ps, "false")) {
            v->kind = PK_PV_BOOL;
            v->i = is_kw(ps, "true");
            break;
        }
        return expected(ps, "a constant (string, number, true/false, b'', h'', t'')");
    case T_BIN:
    case T_HEX: {
        const char *body = ps->s + t->start + 2;
        size_t bl = t->len - 3;
        unsigned char *out = pk_arena_alloc(ps->a, bl + 1);
        if (!out) return nomem(ps);
        long r =
            t->kind == T_BIN ? pki_base64_decode(body, bl, out) : pki_hex_decode(body, bl, out);
        if (r < 0)
            return fail(ps, PK_EPARSE, t->start,
                        t->kind == T_BIN ? "b'...' is not valid base64 (padded, A-Z a-z 0-9 + /)"
                                         : "h'...' must hold an even number of hex digits");
        out[r] = '\0';
        v->kind = t->kind == T_BIN ? PK_PV_BINARY : PK_PV_HEX;
        v->bytes = (const char *)out;
        v->len = (size_t)r;
        break;
    }
    case T_TS: {
        if (ps->spec == PK_PATTERN_SPEC_20)
            return fail(ps, PK_EVALIDATE, t->start, "t'...' timestamps are STIX 2.1 patterning");
        pk_error te;
        pk_error_clear(&te);
        if (pk_time_parse(ps->s + t->start + 2, t->len - 3, PK_TIME_STIX, &v->t, &te))
            return fail(ps, PK_EPARSE, t->start + 2 + (size_t)(te.column > 0 ? te.column - 1 : 0),
                        "invalid timestamp: %s", te.message);
        v->kind = PK_PV_TIMESTAMP;
        break;
    }
    default:
        return expected(ps, "a constant (string, number, true/false, b'', h'', t'')");
    }
    return next_token(ps);
}

/* ---- comparisons -------------------------------------------------------- */

static pk_status keep_regex(parser *ps, pcre2_code *re)
{
    pk_pattern *p = ps->p;
    if (p->nregex == p->regex_cap) {
        size_t nc = p->regex_cap ? p->regex_cap * 2 : 4;
        pcre2_code **nv = pk_realloc(p->regex, nc * sizeof *nv);
        if (!nv) {
            pcre2_code_free(re);
            return nomem(ps);
        }
        p->regex = nv;
        p->regex_cap = nc;
    }
    p->regex[p->nregex++] = re;
    /* JIT when the platform has it; its absence only costs speed. */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return PK_OK;
}

static pk_status compile_regex(parser *ps, pk_pattern_node *x)
{
    const pk_pattern_value *v = &x->values[0];
    int ec;
    PCRE2_SIZE eo;
    pk_status st;
    pki_regex *rx = pk_arena_calloc(ps->a, sizeof *rx);
    pcre2_compile_context *cc = pcre2_compile_context_create(pki_pcre2_gctx());
    if (!rx || !cc) {
        pcre2_compile_context_free(cc);
        return nomem(ps);
    }
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->bytes, v->len,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, cc);
    if (!re) {
        pcre2_compile_context_free(cc);
        if (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED) return nomem(ps);
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return fail(ps, PK_EVALIDATE, (size_t)(v->column - 1),
                    "invalid regular expression at its offset %zu: %s", (size_t)eo, (char *)msg);
    }
    if ((st = keep_regex(ps, re))) {
        pcre2_compile_context_free(cc);
        return st;
    }
    rx->text = re;
    /* The same regex for binary values, one byte per code point. */
    unsigned char *b = pk_arena_alloc(ps->a, v->len + 1);
    size_t bn = 0;
    int ok = b != NULL;
    const unsigned char *s = (const unsigned char *)v->bytes;
    for (size_t i = 0; ok && i < v->len;) {
        if (s[i] < 0x80) {
            b[bn++] = s[i++];
        } else if ((s[i] & 0xE0) == 0xC0 && i + 1 < v->len && (s[i + 1] & 0xC0) == 0x80 &&
                   (((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F)) <= 0xFF) {
            b[bn++] = (unsigned char)(((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F));
            i += 2;
        } else {
            ok = 0;
        }
    }
    if (!b) {
        pcre2_compile_context_free(cc);
        return nomem(ps);
    }
    if (ok) {
        re = pcre2_compile((PCRE2_SPTR)b, bn, 0, &ec, &eo, cc);
        if (!re && (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED)) {
            pcre2_compile_context_free(cc);
            return nomem(ps);
        }
        if (re && (st = keep_regex(ps, re))) {
            pcre2_compile_context_free(cc);
            return st;
        }
        rx->bin = re;
    }
    pcre2_compile_context_free(cc);
    x->impl = rx;
    return PK_OK;
}

static int same_family(const pk_pattern_value *a, const pk_pattern_value *b)
{
    int na = a->kind == PK_PV_INT || a->kind == PK_PV_FLOAT;
    int nb = b->kind == PK_PV_INT || b->kind == PK_PV_FLOAT;
    if (na || nb) return na && nb;
    int ba = a->kind == PK_PV_BINARY || a->kind == PK_PV_HEX;
    int bb = b->kind == PK_PV_BINARY || b->kind == PK_PV_HEX;
    if (ba || bb) return ba && bb;
    return a->kind == b->kind;
}

static pk_status parse_cmp_or(parser *ps, pk_pattern_node **out);

/* hashes.'SHA-256' = '...' must hold a hash of that kind: the hex length of
 * each algorithm in the hash vocabulary that has a fixed-size hex form. */
static pk_status check_hashes(parser *ps, const pk_pattern_node *x)
{
    static const struct {
        const char *name;
        size_t hex;
    } algs[] = {{"MD5", 32},      {"SHA-1", 40},     {"SHA-224", 56},   {"SHA-256", 64},
                {"SHA-384", 96},  {"SHA-512", 128},  {"SHA3-224", 56},  {"SHA3-256", 64},
                {"SHA3-384", 96}, {"SHA3-512", 128}, {"RIPEMD-160", 40}};
    const pk_pattern_path *pa = x->path;
    if (pa->nsteps < 2 || pa->steps[pa->nsteps - 1].kind != PK_PSTEP_KEY ||
        pa->steps[pa->nsteps - 2].kind != PK_PSTEP_KEY ||
        strcmp(pa->steps[pa->nsteps - 2].key, "hashes") != 0)
        return PK_OK;
    const char *alg = pa->steps[pa->nsteps - 1].key;
    for (size_t a = 0; a < sizeof algs / sizeof *algs; a++) {
        if (strcmp(alg, algs[a].name) != 0) continue;
        for (size_t i = 0; i < x->nvalues; i++) {
            const pk_pattern_value *v = &x->values[i];
            if (v->kind != PK_PV_STRING) continue;
            int ok = v->len == algs[a].hex;
            for (size_t k = 0; ok && k < v->len; k++)
                ok = strchr("0123456789abcdefABCDEF", v->bytes[k]) && v->bytes[k];
            if (!ok)
                return fail(ps, PK_EVALIDATE, (size_t)(v->column - 1),
                            "'%.80s' is not a valid %s hash (%zu hex digits)", v->bytes, alg,
                            algs[a].hex);
        }
    }
    return PK_OK;
}

static pk_status parse_compare(parser *ps, pk_pattern_node **out)
{
    pk_status st;
    size_t at = ps->t.start;
    if (ps->t.kind == T_LPAREN) {
        if (++ps->depth > PK_PATTERN_MAX_DEPTH)
            return fail(ps, PK_ELIMIT, at, "parentheses nested deeper than %d",
                        PK_PATTERN_MAX_DEPTH);
        if ((st = next_token(ps))) return st;
        if ((st = parse_cmp_or(ps, out))) return st;
        if (ps->t.kind != T_RPAREN) return expected(ps, "')' or AND/OR");
        ps->depth--;
        return next_token(ps);
    }
    if (++ps->terms > PK_PATTERN_MAX_TERMS)
        return fail(ps, PK_ELIMIT, at, "more than %d comparisons in one pattern",
                    PK_PATTERN_MAX_TERMS);
    pk_pattern_node *x = new_node(ps, PK_PN_COMPARE, at);
    if (!x) return nomem(ps);
    x->term = ps->terms - 1;
    if (is_kw(ps, "EXISTS")) {
        if ((st = next_token(ps))) return st;
        x->op = PK_POP_EXISTS;
        if ((st = parse_path(ps, &x->path))) return st;
        *out = x;
        return PK_OK;
    }
    if (ps->t.kind == T_RBRACK) return expected(ps, "a comparison");
    if ((st = parse_path(ps, &x->path))) return st;
    if (is_kw(ps, "NOT")) {
        x->negated = 1;
        if ((st = next_token(ps))) return st;
    }
    size_t opat = ps->t.start;
    switch (ps->t.kind) {
    case T_EQ:
        x->op = PK_POP_EQ;
        break;
    case T_NE:
        x->op = PK_POP_NE;
        break;
    case T_LT:
        x->op = PK_POP_LT;
        break;
    case T_LE:
        x->op = PK_POP_LE;
        break;
    case T_GT:
        x->op = PK_POP_GT;
        break;
    case T_GE:
        x->op = PK_POP_GE;
        break;
    default:
        if (is_kw(ps, "IN"))
            x->op = PK_POP_IN;
        else if (is_kw(ps, "LIKE"))
            x->op = PK_POP_LIKE;
        else if (is_kw(ps, "MATCHES"))
            x->op = PK_POP_MATCHES;
        else if (is_kw(ps, "ISSUBSET"))
            x->op = PK_POP_ISSUBSET;
        else if (is_kw(ps, "ISSUPERSET"))
            x->op = PK_POP_ISSUPERSET;
        else if (is_kw(ps, "EXISTS"))
            return fail(ps, PK_EPARSE, opat, "EXISTS goes before the object path: EXISTS %s",
                        x->path->text);
        else
            return expected(ps, "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
                                "MATCHES, ISSUBSET, ISSUPERSET)");
    }
    if ((st = next_token(ps))) return st;
    if (x->op == PK_POP_IN) {
        if (ps->t.kind != T_LPAREN) return expected(ps, "'(' to open the IN set");
        size_t set_at = ps->t.start;
        if ((st = next_token(ps))) return st;
        pk_pattern_value tmp;
        pk_pattern_value *vals = NULL;
        size_t nv = 0, cap = 0;
        while (ps->t.kind != T_RPAREN) {
            if (nv > 0) {
                if (ps->t.kind != T_COMMA) {
                    pk_free(vals);
                    return expected(ps, "',' or ')' in the IN set");
                }
                if ((st = next_token(ps))) {
                    pk_free(vals);
                    return st;
                }
            }
            if ((st = parse_constant(ps, &tmp))) {
                pk_free(vals);
                return st;
            }
            if (nv > 0 && !same_family(&tmp, &vals[0])) {
                pk_free(vals);
                return fail(ps, PK_EVALIDATE, (size_t)(tmp.column - 1),
                            "every element of an IN set must have the same type");
            }
            if (nv == PK_PATTERN_MAX_SET) {
                pk_free(vals);
                return fail(ps, PK_ELIMIT, (size_t)(tmp.column - 1),
                            "an IN set may hold at most %d elements", PK_PATTERN_MAX_SET);
            }
            if (nv == cap) {
                cap = cap ? cap * 2 : 8;
                pk_pattern_value *nvv = pk_realloc(vals, cap * sizeof *nvv);
                if (!nvv) {
                    pk_free(vals);
                    return nomem(ps);
                }
                vals = nvv;
            }
            vals[nv++] = tmp;
        }
        (void)set_at;
        pk_pattern_value *av = pk_arena_alloc(ps->a, nv * sizeof *av);
        if (!av) {
            pk_free(vals);
            return nomem(ps);
        }
        if (nv) memcpy(av, vals, nv * sizeof *av);
        pk_free(vals);
        x->values = av;
        x->nvalues = nv;
        if ((st = next_token(ps))) return st;
        if ((st = check_hashes(ps, x))) return st;
        *out = x;
        return PK_OK;
    }
    pk_pattern_value *v = pk_arena_calloc(ps->a, sizeof *v);
    if (!v) return nomem(ps);
    size_t vat = ps->t.start;
    if ((st = parse_constant(ps, v))) return st;
    x->values = v;
    x->nvalues = 1;
    if ((x->op == PK_POP_EQ || x->op == PK_POP_NE) && (st = check_hashes(ps, x))) return st;
    switch (x->op) {
    case PK_POP_LT:
    case PK_POP_LE:
    case PK_POP_GT:
    case PK_POP_GE:
        if (v->kind == PK_PV_BOOL)
            return fail(ps, PK_EVALIDATE, vat, "%s cannot compare with a boolean (only = and !=)",
                        pk_pattern_op_name(x->op));
        break;
    case PK_POP_LIKE:
    case PK_POP_MATCHES:
    case PK_POP_ISSUBSET:
    case PK_POP_ISSUPERSET:
        if (v->kind != PK_PV_STRING)
            return fail(ps, PK_EVALIDATE, vat, "%s needs a string constant",
                        pk_pattern_op_name(x->op));
        if (x->op == PK_POP_MATCHES && (st = compile_regex(ps, x))) return st;
        if (x->op == PK_POP_ISSUBSET || x->op == PK_POP_ISSUPERSET) {
            pki_cidr c;
            if (pki_cidr_parse(v->bytes, v->len, &c))
                return fail(ps, PK_EVALIDATE, vat,
                            "%s needs an IPv4 or IPv6 address or CIDR range, not '%.60s'",
                            pk_pattern_op_name(x->op), v->bytes);
        }
        break;
    default:
        break;
    }
    *out = x;
    return PK_OK;
}

/* The one object type of a comparison tree, or NULL when it names several. */
static const char *cmp_type(const pk_pattern_node *x)
{
    if (x->kind == PK_PN_COMPARE) return x->path->type;
    const char *t = cmp_type(x->child[0]);
    for (size_t i = 1; t && i < x->nchild; i++) {
        const char *u = cmp_type(x->child[i]);
        if (!u || strcmp(t, u) != 0) return NULL;
    }
    return t;
}

static pk_status parse_cmp_and(parser *ps, pk_pattern_node **out)
{
    nvec v = {0};
    pk_status st;
    pk_pattern_node *x = NULL;
    for (;;) {
        if ((st = parse_compare(ps, &x))) goto done;
        if (push_flat(&v, x, PK_PN_CAND)) {
            st = nomem(ps);
            goto done;
        }
        if (!is_kw(ps, "AND")) break;
        if ((st = next_token(ps))) goto done;
    }
    if (v.n > 1) {
        /* Comparisons joined by AND describe one object: one type. */
        const char *t = cmp_type(v.v[0]);
        for (size_t i = 0; i < v.n; i++) {
            const char *u = cmp_type(v.v[i]);
            if (!t || !u || strcmp(t, u) != 0) {
                const pk_pattern_node *bad = !t ? v.v[0] : v.v[i];
                st = fail(ps, PK_EVALIDATE, (size_t)(bad->column - 1),
                          "comparisons joined by AND must name the same object type (%s here, "
                          "%s before)",
                          u ? u : "several", t ? t : "several");
                goto done;
            }
        }
    }
    if (!(*out = finish_nary(ps, &v, PK_PN_CAND))) st = nomem(ps);
done:
    pk_free(v.v);
    return st;
}

static pk_status parse_cmp_or(parser *ps, pk_pattern_node **out)
{
    nvec v = {0};
    pk_status st;
    pk_pattern_node *x = NULL;
    for (;;) {
        if ((st = parse_cmp_and(ps, &x))) goto done;
        if (push_flat(&v, x, PK_PN_COR)) {
            st = nomem(ps);
            goto done;
        }
        if (!is_kw(ps, "OR")) break;
        if ((st = next_token(ps))) goto done;
    }
    if (!(*out = finish_nary(ps, &v, PK_PN_COR))) st = nomem(ps);
done:
    pk_free(v.v);
    return st;
}

/* ---- observation expressions -------------------------------------------- */

static pk_status parse_obs_fb(parser *ps, pk_pattern_node **out);

static pk_status parse_ts_qual(parser *ps, pk_time *t, const char *which)
{
    pk_status st;
    pk_error te;
    pk_error_clear(&te);
    size_t at = ps->t.start;
    if (ps->t.kind == T_TS) {
        if (ps->spec == PK_PATTERN_SPEC_20)
            return fail(ps, PK_EVALIDATE, at, "STIX 2.0 %s takes a '...' string, not t'...'",
                        which);
        if (pk_time_parse(ps->s + at + 2, ps->t.len - 3, PK_TIME_STIX, t, &te))
            return fail(ps, PK_EPARSE, at + 2 + (size_t)(te.column > 0 ? te.column - 1 : 0),
                        "invalid %s timestamp: %s", which, te.message);
    } else if (ps->t.kind == T_STRING) {
        if (ps->spec == PK_PATTERN_SPEC_21)
            return fail(ps, PK_EVALIDATE, at, "STIX 2.1 %s takes a t'...' timestamp", which);
        if (pk_time_parse(ps->t.str, ps->t.slen, PK_TIME_STIX, t, &te))
            return fail(ps, PK_EPARSE, at + 1 + (size_t)(te.column > 0 ? te.column - 1 : 0),
                        "invalid %s timestamp: %s", which, te.message);
    } else {
        return expected(ps, "a timestamp t'YYYY-MM-DDTHH:MM:SSZ'");
    }
    return (st = next_token(ps));
}

static pk_status parse_obs_q(parser *ps, pk_pattern_node **out)
{
    pk_status st;
    pk_pattern_node *x = NULL;
    size_t at = ps->t.start;
    if (ps->t.kind == T_LBRACK) {
        if (++ps->depth > PK_PATTERN_MAX_DEPTH)
            return fail(ps, PK_ELIMIT, at, "brackets nested deeper than %d", PK_PATTERN_MAX_DEPTH);
        if ((st = next_token(ps))) return st;
        pk_pattern_node *c;
        if ((st = parse_cmp_or(ps, &c))) return st;
        if (ps->t.kind != T_RBRACK) return expected(ps, "']' or AND/OR");
        ps->depth--;
        if ((st = next_token(ps))) return st;
        if (!(x = new_node(ps, PK_PN_OBSERVE, at))) return nomem(ps);
        const pk_pattern_node **cv = pk_arena_alloc(ps->a, sizeof *cv);
        if (!cv) return nomem(ps);
        cv[0] = c;
        x->child = cv;
        x->nchild = 1;
        x->type = cmp_type(c);
    } else if (ps->t.kind == T_LPAREN) {
        if (++ps->depth > PK_PATTERN_MAX_DEPTH)
            return fail(ps, PK_ELIMIT, at, "parentheses nested deeper than %d",
                        PK_PATTERN_MAX_DEPTH);
        if ((st = next_token(ps))) return st;
        if ((st = parse_obs_fb(ps, &x))) return st;
        if (ps->t.kind != T_RPAREN) return expected(ps, "')'");
        ps->depth--;
        if ((st = next_token(ps))) return st;
    } else {
        return expected(ps, "'[' or '(' to begin an observation expression");
    }
    /* Qualifiers bind tighter than any operator.  After [ ] each kind may
     * appear once; after ( ) kinds may repeat, as the OASIS validator
     * accepts ([a]) WITHIN 5 SECONDS WITHIN 6 SECONDS but not the same
     * without the parentheses. */
    int paren = ps->s[at] == '(';
    unsigned seen = 0;
    for (;;) {
        size_t qat = ps->t.start;
        pk_pattern_node_kind k;
        if (is_kw(ps, "WITHIN"))
            k = PK_PN_WITHIN;
        else if (is_kw(ps, "REPEATS"))
            k = PK_PN_REPEATS;
        else if (is_kw(ps, "START"))
            k = PK_PN_STARTSTOP;
        else
            break;
        if (!paren && (seen & (1u << k)))
            return fail(ps, PK_EVALIDATE, qat, "duplicate %.*s qualifier (use parentheses)",
                        (int)ps->t.len, ps->s + qat);
        seen |= 1u << k;
        pk_pattern_node *q = new_node(ps, k, (size_t)(x->column - 1));
        if (!q) return nomem(ps);
        const pk_pattern_node **cv = pk_arena_alloc(ps->a, sizeof *cv);
        if (!cv) return nomem(ps);
        cv[0] = x;
        q->child = cv;
        q->nchild = 1;
        if ((st = next_token(ps))) return st;
        size_t vat = ps->t.start;
        if (k == PK_PN_WITHIN) {
            if (ps->t.kind != T_INT && ps->t.kind != T_FLOAT)
                return expected(ps, "a positive number of seconds after WITHIN");
            char buf[64];
            size_t l = ps->t.len < sizeof buf - 1 ? ps->t.len : sizeof buf - 1;
            memcpy(buf, ps->s + vat, l);
            buf[l] = '\0';
            q->within = strtod(buf, NULL);
            if (buf[0] == '-' || !(q->within > 0))
                return fail(ps, PK_EVALIDATE, vat, "WITHIN needs a positive number of seconds");
            if (q->within > PK_PATTERN_MAX_WITHIN)
                return fail(ps, PK_ELIMIT, vat, "WITHIN is limited to %.0f seconds",
                            PK_PATTERN_MAX_WITHIN);
            if ((st = next_token(ps))) return st;
            if (!is_kw(ps, "SECONDS")) return expected(ps, "SECONDS after the WITHIN value");
            if ((st = next_token(ps))) return st;
        } else if (k == PK_PN_REPEATS) {
            if (ps->t.kind != T_INT) return expected(ps, "a positive integer after REPEATS");
            char buf[32];
            size_t l = ps->t.len < sizeof buf - 1 ? ps->t.len : sizeof buf - 1;
            memcpy(buf, ps->s + vat, l);
            buf[l] = '\0';
            errno = 0;
            long long r = strtoll(buf, NULL, 10);
            if (buf[0] == '-' || r <= 0)
                return fail(ps, PK_EVALIDATE, vat, "REPEATS needs a positive integer");
            if (errno || r > PK_PATTERN_MAX_REPEATS)
                return fail(ps, PK_ELIMIT, vat, "REPEATS is limited to %lld",
                            PK_PATTERN_MAX_REPEATS);
            q->repeats = r;
            if ((st = next_token(ps))) return st;
            if (!is_kw(ps, "TIMES")) return expected(ps, "TIMES after the REPEATS count");
            if ((st = next_token(ps))) return st;
        } else {
            if ((st = parse_ts_qual(ps, &q->start, "START"))) return st;
            if (!is_kw(ps, "STOP")) return expected(ps, "STOP after the START timestamp");
            if ((st = next_token(ps))) return st;
            size_t sat = ps->t.start;
            if ((st = parse_ts_qual(ps, &q->stop, "STOP"))) return st;
            if (pk_time_cmp(&q->start, &q->stop) >= 0)
                return fail(ps, PK_EVALIDATE, sat, "STOP must be later than START");
        }
        x = q;
    }
    *out = x;
    return PK_OK;
}

static pk_status parse_obs_level(parser *ps, pk_pattern_node **out, int level);

static pk_status parse_obs_level(parser *ps, pk_pattern_node **out, int level)
{
    /* level 0: FOLLOWEDBY, 1: OR, 2: AND */
    static const char *const kw[] = {"FOLLOWEDBY", "OR", "AND"};
    static const pk_pattern_node_kind kinds[] = {PK_PN_FOLLOWEDBY, PK_PN_OOR, PK_PN_OAND};
    nvec v = {0};
    pk_status st;
    pk_pattern_node *x = NULL;
    for (;;) {
        st = level == 2 ? parse_obs_q(ps, &x) : parse_obs_level(ps, &x, level + 1);
        if (st) goto done;
        if (push_flat(&v, x, kinds[level])) {
            st = nomem(ps);
            goto done;
        }
        if (!is_kw(ps, kw[level])) break;
        if ((st = next_token(ps))) goto done;
    }
    if (!(*out = finish_nary(ps, &v, kinds[level]))) st = nomem(ps);
done:
    pk_free(v.v);
    return st;
}

static pk_status parse_obs_fb(parser *ps, pk_pattern_node **out)
{
    return parse_obs_level(ps, out, 0);
}

/* ---- entry points ------------------------------------------------------- */

pk_status pk_pattern_parse(const char *text, size_t len, pk_pattern_spec spec, pk_pattern **out,
                           pk_error *err)
{
    pk_status st;
    parser ps;
    memset(&ps, 0, sizeof ps);
    pk_error_clear(err);
    *out = NULL;
    ps.err = err;
    ps.s = text;
    ps.n = len;
    ps.spec = spec;
    if (!text) return fail(&ps, PK_EINVAL, 0, "no pattern");
    if (len > PK_PATTERN_MAX_LEN)
        return fail(&ps, PK_ELIMIT, PK_PATTERN_MAX_LEN, "pattern is longer than %d bytes",
                    PK_PATTERN_MAX_LEN);
    pk_pattern *p = pk_calloc(1, sizeof *p);
    if (!p) return fail(&ps, PK_ENOMEM, 0, "out of memory");
    p->spec = spec;
    p->arena = pk_arena_new(len < 2048 ? 4096 : 0, 0);
    if (!p->arena) {
        st = fail(&ps, PK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    ps.a = p->arena;
    ps.p = p;
    pk_pattern_node *root;
    if ((st = next_token(&ps))) goto fail;
    if (ps.t.kind == T_EOF) {
        st = fail(&ps, PK_EPARSE, 0, "empty pattern: expected '[' to begin an observation");
        goto fail;
    }
    if (ps.t.kind != T_LBRACK && ps.t.kind != T_LPAREN) {
        st = fail(&ps, PK_EPARSE, ps.t.start,
                  "a pattern begins with '[' (an observation expression) or '('");
        goto fail;
    }
    if ((st = parse_obs_fb(&ps, &root))) goto fail;
    if (ps.t.kind != T_EOF) {
        char b[64];
        const char *d = tok_desc(&ps, b, sizeof b);
        if (ps.t.kind == T_IDENT) {
            static const char *const kws[] = {"and",    "or",      "followedby",
                                              "within", "repeats", "start"};
            for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
                if (ps.t.len == strlen(kws[i]) &&
                    strncasecmp(ps.s + ps.t.start, kws[i], ps.t.len) == 0) {
                    st = fail(&ps, PK_EPARSE, ps.t.start, "keywords are upper case: %s", d);
                    goto fail;
                }
        }
        st = fail(&ps, PK_EPARSE, ps.t.start,
                  "expected AND, OR, FOLLOWEDBY, a qualifier or the end, found %s", d);
        goto fail;
    }
    p->root = root;
    p->nterms = ps.terms;
    if (!(p->canonical = pki_pattern_print(p->arena, root, spec == PK_PATTERN_SPEC_20))) {
        st = fail(&ps, PK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    if ((st = pki_pattern_anchors(p))) {
        st = fail(&ps, PK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    *out = p;
    return PK_OK;
fail:
    pk_pattern_free(p);
    return st;
}

void pk_pattern_free(pk_pattern *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nregex; i++)
        pcre2_code_free(p->regex[i]);
    pk_free(p->regex);
    pk_arena_free(p->arena);
    pk_free(p);
}

const pk_pattern_node *pk_pattern_root(const pk_pattern *p)
{
    return p ? p->root : NULL;
}

const char *pk_pattern_canonical(const pk_pattern *p)
{
    return p ? p->canonical : NULL;
}

const char *pk_pattern_op_name(pk_pattern_op op)
{
    switch (op) {
    case PK_POP_EQ:
        return "=";
    case PK_POP_NE:
        return "!=";
    case PK_POP_LT:
        return "<";
    case PK_POP_LE:
        return "<=";
    case PK_POP_GT:
        return ">";
    case PK_POP_GE:
        return ">=";
    case PK_POP_IN:
        return "IN";
    case PK_POP_LIKE:
        return "LIKE";
    case PK_POP_MATCHES:
        return "MATCHES";
    case PK_POP_ISSUBSET:
        return "ISSUBSET";
    case PK_POP_ISSUPERSET:
        return "ISSUPERSET";
    case PK_POP_EXISTS:
        return "EXISTS";
    }
    return "?";
}

/* pcre2 allocates through the hook too, so that fault injection reaches it. */
static void *gctx_malloc(size_t n, void *ud)
{
    (void)ud;
    return pk_malloc(n);
}
static void gctx_free(void *p, void *ud)
{
    (void)ud;
    pk_free(p);
}

static pcre2_general_context *gctx;
static pthread_once_t gctx_once = PTHREAD_ONCE_INIT;

static void gctx_init(void)
{
    gctx = pcre2_general_context_create(gctx_malloc, gctx_free, NULL);
}

/* NULL (pcre2 then uses libc's allocator) only if the one creation failed. */
pcre2_general_context *pki_pcre2_gctx(void)
{
    pthread_once(&gctx_once, gctx_init);
    return gctx;
}

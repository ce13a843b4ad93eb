/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluation of a parsed pattern over a set of observations.
 *
 * A comparison expression (inside [ ]) is decided per object: it holds when
 * one SCO of an observed-data satisfies it, AND meaning "the same object"
 * (the parser made sure AND-ed comparisons name one type).  An observation
 * expression is decided per observed-data.  Above that, operators and
 * qualifiers work on "bindings": which observations together satisfy a
 * sub-expression.  An observed-data with number_observed k stands for k
 * observations, all within its [first_observed, last_observed]; a binding
 * keeps the latest first_observed (fmax) and earliest last_observed (lmin)
 * of its members, which is all the temporal rules need:
 *
 *   [..]            one binding per observed-data that matches
 *   A OR B          the bindings of both
 *   A AND B         a + b, using no observed-data more than k times
 *   A FOLLOWEDBY B  the same, where times can be picked in the intervals with
 *                   every A no later than every B: a.fmax <= b.lmin
 *   A WITHIN n      a window of n seconds meets every interval:
 *                   fmax - lmin <= n
 *   A START s STOP e  every interval meets [s, e): fmax < e and lmin >= s
 *   A REPEATS n     n bindings of A that fit together; groups are formed
 *                   from each binding onwards in time order, which is exact
 *                   for presence and for point-like observations under
 *                   WITHIN and START/STOP, and may miss other groupings
 *
 * These follow the OASIS reference matcher's reading of the specification.
 * The pattern matches when the root has a binding; the answer is every
 * observed-data that is a member of one.  Each node's list is capped
 * (PK_PATTERN_MAX_BINDINGS) and so is the memory of one evaluation, so that a
 * combinatorial pattern fails with PK_ELIMIT rather than running away.
 */
#include "pattern_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_ARENA_CAP ((size_t)256 << 20)

typedef struct root {
    const json_t *obj;
    const char *type;
    uint32_t tid; /* the type's number in the set (ROOT_NO_TID outside one) */
} root;

#define ROOT_NO_TID UINT32_MAX

typedef struct odata {
    const json_t *obj;
    const char *id;
    pk_time first, last;
    uint64_t number;
    const json_t *embedded; /* STIX 2.0: the "objects" dictionary */
    const json_t *refs;     /* STIX 2.1: object_refs */
    root *roots;            /* pk_malloc'd */
    size_t nroots;
    int complete; /* every object_ref was found */
} odata;

struct pk_pattern_obs {
    json_t **docs;
    size_t ndocs, doccap;
    pk_map *byid;  /* id -> json_t object */
    pk_map *types; /* SCO type -> its number + 1, so a comparison tests an int */
    odata *od;
    size_t nod, odcap;
};

/* ---- building the observation set --------------------------------------- */

pk_status pk_pattern_obs_new(pk_pattern_obs **out, pk_error *err)
{
    *out = NULL;
    pk_pattern_obs *s = pk_calloc(1, sizeof *s);
    if (!s || !(s->byid = pk_map_new(64)) || !(s->types = pk_map_new(16))) {
        if (s) pk_map_free(s->byid);
        pk_free(s);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    *out = s;
    return PK_OK;
}

void pk_pattern_obs_free(pk_pattern_obs *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nod; i++)
        pk_free(s->od[i].roots);
    pk_free(s->od);
    for (size_t i = 0; i < s->ndocs; i++)
        json_decref(s->docs[i]);
    pk_free(s->docs);
    pk_map_free(s->byid);
    pk_map_free(s->types);
    pk_free(s);
}

size_t pk_pattern_obs_count(const pk_pattern_obs *s)
{
    return s ? s->nod : 0;
}

const char *pk_pattern_obs_id(const pk_pattern_obs *s, size_t i)
{
    return s && i < s->nod ? s->od[i].id : NULL;
}

static const char *str_prop(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static pk_status add_root(pk_map *types, odata *d, const json_t *o, size_t *cap)
{
    const char *t = str_prop(o, "type");
    if (!t) return PK_OK; /* not an object with a type: nothing can match it */
    uint32_t tid = ROOT_NO_TID;
    if (types) {
        size_t tl = strlen(t);
        uintptr_t v = (uintptr_t)pk_map_get(types, t, tl);
        if (!v) {
            v = pk_map_count(types) + 1;
            if (pk_map_put(types, t, tl, (void *)v)) return PK_ENOMEM;
        }
        tid = (uint32_t)(v - 1);
    }
    if (d->nroots == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        root *nr = pk_realloc(d->roots, nc * sizeof *nr);
        if (!nr) return PK_ENOMEM;
        d->roots = nr;
        *cap = nc;
    }
    d->roots[d->nroots].obj = o;
    d->roots[d->nroots].type = t;
    d->roots[d->nroots].tid = tid;
    d->nroots++;
    return PK_OK;
}

/* (Re)build the SCO list of a 2.1 observed-data from object_refs. */
static pk_status resolve_refs(pk_pattern_obs *s, odata *d)
{
    size_t cap = 0, i;
    json_t *ref;
    pk_free(d->roots);
    d->roots = NULL;
    d->nroots = 0;
    d->complete = 1;
    json_array_foreach(d->refs, i, ref)
    {
        const char *id = json_string_value(ref);
        const json_t *o = id ? pk_map_get(s->byid, id, strlen(id)) : NULL;
        if (!o) {
            d->complete = 0;
            continue;
        }
        if (add_root(s->types, d, o, &cap)) return PK_ENOMEM;
    }
    return PK_OK;
}

static pk_status obj_error(pk_error *err, pk_status code, const char *id, const char *prop,
                           const char *msg)
{
    pk_error_set(err, code, "%s", msg);
    pk_error_object(err, id, prop);
    return code;
}

static pk_status add_observed(pk_pattern_obs *s, const json_t *o, pk_pattern_spec spec,
                              pk_error *err)
{
    const char *id = str_prop(o, "id");
    odata d;
    memset(&d, 0, sizeof d);
    d.obj = o;
    d.id = id ? id : "";
    const char *fs = str_prop(o, "first_observed"), *ls = str_prop(o, "last_observed");
    if (!fs)
        return obj_error(err, PK_EVALIDATE, d.id, "first_observed",
                         "observed-data needs a first_observed timestamp");
    if (pk_time_parse(fs, strlen(fs), PK_TIME_RFC3339, &d.first, NULL))
        return obj_error(err, PK_EVALIDATE, d.id, "first_observed", "not a valid timestamp");
    if (!ls) ls = fs;
    if (pk_time_parse(ls, strlen(ls), PK_TIME_RFC3339, &d.last, NULL))
        return obj_error(err, PK_EVALIDATE, d.id, "last_observed", "not a valid timestamp");
    if (pk_time_cmp(&d.last, &d.first) < 0)
        return obj_error(err, PK_EVALIDATE, d.id, "last_observed",
                         "last_observed is earlier than first_observed");
    const json_t *no = json_object_get(o, "number_observed");
    d.number = 1;
    if (no) {
        if (!json_is_integer(no) || json_integer_value(no) < 1)
            return obj_error(err, PK_EVALIDATE, d.id, "number_observed",
                             "number_observed must be an integer >= 1");
        d.number = (uint64_t)json_integer_value(no);
    }
    const json_t *emb = json_object_get(o, "objects");
    const json_t *refs = json_object_get(o, "object_refs");
    /* Auto: object_refs means 2.1 (it may come with a deprecated, empty
     * "objects"); embedded objects alone mean 2.0. */
    int v20 = spec == PK_PATTERN_SPEC_20 ||
              (spec == PK_PATTERN_SPEC_AUTO && !json_is_array(refs) && json_is_object(emb));
    if (spec == PK_PATTERN_SPEC_20 && !json_is_object(emb))
        return obj_error(err, PK_EVALIDATE, d.id, "objects",
                         "STIX 2.0 observed-data needs an \"objects\" dictionary");
    if (spec == PK_PATTERN_SPEC_21 && !json_is_array(refs))
        return obj_error(err, PK_EVALIDATE, d.id, "object_refs",
                         "STIX 2.1 observed-data needs an object_refs list");
    if (!v20 && !json_is_array(refs))
        return obj_error(err, PK_EVALIDATE, d.id, "object_refs",
                         "observed-data has neither object_refs (2.1) nor objects (2.0)");
    if (v20) {
        size_t cap = 0;
        const char *k;
        json_t *v;
        d.embedded = emb;
        d.complete = 1;
        json_object_foreach((json_t *)emb, k, v)
        {
            if (add_root(s->types, &d, v, &cap)) {
                pk_free(d.roots);
                return pk_error_set(err, PK_ENOMEM, "out of memory");
            }
        }
    } else {
        d.refs = refs;
    }
    if (s->nod == s->odcap) {
        size_t nc = s->odcap ? s->odcap * 2 : 64;
        odata *nv = pk_realloc(s->od, nc * sizeof *nv);
        if (!nv) {
            pk_free(d.roots);
            return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
        s->od = nv;
        s->odcap = nc;
    }
    s->od[s->nod++] = d;
    return PK_OK;
}

pk_status pk_pattern_obs_add(pk_pattern_obs *s, const struct json_t *doc, pk_pattern_spec spec,
                             pk_error *err)
{
    pk_error_clear(err);
    const json_t *list = doc;
    if (json_is_object(doc) && json_is_array(json_object_get(doc, "objects")) &&
        !json_object_get(doc, "first_observed"))
        list = json_object_get(doc, "objects");
    size_t n = json_is_array(list) ? json_array_size(list) : 1;
    if (!json_is_array(list) && !json_is_object(list))
        return pk_error_set(err, PK_EVALIDATE,
                            "expected a bundle, a JSON array of objects or one object");
    if (s->ndocs == s->doccap) {
        size_t nc = s->doccap ? s->doccap * 2 : 8;
        json_t **nv = pk_realloc(s->docs, nc * sizeof *nv);
        if (!nv) return pk_error_set(err, PK_ENOMEM, "out of memory");
        s->docs = nv;
        s->doccap = nc;
    }
    /* Validate first so that a bad document adds nothing. */
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_is_array(list) ? json_array_get(list, i) : list;
        if (!json_is_object(o)) {
            return pk_error_set(err, PK_EVALIDATE,
                                "element %zu of the objects is not a JSON object", i);
        }
    }
    size_t nod0 = s->nod;
    pk_status st = PK_OK;
    /* What each id meant before, to put it back if this document fails. */
    void **prev = pk_calloc(n ? n : 1, sizeof *prev);
    if (!prev) return pk_error_set(err, PK_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        const json_t *o = json_is_array(list) ? json_array_get(list, i) : list;
        const char *id = str_prop(o, "id");
        if (id) {
            prev[i] = pk_map_get(s->byid, id, strlen(id));
            if (pk_map_put(s->byid, id, strlen(id), (void *)o))
                st = pk_error_set(err, PK_ENOMEM, "out of memory");
        }
        const char *type = str_prop(o, "type");
        if (!st && type && strcmp(type, "observed-data") == 0) st = add_observed(s, o, spec, err);
    }
    if (st) {
        /* Undo: drop the observed-data added, and the ids (they point into
         * doc), last first so that a repeated id gets its first meaning back. */
        for (size_t i = nod0; i < s->nod; i++)
            pk_free(s->od[i].roots);
        s->nod = nod0;
        for (size_t i = n; i-- > 0;) {
            const json_t *o = json_is_array(list) ? json_array_get(list, i) : list;
            const char *id = str_prop(o, "id");
            if (!id || pk_map_get(s->byid, id, strlen(id)) != o) continue;
            if (prev[i])
                pk_map_put(s->byid, id, strlen(id), prev[i]); /* replaces: no allocation */
            else
                pk_map_del(s->byid, id, strlen(id));
        }
        pk_free(prev);
        return st;
    }
    pk_free(prev);
    s->docs[s->ndocs++] = json_incref((json_t *)doc);
    /* References may point into this document from earlier ones, and back. */
    for (size_t i = 0; i < s->nod; i++)
        if (s->od[i].refs && (!s->od[i].complete || i >= nod0) && resolve_refs(s, &s->od[i]))
            return pk_error_set(err, PK_ENOMEM, "out of memory");
    return PK_OK;
}

/* ---- comparing one value ------------------------------------------------ */

typedef struct ectx {
    const pk_pattern *p;
    const pk_pattern_obs *s;
    pk_error *err;
    pk_status st; /* sticky: the first error */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pk_arena *a;
    uint32_t *tids; /* per comparison: its type's number in the set, or NULL */
} ectx;

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && memcmp(s + a - b, suf, b) == 0;
}

static int memcmp_len(const void *a, size_t an, const void *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r) return r < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* A property value as the comparison rules see it: a JSON string under a
 * name ending in _bin (base64) or _hex is binary, any other string is text. */
enum { V_OTHER, V_TEXT, V_BYTES, V_INT, V_REAL, V_BOOL };

typedef struct tval {
    int kind;
    const unsigned char *p; /* TEXT, BYTES */
    size_t n;
    json_int_t i;
    double f;
    unsigned char *heap; /* decoded bytes when they did not fit buf */
    unsigned char buf[256];
} tval;

/* Classify v; -1 on ENOMEM. */
static int tval_of(tval *t, const json_t *v, const char *key)
{
    t->heap = NULL;
    t->kind = V_OTHER;
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int bin = key && ends_with(key, "_bin"), hex = !bin && key && ends_with(key, "_hex");
        t->kind = V_TEXT;
        t->p = (const unsigned char *)s;
        t->n = n;
        if (!bin && !hex) return 0;
        unsigned char *dst = t->buf;
        if (n > sizeof t->buf) {
            if (!(t->heap = pk_malloc(n))) return -1;
            dst = t->heap;
        }
        long r = bin ? pki_base64_decode(s, n, dst) : pki_hex_decode(s, n, dst);
        /* A binary property that does not decode compares as nothing. */
        t->kind = r < 0 ? V_OTHER : V_BYTES;
        t->p = dst;
        t->n = r < 0 ? 0 : (size_t)r;
        return 0;
    }
    case JSON_INTEGER:
        t->kind = V_INT;
        t->i = json_integer_value(v);
        t->f = (double)t->i;
        return 0;
    case JSON_REAL:
        t->kind = V_REAL;
        t->f = json_real_value(v);
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        t->kind = V_BOOL;
        t->i = json_is_true(v);
        return 0;
    default:
        return 0;
    }
}

static void tval_done(tval *t)
{
    pk_free(t->heap);
    t->heap = NULL;
}

/* Text as bytes, one byte per code point, when every code point is below
 * 256 (the rule for comparing text with binary).  Returns the length or -1. */
static long latin1(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            out[o++] = (unsigned char)c;
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            unsigned cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
            if (cp < 0x80 || cp > 0xFF) return -1;
            out[o++] = (unsigned char)cp;
            i += 2;
        } else {
            return -1;
        }
    }
    return (long)o;
}

/* Text against bytes: -2 when the text cannot be read as bytes. */
static int cmp_text_bytes(ectx *cx, const unsigned char *text, size_t tn, const unsigned char *b,
                          size_t bn, int text_first)
{
    unsigned char small[256], *buf = tn <= sizeof small ? small : pk_malloc(tn);
    if (!buf) {
        cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
        return -2;
    }
    long l = latin1(text, tn, buf);
    int r = -2;
    if (l >= 0)
        r = text_first ? memcmp_len(buf, (size_t)l, b, bn) : memcmp_len(b, bn, buf, (size_t)l);
    if (buf != small) pk_free(buf);
    return r;
}

/* Compare value v with constant c: <0, 0, >0 as v is less, equal, greater,
 * or -2 when their types do not compare (no coercion beyond the
 * specification's: integers with floats, text with binary through code
 * points below 256, t'' with timestamp text).  `strict` (IN sets) compares
 * only like with like. */
static int compare(ectx *cx, const pk_pattern_value *c, const tval *v, int strict)
{
    switch (c->kind) {
    case PK_PV_STRING:
        if (v->kind == V_TEXT) return memcmp_len(v->p, v->n, c->bytes, c->len);
        if (v->kind == V_BYTES && !strict)
            return cmp_text_bytes(cx, (const unsigned char *)c->bytes, c->len, v->p, v->n, 0);
        return -2;
    case PK_PV_INT:
        if (v->kind == V_INT) return v->i < c->i ? -1 : v->i > c->i ? 1 : 0;
        if (v->kind == V_REAL) return v->f < c->f ? -1 : v->f > c->f ? 1 : 0;
        return -2;
    case PK_PV_FLOAT:
        if (v->kind == V_INT || v->kind == V_REAL) return v->f < c->f ? -1 : v->f > c->f ? 1 : 0;
        return -2;
    case PK_PV_BOOL:
        return v->kind == V_BOOL ? (int)(v->i - c->i) : -2;
    case PK_PV_TIMESTAMP: {
        pk_time t;
        if (v->kind != V_TEXT ||
            pk_time_parse((const char *)v->p, v->n, PK_TIME_STIX, &t, NULL) != PK_OK)
            return -2;
        return pk_time_cmp(&t, &c->t);
    }
    case PK_PV_BINARY:
    case PK_PV_HEX:
        if (v->kind == V_BYTES) return memcmp_len(v->p, v->n, c->bytes, c->len);
        if (v->kind == V_TEXT && !strict)
            return cmp_text_bytes(cx, v->p, v->n, (const unsigned char *)c->bytes, c->len, 1);
        return -2;
    }
    return -2;
}

/* 1 match, 0 no match, -1 error (cx->st set). */
static int regex_search(ectx *cx, const pk_pattern_node *x, const pcre2_code *re,
                        const unsigned char *subj, size_t n)
{
    if (!cx->md) {
        cx->md = pcre2_match_data_create(1, pki_pcre2_gctx());
        cx->mctx = pcre2_match_context_create(pki_pcre2_gctx());
        if (!cx->md || !cx->mctx) {
            cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
            return -1;
        }
        pcre2_set_match_limit(cx->mctx, PK_PATTERN_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(cx->mctx, PK_PATTERN_REGEX_DEPTH_LIMIT);
        pcre2_set_heap_limit(cx->mctx, PK_PATTERN_REGEX_HEAP_LIMIT);
    }
    int rc = pcre2_match(re, subj, n, 0, 0, cx->md, cx->mctx);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc == PCRE2_ERROR_NOMEMORY) {
        cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
    } else {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof msg);
        cx->st = pk_error_set(cx->err, PK_ELIMIT,
                              "MATCHES gave up on a value of %s (%s): the regular expression "
                              "backtracks too much",
                              x->path->text, (char *)msg);
        if (cx->err) cx->err->column = x->values[0].column;
    }
    return -1;
}

/* Does value v satisfy comparison x?  The base test is false when the types
 * do not compare (LIKE, MATCHES, ISSUBSET, ISSUPERSET on anything but text or
 * binary, an address test on text that is no address or of the other
 * family), and NOT (or !=, NOT IN) negates the base test, so `size != 'x'`
 * and `size NOT LIKE 'x%'` hold for a numeric size. */
static int test_value(ectx *cx, const pk_pattern_node *x, const json_t *v, const char *key)
{
    int r, res = 0;
    if (x->op == PK_POP_EXISTS) return 1;
    tval t;
    if (tval_of(&t, v, key)) {
        cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
        return 0;
    }
    switch (x->op) {
    case PK_POP_EQ:
    case PK_POP_NE:
        if (t.kind == V_TEXT && x->values[0].kind == PK_PV_STRING)
            res = t.n == x->values[0].len && memcmp(t.p, x->values[0].bytes, t.n) == 0;
        else
            res = compare(cx, &x->values[0], &t, 0) == 0;
        if (x->op == PK_POP_NE) res = !res;
        break;
    case PK_POP_LT:
    case PK_POP_LE:
    case PK_POP_GT:
    case PK_POP_GE:
        r = compare(cx, &x->values[0], &t, 0);
        res = r == -2              ? 0
              : x->op == PK_POP_LT ? r < 0
              : x->op == PK_POP_LE ? r <= 0
              : x->op == PK_POP_GT ? r > 0
                                   : r >= 0;
        break;
    case PK_POP_IN:
        for (size_t i = 0; i < x->nvalues && !res; i++)
            res = compare(cx, &x->values[i], &t, 1) == 0;
        break;
    case PK_POP_LIKE:
        if (t.kind == V_TEXT) {
            res = pki_like((const char *)t.p, t.n, x->values[0].bytes, x->values[0].len, 0);
        } else if (t.kind == V_BYTES) {
            /* over bytes, with the pattern read one byte per code point */
            unsigned char small[256],
                *pb = x->values[0].len <= sizeof small ? small : pk_malloc(x->values[0].len);
            if (!pb) {
                cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
                goto fail;
            }
            long pl = latin1((const unsigned char *)x->values[0].bytes, x->values[0].len, pb);
            res = pl >= 0 && pki_like((const char *)t.p, t.n, (const char *)pb, (size_t)pl, 1);
            if (pb != small) pk_free(pb);
        }
        break;
    case PK_POP_MATCHES: {
        const pki_regex *re = x->impl;
        if (t.kind == V_TEXT)
            res = regex_search(cx, x, re->text, t.p, t.n);
        else if (t.kind == V_BYTES && re->bin)
            res = regex_search(cx, x, re->bin, t.p, t.n);
        if (res < 0) goto fail;
        break;
    }
    case PK_POP_ISSUBSET:
    case PK_POP_ISSUPERSET: {
        pki_cidr a, c;
        if (t.kind != V_TEXT || pki_cidr_parse((const char *)t.p, t.n, &a)) break;
        pki_cidr_parse(x->values[0].bytes, x->values[0].len, &c);
        if (a.family != c.family) break;
        res = x->op == PK_POP_ISSUBSET ? pki_cidr_within(&a, &c) : pki_cidr_within(&c, &a);
        break;
    }
    default:
        goto fail;
    }
    tval_done(&t);
    if (cx->st) return 0;
    return x->negated ? !res : res;
fail:
    tval_done(&t);
    return 0;
}

/* ---- object paths ------------------------------------------------------- */

static const json_t *deref(const ectx *cx, const odata *d, const json_t *idv)
{
    const char *id = json_string_value(idv);
    if (!id) return NULL;
    if (d->embedded) return json_object_get(d->embedded, id);
    if (cx->s) return pk_map_get(cx->s->byid, id, strlen(id));
    for (size_t i = 0; i < d->nroots; i++) { /* pk_pattern_match_objects: a few objects */
        const char *rid = str_prop(d->roots[i].obj, "id");
        if (rid && strcmp(rid, id) == 0) return d->roots[i].obj;
    }
    return NULL;
}

/* Walk steps[i..] from `cur`; 1 as soon as a value satisfies x.  A `_ref`
 * property stands for the object it names and a `_refs` list for the list of
 * objects (references that do not resolve are left out), wherever they are
 * on the path. */
static int walk_path(ectx *cx, const pk_pattern_node *x, const odata *d, const json_t *cur,
                     size_t i, const char *key, int depth)
{
    const pk_pattern_path *pa = x->path;
    if (cx->st || depth > 64) return 0; /* reference cycles end here */
    if (i == pa->nsteps) return test_value(cx, x, cur, key);
    const pk_pattern_step *st = &pa->steps[i];
    if (st->kind == PK_PSTEP_KEY) {
        if (!json_is_object(cur)) return 0;
        const json_t *v = json_object_get(cur, st->key);
        if (!v) return 0;
        if (ends_with(st->key, "_ref")) {
            const json_t *o = deref(cx, d, v);
            return o ? walk_path(cx, x, d, o, i + 1, st->key, depth + 1) : 0;
        }
        if (ends_with(st->key, "_refs") && i + 1 == pa->nsteps) {
            /* the list itself, as objects: only EXISTS and negations can hold */
            return json_is_array(v) ? test_value(cx, x, v, st->key) : 0;
        }
        return walk_path(cx, x, d, v, i + 1, st->key, depth);
    }
    if (!json_is_array(cur)) return 0;
    int refs = key && ends_with(key, "_refs");
    size_t n = json_array_size(cur);
    size_t lo = 0, hi = n;
    if (st->kind == PK_PSTEP_INDEX) {
        int64_t ix = st->index < 0 ? (int64_t)n + st->index : st->index;
        if (ix < 0 || (uint64_t)ix >= n) return 0;
        lo = (size_t)ix;
        hi = lo + 1;
    }
    for (size_t k = lo; k < hi; k++) {
        const json_t *v = json_array_get(cur, k);
        if (refs) {
            v = deref(cx, d, v);
            if (!v) continue;
            if (walk_path(cx, x, d, v, i + 1, key, depth + 1)) return 1;
        } else if (walk_path(cx, x, d, v, i + 1, key, depth)) {
            return 1;
        }
    }
    return 0;
}

static int cmp_object(ectx *cx, const pk_pattern_node *x, const odata *d, const root *r)
{
    switch (x->kind) {
    case PK_PN_COMPARE:
        if (cx->tids ? r->tid != cx->tids[x->term] : strcmp(r->type, x->path->type) != 0) return 0;
        return walk_path(cx, x, d, r->obj, 0, NULL, 0);
    case PK_PN_CAND:
        for (size_t i = 0; i < x->nchild; i++)
            if (!cmp_object(cx, x->child[i], d, r)) return 0;
        return 1;
    case PK_PN_COR:
        for (size_t i = 0; i < x->nchild; i++)
            if (cmp_object(cx, x->child[i], d, r)) return 1;
        return 0;
    default:
        return 0;
    }
}

/* ---- bindings ----------------------------------------------------------- */

/* A binding: which observations satisfy a sub-expression.  An observed-data
 * with number_observed k stands for k observations, so a binding counts how
 * many of each it uses (never more than k).  fmax is the latest
 * first_observed of its members and lmin the earliest last_observed: the
 * temporal rules only ever need those two (see the top of this file). */
typedef struct binding {
    uint32_t *idx; /* ascending observed-data indexes */
    uint64_t *cnt; /* observations used of each */
    uint32_t n;
    pk_time fmax, lmin;
} binding;

typedef struct blist {
    binding *v;
    size_t n, cap;
} blist;

static void blist_free(blist *l)
{
    pk_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int too_many(ectx *cx, const pk_pattern_node *x)
{
    cx->st = pk_error_set(cx->err, PK_ELIMIT,
                          "more than %d partial matches for the expression here; narrow the "
                          "pattern or the data",
                          PK_PATTERN_MAX_BINDINGS);
    if (cx->err) cx->err->column = x->column;
    return -1;
}

static int blist_push(ectx *cx, blist *l, const binding *b, const pk_pattern_node *x)
{
    if (l->n >= PK_PATTERN_MAX_BINDINGS) return too_many(cx, x);
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        binding *nv = pk_realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
            return -1;
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *b;
    return 0;
}

static int arena_fail(ectx *cx, size_t need)
{
    /* The arena says NULL both past its cap and when memory runs out. */
    if (pk_arena_used(cx->a) + need + ((size_t)1 << 17) < EVAL_ARENA_CAP) {
        cx->st = pk_error_set(cx->err, PK_ENOMEM, "out of memory");
        return -1;
    }
    cx->st = pk_error_set(cx->err, PK_ELIMIT,
                          "evaluating this pattern needs more than %zu MiB of partial matches",
                          EVAL_ARENA_CAP >> 20);
    return -1;
}

/* How many times b can be added to a without using any observed-data more
 * often than it was observed (at most `want`). */
static uint64_t fits(const ectx *cx, const binding *a, const binding *b, uint64_t want)
{
    uint64_t t = want;
    uint32_t i = 0;
    for (uint32_t j = 0; j < b->n && t; j++) {
        while (i < a->n && a->idx[i] < b->idx[j])
            i++;
        uint64_t used = i < a->n && a->idx[i] == b->idx[j] ? a->cnt[i] : 0;
        uint64_t cap = cx->s->od[b->idx[j]].number;
        uint64_t room = cap > used ? (cap - used) / b->cnt[j] : 0;
        if (room < t) t = room;
    }
    return t;
}

/* out = a + times * b (a may be empty: n == 0). */
static int merge(ectx *cx, const binding *a, const binding *b, uint64_t times, binding *out)
{
    size_t m = (size_t)a->n + b->n;
    uint32_t *v = pk_arena_alloc(cx->a, m * sizeof *v);
    uint64_t *c = pk_arena_alloc(cx->a, m * sizeof *c);
    if (!v || !c) return arena_fail(cx, m * (sizeof *v + sizeof *c));
    uint32_t i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        if (j >= b->n || (i < a->n && a->idx[i] < b->idx[j])) {
            v[k] = a->idx[i];
            c[k++] = a->cnt[i++];
        } else if (i >= a->n || b->idx[j] < a->idx[i]) {
            v[k] = b->idx[j];
            c[k++] = b->cnt[j++] * times;
        } else {
            v[k] = a->idx[i];
            c[k++] = a->cnt[i++] + b->cnt[j++] * times;
        }
    }
    if (a->n == 0) {
        out->fmax = b->fmax;
        out->lmin = b->lmin;
    } else {
        out->fmax = pk_time_cmp(&a->fmax, &b->fmax) >= 0 ? a->fmax : b->fmax;
        out->lmin = pk_time_cmp(&a->lmin, &b->lmin) <= 0 ? a->lmin : b->lmin;
    }
    out->idx = v;
    out->cnt = c;
    out->n = k;
    return 0;
}

/* Seconds from a to b (negative when b is earlier). */
static double span_seconds(const pk_time *a, const pk_time *b)
{
    return (double)(b->sec - a->sec) + (double)(b->nsec - a->nsec) / 1e9;
}

static int eval_node(ectx *cx, const pk_pattern_node *x, blist *out);

static int by_time(const void *pa, const void *pb)
{
    const binding *a = pa, *b = pb;
    int r = pk_time_cmp(&a->fmax, &b->fmax);
    return r ? r : pk_time_cmp(&a->lmin, &b->lmin);
}

static int eval_repeats(ectx *cx, const pk_pattern_node *x, blist *in, blist *out)
{
    uint64_t want = (uint64_t)x->repeats, total = 0;
    binding empty = {0};
    for (size_t i = 0; i < in->n && total < want; i++)
        total += fits(cx, &empty, &in->v[i], want - total);
    if (total < want) return 0;
    if (want == 1) {
        for (size_t i = 0; i < in->n; i++)
            if (blist_push(cx, out, &in->v[i], x)) return -1;
        return 0;
    }
    /* One group per starting binding, taking the next ones in time order as
     * often as they fit. */
    qsort(in->v, in->n, sizeof *in->v, by_time);
    for (size_t i = 0; i < in->n; i++) {
        binding acc = empty;
        uint64_t have = 0;
        for (size_t j = i; j < in->n && have < want; j++) {
            uint64_t t = fits(cx, &acc, &in->v[j], want - have);
            if (!t) continue;
            binding m;
            if (merge(cx, &acc, &in->v[j], t, &m)) return -1;
            acc = m;
            have += t;
        }
        if (have < want) break; /* later starts have fewer candidates */
        if (blist_push(cx, out, &acc, x)) return -1;
    }
    return 0;
}

static int eval_node(ectx *cx, const pk_pattern_node *x, blist *out)
{
    blist acc = {0}, next = {0}, c = {0};
    int rc = 0;
    switch (x->kind) {
    case PK_PN_OBSERVE: {
        const pk_pattern_node *cmp = x->child[0];
        for (size_t i = 0; i < cx->s->nod; i++) {
            const odata *d = &cx->s->od[i];
            int hit = 0;
            for (size_t r = 0; r < d->nroots && !hit; r++)
                hit = cmp_object(cx, cmp, d, &d->roots[r]);
            if (cx->st) return -1;
            if (!hit) continue;
            uint32_t *v = pk_arena_alloc(cx->a, sizeof *v);
            uint64_t *n = pk_arena_alloc(cx->a, sizeof *n);
            if (!v || !n) return arena_fail(cx, sizeof *v + sizeof *n);
            v[0] = (uint32_t)i;
            n[0] = 1;
            binding b = {v, n, 1, d->first, d->last};
            if (blist_push(cx, out, &b, x)) return -1;
        }
        return 0;
    }
    case PK_PN_OOR:
        for (size_t i = 0; i < x->nchild; i++) {
            c.n = 0;
            if (eval_node(cx, x->child[i], &c)) {
                rc = -1;
                break;
            }
            for (size_t k = 0; k < c.n && !rc; k++)
                rc = blist_push(cx, out, &c.v[k], x);
            if (rc) break;
        }
        break;
    case PK_PN_OAND:
    case PK_PN_FOLLOWEDBY: {
        /* FOLLOWEDBY: there must be times in the observations' intervals
         * that put every left one no later than every right one. */
        int fb = x->kind == PK_PN_FOLLOWEDBY;
        if ((rc = eval_node(cx, x->child[0], &acc))) break;
        for (size_t i = 1; i < x->nchild && acc.n; i++) {
            c.n = 0;
            if ((rc = eval_node(cx, x->child[i], &c))) break;
            next.n = 0;
            for (size_t a = 0; a < acc.n && !rc; a++)
                for (size_t b = 0; b < c.n && !rc; b++) {
                    if (fb && pk_time_cmp(&acc.v[a].fmax, &c.v[b].lmin) > 0) continue;
                    if (!fits(cx, &acc.v[a], &c.v[b], 1)) continue;
                    binding m;
                    if ((rc = merge(cx, &acc.v[a], &c.v[b], 1, &m))) break;
                    rc = blist_push(cx, &next, &m, x);
                }
            if (rc) break;
            blist t = acc;
            acc = next;
            next = t;
        }
        for (size_t k = 0; k < acc.n && !rc; k++)
            rc = blist_push(cx, out, &acc.v[k], x);
        break;
    }
    case PK_PN_WITHIN:
    case PK_PN_STARTSTOP:
        if ((rc = eval_node(cx, x->child[0], &c))) break;
        for (size_t k = 0; k < c.n && !rc; k++) {
            const binding *b = &c.v[k];
            /* WITHIN: a window of that length meets every observation's
             * [first_observed, last_observed].  START/STOP: every interval
             * meets [start, stop), stop excluded. */
            int keep = x->kind == PK_PN_WITHIN ? span_seconds(&b->lmin, &b->fmax) <= x->within
                                               : pk_time_cmp(&b->fmax, &x->stop) < 0 &&
                                                     pk_time_cmp(&b->lmin, &x->start) >= 0;
            if (keep) rc = blist_push(cx, out, b, x);
        }
        break;
    case PK_PN_REPEATS:
        if ((rc = eval_node(cx, x->child[0], &c))) break;
        rc = eval_repeats(cx, x, &c, out);
        break;
    default:
        cx->st = pk_error_set(cx->err, PK_EINTERNAL, "comparison node at observation level");
        rc = -1;
    }
    blist_free(&acc);
    blist_free(&next);
    blist_free(&c);
    return rc;
}

static int fill_tid(const pk_pattern_node *n, int depth, void *ud)
{
    ectx *cx = ud;
    (void)depth;
    if (n->kind == PK_PN_COMPARE) {
        const char *t = n->path->type;
        uintptr_t v = (uintptr_t)pk_map_get(cx->s->types, t, strlen(t));
        cx->tids[n->term] = v ? (uint32_t)(v - 1) : ROOT_NO_TID - 1; /* absent: matches no root */
    }
    return 0;
}

pk_status pk_pattern_eval(const pk_pattern *p, const pk_pattern_obs *s, pk_pattern_result *out,
                          pk_error *err)
{
    ectx cx;
    blist res = {0};
    memset(&cx, 0, sizeof cx);
    pk_error_clear(err);
    out->index = NULL;
    out->count = 0;
    if (!p || !s) return pk_error_set(err, PK_EINVAL, "no pattern or no observations");
    cx.p = p;
    cx.s = s;
    cx.err = err;
    if (!(cx.a = pk_arena_new(0, EVAL_ARENA_CAP)))
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    /* Each comparison's object type as the set numbers it: the per-object
     * type test is then one integer compare. */
    if (!(cx.tids = pk_arena_alloc(cx.a, (p->nterms ? p->nterms : 1) * sizeof *cx.tids))) {
        pk_arena_free(cx.a);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    pk_pattern_walk(p, fill_tid, &cx);
    if (eval_node(&cx, p->root, &res) == 0 && res.n) {
        /* Every observed-data that is a member of some binding, ascending. */
        unsigned char *seen = pk_calloc(s->nod ? s->nod : 1, 1);
        size_t cnt = 0;
        if (!seen) {
            cx.st = pk_error_set(err, PK_ENOMEM, "out of memory");
        } else {
            for (size_t k = 0; k < res.n; k++)
                for (uint32_t j = 0; j < res.v[k].n; j++)
                    if (!seen[res.v[k].idx[j]]) {
                        seen[res.v[k].idx[j]] = 1;
                        cnt++;
                    }
            out->index = pk_malloc(cnt * sizeof *out->index);
            if (!out->index) {
                cx.st = pk_error_set(err, PK_ENOMEM, "out of memory");
            } else {
                for (size_t i = 0; i < s->nod; i++)
                    if (seen[i]) out->index[out->count++] = i;
            }
            pk_free(seen);
        }
    }
    blist_free(&res);
    pcre2_match_data_free(cx.md);
    pcre2_match_context_free(cx.mctx);
    pk_arena_free(cx.a);
    if (cx.st) {
        pk_pattern_result_free(out);
        return cx.st;
    }
    return PK_OK;
}

void pk_pattern_result_free(pk_pattern_result *r)
{
    if (!r) return;
    pk_free(r->index);
    r->index = NULL;
    r->count = 0;
}

pk_status pk_pattern_match_objects(const pk_pattern_node *node, const struct json_t *const *objects,
                                   size_t n, int *matched, pk_error *err)
{
    ectx cx;
    odata d;
    pk_status st = PK_OK;
    memset(&cx, 0, sizeof cx);
    memset(&d, 0, sizeof d);
    pk_error_clear(err);
    *matched = 0;
    cx.err = err;
    if (!node) return pk_error_set(err, PK_EINVAL, "no pattern node");
    if (node->kind == PK_PN_OBSERVE) node = node->child[0];
    if (node->kind != PK_PN_COMPARE && node->kind != PK_PN_CAND && node->kind != PK_PN_COR)
        return pk_error_set(err, PK_EINVAL, "not an observation expression or comparison");
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        if (json_is_object(objects[i]) && add_root(NULL, &d, objects[i], &cap)) {
            pk_free(d.roots);
            return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
    for (size_t r = 0; r < d.nroots && !*matched && !cx.st; r++)
        *matched = cmp_object(&cx, node, &d, &d.roots[r]);
    if (cx.st) {
        st = cx.st;
        *matched = 0;
    }
    pcre2_match_data_free(cx.md);
    pcre2_match_context_free(cx.mctx);
    pk_free(d.roots);
    return st;
}

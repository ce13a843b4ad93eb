/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STIX indicators in the match engine.
 *
 * Compiling: the pattern is parsed (picket/pattern.h); its equalities and
 * ISSUBSET networks on observables the logs give (addresses, names, URLs,
 * e-mail, hashes, file names, accounts) go into the index like IOC values,
 * each entry pointing at the pattern.  A pattern whose anchors are all such
 * observables is found through them; any other is gated (see "what the logs
 * can show" below): also by the object types of its observation expressions
 * that no indexed value finds.  A pattern that can never match the records
 * (file:size, network-traffic ports) is refused.
 *
 * Matching: an entry hit or a gate makes the indicator a candidate for the
 * record.  A pattern that is nothing but ORed equalities is decided at once
 * when the value in the log is byte for byte the anchor's (the common case);
 * one observation expression (or an OR of them) is decided on the record's
 * own objects; every other (AND, FOLLOWEDBY, WITHIN, REPEATS...) by the
 * pattern evaluator over a window of the last N records of the same input
 * turned into observed-data and SCOs.  The alert is raised for the record
 * that takes part in a match.  Keeping the window costs a copy of each
 * record's observed values, and only when the index holds patterns.
 */
#include "scan_int.h"

#include "picket/pattern.h"

#include <jansson.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>

#define PKI_F_EXACTPAT 4u /* the pattern is ORed equalities */
#define PKI_F_NOSUB 8u    /* a STIX domain-name equality: no subdomains */

/* ---- compiling ----------------------------------------------------------- */

pk_status pki_compiler_add_key(pk_match_compiler *c, pk_ioc_type type, const char *value, size_t n,
                               uint32_t src, uint32_t aux, uint8_t flags, pk_error *err);
pk_status pki_compiler_intern(pk_match_compiler *c, const char *s, uint32_t *off);
pk_status pki_compiler_add_pattern(pk_match_compiler *c, const char *id, const char *pattern,
                                   uint32_t *index);

/* The indicator value type of an anchor's object path, or NONE. */
static pk_ioc_type anchor_type(const pk_pattern_path *p, const pk_pattern_value *v)
{
    if (v->kind != PK_PV_STRING || p->nsteps < 1 || p->steps[0].kind != PK_PSTEP_KEY)
        return PK_IOC_NONE;
    const char *t = p->type, *k = p->steps[0].key;
    int cidr = v->bytes && memchr(v->bytes, '/', v->len);
    if (p->nsteps == 1) {
        if (!strcmp(t, "ipv4-addr") && !strcmp(k, "value")) return cidr ? PK_IOC_CIDR : PK_IOC_IPV4;
        if (!strcmp(t, "ipv6-addr") && !strcmp(k, "value")) return cidr ? PK_IOC_CIDR : PK_IOC_IPV6;
        if (!strcmp(t, "domain-name") && !strcmp(k, "value")) return PK_IOC_DOMAIN;
        if (!strcmp(t, "url") && !strcmp(k, "value")) return PK_IOC_URL;
        if (!strcmp(t, "email-addr") && !strcmp(k, "value")) return PK_IOC_EMAIL;
        if (!strcmp(t, "file") && !strcmp(k, "name")) return PK_IOC_FILENAME;
        if (!strcmp(t, "user-account") && !strcmp(k, "account_login")) return PK_IOC_USER;
        return PK_IOC_NONE;
    }
    if (p->nsteps == 2 && !strcmp(t, "file") && !strcmp(k, "hashes") &&
        p->steps[1].kind == PK_PSTEP_KEY) {
        const char *h = p->steps[1].key;
        if (!strcasecmp(h, "MD5")) return PK_IOC_MD5;
        if (!strcasecmp(h, "SHA-1") || !strcasecmp(h, "SHA1")) return PK_IOC_SHA1;
        if (!strcasecmp(h, "SHA-256") || !strcasecmp(h, "SHA256")) return PK_IOC_SHA256;
        if (!strcasecmp(h, "SHA-512") || !strcasecmp(h, "SHA512")) return PK_IOC_SHA512;
    }
    return PK_IOC_NONE;
}

/* ---- what the logs can show, what the index can find -------------------- */

/*
 * A pattern is found one of two ways.  Anchored: every anchor (pattern.h: a
 * set of equalities any match contains) is an observable the index holds;
 * the pattern is evaluated when a record hits one of its equalities.
 * Otherwise gated: each observation expression `[...]` is either covered
 * (every object satisfying it hits an indexed value: an equality, an IN set,
 * or ISSUBSET a network, which goes into the CIDR arrays) or not; a record
 * carrying an object of a type an uncovered observation names triggers an
 * evaluation too.  A record that takes part in a match satisfies one of the
 * observation expressions, so it hits a value or carries such a type: gating
 * loses no match, it only bounds the cost (one evaluation per qualifying
 * record).  The same analysis runs when compiling and when an index is
 * loaded, so the .pki format holds only the pattern text.
 */

/* Bits of the observed value kinds that make an object of STIX `type`. */
static uint32_t type_bits(const char *type)
{
    if (!type) return 0;
    if (!strcmp(type, "ipv4-addr")) return 1u << PK_IOC_IPV4;
    if (!strcmp(type, "ipv6-addr")) return 1u << PK_IOC_IPV6;
    if (!strcmp(type, "domain-name")) return 1u << PK_IOC_DOMAIN;
    if (!strcmp(type, "url")) return 1u << PK_IOC_URL;
    if (!strcmp(type, "email-addr")) return 1u << PK_IOC_EMAIL;
    if (!strcmp(type, "user-account")) return 1u << PK_IOC_USER;
    if (!strcmp(type, "file"))
        return 1u << PK_IOC_FILENAME | 1u << PK_IOC_MD5 | 1u << PK_IOC_SHA1 | 1u << PK_IOC_SHA256 |
               1u << PK_IOC_SHA512 | 1u << PKI_W_SIZE;
    if (!strcmp(type, "network-traffic"))
        return 1u << PKI_W_SRC_IP | 1u << PKI_W_DST_IP | 1u << PKI_W_SRC_PORT |
               1u << PKI_W_DST_PORT | 1u << PKI_W_PROTO;
    return 0;
}

/* Does the pattern need connections or file sizes read from the logs? */
static int net_walk(const pk_pattern_node *n, int depth, void *ud)
{
    (void)depth;
    if (n->kind == PK_PN_COMPARE && n->path->nsteps >= 1 &&
        n->path->steps[0].kind == PK_PSTEP_KEY &&
        (!strcmp(n->path->type, "network-traffic") ||
         (!strcmp(n->path->type, "file") && !strcmp(n->path->steps[0].key, "size"))))
        *(int *)ud = 1;
    return 0;
}

/* Is the property one the records carry (record_json)? */
static int observed_path(const pk_pattern_path *p)
{
    if (!type_bits(p->type) || p->nsteps < 1 || p->steps[0].kind != PK_PSTEP_KEY) return 0;
    const char *k = p->steps[0].key;
    if (!strcmp(p->type, "file"))
        return !strcmp(k, "name") || !strcmp(k, "hashes") || !strcmp(k, "size");
    if (!strcmp(p->type, "network-traffic"))
        return !strcmp(k, "src_ref") || !strcmp(k, "dst_ref") || !strcmp(k, "src_port") ||
               !strcmp(k, "dst_port") || !strcmp(k, "protocols");
    if (!strcmp(p->type, "user-account")) return !strcmp(k, "account_login");
    return !strcmp(k, "value");
}

/* The kind of index value that finds objects satisfying `path = v`: the
 * anchor kinds, and a connection's address (`network-traffic:dst_ref.value`),
 * which the record also holds as an address. */
static pk_ioc_type trigger_type(const pk_pattern_path *p, const pk_pattern_value *v)
{
    pk_ioc_type t = anchor_type(p, v);
    if (t != PK_IOC_NONE || v->kind != PK_PV_STRING || !v->bytes) return t;
    if (strcmp(p->type, "network-traffic") != 0 || p->nsteps != 2 ||
        p->steps[0].kind != PK_PSTEP_KEY || p->steps[1].kind != PK_PSTEP_KEY ||
        strcmp(p->steps[1].key, "value") != 0 ||
        (strcmp(p->steps[0].key, "src_ref") != 0 && strcmp(p->steps[0].key, "dst_ref") != 0))
        return PK_IOC_NONE;
    if (memchr(v->bytes, '/', v->len)) return PK_IOC_CIDR;
    return memchr(v->bytes, ':', v->len) ? PK_IOC_IPV6 : PK_IOC_IPV4;
}

/* `ipv4-addr:value ISSUBSET '10.0.0.0/8'` (or ipv6, or a connection's
 * address): found through the networks. */
static int is_subnet_test(const pk_pattern_node *n)
{
    if (n->op != PK_POP_ISSUBSET || n->nvalues != 1) return 0;
    pk_ioc_type t = trigger_type(n->path, &n->values[0]);
    return t == PK_IOC_CIDR || t == PK_IOC_IPV4 || t == PK_IOC_IPV6;
}

/* Does every object satisfying comparison tree `n` hit an indexed value? */
static int covered(const pk_pattern_node *n)
{
    switch (n->kind) {
    case PK_PN_COMPARE: {
        if (n->negated) return 0;
        if (n->op == PK_POP_ISSUBSET) {
            if (!is_subnet_test(n)) return 0;
        } else if (n->op != PK_POP_EQ && n->op != PK_POP_IN) {
            return 0;
        }
        if (!n->nvalues) return 0;
        for (size_t i = 0; i < n->nvalues; i++) {
            pk_ioc_type t = trigger_type(n->path, &n->values[i]);
            uint8_t key[PKI_KEY_MAX];
            const char *why;
            if (t == PK_IOC_NONE ||
                !pki_make_key(&t, n->values[i].bytes, n->values[i].len, key, &why))
                return 0;
        }
        return 1;
    }
    case PK_PN_CAND:
        for (size_t i = 0; i < n->nchild; i++)
            if (covered(n->child[i])) return 1;
        return 0;
    case PK_PN_COR:
        for (size_t i = 0; i < n->nchild; i++)
            if (!covered(n->child[i])) return 0;
        return 1;
    default:
        return 0;
    }
}

/* Can comparison tree `n` hold for an object of a record?  Comparisons on
 * properties the records never carry (file:size, network-traffic:dst_port)
 * cannot; with NOT the evaluator decides. */
static int satisfiable(const pk_pattern_node *n, const pk_pattern_path **why)
{
    switch (n->kind) {
    case PK_PN_COMPARE:
        if (n->negated ? type_bits(n->path->type) != 0 : observed_path(n->path)) return 1;
        if (!*why) *why = n->path;
        return 0;
    case PK_PN_CAND:
        for (size_t i = 0; i < n->nchild; i++)
            if (!satisfiable(n->child[i], why)) return 0;
        return 1;
    case PK_PN_COR: {
        int any = 0;
        for (size_t i = 0; i < n->nchild; i++)
            any |= satisfiable(n->child[i], why);
        return any;
    }
    default:
        return 0;
    }
}

static uint32_t compare_types(const pk_pattern_node *n)
{
    if (n->kind == PK_PN_COMPARE) return type_bits(n->path->type);
    uint32_t m = 0;
    for (size_t i = 0; i < n->nchild; i++)
        m |= compare_types(n->child[i]);
    return m;
}

/* Over the observation-level tree: can it match (*sat), and the value kinds
 * whose records must be evaluated (the types of uncovered observations). */
static uint32_t gate(const pk_pattern_node *n, int *sat, const pk_pattern_path **why)
{
    uint32_t m = 0;
    switch (n->kind) {
    case PK_PN_OBSERVE:
        *sat = satisfiable(n->child[0], why);
        return covered(n->child[0]) ? 0 : compare_types(n->child[0]);
    case PK_PN_OOR: {
        int any = 0;
        for (size_t i = 0; i < n->nchild; i++) {
            int s1 = 0;
            uint32_t g = gate(n->child[i], &s1, why);
            if (s1) m |= g; /* a branch that cannot match needs no look */
            any |= s1;
        }
        *sat = any;
        return m;
    }
    default: { /* AND, FOLLOWEDBY and the qualifiers: every part must match */
        int all = 1;
        for (size_t i = 0; i < n->nchild; i++) {
            int s1 = 0;
            m |= gate(n->child[i], &s1, why);
            all &= s1;
        }
        *sat = all && n->nchild > 0;
        return m;
    }
    }
}

/* Is the pattern anchored (see above)? */
static int anchored(const pk_pattern *p)
{
    const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
    if (!a || !a->count) return 0;
    for (size_t i = 0; i < a->count; i++)
        if (anchor_type(a->anchor[i].path, a->anchor[i].value) == PK_IOC_NONE) return 0;
    return 1;
}

/* Decided on the current record alone: `[...]` or an OR of them, without
 * qualifiers.  The evaluator's result over the window holds the current
 * record exactly when it satisfies one of the observation expressions. */
static int single_record(const pk_pattern_node *n)
{
    if (n->kind == PK_PN_OBSERVE) return 1;
    if (n->kind != PK_PN_OOR) return 0;
    for (size_t i = 0; i < n->nchild; i++)
        if (!single_record(n->child[i])) return 0;
    return 1;
}

typedef struct trig_ctx {
    pk_match_compiler *c;
    uint32_t src, pat;
    int exact;
    pk_status rc;
    pk_error *err;
} trig_ctx;

static int add_trigger(const pk_pattern_node *n, int depth, void *ud)
{
    trig_ctx *tc = ud;
    (void)depth;
    if (n->kind != PK_PN_COMPARE || n->negated ||
        (n->op != PK_POP_EQ && n->op != PK_POP_IN && (tc->exact || !is_subnet_test(n))))
        return 0;
    for (size_t i = 0; i < n->nvalues; i++) {
        const pk_pattern_value *v = &n->values[i];
        pk_ioc_type t = trigger_type(n->path, v);
        if (t == PK_IOC_NONE) continue;
        uint8_t flags =
            PKI_F_STIX | (tc->exact ? PKI_F_EXACTPAT : 0) | (t == PK_IOC_DOMAIN ? PKI_F_NOSUB : 0);
        pk_status rc =
            pki_compiler_add_key(tc->c, t, v->bytes, v->len, tc->src, tc->pat + 1, flags, tc->err);
        /* a value that is not one of its kind ('999.1.1.1') is never observed
         * as such: the evaluator could not match it either */
        if (rc != PK_OK && rc != PK_EPARSE) {
            tc->rc = rc;
            return 1;
        }
    }
    return 0;
}

pk_status pk_match_compiler_add_indicator(pk_match_compiler *c, const char *indicator_id,
                                          const char *pattern, size_t n, pk_error *err)
{
    if (!c || !indicator_id || !pattern) return pk_error_set(err, PK_EINVAL, "no indicator");
    pk_pattern *p = NULL;
    pk_status rc = pk_pattern_parse(pattern, n, PK_PATTERN_SPEC_AUTO, &p, err);
    if (rc != PK_OK) return rc;
    int exact = 0;
    if (anchored(p)) {
        const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
        exact = a->exact;
        for (size_t i = 0; i < a->count; i++)
            if (anchor_type(a->anchor[i].path, a->anchor[i].value) == PK_IOC_CIDR)
                exact = 0; /* the evaluator says what '=' means for a network */
    } else {
        int sat = 0;
        const pk_pattern_path *why = NULL;
        gate(pk_pattern_root(p), &sat, &why);
        if (!sat) {
            rc = pk_error_set(err, PK_ENOTFOUND,
                              "'%s' is not in what the logs give (addresses, domain names, URLs, "
                              "e-mail addresses, accounts, file names, hashes and sizes, "
                              "connections' addresses, ports and protocols): the pattern can "
                              "never match, so it is left out",
                              why ? why->text : "?");
            pk_pattern_free(p);
            return rc;
        }
    }
    char *text = pk_strndup(pattern, n);
    uint32_t pat;
    if (!text || pki_compiler_add_pattern(c, indicator_id, text, &pat) != PK_OK) {
        pk_free(text);
        pk_pattern_free(p);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    pk_free(text);
    uint32_t src;
    if (pki_compiler_intern(c, indicator_id, &src) != PK_OK) {
        pk_pattern_free(p);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    /* Every observable equality (and network test) of the pattern is
     * indexed, not only the anchors: the anchors guarantee a match is found,
     * the other values make the record that completes a match (the second
     * half of a FOLLOWEDBY, the n-th repeat) trigger its evaluation. */
    trig_ctx tc = {c, src, pat, exact, PK_OK, err};
    pk_pattern_walk(p, add_trigger, &tc);
    pk_pattern_free(p);
    return tc.rc;
}

/* ---- the index's parsed patterns ----------------------------------------- */

typedef struct patset {
    size_t n;
    pk_pattern **p;
    uint32_t *gate;  /* per pattern: value kinds whose records are evaluated (0: none) */
    uint8_t *single; /* per pattern: decided on the current record alone */
    uint32_t *gated; /* the patterns with a gate */
    size_t ngated;
    uint32_t gate_any;            /* union of the gates */
    int need_net;                 /* some pattern reads connections or file sizes */
    const pk_pattern_node **leaf; /* every pattern's observation expressions */
    uint32_t *leaf_at;            /* pattern i's are leaf[leaf_at[i] .. leaf_at[i + 1]) */
} patset;

/* Count (leaf NULL) or collect the observation expressions under n. */
static size_t leaves(const pk_pattern_node *n, const pk_pattern_node **leaf)
{
    if (n->kind == PK_PN_OBSERVE) {
        if (leaf) leaf[0] = n;
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n->nchild; i++)
        k += leaves(n->child[i], leaf ? leaf + k : NULL);
    return k;
}

pk_status pki_patterns_prepare(pk_match_index *ix, pk_error *err)
{
    uint32_t n = ix->h->n_patterns;
    if (!n) return PK_OK;
    patset *ps = pk_calloc(1, sizeof *ps);
    if (!ps) return pk_error_set(err, PK_ENOMEM, "out of memory");
    ix->compiled = ps;
    ps->p = pk_calloc(n, sizeof *ps->p);
    ps->gate = pk_calloc(n, sizeof *ps->gate);
    ps->single = pk_calloc(n, 1);
    ps->gated = pk_calloc(n, sizeof *ps->gated);
    ps->leaf_at = pk_calloc((size_t)n + 1, sizeof *ps->leaf_at);
    if (!ps->p || !ps->gate || !ps->single || !ps->gated || !ps->leaf_at)
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    ps->n = n;
    for (uint32_t i = 0; i < n; i++) {
        const char *t = ix->strings + ix->patterns[i].pattern;
        pk_status rc = pk_pattern_parse(t, strlen(t), PK_PATTERN_SPEC_AUTO, &ps->p[i], err);
        if (rc != PK_OK) {
            pk_error_object(err, ix->strings + ix->patterns[i].id, "pattern");
            return rc == PK_ENOMEM ? rc : pk_error_set(err, PK_EPARSE, "bad pattern in the index");
        }
        const pk_pattern_node *root = pk_pattern_root(ps->p[i]);
        ps->single[i] = (uint8_t)single_record(root);
        ps->leaf_at[i + 1] = ps->leaf_at[i] + (uint32_t)leaves(root, NULL);
        pk_pattern_walk(ps->p[i], net_walk, &ps->need_net);
        if (!anchored(ps->p[i])) {
            int sat = 0;
            const pk_pattern_path *why = NULL;
            uint32_t g = gate(root, &sat, &why);
            if (sat && g) {
                ps->gate[i] = g;
                ps->gated[ps->ngated++] = i;
                ps->gate_any |= g;
            }
        }
    }
    ps->leaf = pk_calloc(ps->leaf_at[n] ? ps->leaf_at[n] : 1, sizeof *ps->leaf);
    if (!ps->leaf) return pk_error_set(err, PK_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        leaves(pk_pattern_root(ps->p[i]), ps->leaf + ps->leaf_at[i]);
    return PK_OK;
}

void pki_patterns_release(pk_match_index *ix)
{
    patset *ps = ix->compiled;
    if (!ps) return;
    for (size_t i = 0; ps->p && i < ps->n; i++)
        pk_pattern_free(ps->p[i]);
    pk_free(ps->p);
    pk_free(ps->gate);
    pk_free(ps->single);
    pk_free(ps->gated);
    pk_free(ps->leaf);
    pk_free(ps->leaf_at);
    pk_free(ps);
    ix->compiled = NULL;
}

/* ---- the window ---------------------------------------------------------- */

/* A record's observed values: (type byte, u16 length, bytes)... */
typedef struct wrec {
    pk_buf vals;
    long line;
    int64_t ms;
} wrec;

typedef struct cand {
    uint32_t pat, ei;
    int done; /* already alerted for this record */
    const char *field;
    char *observed;
    size_t olen;
    const json_t *obj; /* gated: the record's object that satisfied the pattern */
} cand;

typedef struct patstate {
    wrec *ring; /* window records, oldest at (head - count) */
    unsigned w, head, count;
    wrec cur;
    cand *cand;
    size_t ncand, candcap;
} patstate;

pk_status pki_pat_scanner_init(pk_match_scanner *s, pk_error *err)
{
    if (!s->ix->compiled) return PK_OK;
    if (((patset *)s->ix->compiled)->need_net && !pki_fields_add_net(&s->fields))
        return pk_error_set(err, PK_EINTERNAL, "field table overflow");
    patstate *ps = pk_calloc(1, sizeof *ps);
    if (!ps) return pk_error_set(err, PK_ENOMEM, "out of memory");
    ps->w = s->window;
    if (ps->w > 4096) ps->w = 4096;
    ps->ring = pk_calloc(ps->w, sizeof *ps->ring);
    if (!ps->ring) {
        pk_free(ps);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < ps->w; i++)
        pk_buf_init(&ps->ring[i].vals, 1 << 20);
    pk_buf_init(&ps->cur.vals, 1 << 20);
    s->pat = ps;
    return PK_OK;
}

static void clear_cands(patstate *ps)
{
    for (size_t i = 0; i < ps->ncand; i++)
        pk_free(ps->cand[i].observed);
    ps->ncand = 0;
}

void pki_pat_scanner_free(pk_match_scanner *s)
{
    patstate *ps = s->pat;
    if (!ps) return;
    clear_cands(ps);
    pk_free(ps->cand);
    for (unsigned i = 0; i < ps->w; i++)
        pk_buf_free(&ps->ring[i].vals);
    pk_free(ps->ring);
    pk_buf_free(&ps->cur.vals);
    pk_free(ps);
    s->pat = NULL;
}

void pki_pat_stream_reset(pk_match_scanner *s)
{
    patstate *ps = s->pat;
    if (!ps) return;
    ps->head = ps->count = 0;
    clear_cands(ps);
}

void pki_pat_record_begin(pk_match_scanner *s)
{
    patstate *ps = s->pat;
    if (!ps) return;
    pk_buf_reset(&ps->cur.vals);
    clear_cands(ps);
}

void pki_pat_observe(pk_match_scanner *s, unsigned type, const char *v, size_t n)
{
    patstate *ps = s->pat;
    if (!ps || n > 0xffff) return;
    uint8_t hdr[3] = {(uint8_t)type, (uint8_t)(n & 0xff), (uint8_t)(n >> 8)};
    size_t at = ps->cur.vals.len;
    if (pk_buf_add(&ps->cur.vals, hdr, 3) != PK_OK || pk_buf_add(&ps->cur.vals, v, n) != PK_OK)
        ps->cur.vals.len = at; /* out of memory: the value is not in the window */
}

void pki_pat_candidate(pk_match_scanner *s, uint32_t ei, const char *field, const char *observed,
                       size_t olen, const char *how)
{
    patstate *ps = s->pat;
    const pki_entry *e = &s->ix->entries[ei];
    if (!ps || !e->aux) return;
    if ((e->flags & PKI_F_NOSUB) && strcmp(how, "exact") != 0) return;
    uint32_t pat = e->aux - 1;
    cand *have = NULL;
    for (size_t i = 0; i < ps->ncand; i++)
        if (ps->cand[i].pat == pat) have = &ps->cand[i];
    if (have && have->done) return; /* one alert per indicator and record */
    int done = 0;
    if (e->flags & PKI_F_EXACTPAT) {
        /* ORed equalities: decided here when the log has the anchor's very bytes */
        char tmp[PKI_KEY_MAX * 2 + 64];
        size_t tn = pki_key_text(e->type, s->ix->keys + e->key_off, e->key_len, tmp, sizeof tmp);
        if (tn == olen && memcmp(tmp, observed, olen) == 0) {
            pki_emit(s, ei, field, observed, olen, "exact");
            done = 1;
        }
    }
    if (have) {
        have->done |= done;
        return;
    }
    if (ps->ncand == ps->candcap) {
        size_t nc = ps->candcap ? ps->candcap * 2 : 8;
        cand *c = pk_realloc(ps->cand, nc * sizeof *c);
        if (!c) return;
        ps->cand = c;
        ps->candcap = nc;
    }
    char *o = pk_strndup(observed, olen);
    if (!o) return;
    ps->cand[ps->ncand++] = (cand){pat, ei, done, field, o, olen, NULL};
}

/* ---- records to STIX ----------------------------------------------------- */

static const pk_uuid obs_ns = {{0x8e, 0x41, 0x2c, 0x5d, 0x3a, 0x90, 0x4b, 0x6e, 0x81, 0x17, 0x52,
                                0x0f, 0xc4, 0x9b, 0x33, 0xa1}};

static json_t *sid(const char *type, const char *name, size_t n)
{
    pk_uuid u;
    char us[PK_UUID_STRLEN], id[128];
    pk_uuid_v5(&u, &obs_ns, name, n);
    pk_uuid_format(&u, us);
    snprintf(id, sizeof id, "%s--%s", type, us);
    return json_string(id);
}

static json_t *sco_id(const char *type, const char *v, size_t n, unsigned t)
{
    char name[PKI_KEY_MAX + 64];
    int nn = snprintf(name, sizeof name, "%s:%u:%.*s", type, t, (int)n, v);
    return sid(type, name, (size_t)nn < sizeof name ? (size_t)nn : sizeof name - 1);
}

static void add_sco(json_t *arr, json_t *refs, json_t *o, const char *type, json_t *id)
{
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "spec_version", json_string("2.1"));
    json_object_set(o, "id", id);
    json_array_append_new(refs, id);
    json_array_append_new(arr, o);
}

/* A port or a size: decimal digits only, at most 18 of them. */
static int decimal(const char *v, size_t n, json_int_t *out)
{
    json_int_t x = 0;
    if (n == 0 || n > 18) return 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return 0;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 1;
}

/* Append the SCOs and the observed-data of one record to `arr`.  Hashes and
 * the name of a record describe one file (a fileinfo event), so they make
 * one file object. */
static int record_json(json_t *arr, const wrec *r, const char *source)
{
    json_t *refs = json_array(), *file = json_object(), *hashes = json_object();
    json_t *nt = json_object(); /* the connection: addresses, ports, protocol */
    pk_buf fid, nid;
    pk_buf_init(&fid, 0);
    pk_buf_init(&nid, 0);
    if (!refs || !file || !hashes || !nt) {
        json_decref(refs);
        json_decref(file);
        json_decref(hashes);
        json_decref(nt);
        return -1;
    }
    static const char *const hname[] = {"", "",    "",      "",        "",       "",
                                        "", "MD5", "SHA-1", "SHA-256", "SHA-512"};
    const uint8_t *p = (const uint8_t *)r->vals.data, *e = p + r->vals.len;
    while (p && p + 3 <= e) {
        unsigned t = p[0];
        size_t n = (size_t)p[1] | (size_t)p[2] << 8;
        const char *v = (const char *)p + 3;
        p += 3 + n;
        if (p > e) break;
        const char *type = NULL, *prop = "value";
        switch (t) {
        case PK_IOC_IPV4:
            type = "ipv4-addr";
            break;
        case PK_IOC_IPV6:
            type = "ipv6-addr";
            break;
        case PK_IOC_DOMAIN:
            type = "domain-name";
            break;
        case PK_IOC_URL:
            type = "url";
            break;
        case PK_IOC_EMAIL:
            type = "email-addr";
            break;
        case PK_IOC_USER:
            type = "user-account";
            prop = "account_login";
            break;
        case PK_IOC_MD5:
        case PK_IOC_SHA1:
        case PK_IOC_SHA256:
        case PK_IOC_SHA512:
            json_object_set_new(hashes, hname[t], json_stringn(v, n));
            pk_buf_addf(&fid, "%s=%.*s;", hname[t], (int)n, v);
            continue;
        case PK_IOC_FILENAME:
            json_object_set_new(file, "name", json_stringn(v, n));
            pk_buf_addf(&fid, "name=%.*s;", (int)n, v);
            continue;
        case PKI_W_SIZE: {
            json_int_t x;
            if (!json_object_get(file, "size") && decimal(v, n, &x)) {
                json_object_set_new(file, "size", json_integer(x));
                pk_buf_addf(&fid, "size=%.*s;", (int)n, v);
            }
            continue;
        }
        case PKI_W_SRC_IP:
        case PKI_W_DST_IP: {
            /* the address's own SCO comes from its PK_IOC_IPV4/6 value */
            const char *k = t == PKI_W_SRC_IP ? "src_ref" : "dst_ref";
            uint8_t a[16];
            if (json_object_get(nt, k)) continue;
            if (n <= 15 && pki_parse_ipv4(v, n, a))
                json_object_set_new(nt, k, sco_id("ipv4-addr", v, n, PK_IOC_IPV4));
            else if (pki_parse_ipv6(v, n, a))
                json_object_set_new(nt, k, sco_id("ipv6-addr", v, n, PK_IOC_IPV6));
            else
                continue;
            pk_buf_addf(&nid, "%s=%.*s;", k, (int)n, v);
            continue;
        }
        case PKI_W_SRC_PORT:
        case PKI_W_DST_PORT: {
            const char *k = t == PKI_W_SRC_PORT ? "src_port" : "dst_port";
            json_int_t x;
            if (!json_object_get(nt, k) && decimal(v, n, &x) && x <= 65535) {
                json_object_set_new(nt, k, json_integer(x));
                pk_buf_addf(&nid, "%s=%.*s;", k, (int)n, v);
            }
            continue;
        }
        case PKI_W_PROTO: {
            char lc[32];
            if (json_object_get(nt, "protocols") || n == 0 || n >= sizeof lc) continue;
            for (size_t i = 0; i < n; i++)
                lc[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
            json_object_set_new(nt, "protocols", json_pack("[s#]", lc, (int)n));
            pk_buf_addf(&nid, "proto=%.*s;", (int)n, lc);
            continue;
        }
        default:
            continue;
        }
        json_t *o = json_object();
        if (!o) continue;
        json_object_set_new(o, prop, json_stringn(v, n));
        add_sco(arr, refs, o, type, sco_id(type, v, n, t));
    }
    if (json_object_size(nt))
        add_sco(arr, refs, nt, "network-traffic",
                sco_id("network-traffic", nid.data ? nid.data : "", nid.len, 0));
    else
        json_decref(nt);
    pk_buf_free(&nid);
    if (json_object_size(hashes)) json_object_set(file, "hashes", hashes);
    json_decref(hashes);
    if (json_object_size(file))
        add_sco(arr, refs, file, "file", sco_id("file", fid.data ? fid.data : "", fid.len, 0));
    else
        json_decref(file);
    pk_buf_free(&fid);
    char name[4200], ts[PK_TIME_STRLEN];
    int nn = snprintf(name, sizeof name, "%s:%ld", source, r->line);
    pk_time t = pk_time_from_ms(r->ms);
    pk_time_format(&t, 3, ts);
    json_t *od =
        json_pack("{ss ss so ss ss ss ss si so}", "type", "observed-data", "spec_version", "2.1",
                  "id", sid("observed-data", name, (size_t)nn < sizeof name ? (size_t)nn : 0),
                  "created", ts, "modified", ts, "first_observed", ts, "last_observed", ts,
                  "number_observed", 1, "object_refs", refs);
    if (!od) return -1;
    json_array_append_new(arr, od);
    return 0;
}

static void push_ring(patstate *ps)
{
    wrec *slot = &ps->ring[ps->head];
    pk_buf tmp = slot->vals;
    slot->vals = ps->cur.vals;
    slot->line = ps->cur.line;
    slot->ms = ps->cur.ms;
    ps->cur.vals = tmp;
    pk_buf_reset(&ps->cur.vals);
    ps->head = (ps->head + 1) % ps->w;
    if (ps->count + 1 < ps->w) ps->count++; /* the window counts the current record */
}

#define NO_ENTRY UINT32_MAX /* a candidate by type gate, not by an index hit */

static const char *const kind_path[PK_IOC_TYPE_MAX_] = {"",
                                                        "ipv4-addr:value",
                                                        "ipv6-addr:value",
                                                        "",
                                                        "domain-name:value",
                                                        "url:value",
                                                        "email-addr:value",
                                                        "file:hashes.MD5",
                                                        "file:hashes.'SHA-1'",
                                                        "file:hashes.'SHA-256'",
                                                        "file:hashes.'SHA-512'",
                                                        "file:name",
                                                        "user-account:account_login"};

/* The alert of a gated pattern that no indexed value of the record hit: the
 * value is the pattern, the observed value the one of the object that
 * matched (single-record patterns) or else the record's first of a kind the
 * pattern looks at, and the field the STIX property it was turned into. */
static void emit_gated(pk_match_scanner *s, uint32_t pat, uint32_t kinds, const json_t *obj)
{
    const pk_match_index *ix = s->ix;
    patstate *ps = s->pat;
    unsigned type = 0;
    const char *v = "";
    size_t vn = 0;
    if (obj) { /* the matching SCO */
        const char *t = json_string_value(json_object_get(obj, "type"));
        const json_t *x = NULL;
        if (t && !strcmp(t, "file")) {
            if ((x = json_object_get(obj, "name")) != NULL) {
                type = PK_IOC_FILENAME;
            } else {
                const json_t *h = json_object_get(obj, "hashes");
                const char *k;
                json_t *hv;
                json_object_foreach((json_t *)h, k, hv)
                {
                    x = hv;
                    type = !strcmp(k, "MD5")       ? PK_IOC_MD5
                           : !strcmp(k, "SHA-1")   ? PK_IOC_SHA1
                           : !strcmp(k, "SHA-256") ? PK_IOC_SHA256
                                                   : PK_IOC_SHA512;
                    break;
                }
            }
        } else if (t && !strcmp(t, "user-account")) {
            x = json_object_get(obj, "account_login");
            type = PK_IOC_USER;
        } else if (t) {
            x = json_object_get(obj, "value");
            uint32_t b = type_bits(t);
            for (unsigned i = 1; i < PK_IOC_TYPE_MAX_; i++)
                if (b >> i & 1u) type = i;
        }
        if (x && json_is_string(x)) {
            v = json_string_value(x);
            vn = json_string_length(x);
        } else {
            type = 0;
        }
    }
    static const char *const w_path[] = {
        "network-traffic:src_ref.value", "network-traffic:dst_ref.value",
        "network-traffic:src_port",      "network-traffic:dst_port",
        "network-traffic:protocols",     "file:size"};
    const char *field = type ? kind_path[type] : "";
    /* else the record's first value of a kind the pattern looks at: an
     * observable, else a connection's destination, source, the rest */
    static const uint32_t pass[4] = {(1u << PK_IOC_TYPE_MAX_) - 1, 1u << PKI_W_DST_IP,
                                     1u << PKI_W_SRC_IP, ~0u};
    for (int k = 0; k < 4 && !*field; k++) {
        const uint8_t *p = (const uint8_t *)ps->cur.vals.data, *e = p + ps->cur.vals.len;
        while (!*field && p && p + 3 <= e) {
            unsigned t = p[0];
            size_t n = (size_t)p[1] | (size_t)p[2] << 8;
            if (t < 32 && (kinds & pass[k]) >> t & 1u) {
                v = (const char *)p + 3;
                vn = n;
                if (t < PK_IOC_TYPE_MAX_) {
                    type = t;
                    field = kind_path[t];
                } else {
                    if (t == PKI_W_SRC_IP || t == PKI_W_DST_IP)
                        type = memchr(v, ':', n) ? PK_IOC_IPV6 : PK_IOC_IPV4;
                    field = w_path[t - PKI_W_SRC_IP];
                }
            }
            p += 3 + n;
        }
    }
    pk_match_alert a;
    memset(&a, 0, sizeof a);
    a.indicator_id = ix->strings + ix->patterns[pat].id;
    a.type = (pk_ioc_type)type;
    a.value = ix->strings + ix->patterns[pat].pattern;
    a.observed = v;
    a.observed_len = vn;
    a.field = field;
    a.how = "pattern";
    a.source = s->source;
    a.line = s->line;
    pki_record_ms(s);
    if (s->time_state == 1) {
        a.time = s->timebuf;
        a.time_ms = s->time_ms;
    }
    s->st.alerts++;
    if (s->cb.alert) s->cb.alert(s->cb.ud, &a);
}

/* Does the current record satisfy one observation expression of `n`
 * (single_record)?  objs are the record's SCOs. */
static int match_single(const pk_pattern_node *n, const json_t *const *objs, size_t nobj)
{
    if (n->kind == PK_PN_OBSERVE) {
        int m = 0;
        return pk_pattern_match_objects(n, objs, nobj, &m, NULL) == PK_OK && m;
    }
    for (size_t i = 0; i < n->nchild; i++)
        if (match_single(n->child[i], objs, nobj)) return 1;
    return 0;
}

/* Candidates by type gate: the gated patterns that look at a kind of value
 * the record holds and that no index hit made candidates already. */
static void gate_candidates(pk_match_scanner *s, patset *set)
{
    patstate *ps = s->pat;
    uint32_t kinds = 0;
    const uint8_t *p = (const uint8_t *)ps->cur.vals.data, *e = p + ps->cur.vals.len;
    while (p && p + 3 <= e) {
        if (p[0] < 32) kinds |= 1u << p[0];
        p += 3 + ((size_t)p[1] | (size_t)p[2] << 8);
    }
    if (!(kinds & set->gate_any)) return;
    for (size_t g = 0; g < set->ngated; g++) {
        uint32_t pat = set->gated[g];
        if (!(set->gate[pat] & kinds)) continue;
        int have = 0;
        for (size_t i = 0; i < ps->ncand && !have; i++)
            have = ps->cand[i].pat == pat;
        if (have) continue;
        if (ps->ncand == ps->candcap) {
            size_t nc = ps->candcap ? ps->candcap * 2 : 8;
            cand *c = pk_realloc(ps->cand, nc * sizeof *c);
            if (!c) return;
            ps->cand = c;
            ps->candcap = nc;
        }
        ps->cand[ps->ncand++] = (cand){pat, NO_ENTRY, 0, NULL, NULL, 0, NULL};
    }
}

void pki_pat_record_end(pk_match_scanner *s)
{
    patstate *ps = s->pat;
    if (!ps) return;
    ps->cur.line = s->line;
    ps->cur.ms = pki_record_ms(s);
    patset *set = s->ix->compiled;
    if (set->ngated) gate_candidates(s, set);
    if (ps->ncand) {
        int need_cur = 0;
        for (size_t i = 0; i < ps->ncand; i++)
            need_cur |= !ps->cand[i].done;
        /* the record's own objects decide single-record patterns, and rule
         * out the window for the others when the record satisfies none of
         * their observation expressions (every observation in a match
         * satisfies one: a record that satisfies none takes part in none) */
        json_t *cur = need_cur ? json_array() : NULL;
        const json_t **objs = NULL;
        size_t nobj = 0;
        if (cur && record_json(cur, &ps->cur, s->source) == 0) {
            nobj = json_array_size(cur) - 1; /* the last is the observed-data */
            objs = pk_malloc((nobj ? nobj : 1) * sizeof *objs);
            for (size_t i = 0; objs && i < nobj; i++)
                objs[i] = json_array_get(cur, i);
        }
        int need_window = 0;
        for (size_t i = 0; i < ps->ncand; i++) {
            cand *c = &ps->cand[i];
            if (c->done) continue;
            const pk_pattern_node *root = pk_pattern_root(set->p[c->pat]);
            if (!set->single[c->pat]) {
                int any = !objs; /* without the objects, the window decides */
                for (uint32_t l = set->leaf_at[c->pat]; !any && l < set->leaf_at[c->pat + 1]; l++)
                    any = match_single(set->leaf[l], objs, nobj);
                if (any && objs && c->ei == NO_ENTRY) { /* the object to name, if one alone */
                    for (size_t k = 0; !c->obj && k < nobj; k++)
                        for (uint32_t l = set->leaf_at[c->pat]; l < set->leaf_at[c->pat + 1]; l++)
                            if (match_single(set->leaf[l], &objs[k], 1)) {
                                c->obj = objs[k];
                                break;
                            }
                }
                if (any)
                    need_window = 1;
                else
                    c->done = 1;
                continue;
            }
            if (!objs) continue;
            c->done = 1;
            if (c->ei != NO_ENTRY) {
                if (match_single(root, objs, nobj))
                    pki_emit(s, c->ei, c->field, c->observed, c->olen, "pattern");
                continue;
            }
            if (!match_single(root, objs, nobj)) continue;
            /* name the object that matched when one does alone (a connection
             * needs its addresses: then the record's first value is named) */
            const json_t *hit = NULL;
            for (size_t k = 0; !hit && k < nobj; k++)
                if (match_single(root, &objs[k], 1)) hit = objs[k];
            emit_gated(s, c->pat, set->gate[c->pat], hit);
        }
        /* the others: the window, oldest first, then this record */
        json_t *arr = need_window ? json_array() : NULL;
        size_t nrec = 0;
        int ok = arr != NULL;
        for (unsigned i = 0; ok && i < ps->count; i++) {
            const wrec *r = &ps->ring[(ps->head + ps->w - ps->count + i) % ps->w];
            ok = record_json(arr, r, s->source) == 0;
            nrec++;
        }
        ok = ok && record_json(arr, &ps->cur, s->source) == 0;
        pk_pattern_obs *obs = NULL;
        if (ok && pk_pattern_obs_new(&obs, NULL) == PK_OK &&
            pk_pattern_obs_add(obs, arr, PK_PATTERN_SPEC_21, NULL) == PK_OK) {
            for (size_t i = 0; i < ps->ncand; i++) {
                const cand *c = &ps->cand[i];
                if (c->done) continue;
                pk_pattern_result res = {NULL, 0};
                if (pk_pattern_eval(set->p[c->pat], obs, &res, NULL) == PK_OK && res.count &&
                    res.index[res.count - 1] == nrec) {
                    if (c->ei == NO_ENTRY)
                        emit_gated(s, c->pat, set->gate[c->pat], c->obj);
                    else
                        pki_emit(s, c->ei, c->field, c->observed, c->olen, "pattern");
                }
                pk_pattern_result_free(&res);
            }
        }
        pk_pattern_obs_free(obs);
        json_decref(arr);
        pk_free(objs);
        json_decref(cur);
        clear_cands(ps);
    }
    push_ring(ps);
}

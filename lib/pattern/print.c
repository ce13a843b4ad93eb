/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The canonical printer, the anchors and the tree walk.  The printer puts
 * parentheses only where the tree needs them, so that printing and parsing
 * again gives the same tree (tested, and checked by the fuzz target).
 */
#include "pattern_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- printing ----------------------------------------------------------- */

static int obs_level(const pk_pattern_node *x)
{
    switch (x->kind) {
    case PK_PN_FOLLOWEDBY:
        return 0;
    case PK_PN_OOR:
        return 1;
    case PK_PN_OAND:
        return 2;
    default:
        return 3;
    }
}

static int cmp_level(const pk_pattern_node *x)
{
    return x->kind == PK_PN_COR ? 0 : x->kind == PK_PN_CAND ? 1 : 2;
}

static int add_quoted(pk_buf *b, const char *s, size_t n)
{
    if (pk_buf_addc(b, '\'')) return -1;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '\'' || s[i] == '\\') && pk_buf_addc(b, '\\')) return -1;
        if (pk_buf_addc(b, s[i])) return -1;
    }
    return pk_buf_addc(b, '\'') ? -1 : 0;
}

static int add_value(pk_buf *b, const pk_pattern_value *v)
{
    char ts[PK_TIME_STRLEN];
    switch (v->kind) {
    case PK_PV_STRING:
        return add_quoted(b, v->bytes, v->len);
    case PK_PV_INT:
    case PK_PV_FLOAT:
        return pk_buf_adds(b, v->lexeme) ? -1 : 0;
    case PK_PV_BOOL:
        return pk_buf_adds(b, v->i ? "true" : "false") ? -1 : 0;
    case PK_PV_BINARY:
        if (pk_buf_adds(b, "b'") || pki_base64_encode(b, (const unsigned char *)v->bytes, v->len) ||
            pk_buf_addc(b, '\''))
            return -1;
        return 0;
    case PK_PV_HEX:
        if (pk_buf_adds(b, "h'") || pki_hex_encode(b, (const unsigned char *)v->bytes, v->len) ||
            pk_buf_addc(b, '\''))
            return -1;
        return 0;
    case PK_PV_TIMESTAMP:
        pk_time_format(&v->t, -1, ts);
        return pk_buf_addf(b, "t'%s'", ts) ? -1 : 0;
    }
    return -1;
}

static int print_cmp(pk_buf *b, const pk_pattern_node *x, int need)
{
    int paren = cmp_level(x) < need;
    if (paren && pk_buf_addc(b, '(')) return -1;
    if (x->kind == PK_PN_COMPARE) {
        if (x->op == PK_POP_EXISTS) {
            if (pk_buf_adds(b, "EXISTS ") || pk_buf_adds(b, x->path->text)) return -1;
        } else {
            if (pk_buf_adds(b, x->path->text) || pk_buf_addc(b, ' ')) return -1;
            if (x->negated && pk_buf_adds(b, "NOT ")) return -1;
            if (pk_buf_adds(b, pk_pattern_op_name(x->op)) || pk_buf_addc(b, ' ')) return -1;
            if (x->op == PK_POP_IN) {
                if (pk_buf_addc(b, '(')) return -1;
                for (size_t i = 0; i < x->nvalues; i++) {
                    if (i && pk_buf_adds(b, ", ")) return -1;
                    if (add_value(b, &x->values[i])) return -1;
                }
                if (pk_buf_addc(b, ')')) return -1;
            } else if (add_value(b, &x->values[0])) {
                return -1;
            }
        }
    } else {
        const char *op = x->kind == PK_PN_CAND ? " AND " : " OR ";
        for (size_t i = 0; i < x->nchild; i++) {
            if (i && pk_buf_adds(b, op)) return -1;
            /* Children of an n-ary node are never of its own kind (they were
             * spliced in), so one level tighter is enough. */
            if (print_cmp(b, x->child[i], cmp_level(x) + 1)) return -1;
        }
    }
    if (paren && pk_buf_addc(b, ')')) return -1;
    return 0;
}

static int add_seconds(pk_buf *b, double s)
{
    /* The shortest fixed-point text that reads back as the same double: the
     * grammar has no exponents. */
    char buf[400];
    for (int prec = 0; prec <= 40; prec++) {
        snprintf(buf, sizeof buf, "%.*f", prec, s);
        if (strtod(buf, NULL) == s) break;
    }
    return pk_buf_adds(b, buf) ? -1 : 0;
}

static int is_qual(const pk_pattern_node *x)
{
    return x->kind == PK_PN_WITHIN || x->kind == PK_PN_REPEATS || x->kind == PK_PN_STARTSTOP;
}

static int print_obs(pk_buf *b, const pk_pattern_node *x, int need, unsigned seen, int spec20)
{
    int paren = obs_level(x) < need;
    if (paren) {
        if (pk_buf_addc(b, '(')) return -1;
        seen = 0;
    }
    char ts[PK_TIME_STRLEN];
    switch (x->kind) {
    case PK_PN_OBSERVE:
        if (pk_buf_addc(b, '[') || print_cmp(b, x->child[0], 0) || pk_buf_addc(b, ']')) return -1;
        break;
    case PK_PN_FOLLOWEDBY:
    case PK_PN_OOR:
    case PK_PN_OAND: {
        const char *op = x->kind == PK_PN_FOLLOWEDBY ? " FOLLOWEDBY "
                         : x->kind == PK_PN_OOR      ? " OR "
                                                     : " AND ";
        for (size_t i = 0; i < x->nchild; i++) {
            if (i && pk_buf_adds(b, op)) return -1;
            if (print_obs(b, x->child[i], obs_level(x) + 1, 0, spec20)) return -1;
        }
        break;
    }
    default: {
        /* A qualifier: its child, then the qualifier.  The child needs
         * parentheses when it is an operator, or a qualifier of a kind this
         * chain has already (the parser refuses a kind twice in one chain). */
        const pk_pattern_node *c = x->child[0];
        unsigned mine = seen | (1u << x->kind);
        if (is_qual(c) && (mine & (1u << c->kind))) {
            if (pk_buf_addc(b, '(') || print_obs(b, c, 0, 0, spec20) || pk_buf_addc(b, ')'))
                return -1;
        } else if (print_obs(b, c, 3, mine, spec20)) {
            return -1;
        }
        if (x->kind == PK_PN_WITHIN) {
            if (pk_buf_adds(b, " WITHIN ") || add_seconds(b, x->within) ||
                pk_buf_adds(b, " SECONDS"))
                return -1;
        } else if (x->kind == PK_PN_REPEATS) {
            if (pk_buf_addf(b, " REPEATS %lld TIMES", (long long)x->repeats)) return -1;
        } else {
            const char *q = spec20 ? "'" : "t'";
            pk_time_format(&x->start, -1, ts);
            if (pk_buf_addf(b, " START %s%s'", q, ts)) return -1;
            pk_time_format(&x->stop, -1, ts);
            if (pk_buf_addf(b, " STOP %s%s'", q, ts)) return -1;
        }
        break;
    }
    }
    if (paren && pk_buf_addc(b, ')')) return -1;
    return 0;
}

static const char *print_spec(pk_arena *a, const pk_pattern_node *root, int spec20)
{
    pk_buf b;
    pk_buf_init(&b, 0);
    const char *r = NULL;
    if (print_obs(&b, root, 0, 0, spec20) == 0) r = pk_arena_strndup(a, b.data, b.len);
    pk_buf_free(&b);
    return r;
}

const char *pki_pattern_print(pk_arena *a, const pk_pattern_node *root, int spec20)
{
    return print_spec(a, root, spec20);
}

/* ---- walk --------------------------------------------------------------- */

static int walk(const pk_pattern_node *x, int depth,
                int (*fn)(const pk_pattern_node *, int, void *), void *ud)
{
    int r = fn(x, depth, ud);
    if (r) return r;
    for (size_t i = 0; i < x->nchild; i++)
        if ((r = walk(x->child[i], depth + 1, fn, ud))) return r;
    return 0;
}

int pk_pattern_walk(const pk_pattern *p, int (*fn)(const pk_pattern_node *, int, void *), void *ud)
{
    if (!p || !p->root || !fn) return 0;
    return walk(p->root, 0, fn, ud);
}

/* ---- anchors ------------------------------------------------------------ */

typedef struct avec {
    pk_pattern_anchor *v;
    size_t n, cap;
} avec;

static int avec_push(avec *v, const pk_pattern_node *c, const pk_pattern_value *val)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 8;
        pk_pattern_anchor *nv = pk_realloc(v->v, nc * sizeof *nv);
        if (!nv) return -1;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n].path = c->path;
    v->v[v->n].value = val;
    v->v[v->n].compare = c;
    v->n++;
    return 0;
}

/* The cover of a node: anchors of which any match satisfies one.  Returns 1
 * when there is one (appended to v), 0 when there is none, -1 on ENOMEM. */
static int cover(const pk_pattern_node *x, avec *v)
{
    switch (x->kind) {
    case PK_PN_COMPARE:
        if (x->negated) return 0;
        if (x->op == PK_POP_EQ) return avec_push(v, x, &x->values[0]) ? -1 : 1;
        if (x->op == PK_POP_IN && x->nvalues > 0) {
            for (size_t i = 0; i < x->nvalues; i++)
                if (avec_push(v, x, &x->values[i])) return -1;
            return 1;
        }
        return 0;
    case PK_PN_COR:
    case PK_PN_OOR:
        /* every alternative must be covered */
        for (size_t i = 0; i < x->nchild; i++) {
            int r = cover(x->child[i], v);
            if (r <= 0) return r;
        }
        return 1;
    case PK_PN_CAND:
    case PK_PN_OAND:
    case PK_PN_FOLLOWEDBY: {
        /* any one conjunct will do: take the smallest cover */
        avec best = {0}, tmp = {0};
        int found = 0;
        for (size_t i = 0; i < x->nchild; i++) {
            tmp.n = 0;
            int r = cover(x->child[i], &tmp);
            if (r < 0) {
                pk_free(best.v);
                pk_free(tmp.v);
                return -1;
            }
            if (r == 1 && (!found || tmp.n < best.n)) {
                avec sw = best;
                best = tmp;
                tmp = sw;
                found = 1;
            }
        }
        int rc = found ? 1 : 0;
        for (size_t i = 0; found && i < best.n; i++)
            if (avec_push(v, best.v[i].compare, best.v[i].value)) rc = -1;
        pk_free(best.v);
        pk_free(tmp.v);
        return rc;
    }
    default: /* OBSERVE and the qualifiers */
        return cover(x->child[0], v);
    }
}

/* An equality an index can decide by comparing values as they are written:
 * text, numbers and booleans on a property that is not binary (binary and
 * timestamp constants compare decoded bytes and instants). */
static int plain_equality(const pk_pattern_node *x)
{
    if (x->negated || !x->path->simple) return 0;
    if (x->op != PK_POP_EQ && !(x->op == PK_POP_IN && x->nvalues > 0)) return 0;
    const pk_pattern_step *last = &x->path->steps[x->path->nsteps - 1];
    size_t kl = strlen(last->key);
    if (kl >= 4 &&
        (strcmp(last->key + kl - 4, "_bin") == 0 || strcmp(last->key + kl - 4, "_hex") == 0))
        return 0;
    if (kl >= 4 && strcmp(last->key + kl - 4, "_ref") == 0) return 0;
    if (kl >= 5 && strcmp(last->key + kl - 5, "_refs") == 0) return 0;
    for (size_t i = 0; i < x->nvalues; i++) {
        pk_pattern_value_kind k = x->values[i].kind;
        if (k != PK_PV_STRING && k != PK_PV_INT && k != PK_PV_FLOAT && k != PK_PV_BOOL) return 0;
    }
    return 1;
}

/* Nothing but ORs of plain equalities. */
static int exact(const pk_pattern_node *x)
{
    switch (x->kind) {
    case PK_PN_COMPARE:
        return plain_equality(x);
    case PK_PN_COR:
    case PK_PN_OOR:
        for (size_t i = 0; i < x->nchild; i++)
            if (!exact(x->child[i])) return 0;
        return 1;
    case PK_PN_OBSERVE:
        return exact(x->child[0]);
    default:
        return 0;
    }
}

pk_status pki_pattern_anchors(pk_pattern *p)
{
    avec v = {0};
    int r = cover(p->root, &v);
    if (r < 0) {
        pk_free(v.v);
        return PK_ENOMEM;
    }
    p->anchors.count = 0;
    p->anchors.anchor = NULL;
    p->anchors.exact = 0;
    if (r == 1 && v.n > 0) {
        pk_pattern_anchor *a = pk_arena_alloc(p->arena, v.n * sizeof *a);
        if (!a) {
            pk_free(v.v);
            return PK_ENOMEM;
        }
        memcpy(a, v.v, v.n * sizeof *a);
        p->anchors.anchor = a;
        p->anchors.count = v.n;
        p->anchors.exact = exact(p->root);
    }
    pk_free(v.v);
    return PK_OK;
}

const pk_pattern_anchors *pk_pattern_get_anchors(const pk_pattern *p)
{
    return p ? &p->anchors : NULL;
}

/* ---- tree equality ------------------------------------------------------ */

static int value_equal(const pk_pattern_value *a, const pk_pattern_value *b)
{
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case PK_PV_STRING:
    case PK_PV_BINARY:
    case PK_PV_HEX:
        return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
    case PK_PV_INT:
    case PK_PV_BOOL:
        return a->i == b->i;
    case PK_PV_FLOAT:
        return a->f == b->f;
    case PK_PV_TIMESTAMP:
        return pk_time_cmp(&a->t, &b->t) == 0;
    }
    return 0;
}

static int path_equal(const pk_pattern_path *a, const pk_pattern_path *b)
{
    if (strcmp(a->type, b->type) != 0 || a->nsteps != b->nsteps) return 0;
    for (size_t i = 0; i < a->nsteps; i++) {
        const pk_pattern_step *x = &a->steps[i], *y = &b->steps[i];
        if (x->kind != y->kind) return 0;
        if (x->kind == PK_PSTEP_KEY && strcmp(x->key, y->key) != 0) return 0;
        if (x->kind == PK_PSTEP_INDEX && x->index != y->index) return 0;
    }
    return 1;
}

int pki_pattern_equal(const pk_pattern_node *a, const pk_pattern_node *b)
{
    if (a->kind != b->kind || a->nchild != b->nchild) return 0;
    switch (a->kind) {
    case PK_PN_COMPARE:
        if (a->op != b->op || a->negated != b->negated || a->nvalues != b->nvalues) return 0;
        if (!path_equal(a->path, b->path)) return 0;
        for (size_t i = 0; i < a->nvalues; i++)
            if (!value_equal(&a->values[i], &b->values[i])) return 0;
        return 1;
    case PK_PN_WITHIN:
        if (a->within != b->within) return 0;
        break;
    case PK_PN_REPEATS:
        if (a->repeats != b->repeats) return 0;
        break;
    case PK_PN_STARTSTOP:
        if (pk_time_cmp(&a->start, &b->start) || pk_time_cmp(&a->stop, &b->stop)) return 0;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < a->nchild; i++)
        if (!pki_pattern_equal(a->child[i], b->child[i])) return 0;
    return 1;
}

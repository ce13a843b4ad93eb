/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TAXII request parameters: the filters of the objects, manifest, object and
 * versions endpoints, the `next` cursor, and the media types of Accept and
 * Content-Type.  Everything here reads untrusted bytes; it is fuzzed.
 */
#include "taxii_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

pk_status pki_tx_filter_init(pki_tx_filter *f)
{
    memset(f, 0, sizeof *f);
    f->added_after = INT64_MIN;
    f->next = INT64_MIN;
    f->arena = pk_arena_new(4096, 1 << 20);
    return f->arena ? PK_OK : PK_ENOMEM;
}

void pki_tx_filter_free(pki_tx_filter *f)
{
    pk_arena_free(f->arena);
    f->arena = NULL;
}

int64_t pki_tx_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

pk_status pki_tx_time_parse_us(const char *s, int rules, int64_t *out)
{
    pk_time t;
    if (pk_time_parse(s, strlen(s), rules, &t, NULL) != PK_OK) return PK_EPARSE;
    /* STIX allows years 0000-9999; microseconds since 1970 fit int64 easily. */
    *out = t.sec * 1000000 + t.nsec / 1000;
    return PK_OK;
}

void pki_tx_time_format_us(int64_t us, char out[PK_TIME_STRLEN])
{
    pk_time t;
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    t.sec = sec;
    t.nsec = (int32_t)(rem * 1000);
    t.digits = 6;
    /* Print milliseconds when that is all there is, as STIX producers do. */
    pk_time_format(&t, rem % 1000 == 0 ? 3 : 6, out);
}

void pki_tx_cursor_format(int64_t date_added, char out[PKI_TX_CURSOR_LEN])
{
    snprintf(out, PKI_TX_CURSOR_LEN, "c1.%llx", (unsigned long long)date_added);
}

pk_status pki_tx_cursor_parse(const char *s, int64_t *out)
{
    if (strncmp(s, "c1.", 3) != 0) return PK_EPARSE;
    s += 3;
    size_t n = strlen(s);
    if (n == 0 || n > 16) return PK_EPARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return PK_EPARSE;
        v = v << 4 | (uint64_t)d;
    }
    *out = (int64_t)v;
    return PK_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long pki_tx_urldecode(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return -1;
            s[o++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+') {
            s[o++] = ' ';
        } else {
            s[o++] = c;
        }
    }
    s[o] = '\0';
    return (long)o;
}

/* Split a comma-separated value into trimmed, non-empty items in the arena. */
static pk_status split_list(pki_tx_filter *f, const char *key, const char *val, const char **items,
                            size_t *n, size_t max, pk_error *err)
{
    const char *p = val;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0)
            return pk_error_set(err, PK_EINVAL, "%s: empty item in the list '%s'", key, val);
        if (*n >= max) return pk_error_set(err, PK_ELIMIT, "%s: more than %zu values", key, max);
        char *s = pk_arena_strndup(f->arena, p, len);
        if (!s) return pk_error_set(err, PK_ENOMEM, "out of memory");
        items[(*n)++] = s;
        if (!e) break;
        p = e + 1;
    }
    return PK_OK;
}

pk_status pki_tx_filter_add(pki_tx_filter *f, unsigned allowed, const char *key, const char *val,
                            pk_error *err)
{
    unsigned which;
    if (!strcmp(key, "added_after"))
        which = PKI_TXF_ADDED_AFTER;
    else if (!strcmp(key, "limit"))
        which = PKI_TXF_LIMIT;
    else if (!strcmp(key, "next"))
        which = PKI_TXF_NEXT;
    else if (!strcmp(key, "match[id]"))
        which = PKI_TXF_ID;
    else if (!strcmp(key, "match[type]"))
        which = PKI_TXF_TYPE;
    else if (!strcmp(key, "match[version]"))
        which = PKI_TXF_VERSION;
    else if (!strcmp(key, "match[spec_version]"))
        which = PKI_TXF_SPEC_VERSION;
    else if (!strncmp(key, "match[", 6))
        return pk_error_set(err, PK_EINVAL, "%s: this server supports no such filter", key);
    else
        return PK_OK;
    if (!(allowed & which))
        return pk_error_set(err, PK_EINVAL, "%s: this endpoint does not take this filter", key);
    if (!val) val = "";
    switch (which) {
    case PKI_TXF_ADDED_AFTER: {
        int64_t t;
        if (pki_tx_time_parse_us(val, PK_TIME_RFC3339, &t) != PK_OK)
            return pk_error_set(err, PK_EINVAL, "added_after: '%.64s' is not an RFC 3339 timestamp",
                                val);
        if (t > f->added_after) f->added_after = t;
        return PK_OK;
    }
    case PKI_TXF_LIMIT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (!*val || *end || errno || v < 1)
            return pk_error_set(err, PK_EINVAL, "limit: '%.64s' is not a positive integer", val);
        f->limit = v;
        return PK_OK;
    }
    case PKI_TXF_NEXT: {
        int64_t t;
        if (pki_tx_cursor_parse(val, &t) != PK_OK)
            return pk_error_set(err, PK_EINVAL, "next: '%.64s' is not a cursor this server gave",
                                val);
        f->next = t;
        return PK_OK;
    }
    case PKI_TXF_ID: {
        size_t from = f->n_ids;
        pk_status s = split_list(f, key, val, f->ids, &f->n_ids, PKI_TX_LIST_MAX, err);
        if (s) return s;
        for (size_t i = from; i < f->n_ids; i++)
            if (!pki_tx_valid_id(f->ids[i]))
                return pk_error_set(err, PK_EINVAL, "match[id]: '%.100s' is not a STIX id",
                                    f->ids[i]);
        return PK_OK;
    }
    case PKI_TXF_TYPE: {
        size_t from = f->n_types;
        pk_status s = split_list(f, key, val, f->types, &f->n_types, PKI_TX_LIST_MAX, err);
        if (s) return s;
        for (size_t i = from; i < f->n_types; i++)
            if (!pki_tx_valid_type(f->types[i]))
                return pk_error_set(err, PK_EINVAL, "match[type]: '%.100s' is not a STIX type",
                                    f->types[i]);
        return PK_OK;
    }
    case PKI_TXF_VERSION: {
        const char *items[PKI_TX_LIST_MAX];
        size_t n = 0;
        pk_status s = split_list(f, key, val, items, &n, PKI_TX_LIST_MAX, err);
        if (s) return s;
        f->has_version = 1;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(items[i], "first"))
                f->v_first = 1;
            else if (!strcmp(items[i], "last"))
                f->v_last = 1;
            else if (!strcmp(items[i], "all"))
                f->v_all = 1;
            else {
                int64_t t;
                if (pki_tx_time_parse_us(items[i], PK_TIME_RFC3339, &t) != PK_OK)
                    return pk_error_set(err, PK_EINVAL,
                                        "match[version]: '%.64s' is neither first, last, all "
                                        "nor a timestamp",
                                        items[i]);
                if (f->n_vtimes >= PKI_TX_LIST_MAX)
                    return pk_error_set(err, PK_ELIMIT, "match[version]: too many values");
                f->v_times[f->n_vtimes++] = t;
            }
        }
        return PK_OK;
    }
    case PKI_TXF_SPEC_VERSION: {
        size_t from = f->n_spec;
        pk_status s = split_list(f, key, val, f->spec_versions, &f->n_spec, PKI_TX_LIST_MAX, err);
        if (s) return s;
        for (size_t i = from; i < f->n_spec; i++) {
            const char *v = f->spec_versions[i];
            if (strcmp(v, "2.0") && strcmp(v, "2.1"))
                return pk_error_set(err, PK_EINVAL,
                                    "match[spec_version]: '%.32s' is not a STIX version (2.0, 2.1)",
                                    v);
        }
        return PK_OK;
    }
    }
    return PK_OK;
}

pk_status pki_tx_filter_parse_query(pki_tx_filter *f, unsigned allowed, const char *qs, size_t n,
                                    pk_error *err)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && qs[j] != '&')
            j++;
        if (j > i) {
            char *pair = pk_arena_strndup(f->arena, qs + i, j - i);
            if (!pair) return pk_error_set(err, PK_ENOMEM, "out of memory");
            char *eq = strchr(pair, '=');
            char *val = NULL;
            if (eq) {
                *eq = '\0';
                val = eq + 1;
            }
            long kl = pki_tx_urldecode(pair, strlen(pair));
            long vl = val ? pki_tx_urldecode(val, strlen(val)) : 0;
            if (kl < 0 || vl < 0)
                return pk_error_set(err, PK_EINVAL, "bad percent-encoding in the query string");
            /* A decoded NUL would cut the text short: refuse it. */
            if ((size_t)kl != strlen(pair) || (val && (size_t)vl != strlen(val)))
                return pk_error_set(err, PK_EINVAL, "NUL byte in a query parameter");
            pk_status s = pki_tx_filter_add(f, allowed, pair, val ? val : "", err);
            if (s) return s;
        }
        i = j + 1;
    }
    return PK_OK;
}

/* Compare a media type's parameters: only `version` matters; q=0 refuses. */
static int media_params_ok(const char *p, const char *end, int *q_zero)
{
    int ok = 1;
    *q_zero = 0;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *s = p;
        while (p < end && *p != ';')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) continue;
        const char *k = s, *ke = eq, *v = eq + 1;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        size_t kn = (size_t)(ke - k), vn = (size_t)(e - v);
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        if (kn == 7 && !strncasecmp(k, "version", 7)) {
            if (!(vn == 3 && !memcmp(v, "2.1", 3))) ok = 0;
        } else if (kn == 1 && (*k == 'q' || *k == 'Q')) {
            char buf[16];
            size_t m = vn < sizeof buf - 1 ? vn : sizeof buf - 1;
            memcpy(buf, v, m);
            buf[m] = '\0';
            if (strtod(buf, NULL) <= 0.0) *q_zero = 1;
        }
    }
    return ok;
}

int pki_tx_accept_ok(const char *accept)
{
    if (!accept) return 1;
    const char *p = accept;
    int any = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        if (!e) e = p + strlen(p);
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        const char *semi = s;
        while (semi < e && *semi != ';')
            semi++;
        if (semi == e) semi = NULL;
        const char *te = semi ? semi : e;
        while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        size_t tn = (size_t)(te - s);
        if (tn) any = 1;
        int q_zero = 0;
        int params = media_params_ok(semi ? semi : e, e, &q_zero);
        if (!q_zero) {
            if (tn == 22 && !strncasecmp(s, "application/taxii+json", 22) && params) return 1;
            if ((tn == 3 && !strncmp(s, "*/*", 3)) ||
                (tn == 13 && !strncasecmp(s, "application/*", 13)))
                return 1;
        }
        p = *e ? e + 1 : e;
    }
    return !any;
}

int pki_tx_content_type_ok(const char *ctype)
{
    if (!ctype) return 0;
    const char *s = ctype;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *semi = strchr(s, ';');
    const char *e = s + strlen(s);
    const char *te = semi ? semi : e;
    while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
        te--;
    if (!((size_t)(te - s) == 22 && !strncasecmp(s, "application/taxii+json", 22))) return 0;
    int q_zero;
    return media_params_ok(semi ? semi : e, e, &q_zero);
}

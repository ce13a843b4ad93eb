/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a match produces: alerts as JSON lines, and sightings as a STIX 2.1
 * bundle (one sighting per indicator with its count and first and last time,
 * all seen by one identity, the sensor).
 */
#include "match_int.h"

#include <stdio.h>

/* The general form: any lengths, through the buffer's own appends. */
static pk_status alert_json_long(const pk_match_alert *a, pk_buf *b)
{
    size_t start = b->len;
    if (a->indicator_id) {
        pk_buf_adds(b, "{\"indicator_id\":");
        pki_json_escape(b, a->indicator_id, strlen(a->indicator_id));
    } else {
        char ioc[300];
        int n =
            snprintf(ioc, sizeof ioc, "%s:%ld", a->ioc_source ? a->ioc_source : "-", a->ioc_line);
        pk_buf_adds(b, "{\"ioc\":");
        pki_json_escape(b, ioc, (size_t)n < sizeof ioc ? (size_t)n : sizeof ioc - 1);
    }
    pk_buf_addf(b, ",\"type\":\"%s\",\"value\":", pk_ioc_type_name(a->type));
    pki_json_escape(b, a->value, strlen(a->value));
    pk_buf_adds(b, ",\"observed\":");
    pki_json_escape(b, a->observed, a->observed_len);
    pk_buf_addf(b, ",\"match\":\"%s\",\"field\":", a->how);
    pki_json_escape(b, a->field, strlen(a->field));
    pk_buf_adds(b, ",\"source\":");
    pki_json_escape(b, a->source, strlen(a->source));
    pk_buf_addf(b, ",\"line\":%ld", a->line);
    if (a->time) pk_buf_addf(b, ",\"time\":\"%s\"", a->time);
    pk_status rc = pk_buf_adds(b, "}\n");
    if (rc != PK_OK) {
        b->len = start;
        if (b->data) b->data[start] = '\0';
    }
    return rc;
}

/* The bytes pki_json_escape writes as an escape (below 0x20, '"', '\\',
 * 0x7f); the rest are 0. */
static const uint8_t esc_byte[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* 0x70 */
};

/* pki_json_escape into o (room for 6 n + 2 bytes); the end. */
static char *esc_put(char *o, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (!esc_byte[c]) {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\r':
            *o++ = 'r';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hx[c >> 4];
            o[4] = hx[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    return o;
}

static char *lit_put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}
#define LIT(o, s) lit_put((o), (s), sizeof(s) - 1)

/* %ld */
static char *long_put(char *o, long v)
{
    char t[24];
    size_t i = sizeof t;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do
        t[--i] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) t[--i] = '-';
    return lit_put(o, t + i, sizeof t - i);
}

/*
 * An alert is one JSON line built in a stack buffer and appended in one
 * step: no printf (a format parse per field) and no growth checks per
 * piece.  Values too long for the buffer, and names the printf form would
 * print as "(null)", take alert_json_long; the bytes are the same.
 */
pk_status pk_match_alert_json(const pk_match_alert *a, pk_buf *b)
{
    char line[4096];
    const char *tn = pk_ioc_type_name(a->type);
    if (!a->how || !a->value || !a->field || !a->source || (!a->indicator_id && !a->ioc_source))
        return alert_json_long(a, b);
    size_t idn = a->indicator_id ? strlen(a->indicator_id) : strlen(a->ioc_source) + 21;
    size_t vn = strlen(a->value), fn = strlen(a->field), sn = strlen(a->source);
    size_t hn = strlen(a->how), tln = strlen(tn), timen = a->time ? strlen(a->time) : 0;
    /* each escaped byte takes at most 6; the names and numbers ~150 */
    if (idn > 299 || a->observed_len > sizeof line ||
        6 * (idn + vn + a->observed_len + fn + sn) + hn + tln + timen + 200 > sizeof line)
        return alert_json_long(a, b);
    char *o = line;
    if (a->indicator_id) {
        o = LIT(o, "{\"indicator_id\":");
        o = esc_put(o, a->indicator_id, idn);
    } else {
        char ioc[320];
        char *e = lit_put(ioc, a->ioc_source, idn - 21);
        *e++ = ':';
        e = long_put(e, a->ioc_line);
        size_t n = (size_t)(e - ioc);
        o = LIT(o, "{\"ioc\":");
        o = esc_put(o, ioc, n < 300 ? n : 299); /* as snprintf into 300 bytes cut it */
    }
    o = LIT(o, ",\"type\":\"");
    o = lit_put(o, tn, tln);
    o = LIT(o, "\",\"value\":");
    o = esc_put(o, a->value, vn);
    o = LIT(o, ",\"observed\":");
    o = esc_put(o, a->observed, a->observed_len);
    o = LIT(o, ",\"match\":\"");
    o = lit_put(o, a->how, hn);
    o = LIT(o, "\",\"field\":");
    o = esc_put(o, a->field, fn);
    o = LIT(o, ",\"source\":");
    o = esc_put(o, a->source, sn);
    o = LIT(o, ",\"line\":");
    o = long_put(o, a->line);
    if (a->time) {
        o = LIT(o, ",\"time\":\"");
        o = lit_put(o, a->time, timen);
        *o++ = '"';
    }
    o = LIT(o, "}\n");
    return pk_buf_add(b, line, (size_t)(o - line));
}

typedef struct sight {
    unsigned long long count;
    int64_t first, last;
    pk_ioc_type type;
    char *indicator_id; /* NULL for an IOC list entry */
    char *value;
    char *where; /* "file:line" of the first IOC list entry */
} sight;

struct pk_match_sightings {
    pk_map *m;
};

pk_match_sightings *pk_match_sightings_new(void)
{
    pk_match_sightings *g = pk_calloc(1, sizeof *g);
    if (!g) return NULL;
    if (!(g->m = pk_map_new(64))) {
        pk_free(g);
        return NULL;
    }
    return g;
}

static void sight_free(sight *x)
{
    if (!x) return;
    pk_free(x->indicator_id);
    pk_free(x->value);
    pk_free(x->where);
    pk_free(x);
}

void pk_match_sightings_free(pk_match_sightings *g)
{
    if (!g) return;
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (pk_map_next(g->m, &it, &k, &kl, &v))
        sight_free(v);
    pk_map_free(g->m);
    pk_free(g);
}

size_t pk_match_sightings_count(const pk_match_sightings *g)
{
    return g ? pk_map_count(g->m) : 0;
}

static pk_status count(pk_match_sightings *g, const char *id, pk_ioc_type type, const char *value,
                       const char *where, unsigned long long n, int64_t first, int64_t last)
{
    char key[PKI_KEY_MAX * 2 + 64];
    int kl = id ? snprintf(key, sizeof key, "%s", id)
                : snprintf(key, sizeof key, "%d\t%s", (int)type, value);
    if (kl < 0 || (size_t)kl >= sizeof key) kl = (int)sizeof key - 1;
    void *v;
    if (pk_map_find(g->m, key, (size_t)kl, &v)) {
        sight *x = v;
        x->count += n;
        if (first && (!x->first || first < x->first)) x->first = first;
        if (last > x->last) x->last = last;
        return PK_OK;
    }
    sight *x = pk_calloc(1, sizeof *x);
    if (!x) return PK_ENOMEM;
    x->count = n;
    x->first = first;
    x->last = last;
    x->type = type;
    x->indicator_id = id ? pk_strdup(id) : NULL;
    x->value = pk_strdup(value ? value : "");
    x->where = where ? pk_strdup(where) : NULL;
    if ((id && !x->indicator_id) || !x->value || (where && !x->where) ||
        pk_map_put(g->m, key, (size_t)kl, x) != PK_OK) {
        sight_free(x);
        return PK_ENOMEM;
    }
    return PK_OK;
}

pk_status pk_match_sightings_add(pk_match_sightings *g, const pk_match_alert *a)
{
    int64_t t = a->time ? a->time_ms : pk_time_to_ms(&(pk_time){pk_time_now().sec, 0, 0});
    char where[300];
    snprintf(where, sizeof where, "%s:%ld", a->ioc_source ? a->ioc_source : "-", a->ioc_line);
    return count(g, a->indicator_id, a->type, a->value, a->indicator_id ? NULL : where, 1, t, t);
}

pk_status pk_match_sightings_merge(pk_match_sightings *into, const pk_match_sightings *from)
{
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (pk_map_next(from->m, &it, &k, &kl, &v)) {
        const sight *x = v;
        pk_status rc =
            count(into, x->indicator_id, x->type, x->value, x->where, x->count, x->first, x->last);
        if (rc != PK_OK) return rc;
    }
    return PK_OK;
}

/* The same namespace for every picket-made id, so ids are stable across runs. */
static const pk_uuid picket_ns = {{0x5b, 0x1e, 0x6a, 0x3c, 0x8f, 0x27, 0x4d, 0x21, 0x9a, 0x44, 0x0c,
                                   0x71, 0xd2, 0x35, 0xee, 0x10}};

static void stix_id(char out[80], const char *type, const char *name)
{
    pk_uuid u;
    char s[PK_UUID_STRLEN];
    pk_uuid_v5(&u, &picket_ns, name, strlen(name));
    pk_uuid_format(&u, s);
    snprintf(out, 80, "%s--%s", type, s);
}

static void fmt_ms(int64_t ms, char out[PK_TIME_STRLEN])
{
    pk_time t = pk_time_from_ms(ms);
    pk_time_format(&t, 3, out);
}

/* A STIX pattern for an IOC list value. */
static void ioc_pattern(pk_buf *b, pk_ioc_type t, const char *v)
{
    const char *path;
    switch (t) {
    case PK_IOC_IPV4:
        path = "ipv4-addr:value";
        break;
    case PK_IOC_IPV6:
        path = "ipv6-addr:value";
        break;
    case PK_IOC_CIDR:
        path = strchr(v, ':') ? "ipv6-addr:value" : "ipv4-addr:value";
        break;
    case PK_IOC_DOMAIN:
        path = "domain-name:value";
        break;
    case PK_IOC_URL:
        path = "url:value";
        break;
    case PK_IOC_EMAIL:
        path = "email-addr:value";
        break;
    case PK_IOC_MD5:
        path = "file:hashes.MD5";
        break;
    case PK_IOC_SHA1:
        path = "file:hashes.'SHA-1'";
        break;
    case PK_IOC_SHA256:
        path = "file:hashes.'SHA-256'";
        break;
    case PK_IOC_SHA512:
        path = "file:hashes.'SHA-512'";
        break;
    case PK_IOC_FILENAME:
        path = "file:name";
        break;
    default:
        path = "user-account:account_login";
        break;
    }
    pk_buf_addf(b, "[%s = '", path);
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\') pk_buf_addc(b, '\\');
        pk_buf_addc(b, *p);
    }
    pk_buf_adds(b, "']");
}

pk_status pk_match_sightings_json(const pk_match_sightings *g, const char *sensor, pk_buf *out,
                                  pk_error *err)
{
    char now[PK_TIME_STRLEN], ident[80], bundle[80], name[PKI_KEY_MAX * 2 + 400];
    pk_time tn = pk_time_now();
    pk_time_format(&tn, 3, now);
    if (!sensor || !*sensor) sensor = "picket";
    snprintf(name, sizeof name, "picket-sensor:%s", sensor);
    stix_id(ident, "identity", name);
    pk_uuid bu;
    if (pk_uuid_v4(&bu) != PK_OK) return pk_error_set(err, PK_EIO, "no randomness for a bundle id");
    char bs[PK_UUID_STRLEN];
    pk_uuid_format(&bu, bs);
    snprintf(bundle, sizeof bundle, "bundle--%s", bs);
    pk_buf_addf(out, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[\n", bundle);
    pk_buf_addf(out,
                "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"%s\","
                "\"modified\":\"%s\",\"name\":",
                ident, now, now);
    pki_json_escape(out, sensor, strlen(sensor));
    pk_buf_adds(out, ",\"identity_class\":\"system\"}");
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (pk_map_next(g->m, &it, &k, &kl, &v)) {
        const sight *x = v;
        char ind[80], sid[80], first[PK_TIME_STRLEN], last[PK_TIME_STRLEN];
        if (x->indicator_id) {
            snprintf(ind, sizeof ind, "%s", x->indicator_id);
        } else {
            snprintf(name, sizeof name, "ioc:%s:%s", pk_ioc_type_name(x->type), x->value);
            stix_id(ind, "indicator", name);
            pk_buf_addf(out,
                        ",\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                        "\"created\":\"%s\",\"modified\":\"%s\",\"name\":",
                        ind, now, now);
            pki_json_escape(out, x->value, strlen(x->value));
            pk_buf_adds(out, ",\"description\":");
            char d[400];
            int dn = snprintf(d, sizeof d, "from the IOC list %s", x->where ? x->where : "-");
            pki_json_escape(out, d, (size_t)dn < sizeof d ? (size_t)dn : sizeof d - 1);
            pk_buf_adds(out, ",\"pattern\":");
            pk_buf pat;
            pk_buf_init(&pat, 0);
            ioc_pattern(&pat, x->type, x->value);
            pki_json_escape(out, pat.data ? pat.data : "", pat.len);
            pk_buf_free(&pat);
            pk_buf_addf(out, ",\"pattern_type\":\"stix\",\"valid_from\":\"%s\"}", now);
        }
        fmt_ms(x->first, first);
        fmt_ms(x->last, last);
        snprintf(name, sizeof name, "sighting:%s:%s:%s:%s:%llu", ident, ind, first, last, x->count);
        stix_id(sid, "sighting", name);
        pk_buf_addf(out,
                    ",\n{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                    "\"created\":\"%s\",\"modified\":\"%s\",\"sighting_of_ref\":\"%s\","
                    "\"count\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\","
                    "\"where_sighted_refs\":[\"%s\"]}",
                    sid, now, now, ind, x->count > 999999999ull ? 999999999ull : x->count, first,
                    last, ident);
    }
    if (pk_buf_adds(out, "\n]}\n") != PK_OK) return pk_error_set(err, PK_ENOMEM, "out of memory");
    return PK_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifiers and the things derived from them: type names and kinds, id
 * syntax, deterministic SCO ids (UUIDv5 over RFC 8785 canonical JSON),
 * versions, TLP marking ids, and the observable values SCOs are indexed by.
 */
#include <ctype.h>
#include <string.h>

#include "stix/stix_impl.h"

/* ---- type names ---- */

static const char *const sdo_types[] = {
    "attack-pattern", "campaign",      "course-of-action", "grouping",
    "identity",       "incident",      "indicator",        "infrastructure",
    "intrusion-set",  "location",      "malware",          "malware-analysis",
    "note",           "observed-data", "opinion",          "report",
    "threat-actor",   "tool",          "vulnerability",    NULL};
static const char *const sro_types[] = {"relationship", "sighting", NULL};
static const char *const sco_types[] = {"artifact",
                                        "autonomous-system",
                                        "directory",
                                        "domain-name",
                                        "email-addr",
                                        "email-message",
                                        "file",
                                        "ipv4-addr",
                                        "ipv6-addr",
                                        "mac-addr",
                                        "mutex",
                                        "network-traffic",
                                        "process",
                                        "software",
                                        "url",
                                        "user-account",
                                        "windows-registry-key",
                                        "x509-certificate",
                                        NULL};
static const char *const meta_types[] = {"marking-definition", "language-content",
                                         "extension-definition", NULL};

static int in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (!strcmp(*l, s)) return 1;
    return 0;
}

int pk_stix_type_name_ok(const char *t)
{
    if (!t) return 0;
    size_t n = strlen(t);
    if (n < 3 || n > 250) return 0;
    if (!(t[0] >= 'a' && t[0] <= 'z')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
        if (c == '-' && t[i + 1] == '-') return 0;
    }
    return t[n - 1] != '-';
}

pk_stix_kind pk_stix_type_kind(const char *type)
{
    if (!type) return PK_STIX_UNKNOWN;
    if (in_list(sdo_types, type)) return PK_STIX_SDO;
    if (in_list(sco_types, type)) return PK_STIX_SCO;
    if (in_list(sro_types, type)) return PK_STIX_SRO;
    if (in_list(meta_types, type)) return PK_STIX_META;
    if (!strcmp(type, "bundle")) return PK_STIX_BUNDLE;
    if (pk_stix_type_name_ok(type)) return PK_STIX_CUSTOM;
    return PK_STIX_UNKNOWN;
}

int pk_stix_id_type(const char *id, char *out, size_t n)
{
    const char *d = id ? strstr(id, "--") : NULL;
    if (!d) return -1;
    size_t len = (size_t)(d - id);
    if (n) snprintf(out, n, "%.*s", (int)len, id);
    return (int)len;
}

int pk_stix_id_ok(const char *id, const char *type)
{
    if (!id) return 0;
    const char *d = strstr(id, "--");
    if (!d) return 0;
    size_t tl = (size_t)(d - id);
    if (tl < 3 || tl > 250) return 0;
    char t[251];
    memcpy(t, id, tl);
    t[tl] = '\0';
    if (!pk_stix_type_name_ok(t)) return 0;
    if (type && strcmp(t, type) != 0) return 0;
    const char *u = d + 2;
    if (strlen(u) != 36) return 0;
    pk_uuid uu;
    if (pk_uuid_parse(u, 36, &uu) != PK_OK) return 0;
    return pk_uuid_is_rfc4122(&uu) && pk_uuid_version(&uu) >= 1 && pk_uuid_version(&uu) <= 8;
}

pk_status pk_stix_new_id(const char *type, char out[PK_STIX_ID_MAX])
{
    pk_uuid u;
    pk_status s = pk_uuid_v4(&u);
    if (s) return s;
    char us[PK_UUID_STRLEN];
    pk_uuid_format(&u, us);
    snprintf(out, PK_STIX_ID_MAX, "%.250s--%s", type, us);
    return PK_OK;
}

/* ---- RFC 8785 canonical JSON ---- */

static int key_cmp(const void *a, const void *b)
{
    /* UTF-16 code unit order equals byte order except for characters beyond
     * the BMP against U+E000..U+FFFF; keys of STIX objects are ASCII. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static pk_status canon_string(const char *s, size_t n, pk_buf *out)
{
    pk_status st = pk_buf_addc(out, '"');
    for (size_t i = 0; i < n && !st; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            st = pk_buf_add(out, "\\\"", 2);
            break;
        case '\\':
            st = pk_buf_add(out, "\\\\", 2);
            break;
        case '\b':
            st = pk_buf_add(out, "\\b", 2);
            break;
        case '\f':
            st = pk_buf_add(out, "\\f", 2);
            break;
        case '\n':
            st = pk_buf_add(out, "\\n", 2);
            break;
        case '\r':
            st = pk_buf_add(out, "\\r", 2);
            break;
        case '\t':
            st = pk_buf_add(out, "\\t", 2);
            break;
        default:
            if (c < 0x20)
                st = pk_buf_addf(out, "\\u%04x", c);
            else
                st = pk_buf_addc(out, (char)c);
        }
    }
    return st ? st : pk_buf_addc(out, '"');
}

/* ECMAScript Number.prototype.toString for a double: the shortest digits that
 * round-trip, in plain or exponent form. */
static pk_status canon_real(double d, pk_buf *out)
{
    if (d == 0) return pk_buf_addc(out, '0');
    char digits[40];
    int prec, exp10 = 0;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof digits, "%.*e", prec - 1, d);
        if (strtod(digits, NULL) == d) break;
    }
    /* digits is "-d.ddde[+-]xx": pull sign, significant digits and exponent. */
    const char *p = digits;
    int neg = 0;
    if (*p == '-') neg = 1, p++;
    char sig[24];
    int k = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') sig[k++] = *p;
    while (k > 1 && sig[k - 1] == '0')
        k--;
    sig[k] = '\0';
    if (*p == 'e') exp10 = (int)strtol(p + 1, NULL, 10);
    int n = exp10 + 1; /* position of the decimal point */
    pk_status st = neg ? pk_buf_addc(out, '-') : PK_OK;
    if (st) return st;
    if (k <= n && n <= 21) {
        st = pk_buf_add(out, sig, (size_t)k);
        for (int i = k; i < n && !st; i++)
            st = pk_buf_addc(out, '0');
    } else if (0 < n && n <= 21) {
        st = pk_buf_add(out, sig, (size_t)n);
        if (!st) st = pk_buf_addc(out, '.');
        if (!st) st = pk_buf_add(out, sig + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        st = pk_buf_add(out, "0.", 2);
        for (int i = 0; i < -n && !st; i++)
            st = pk_buf_addc(out, '0');
        if (!st) st = pk_buf_add(out, sig, (size_t)k);
    } else {
        st = pk_buf_addc(out, sig[0]);
        if (!st && k > 1) st = pk_buf_addc(out, '.');
        if (!st && k > 1) st = pk_buf_add(out, sig + 1, (size_t)(k - 1));
        if (!st) st = pk_buf_addf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    return st;
}

pk_status pk_stix_canonical(const json_t *v, pk_buf *out)
{
    pk_status st = PK_OK;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = pk_malloc((n ? n : 1) * sizeof *keys);
        if (!keys) return PK_ENOMEM;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof *keys, key_cmp);
        st = pk_buf_addc(out, '{');
        for (i = 0; i < n && !st; i++) {
            if (i) st = pk_buf_addc(out, ',');
            if (!st) st = canon_string(keys[i], strlen(keys[i]), out);
            if (!st) st = pk_buf_addc(out, ':');
            if (!st) st = pk_stix_canonical(json_object_get(v, keys[i]), out);
        }
        pk_free(keys);
        return st ? st : pk_buf_addc(out, '}');
    }
    case JSON_ARRAY:
        st = pk_buf_addc(out, '[');
        for (size_t i = 0; i < json_array_size(v) && !st; i++) {
            if (i) st = pk_buf_addc(out, ',');
            if (!st) st = pk_stix_canonical(json_array_get(v, i), out);
        }
        return st ? st : pk_buf_addc(out, ']');
    case JSON_STRING:
        return canon_string(json_string_value(v), json_string_length(v), out);
    case JSON_INTEGER:
        return pk_buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return canon_real(json_real_value(v), out);
    case JSON_TRUE:
        return pk_buf_adds(out, "true");
    case JSON_FALSE:
        return pk_buf_adds(out, "false");
    case JSON_NULL:
        return pk_buf_adds(out, "null");
    }
    return PK_EINVAL;
}

/* ---- deterministic SCO ids ---- */

static const struct {
    const char *type;
    const char *props[9];
} id_props[] = {
    {"artifact", {"hashes", "payload_bin", NULL}},
    {"autonomous-system", {"number", NULL}},
    {"directory", {"path", NULL}},
    {"domain-name", {"value", NULL}},
    {"email-addr", {"value", NULL}},
    {"email-message", {"from_ref", "subject", "body", NULL}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref", NULL}},
    {"ipv4-addr", {"value", NULL}},
    {"ipv6-addr", {"value", NULL}},
    {"mac-addr", {"value", NULL}},
    {"mutex", {"name", NULL}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions",
      NULL}},
    {"software", {"name", "cpe", "swid", "vendor", "version", NULL}},
    {"url", {"value", NULL}},
    {"user-account", {"account_type", "user_id", "account_login", NULL}},
    {"windows-registry-key", {"key", "values", NULL}},
    {"x509-certificate", {"hashes", "serial_number", NULL}},
};

/* One hash of a hashes dictionary, by the preference the specification gives. */
static json_t *one_hash(const json_t *hashes)
{
    static const char *const pref[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
    for (size_t i = 0; i < 4; i++) {
        json_t *h = json_object_get(hashes, pref[i]);
        if (h) return json_pack("{sO}", pref[i], h);
    }
    void *it = json_object_iter((json_t *)hashes);
    if (!it) return NULL;
    return json_pack("{sO}", json_object_iter_key(it), json_object_iter_value(it));
}

pk_status pk_stix_sco_id(const json_t *sco, char out[PK_STIX_ID_MAX], pk_error *err)
{
    const char *type = pk_stix_str(sco, "type");
    if (!type) return pk_error_set(err, PK_EINVAL, "object has no type");
    const char *const *props = NULL;
    for (size_t i = 0; i < sizeof id_props / sizeof *id_props; i++)
        if (!strcmp(id_props[i].type, type)) props = id_props[i].props;
    if (!props)
        return pk_error_set(err, PK_ENOTFOUND, "%s has no id-contributing properties", type);
    json_t *c = json_object();
    if (!c) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_status st = PK_OK;
    for (; *props && !st; props++) {
        json_t *v = json_object_get(sco, *props);
        if (!v) continue;
        if (!strcmp(*props, "hashes") && json_is_object(v)) {
            json_t *h = one_hash(v);
            if (h && json_object_set_new(c, *props, h)) st = PK_ENOMEM;
        } else if (json_object_set(c, *props, v)) {
            st = PK_ENOMEM;
        }
    }
    if (!st && json_object_size(c) == 0) {
        json_decref(c);
        return pk_error_set(err, PK_ENOTFOUND, "no id-contributing property is present");
    }
    pk_buf b;
    pk_buf_init(&b, 0);
    if (!st) st = pk_stix_canonical(c, &b);
    json_decref(c);
    if (st) {
        pk_buf_free(&b);
        return pk_error_set(err, st, "cannot canonicalise the object");
    }
    static const pk_uuid ns = {{0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe,
                                0xd2, 0x33, 0x15, 0xa9, 0xb7}};
    pk_uuid u;
    pk_uuid_v5(&u, &ns, b.data, b.len);
    pk_buf_free(&b);
    char us[PK_UUID_STRLEN];
    pk_uuid_format(&u, us);
    snprintf(out, PK_STIX_ID_MAX, "%.250s--%s", type, us);
    return PK_OK;
}

/* ---- accessors and versions ---- */

const char *pk_stix_str(const json_t *obj, const char *prop)
{
    return json_string_value(json_object_get(obj, prop));
}

const char *pk_stix_version(const json_t *obj)
{
    const char *v = pk_stix_str(obj, "modified");
    if (!v) v = pk_stix_str(obj, "created");
    return v ? v : "";
}

int pk_stix_version_cmp(const char *a, const char *b)
{
    if (!a) a = "";
    if (!b) b = "";
    pk_time ta, tb;
    int okA = *a && pk_time_parse(a, strlen(a), PK_TIME_RFC3339, &ta, NULL) == PK_OK;
    int okB = *b && pk_time_parse(b, strlen(b), PK_TIME_RFC3339, &tb, NULL) == PK_OK;
    if (okA && okB) return pk_time_cmp(&ta, &tb);
    if (okA != okB) return okA ? 1 : -1;
    return strcmp(a, b);
}

/* ---- TLP ---- */

static const struct {
    const char *id;
    pk_tlp tlp;
} tlp_ids[] = {
    /* TLP 1.0, predefined by STIX 2.1 */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", PK_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", PK_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", PK_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", PK_TLP_RED},
    /* TLP 2.0 (OASIS cti-stix-common-objects) */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", PK_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", PK_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", PK_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", PK_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", PK_TLP_RED},
};

pk_tlp pk_stix_tlp_of(const char *id)
{
    if (!id) return PK_TLP_NONE;
    for (size_t i = 0; i < sizeof tlp_ids / sizeof *tlp_ids; i++)
        if (!strcmp(tlp_ids[i].id, id)) return tlp_ids[i].tlp;
    return PK_TLP_NONE;
}

pk_tlp pk_stix_object_tlp(const json_t *obj)
{
    pk_tlp t = PK_TLP_NONE;
    json_t *refs = json_object_get(obj, "object_marking_refs");
    for (size_t i = 0; i < json_array_size(refs); i++) {
        pk_tlp x = pk_stix_tlp_of(json_string_value(json_array_get(refs, i)));
        if (x > t) t = x;
    }
    return t;
}

const char *pk_tlp_name(pk_tlp t)
{
    switch (t) {
    case PK_TLP_CLEAR:
        return "clear";
    case PK_TLP_GREEN:
        return "green";
    case PK_TLP_AMBER:
        return "amber";
    case PK_TLP_AMBER_STRICT:
        return "amber+strict";
    case PK_TLP_RED:
        return "red";
    default:
        return "none";
    }
}

const char *pk_tlp_marking_id(pk_tlp t)
{
    for (size_t i = 4; i < sizeof tlp_ids / sizeof *tlp_ids; i++)
        if (tlp_ids[i].tlp == t) return tlp_ids[i].id;
    return "";
}

/* ---- observables ---- */

static int is_hashish(const char *path)
{
    return strstr(path, ":hashes.") != NULL;
}

pk_status pk_stix_normalize(const char *path, const char *value, pk_buf *out)
{
    pk_buf_reset(out);
    pk_status st = pk_buf_adds(out, value);
    if (st) return st;
    char *v = out->data;
    size_t n = out->len;
    if (!strcmp(path, "domain-name:value") || !strcmp(path, "email-addr:value")) {
        for (size_t i = 0; i < n; i++)
            v[i] = (char)tolower((unsigned char)v[i]);
        while (out->len > 1 && v[out->len - 1] == '.')
            v[--out->len] = '\0';
    } else if (is_hashish(path) || !strcmp(path, "ipv6-addr:value") ||
               !strcmp(path, "mac-addr:value")) {
        for (size_t i = 0; i < n; i++)
            v[i] = (char)tolower((unsigned char)v[i]);
    } else if (!strcmp(path, "url:value")) {
        /* scheme://host is case-insensitive; the path is not. */
        char *se = strstr(v, "://");
        if (se) {
            char *he = se + 3;
            while (*he && *he != '/' && *he != '?' && *he != '#')
                he++;
            for (char *p = v; p < he; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    }
    return PK_OK;
}

static pk_status emit(const char *path, const json_t *v, pk_stix_observable_fn fn, void *ud,
                      pk_buf *tmp)
{
    char num[32];
    const char *s = json_string_value(v);
    if (!s && json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
    }
    if (!s || !*s) return PK_OK;
    pk_status st = pk_stix_normalize(path, s, tmp);
    return st ? st : fn(path, tmp->data, ud);
}

pk_status pk_stix_observables(const json_t *sco, pk_stix_observable_fn fn, void *ud)
{
    static const struct {
        const char *type, *prop;
    } simple[] = {
        {"ipv4-addr", "value"},
        {"ipv6-addr", "value"},
        {"domain-name", "value"},
        {"url", "value"},
        {"email-addr", "value"},
        {"mac-addr", "value"},
        {"file", "name"},
        {"user-account", "account_login"},
        {"user-account", "user_id"},
        {"mutex", "name"},
        {"autonomous-system", "number"},
        {"windows-registry-key", "key"},
        {"directory", "path"},
        {"software", "cpe"},
        {"x509-certificate", "serial_number"},
    };
    const char *type = pk_stix_str(sco, "type");
    if (!type || pk_stix_type_kind(type) != PK_STIX_SCO) return PK_OK;
    pk_buf tmp, path;
    pk_buf_init(&tmp, 1 << 20);
    pk_buf_init(&path, 4096);
    pk_status st = PK_OK;
    for (size_t i = 0; i < sizeof simple / sizeof *simple && !st; i++) {
        if (strcmp(simple[i].type, type)) continue;
        pk_buf_reset(&path);
        st = pk_buf_addf(&path, "%s:%s", type, simple[i].prop);
        if (!st) st = emit(path.data, json_object_get(sco, simple[i].prop), fn, ud, &tmp);
    }
    json_t *hashes = json_object_get(sco, "hashes");
    const char *alg;
    json_t *h;
    if (json_is_object(hashes)) {
        json_object_foreach(hashes, alg, h)
        {
            if (st) break;
            pk_buf_reset(&path);
            st = pk_buf_addf(&path, "%s:hashes.%s", type, alg);
            if (!st) st = emit(path.data, h, fn, ud, &tmp);
        }
    }
    pk_buf_free(&tmp);
    pk_buf_free(&path);
    return st;
}

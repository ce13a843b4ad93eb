/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scrubbing an anonymous report: keep only object types and properties on an
 * allow-list, drop identities and anything that points back at the
 * submitter, give every object a fresh random id (references rewritten to
 * match), cut every timestamp to the day and redact given names.  The client
 * runs this before sending and the server again before storing.
 */
#include "privacy/privacy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Properties every kept object may carry. */
static const char *const common_props[] = {
    "type", "spec_version",        "id", "created", "modified", "revoked", "labels", "confidence",
    "lang", "object_marking_refs", NULL};

/* Per type, what may stay besides the common properties.  Anything else
 * (created_by_ref, external_references, granular_markings, extensions,
 * custom x_ properties other than ours) is dropped.  Types not listed are
 * dropped whole: identity, location, sighting (it would name the victim in
 * where_sighted_refs), note, opinion, grouping, network-traffic, mac-addr,
 * directory, process, artifact, ... */
static const struct allow {
    const char *type;
    const char *props[16];
} allow_table[] = {
    {"incident",
     {"name", "description", "kill_chain_phases", "x_picket_kind", "x_picket_sector",
      "x_picket_date", NULL}},
    {"report",
     {"name", "description", "report_types", "published", "object_refs", "x_picket_kind",
      "x_picket_sector", "x_picket_date", NULL}},
    {"observed-data", {"first_observed", "last_observed", "number_observed", "object_refs", NULL}},
    {"indicator",
     {"name", "description", "indicator_types", "pattern", "pattern_type", "pattern_version",
      "valid_from", "valid_until", "kill_chain_phases", NULL}},
    {"malware",
     {"name", "description", "malware_types", "is_family", "aliases", "first_seen", "last_seen",
      "kill_chain_phases", "capabilities", NULL}},
    {"attack-pattern", {"name", "description", "aliases", "kill_chain_phases", NULL}},
    {"threat-actor",
     {"name", "description", "threat_actor_types", "aliases", "first_seen", "last_seen", "goals",
      "sophistication", "resource_level", "primary_motivation", NULL}},
    {"intrusion-set",
     {"name", "description", "aliases", "first_seen", "last_seen", "goals", "resource_level",
      "primary_motivation", NULL}},
    {"campaign", {"name", "description", "aliases", "first_seen", "last_seen", "objective", NULL}},
    {"tool", {"name", "description", "tool_types", "aliases", "kill_chain_phases", NULL}},
    {"infrastructure",
     {"name", "description", "infrastructure_types", "aliases", "first_seen", "last_seen", NULL}},
    {"vulnerability", {"name", "description", NULL}},
    {"relationship",
     {"relationship_type", "description", "source_ref", "target_ref", "start_time", "stop_time",
      NULL}},
    {"user-account", {"user_id", "account_login", "account_type", "display_name", NULL}},
    {"email-addr", {"value", "display_name", NULL}},
    {"url", {"value", NULL}},
    {"domain-name", {"value", "resolves_to_refs", NULL}},
    {"ipv4-addr", {"value", "belongs_to_refs", NULL}},
    {"ipv6-addr", {"value", "belongs_to_refs", NULL}},
    {"autonomous-system", {"number", "name", "rir", NULL}},
    {"file", {"hashes", "size", "name", "mime_type", NULL}},
    {"email-message", {"is_multipart", "date", "subject", "from_ref", "sender_ref", NULL}},
    {"software", {"name", "cpe", "vendor", "version", NULL}},
    {"x509-certificate",
     {"hashes", "serial_number", "issuer", "subject", "validity_not_before", "validity_not_after",
      NULL}},
};

/* The four TLP 2.0 marking definitions (and TLP 1.0's white/green/amber/red)
 * are the only markings a report may keep: a statement marking can name its
 * author. */
static const char *const tlp_ids[] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", /* TLP 1 white */
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", /* TLP 1 green */
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", /* TLP 1 amber */
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", /* TLP 1 red */
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* TLP 2 clear */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* TLP 2 green */
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* TLP 2 amber */
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* TLP 2 amber+strict */
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* TLP 2 red */
    NULL,
};

static const struct allow *allow_for(const char *type)
{
    for (size_t i = 0; i < sizeof allow_table / sizeof *allow_table; i++)
        if (strcmp(allow_table[i].type, type) == 0) return &allow_table[i];
    return NULL;
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

static int is_tlp(const char *id)
{
    return in_list(tlp_ids, id);
}

int pki_is_ref_prop(const char *k)
{
    size_t n = strlen(k);
    return (n > 4 && strcmp(k + n - 4, "_ref") == 0) || (n > 5 && strcmp(k + n - 5, "_refs") == 0);
}

/* Case-insensitive search of `needle` (length m) in `hay` (length n). */
static const char *find_ci(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || m > n) return NULL;
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == m) return hay + i;
    }
    return NULL;
}

/* Replace every case-insensitive occurrence of a name with "[redacted]". */
static pk_status redact_string(json_t *str, const char *const *names, size_t n_names, size_t *count)
{
    const char *s = json_string_value(str);
    size_t len = json_string_length(str);
    int hit = 0;
    for (size_t i = 0; i < n_names && !hit; i++)
        if (names[i] && find_ci(s, len, names[i], strlen(names[i]))) hit = 1;
    if (!hit) return PK_OK;
    pk_buf b;
    pk_buf_init(&b, 0);
    size_t pos = 0;
    while (pos < len) {
        const char *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < n_names; i++) {
            if (!names[i] || !*names[i]) continue;
            size_t m = strlen(names[i]);
            const char *f = find_ci(s + pos, len - pos, names[i], m);
            if (f && (!best || f < best || (f == best && m > best_len))) {
                best = f;
                best_len = m;
            }
        }
        if (!best) {
            if (pk_buf_add(&b, s + pos, len - pos) != PK_OK) goto oom;
            break;
        }
        if (pk_buf_add(&b, s + pos, (size_t)(best - (s + pos))) != PK_OK ||
            pk_buf_adds(&b, "[redacted]") != PK_OK)
            goto oom;
        pos = (size_t)(best - s) + best_len;
        ++*count;
    }
    if (json_string_setn(str, b.data ? b.data : "", b.len) != 0) goto oom;
    pk_buf_free(&b);
    return PK_OK;
oom:
    pk_buf_free(&b);
    return PK_ENOMEM;
}

int pki_cut_to_day(const char *s, size_t n, char out[PK_TIME_STRLEN])
{
    pk_time t;
    if (pk_time_parse(s, n, PK_TIME_RFC3339, &t, NULL) != PK_OK) return 0;
    t.sec -= ((t.sec % 86400) + 86400) % 86400;
    t.nsec = 0;
    pk_time_format(&t, 3, out);
    return 1;
}

/* Times of day written in free text ("at 09:26", "09:26:53", the time part of
 * "2026-03-14T09:26:53Z") become "[time]": a report's timestamps are cut to
 * the day, and the same time in its description would undo that. */
static int digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t time_at(const char *s, size_t n, size_t i)
{
    if (i > 0 && (digit(s[i - 1]) || s[i - 1] == ':')) return 0;
    /* H:MM or HH:MM */
    size_t h = i + 1 < n && digit(s[i]) && digit(s[i + 1]) ? 2 : 1;
    if (i + h + 3 > n || !digit(s[i]) || s[i + h] != ':' || !digit(s[i + h + 1]) ||
        !digit(s[i + h + 2]))
        return 0;
    int hh = h == 2 ? (s[i] - '0') * 10 + (s[i + 1] - '0') : s[i] - '0';
    int mm = (s[i + h + 1] - '0') * 10 + (s[i + h + 2] - '0');
    if (hh > 23 || mm > 59) return 0;
    size_t e = i + h + 3;
    if (e + 3 <= n && s[e] == ':' && digit(s[e + 1]) && digit(s[e + 2])) {
        e += 3;
        if (e < n && (s[e] == '.' || s[e] == ',') && e + 1 < n && digit(s[e + 1])) {
            e++;
            while (e < n && digit(s[e]))
                e++;
        }
    }
    if (e < n && (digit(s[e]) || s[e] == ':')) return 0;
    return e - i;
}

static pk_status redact_times(json_t *str, size_t *count)
{
    const char *s = json_string_value(str);
    size_t n = json_string_length(str), i, hits = 0;
    for (i = 0; i < n; i++)
        if (time_at(s, n, i)) hits++;
    if (!hits) return PK_OK;
    pk_buf b;
    pk_buf_init(&b, 0);
    for (i = 0; i < n;) {
        size_t t = time_at(s, n, i);
        pk_status rc = t ? pk_buf_adds(&b, "[time]") : pk_buf_addc(&b, s[i]);
        if (rc != PK_OK) {
            pk_buf_free(&b);
            return PK_ENOMEM;
        }
        i += t ? t : 1;
    }
    int bad = json_string_setn(str, b.data ? b.data : "", b.len) != 0;
    pk_buf_free(&b);
    if (bad) return PK_ENOMEM;
    *count += hits;
    return PK_OK;
}

/* Walk a value: timestamps to the day, names redacted, nested too. */
static pk_status clean_value(json_t *v, const char *const *names, size_t n_names,
                             pk_scrub_stats *st)
{
    if (json_is_string(v)) {
        char day[PK_TIME_STRLEN];
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n >= 20 && n <= 40 && pki_cut_to_day(s, n, day)) {
            if (strcmp(s, day) != 0) {
                if (json_string_set(v, day) != 0) return PK_ENOMEM;
                st->timestamps_cut++;
            }
            return PK_OK;
        }
        return redact_string(v, names, n_names, &st->redacted);
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            pk_status rc = clean_value(e, names, n_names, st);
            if (rc != PK_OK) return rc;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            pk_status rc = clean_value(e, names, n_names, st);
            if (rc == PK_OK && json_is_string(e) &&
                (!strcmp(k, "description") || !strcmp(k, "name")))
                rc = redact_times(e, &st->timestamps_cut);
            if (rc != PK_OK) return rc;
        }
    }
    return PK_OK;
}

static pk_status new_id(const char *type, char *out, size_t n)
{
    pk_uuid u;
    char us[PK_UUID_STRLEN];
    if (pk_uuid_v4(&u) != PK_OK) return PK_EIO;
    pk_uuid_format(&u, us);
    snprintf(out, n, "%s--%s", type, us);
    return PK_OK;
}

/* Rewrite the references of one kept object through `idmap`; dangling ones
 * go.  Returns the number of references dropped. */
static pk_status rewrite_refs(json_t *obj, pk_map *idmap, size_t *dropped)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        if (!pki_is_ref_prop(k)) continue;
        if (strcmp(k, "object_marking_refs") == 0) {
            /* TLP markings keep their well-known ids. */
            size_t i = 0;
            while (i < json_array_size(v)) {
                const char *r = json_string_value(json_array_get(v, i));
                if (r && is_tlp(r)) {
                    i++;
                } else {
                    json_array_remove(v, i);
                    ++*dropped;
                }
            }
            if (json_array_size(v) == 0) json_object_del(obj, k);
            continue;
        }
        if (json_is_string(v)) {
            const char *r = json_string_value(v);
            const char *nid = pk_map_get(idmap, r, strlen(r));
            if (!nid) {
                json_object_del(obj, k);
                ++*dropped;
            } else if (json_string_set(v, nid) != 0) {
                return PK_ENOMEM;
            }
        } else if (json_is_array(v)) {
            size_t i = 0;
            while (i < json_array_size(v)) {
                json_t *e = json_array_get(v, i);
                const char *r = json_string_value(e);
                const char *nid = r ? pk_map_get(idmap, r, strlen(r)) : NULL;
                if (!nid) {
                    json_array_remove(v, i);
                    ++*dropped;
                    continue;
                }
                if (json_string_set(e, nid) != 0) return PK_ENOMEM;
                i++;
            }
            if (json_array_size(v) == 0) json_object_del(obj, k);
        } else {
            json_object_del(obj, k);
            ++*dropped;
        }
    }
    return PK_OK;
}

/* An object that lost what makes it meaningful goes too. */
static int still_useful(const json_t *o)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (strcmp(type, "relationship") == 0)
        return json_object_get(o, "source_ref") && json_object_get(o, "target_ref");
    if (strcmp(type, "observed-data") == 0) return json_object_get(o, "object_refs") != NULL;
    if (strcmp(type, "user-account") == 0)
        return json_object_get(o, "user_id") || json_object_get(o, "account_login") ||
               json_object_get(o, "display_name");
    if (strcmp(type, "file") == 0)
        return json_object_get(o, "hashes") || json_object_get(o, "name");
    if (strcmp(type, "email-addr") == 0 || strcmp(type, "url") == 0 ||
        strcmp(type, "domain-name") == 0 || strcmp(type, "ipv4-addr") == 0 ||
        strcmp(type, "ipv6-addr") == 0)
        return json_is_string(json_object_get(o, "value"));
    return 1;
}

static int cmp_objects(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

void pk_scrub_stats_clear(pk_scrub_stats *st)
{
    if (st) memset(st, 0, sizeof *st);
}

pk_status pk_privacy_scrub(const json_t *in, const char *const *names, size_t n_names, json_t **out,
                           pk_scrub_stats *stats, pk_error *err)
{
    pk_scrub_stats local;
    pk_scrub_stats *st = stats ? stats : &local;
    pk_scrub_stats_clear(st);
    *out = NULL;
    if (!json_is_object(in))
        return pk_error_set(err, PK_EPARSE, "a report must be a STIX bundle (a JSON object)");
    const char *btype = json_string_value(json_object_get(in, "type"));
    if (!btype || strcmp(btype, "bundle") != 0) {
        pk_error_object(err, NULL, "type");
        return pk_error_set(err, PK_EVALIDATE, "a report must be a STIX bundle (type \"bundle\")");
    }
    const json_t *objs = json_object_get(in, "objects");
    if (!json_is_array(objs)) {
        pk_error_object(err, NULL, "objects");
        return pk_error_set(err, PK_EVALIDATE, "the bundle has no \"objects\" array");
    }
    if (json_array_size(objs) > PK_PRIVACY_MAX_OBJECTS)
        return pk_error_set(err, PK_ELIMIT, "a report holds at most %d objects",
                            PK_PRIVACY_MAX_OBJECTS);

    pk_status rc = PK_ENOMEM;
    pk_map *idmap = pk_map_new(json_array_size(objs) * 2 + 8);
    json_t *kept = json_array();
    json_t *bundle = NULL;
    char **ids = NULL;
    size_t n_ids = 0;
    if (!idmap || !kept) goto out;
    ids = pk_calloc(json_array_size(objs) + 1, sizeof *ids);
    if (!ids) goto out;

    /* Pass 1: keep allowed types with allowed properties; new ids. */
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        const struct allow *al = type ? allow_for(type) : NULL;
        if (!json_is_object(o) || !type || !id || !al) {
            st->dropped_objects++;
            continue;
        }
        json_t *n = json_object();
        if (!n) goto out;
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            if (in_list(common_props, k) || in_list(al->props, k)) {
                json_t *c = json_deep_copy(v);
                if (!c || json_object_set_new(n, k, c) != 0) {
                    json_decref(n);
                    goto out;
                }
            } else {
                st->dropped_properties++;
            }
        }
        char nid[160];
        if ((rc = new_id(type, nid, sizeof nid)) != PK_OK) {
            json_decref(n);
            pk_error_set(err, rc, "no randomness for a fresh id");
            goto out;
        }
        rc = PK_ENOMEM;
        if (json_object_set_new(n, "id", json_string(nid)) != 0) {
            json_decref(n);
            goto out;
        }
        if (json_array_append_new(kept, n) != 0) goto out;
        char *copy = pk_strdup(nid);
        if (!copy) goto out;
        ids[n_ids++] = copy;
        if (pk_map_put(idmap, id, strlen(id), copy) != PK_OK) goto out;
    }

    /* Pass 2 until nothing changes: rewrite references, drop what lost its
     * point (a relationship whose end went, an observed-data with no objects
     * left), which may leave other references dangling. */
    for (int changed = 1; changed;) {
        changed = 0;
        size_t j = 0;
        while (j < json_array_size(kept)) {
            json_t *k = json_array_get(kept, j);
            if ((rc = rewrite_refs(k, idmap, &st->refs_dropped)) != PK_OK) goto out;
            if (!still_useful(k)) {
                /* Unmap it: refs to it now dangle and go in the next pass. */
                const char *nid = json_string_value(json_object_get(k, "id"));
                const void *key;
                size_t klen, it = 0;
                void *val;
                while (pk_map_next(idmap, &it, &key, &klen, &val))
                    if (strcmp((const char *)val, nid) == 0) {
                        pk_map_del(idmap, key, klen);
                        break;
                    }
                json_array_remove(kept, j);
                st->dropped_objects++;
                changed = 1;
                continue;
            }
            j++;
        }
        /* After the first pass references hold new ids: map them to themselves. */
        for (size_t x = 0; x < n_ids; x++) {
            int live = 0;
            json_t *k;
            size_t y;
            json_array_foreach(kept, y, k) if (strcmp(json_string_value(json_object_get(k, "id")),
                                                      ids[x]) == 0) live = 1;
            if (live) {
                if (pk_map_put(idmap, ids[x], strlen(ids[x]), ids[x]) != PK_OK) {
                    rc = PK_ENOMEM;
                    goto out;
                }
            } else {
                pk_map_del(idmap, ids[x], strlen(ids[x]));
            }
        }
    }

    /* Pass 3: timestamps to the day and names redacted, everywhere. */
    json_array_foreach(kept, i, o)
    {
        if ((rc = clean_value(o, names, n_names, st)) != PK_OK) goto out;
    }

    /* Order by the new (random) ids, so the order says nothing either. */
    size_t nk = json_array_size(kept);
    json_t **arr = pk_calloc(nk + 1, sizeof *arr);
    if (!arr) {
        rc = PK_ENOMEM;
        goto out;
    }
    for (i = 0; i < nk; i++)
        arr[i] = json_incref(json_array_get(kept, i));
    qsort(arr, nk, sizeof *arr, cmp_objects);
    json_array_clear(kept);
    rc = PK_OK;
    for (i = 0; i < nk; i++)
        if (json_array_append_new(kept, arr[i]) != 0) rc = PK_ENOMEM;
    pk_free(arr);
    if (rc != PK_OK) goto out;
    st->kept = nk;

    char bid[160];
    if ((rc = new_id("bundle", bid, sizeof bid)) != PK_OK) goto out;
    rc = PK_ENOMEM;
    bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id", bid, "objects", kept);
    if (!bundle) goto out;
    *out = bundle;
    bundle = NULL;
    rc = PK_OK;
out:
    if (rc == PK_ENOMEM) pk_error_set(err, rc, "out of memory scrubbing the report");
    json_decref(bundle);
    json_decref(kept);
    pk_map_free(idmap);
    for (size_t x = 0; x < n_ids; x++)
        pk_free(ids[x]);
    pk_free(ids);
    return rc;
}

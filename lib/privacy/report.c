/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report skeletons per incident kind, and the observables of a report that
 * count towards the k-threshold release (normalised so that two victims who
 * write the same recruiter's profile differently still agree).
 */
#include "privacy/privacy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"cyber-intrusion",
                                    "recruitment-approach",
                                    "insider",
                                    "theft-of-technology",
                                    "suspicious-visit",
                                    "other",
                                    NULL};

const char *const *pk_privacy_kinds(void)
{
    return kinds;
}

static pk_status lower_into(pk_buf *b, const char *s)
{
    for (; *s; s++)
        if (pk_buf_addc(b, (char)tolower((unsigned char)*s)) != PK_OK) return PK_ENOMEM;
    return PK_OK;
}

/* Append "path=value" (value lower-cased when `lower`) once to `out`. */
static pk_status add_obs(json_t *out, const char *path, const char *value, int lower)
{
    if (!value || !*value) return PK_OK;
    pk_buf b;
    pk_buf_init(&b, 4096);
    pk_status rc = pk_buf_adds(&b, path);
    if (rc == PK_OK) rc = pk_buf_addc(&b, '=');
    if (rc == PK_OK) rc = lower ? lower_into(&b, value) : pk_buf_adds(&b, value);
    /* A domain written with its root dot is the same domain. */
    if (rc == PK_OK && strncmp(path, "domain-name", 11) == 0 && b.len && b.data[b.len - 1] == '.')
        b.data[--b.len] = '\0';
    if (rc != PK_OK) {
        pk_buf_free(&b);
        return rc == PK_ELIMIT ? PK_OK : rc; /* absurdly long values never count */
    }
    size_t i;
    json_t *e;
    json_array_foreach(out, i, e) if (strcmp(json_string_value(e), b.data) == 0)
    {
        pk_buf_free(&b);
        return PK_OK;
    }
    rc = json_array_append_new(out, json_string(b.data)) == 0 ? PK_OK : PK_ENOMEM;
    pk_buf_free(&b);
    return rc;
}

pk_status pk_privacy_observables(const json_t *bundle, json_t **out, pk_error *err)
{
    *out = NULL;
    const json_t *objs = json_object_get(bundle, "objects");
    if (!json_is_array(objs)) return pk_error_set(err, PK_EVALIDATE, "not a bundle");
    json_t *res = json_array();
    if (!res) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_status rc = PK_OK;
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));
        const char *value = json_string_value(json_object_get(o, "value"));
        if (!t) continue;
        if (strcmp(t, "user-account") == 0) {
            const char *at = json_string_value(json_object_get(o, "account_type"));
            const char *uid = json_string_value(json_object_get(o, "user_id"));
            if (!uid) uid = json_string_value(json_object_get(o, "account_login"));
            char path[96];
            char atl[64] = "";
            for (size_t j = 0; at && at[j] && j + 1 < sizeof atl; j++) {
                atl[j] = (char)tolower((unsigned char)at[j]);
                atl[j + 1] = '\0';
            }
            snprintf(path, sizeof path, "user-account:%s", atl[0] ? atl : "unspecified");
            rc = add_obs(res, path, uid, 1);
        } else if (strcmp(t, "email-addr") == 0) {
            rc = add_obs(res, "email-addr:value", value, 1);
        } else if (strcmp(t, "domain-name") == 0) {
            rc = add_obs(res, "domain-name:value", value, 1);
        } else if (strcmp(t, "url") == 0) {
            rc = add_obs(res, "url:value", value, 0);
        } else if (strcmp(t, "ipv4-addr") == 0 || strcmp(t, "ipv6-addr") == 0) {
            char path[32];
            snprintf(path, sizeof path, "%s:value", t);
            rc = add_obs(res, path, value, 1);
        } else if (strcmp(t, "file") == 0) {
            const json_t *h = json_object_get(o, "hashes");
            static const char *const algs[] = {"SHA-256", "SHA-1", "MD5", NULL};
            for (int a = 0; algs[a]; a++) {
                const char *hv = json_string_value(json_object_get(h, algs[a]));
                if (hv) {
                    char path[48];
                    snprintf(path, sizeof path, "file:hashes.%s", algs[a]);
                    rc = add_obs(res, path, hv, 1);
                    break;
                }
            }
        }
        if (rc != PK_OK) break;
    }
    if (rc != PK_OK) {
        json_decref(res);
        return pk_error_set(err, rc, "out of memory listing observables");
    }
    *out = res;
    return PK_OK;
}

/* ---- templates ---- */

static json_t *sco(const char *type, const char *id_suffix, json_t *props)
{
    char id[128];
    snprintf(id, sizeof id, "%s--%s", type, id_suffix);
    json_object_set_new(props, "type", json_string(type));
    json_object_set_new(props, "spec_version", json_string("2.1"));
    json_object_set_new(props, "id", json_string(id));
    return props;
}

json_t *pk_privacy_template(const char *kind)
{
    int k = -1;
    for (int i = 0; kinds[i]; i++)
        if (kind && strcmp(kind, kinds[i]) == 0) k = i;
    if (k < 0) return NULL;
    char day[PK_TIME_STRLEN];
    pk_time now = pk_time_now();
    char nowbuf[PK_TIME_STRLEN];
    int n = pk_time_format(&now, 0, nowbuf);
    if (!pki_cut_to_day(nowbuf, (size_t)n, day)) return NULL;

    /* Fixed placeholder ids: the scrubber replaces every id anyway. */
    json_t *objs = json_array();
    json_t *refs = json_array();
    if (!objs || !refs) goto fail;
#define ADD(type, suf, ...)                                                                        \
    do {                                                                                           \
        json_t *o_ = sco(type, suf, json_pack(__VA_ARGS__));                                       \
        if (!o_) goto fail;                                                                        \
        json_array_append_new(objs, o_);                                                           \
        json_array_append_new(refs, json_string(type "--" suf));                                   \
    } while (0)
    switch (k) {
    case 0: /* cyber intrusion */
        ADD("ipv4-addr", "00000000-0000-4000-8000-000000000001", "{s:s}", "value", "203.0.113.10");
        ADD("domain-name", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "attacker.example");
        ADD("url", "00000000-0000-4000-8000-000000000003", "{s:s}", "value",
            "https://attacker.example/payload");
        ADD("file", "00000000-0000-4000-8000-000000000004", "{s:s, s:{s:s}}", "name",
            "invoice.docm", "hashes", "SHA-256",
            "0000000000000000000000000000000000000000000000000000000000000000");
        ADD("email-addr", "00000000-0000-4000-8000-000000000005", "{s:s}", "value",
            "sender@attacker.example");
        break;
    case 1: /* recruitment approach */
        ADD("user-account", "00000000-0000-4000-8000-000000000001", "{s:s, s:s, s:s}",
            "account_type", "linkedin", "user_id", "recruiter-profile-id", "display_name",
            "Name shown on the profile");
        ADD("url", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "https://www.linkedin.com/in/recruiter-profile-id");
        ADD("email-addr", "00000000-0000-4000-8000-000000000003", "{s:s}", "value",
            "recruiter@consultancy.example");
        break;
    case 2: /* insider */
        ADD("file", "00000000-0000-4000-8000-000000000001", "{s:s, s:{s:s}}", "name",
            "design-files.zip", "hashes", "SHA-256",
            "0000000000000000000000000000000000000000000000000000000000000000");
        ADD("email-addr", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "drop-box@mail.example");
        ADD("domain-name", "00000000-0000-4000-8000-000000000003", "{s:s}", "value",
            "file-sharing.example");
        break;
    case 3: /* theft of technology */
        ADD("file", "00000000-0000-4000-8000-000000000001", "{s:s, s:{s:s}}", "name",
            "specification.pdf", "hashes", "SHA-256",
            "0000000000000000000000000000000000000000000000000000000000000000");
        ADD("domain-name", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "front-company.example");
        ADD("email-addr", "00000000-0000-4000-8000-000000000003", "{s:s}", "value",
            "buyer@front-company.example");
        break;
    case 4: /* suspicious visit */
        ADD("email-addr", "00000000-0000-4000-8000-000000000001", "{s:s}", "value",
            "visitor@delegation.example");
        ADD("domain-name", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "delegation.example");
        break;
    default: /* other */
        ADD("email-addr", "00000000-0000-4000-8000-000000000001", "{s:s}", "value",
            "someone@example.org");
        ADD("url", "00000000-0000-4000-8000-000000000002", "{s:s}", "value",
            "https://example.org/");
        break;
    }
#undef ADD
    json_t *od = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:O}", "type", "observed-data",
                           "spec_version", "2.1", "id",
                           "observed-data--00000000-0000-4000-8000-0000000000a1", "created", day,
                           "modified", day, "first_observed", day, "last_observed", day,
                           "number_observed", 1, "object_refs", refs);
    json_t *inc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "incident", "spec_version",
        "2.1", "id", "incident--00000000-0000-4000-8000-0000000000a0", "created", day, "modified",
        day, "name", "Short title, e.g. 'Unsolicited recruiter approach'", "description",
        "What happened, in general terms. Leave out anything only your organisation could know: "
        "names of your people, projects, sites, exact times.",
        "x_picket_kind", kinds[k], "x_picket_sector",
        "your sector, e.g. aerospace, energy, semiconductors", "x_picket_date", day);
    json_t *rel =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "relationship",
                  "spec_version", "2.1", "id", "relationship--00000000-0000-4000-8000-0000000000a2",
                  "created", day, "modified", day, "relationship_type", "related-to", "source_ref",
                  "incident--00000000-0000-4000-8000-0000000000a0", "target_ref",
                  "observed-data--00000000-0000-4000-8000-0000000000a1");
    if (!od || !inc || !rel) {
        json_decref(od);
        json_decref(inc);
        json_decref(rel);
        goto fail;
    }
    json_array_insert_new(objs, 0, rel);
    json_array_insert_new(objs, 0, od);
    json_array_insert_new(objs, 0, inc);
    json_decref(refs);
    json_t *b = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id",
                          "bundle--00000000-0000-4000-8000-000000000000", "objects", objs);
    return b;
fail:
    json_decref(objs);
    json_decref(refs);
    return NULL;
}

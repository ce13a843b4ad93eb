/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks an object in a POSTed envelope must pass before it is stored:
 * a well-formed identity (type, id, spec_version), STIX timestamps where the
 * kind of object needs them, and well-formed marking references.  The reason
 * for a refusal names the property, for the status resource's failures.
 */
#include "taxii_int.h"

#include "picket/stix.h"

#include <string.h>

int pki_tx_valid_type(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 250) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return s[0] != '-' && s[n - 1] != '-';
}

int pki_tx_valid_id(const char *s)
{
    const char *d = strstr(s, "--");
    if (!d) return 0;
    char type[256];
    size_t tn = (size_t)(d - s);
    if (tn >= sizeof type) return 0;
    memcpy(type, s, tn);
    type[tn] = '\0';
    pk_uuid u;
    return pki_tx_valid_type(type) && strlen(d + 2) == 36 && pk_uuid_parse(d + 2, 36, &u) == PK_OK;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(why, why_n, __VA_ARGS__);                                                         \
        return PK_EVALIDATE;                                                                       \
    } while (0)

static pk_status timestamp(json_t *obj, const char *prop, int64_t *out, char *why, size_t why_n)
{
    json_t *v = json_object_get(obj, prop);
    if (!v) return PK_ENOTFOUND;
    const char *s = json_string_value(v);
    if (!s) FAIL("%s: expected a timestamp string", prop);
    if (pki_tx_time_parse_us(s, PK_TIME_STIX, out) != PK_OK)
        FAIL("%s: '%.40s' is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)", prop, s);
    return PK_OK;
}

pk_status pki_tx_object_check(json_t *obj, pki_tx_obj *out, char *why, size_t why_n)
{
    memset(out, 0, sizeof *out);
    why[0] = '\0';
    if (!json_is_object(obj)) FAIL("not a JSON object");
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (!type) FAIL("type: missing or not a string");
    if (!pki_tx_valid_type(type))
        FAIL("type: '%.64s' is not a STIX type (a-z, 0-9, '-', 3 to 250 characters)", type);
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (!id) FAIL("id: missing or not a string");
    size_t tn = strlen(type);
    if (!pki_tx_valid_id(id) || strncmp(id, type, tn) != 0 || strncmp(id + tn, "--", 2) != 0)
        FAIL("id: '%.100s' is not '%s--' followed by a UUID", id, type);
    json_t *sv = json_object_get(obj, "spec_version");
    const char *spec = json_string_value(sv);
    int sco = pk_stix_type_kind(type) == PK_STIX_SCO;
    if (sv && !spec) FAIL("spec_version: expected a string");
    if (spec && strcmp(spec, "2.1") != 0)
        FAIL("spec_version: '%.16s' is not 2.1 (convert STIX 2.0 with picket import)", spec);
    if (!spec && !sco) FAIL("spec_version: missing (required on every SDO and SRO)");
    int64_t created = 0, modified = 0;
    pk_status sc = timestamp(obj, "created", &created, why, why_n);
    if (sc == PK_EVALIDATE) return sc;
    pk_status sm = timestamp(obj, "modified", &modified, why, why_n);
    if (sm == PK_EVALIDATE) return sm;
    if (!sco) {
        if (sc == PK_ENOTFOUND) FAIL("created: missing (required on every SDO and SRO)");
        if (sm == PK_ENOTFOUND && strcmp(type, "marking-definition") != 0)
            FAIL("modified: missing (required on every SDO and SRO)");
    }
    if (sc == PK_OK && sm == PK_OK && modified < created) FAIL("modified: earlier than created");
    json_t *refs = json_object_get(obj, "object_marking_refs");
    if (refs) {
        size_t i;
        json_t *r;
        if (!json_is_array(refs)) FAIL("object_marking_refs: expected a list of ids");
        json_array_foreach(refs, i, r)
        {
            const char *s = json_string_value(r);
            if (!s || strncmp(s, "marking-definition--", 20) != 0 || !pki_tx_valid_id(s))
                FAIL("object_marking_refs[%zu]: not a marking-definition id", i);
        }
    }
    json_t *gms = json_object_get(obj, "granular_markings");
    if (gms) {
        size_t i;
        json_t *g;
        if (!json_is_array(gms)) FAIL("granular_markings: expected a list");
        json_array_foreach(gms, i, g)
        {
            json_t *sel = json_object_get(g, "selectors");
            if (!json_is_object(g) || !json_is_array(sel) || json_array_size(sel) == 0)
                FAIL("granular_markings[%zu]: needs a non-empty selectors list", i);
            if (!json_string_value(json_object_get(g, "marking_ref")) &&
                !json_string_value(json_object_get(g, "lang")))
                FAIL("granular_markings[%zu]: needs marking_ref or lang", i);
        }
    }
    out->obj = obj;
    out->id = id;
    out->type = type;
    out->spec_version = spec ? spec : "2.1";
    out->version = sm == PK_OK ? modified : sc == PK_OK ? created : 0;
    out->tlp = pki_tlp_of_object(obj);
    out->granular = pki_tlp_of_granular(obj);
    return PK_OK;
}

/* ---- a POSTed envelope, read and checked before the store is touched ----- */

/* Why pk_stix_validate refused an object: its first error, as one line. */
static void first_issue(pk_stix_report *rep, char *why, size_t n)
{
    for (size_t i = 0; i < pk_stix_report_count(rep); i++) {
        const pk_stix_issue *is = pk_stix_report_get(rep, i);
        if (is->warning) continue;
        if (is->err.property[0])
            snprintf(why, n, "%.100s: %.280s", is->err.property, is->err.message);
        else
            snprintf(why, n, "%.380s", is->err.message);
        return;
    }
    snprintf(why, n, "invalid");
}

void pki_tx_batch_free(pki_tx_batch *b)
{
    if (!b) return;
    /* Parsed into the arena: dropped with it. */
    for (size_t i = 0; i < b->n && !b->json_in_arena; i++)
        json_decref(b->items[i].json);
    pk_free(b->items);
    pk_arena_free(b->arena);
    pk_free(b);
}

static pk_status batch_push(pki_tx_batch *b, pki_tx_item **out)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        pki_tx_item *ni = pk_realloc(b->items, cap * sizeof *ni);
        if (!ni) return PK_ENOMEM;
        b->items = ni;
        b->cap = cap;
    }
    *out = &b->items[b->n++];
    memset(*out, 0, sizeof **out);
    return PK_OK;
}

pk_status pki_tx_batch_read(const char *body, size_t len, size_t max_objects, pki_tx_batch **out,
                            pk_error *err)
{
    *out = NULL;
    pki_tx_batch *b = pk_calloc(1, sizeof *b);
    pk_stix_report *rep = pk_stix_report_new();
    pk_stix_reader *rd = NULL;
    pk_status s = PK_OK;
    int parse_failed = 0;
    if (!b || !rep || !(b->arena = pk_arena_new(256 * 1024, 0))) {
        s = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto out;
    }
    /* The parsed objects live in the batch's arena (about a third of the
     * parse was malloc and free of jansson's nodes). */
    b->json_in_arena = pk_json_arena(b->arena);
    if ((s = pk_stix_reader_open_mem(body, len, "request", NULL, &rd, err))) goto out;
    for (;;) {
        pk_stix_item item;
        pk_error e;
        pk_error_clear(&e);
        pk_status r = pk_stix_reader_next(rd, &item, &e);
        if (r == PK_ENOTFOUND) break;
        if (pk_stix_reader_format(rd) != PK_STIX_FMT_BUNDLE) {
            s = r == PK_EPARSE
                    ? pk_error_set(err, PK_EPARSE, "the body is not JSON: %.300s", e.message)
                    : pk_error_set(err, PK_EPARSE, "expected an envelope: {\"objects\": [...]}");
            goto out;
        }
        if (b->n >= max_objects) {
            s = pk_error_set(err, PK_ELIMIT, "an envelope may hold at most %zu objects",
                             max_objects);
            goto out;
        }
        if (r != PK_OK && r != PK_EPARSE && r != PK_ELIMIT) {
            s = pk_error_set(err, r, "%s", e.message);
            goto out;
        }
        pki_tx_item *it;
        char where[40], why[400];
        snprintf(where, sizeof where, "objects[%zu]", b->n);
        if (batch_push(b, &it) || !(it->where = pk_arena_strdup(b->arena, where))) {
            s = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto out;
        }
        if (r != PK_OK) {
            parse_failed |= r == PK_EPARSE;
            it->why = pk_arena_strndup(b->arena, e.message, strnlen(e.message, 300));
            if (!it->why) {
                s = pk_error_set(err, PK_ENOMEM, "out of memory");
                goto out;
            }
            continue;
        }
        it->json = json_incref(item.json);
        it->raw = pk_arena_strndup(b->arena, item.raw, item.raw_len);
        it->raw_len = item.raw_len;
        if (!it->raw) {
            s = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto out;
        }
        if (pki_tx_object_check(it->json, &it->o, why, sizeof why) == PK_OK) {
            pk_stix_report_clear(rep);
            if (pk_stix_validate(it->json, PK_STIX_VAL_NO_WARNINGS, rep) == PK_EVALIDATE)
                first_issue(rep, why, sizeof why);
            else
                why[0] = '\0';
        }
        if (why[0] && !(it->why = pk_arena_strdup(b->arena, why))) {
            s = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (parse_failed) {
        /* A malformed element makes the whole body malformed JSON, unless the
         * element was only not an object: tell the two apart once, here. */
        json_error_t je;
        json_t *whole = json_loadb(body, len, 0, &je);
        if (!whole) {
            s = pk_error_set(err, PK_EPARSE, "the body is not JSON: byte %d: %s", je.position,
                             je.text);
            goto out;
        }
        json_decref(whole);
    }
    if (pk_stix_reader_format(rd) != PK_STIX_FMT_BUNDLE)
        s = pk_error_set(err, PK_EPARSE, "expected an envelope: {\"objects\": [...]}");
out:
    pk_stix_reader_free(rd);
    pk_stix_report_free(rep);
    pk_json_arena(NULL);
    if (s) {
        pki_tx_batch_free(b);
        return s;
    }
    *out = b;
    return PK_OK;
}

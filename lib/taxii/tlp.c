/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLP levels of STIX objects, from their object and granular markings, and
 * the property filter that hides granularly marked properties from a reader
 * who may not see their level.  The levels are ordered so that "more
 * restrictive" is "greater": CLEAR < GREEN < AMBER < AMBER+STRICT < RED.
 */
#include "taxii_int.h"

#include <string.h>

static const struct {
    const char *id;
    int level;
} tlp_ids[] = {
    /* TLP 2.0 (the OASIS tlp-2.0 extension's fixed ids) */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", PKI_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", PKI_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", PKI_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", PKI_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", PKI_TLP_RED},
    /* TLP 1.0 as predefined by STIX 2.1 (white is CLEAR) */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", PKI_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", PKI_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", PKI_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", PKI_TLP_RED},
};

int pki_tlp_of_marking(const char *id)
{
    if (!id) return PKI_TLP_NONE;
    for (size_t i = 0; i < sizeof tlp_ids / sizeof *tlp_ids; i++)
        if (!strcmp(id, tlp_ids[i].id)) return tlp_ids[i].level;
    return PKI_TLP_NONE;
}

int pki_tlp_of_object(json_t *obj)
{
    int level = PKI_TLP_NONE;
    json_t *refs = json_object_get(obj, "object_marking_refs");
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        int l = pki_tlp_of_marking(json_string_value(r));
        if (l > level) level = l;
    }
    return level;
}

int pki_tlp_of_granular(json_t *obj)
{
    int level = PKI_TLP_NONE;
    json_t *gms = json_object_get(obj, "granular_markings");
    size_t i;
    json_t *g;
    json_array_foreach(gms, i, g)
    {
        int l = pki_tlp_of_marking(json_string_value(json_object_get(g, "marking_ref")));
        if (l > level) level = l;
    }
    return level;
}

static int is_identity_prop(const char *k)
{
    return !strcmp(k, "id") || !strcmp(k, "type") || !strcmp(k, "spec_version") ||
           !strcmp(k, "created") || !strcmp(k, "modified") || !strcmp(k, "granular_markings");
}

int pki_tlp_drop_granular(json_t *obj, unsigned visible)
{
    json_t *gms = json_object_get(obj, "granular_markings");
    if (!json_is_array(gms)) return 0;
    int dropped = 0;
    size_t i, j;
    json_t *g, *sel;
    json_array_foreach(gms, i, g)
    {
        int l = pki_tlp_of_marking(json_string_value(json_object_get(g, "marking_ref")));
        if (l < 0 || (visible >> l & 1)) continue;
        json_array_foreach(json_object_get(g, "selectors"), j, sel)
        {
            const char *s = json_string_value(sel);
            if (!s) continue;
            /* The first segment names the top-level property; dropping it whole
             * hides at least what the selector covers. */
            char key[256];
            size_t n = strcspn(s, ".[");
            if (n == 0 || n >= sizeof key) continue;
            memcpy(key, s, n);
            key[n] = '\0';
            if (is_identity_prop(key)) continue;
            if (json_object_del(obj, key) == 0) dropped++;
        }
    }
    return dropped;
}

unsigned pki_tlp_visible_mask(int same_org, int red_shared)
{
    unsigned m = 1u << PKI_TLP_CLEAR | 1u << PKI_TLP_GREEN | 1u << PKI_TLP_AMBER;
    if (same_org) m |= 1u << PKI_TLP_AMBER_STRICT | 1u << PKI_TLP_RED;
    if (red_shared) m |= 1u << PKI_TLP_RED;
    return m;
}

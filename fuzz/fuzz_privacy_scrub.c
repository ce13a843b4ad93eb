/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: scrubbing a report (any JSON) and listing its observables.
 * Scrubbing what was scrubbed keeps the same number of objects, and no
 * string in the result is a timestamp with a time of day. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_time_of_day(const json_t *v)
{
    if (json_is_string(v)) {
        pk_time t;
        const char *s = json_string_value(v);
        return pk_time_parse(s, strlen(s), PK_TIME_RFC3339, &t, NULL) == PK_OK &&
               (t.sec % 86400 != 0 || t.nsec != 0);
    }
    size_t i;
    const char *k;
    json_t *e;
    if (json_is_array(v)) json_array_foreach(v, i, e) if (has_time_of_day(e)) return 1;
    if (json_is_object(v)) json_object_foreach((json_t *)v, k, e) if (has_time_of_day(e)) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    if (!in) return 0;
    const char *names[] = {"acme", "x"};
    json_t *out = NULL, *again = NULL, *obs = NULL;
    pk_scrub_stats st;
    if (pk_privacy_scrub(in, names, 2, &out, &st, NULL) == PK_OK) {
        if (!out || has_time_of_day(out)) abort();
        if (pk_privacy_scrub(out, names, 2, &again, NULL, NULL) != PK_OK) abort();
        if (json_array_size(json_object_get(again, "objects")) != st.kept) abort();
        if (pk_privacy_observables(out, &obs, NULL) != PK_OK) abort();
    }
    json_decref(obs);
    json_decref(again);
    json_decref(out);
    json_decref(in);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluation of patterns over observed-data.  STUB in this first landing:
 * every entry point answers PK_EUNSUPPORTED; the evaluator lands next.
 */
#include "pattern_int.h"

struct pk_pattern_obs {
    int unused;
};

pk_status pk_pattern_obs_new(pk_pattern_obs **out, pk_error *err)
{
    *out = NULL;
    return pk_error_set(err, PK_EUNSUPPORTED, "pattern evaluation is not implemented yet");
}

void pk_pattern_obs_free(pk_pattern_obs *s)
{
    pk_free(s);
}

pk_status pk_pattern_obs_add(pk_pattern_obs *s, const struct json_t *doc, pk_pattern_spec spec,
                             pk_error *err)
{
    return pk_error_set(err, PK_EUNSUPPORTED, "pattern evaluation is not implemented yet");
}

size_t pk_pattern_obs_count(const pk_pattern_obs *s)
{
    return 0;
}

const char *pk_pattern_obs_id(const pk_pattern_obs *s, size_t i)
{
    return NULL;
}

pk_status pk_pattern_eval(const pk_pattern *p, const pk_pattern_obs *s, pk_pattern_result *out,
                          pk_error *err)
{
    out->index = NULL;
    out->count = 0;
    return pk_error_set(err, PK_EUNSUPPORTED, "pattern evaluation is not implemented yet");
}

void pk_pattern_result_free(pk_pattern_result *r)
{
    if (!r) return;
    pk_free(r->index);
    r->index = NULL;
    r->count = 0;
}

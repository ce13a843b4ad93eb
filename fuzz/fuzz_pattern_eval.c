/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: parse and evaluate.  Input: a spec byte, the pattern, a NUL,
 * then JSON observations (a bundle or an array).  Without a NUL the pattern
 * runs over a built-in set of observed-data that exercises references, lists,
 * binary properties, addresses and timestamps. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char builtin[] =
    "[{\"type\":\"observed-data\",\"id\":\"observed-data--a\",\"first_observed\":"
    "\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:05Z\",\"number_observed\":3,"
    "\"object_refs\":[\"ipv4-addr--1\",\"network-traffic--1\",\"file--1\"]},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"198.51.100.7\"},"
    "{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\",\"dst_ref\":\"ipv4-addr--1\","
    "\"src_ref\":\"network-traffic--1\",\"dst_port\":443,\"protocols\":[\"tcp\",\"tls\"]},"
    "{\"type\":\"file\",\"id\":\"file--1\",\"name\":\"a.exe\",\"size\":1280,\"hashes\":"
    "{\"SHA-256\":\"00ff\"},\"payload_bin\":\"aGVsbG8=\",\"x_hex\":\"00ff\",\"ok\":true,"
    "\"when\":\"2020-01-01T00:00:00.5Z\",\"refs_refs\":[\"file--1\",\"ipv4-addr--1\"]},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--b\",\"first_observed\":"
    "\"2020-01-01T00:01:00Z\",\"last_observed\":\"2020-01-01T00:01:00Z\",\"number_observed\":1,"
    "\"objects\":{\"0\":{\"type\":\"domain-name\",\"value\":\"evil.example\",\"resolves_to_refs\":"
    "[\"1\"]},\"1\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db8::1\"}}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    pk_pattern_spec spec = (pk_pattern_spec)(data[0] % 3);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(text, '\0', n);
    size_t plen = nul ? (size_t)(nul - text) : n;
    pk_pattern *p = NULL;
    pk_error err;
    if (pk_pattern_parse(text, plen, spec, &p, &err) != PK_OK) return 0;
    json_t *doc = nul ? json_loadb(nul + 1, n - plen - 1, 0, NULL) : json_loads(builtin, 0, NULL);
    pk_pattern_obs *obs = NULL;
    if (doc && pk_pattern_obs_new(&obs, &err) == PK_OK &&
        pk_pattern_obs_add(obs, doc, spec, &err) == PK_OK) {
        pk_pattern_result r;
        if (pk_pattern_eval(p, obs, &r, &err) == PK_OK) {
            for (size_t i = 0; i < r.count; i++)
                if (r.index[i] >= pk_pattern_obs_count(obs) || (i && r.index[i] <= r.index[i - 1]))
                    abort();
            pk_pattern_result_free(&r);
        }
    }
    pk_pattern_obs_free(obs);
    json_decref(doc);
    pk_pattern_free(p);
    return 0;
}

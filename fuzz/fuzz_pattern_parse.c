/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the STIX pattern parser.  The first byte picks the spec
 * version; every pattern that parses must print to a canonical text that
 * parses again to the same tree and prints the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    pk_pattern_spec spec = (pk_pattern_spec)(data[0] % 3);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    pk_pattern *p = NULL, *q = NULL;
    pk_error err;
    if (pk_pattern_parse(text, n, spec, &p, &err) != PK_OK) {
        if (p) abort();
        if (err.code != PK_ENOMEM && (err.column < 1 || err.column > (long)n + 1)) abort();
        return 0;
    }
    const char *c = pk_pattern_canonical(p);
    if (pk_pattern_parse(c, strlen(c), spec, &q, &err) != PK_OK) abort();
    if (!pki_pattern_equal(pk_pattern_root(p), pk_pattern_root(q))) abort();
    if (strcmp(c, pk_pattern_canonical(q)) != 0) abort();
    const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
    for (size_t i = 0; i < a->count; i++)
        if (!a->anchor[i].path || !a->anchor[i].value) abort();
    pk_pattern_free(q);
    pk_pattern_free(p);
    return 0;
}

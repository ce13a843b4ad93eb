/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: RFC 3339 / STIX timestamps, parsed under both rule sets and,
 * when valid, formatted and parsed back to the same instant. */
#include <stdint.h>
#include <stdlib.h>

#include "picket/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int rules = PK_TIME_STIX; rules <= PK_TIME_RFC3339; rules++) {
        pk_time t, back;
        pk_error err;
        pk_error_clear(&err);
        if (pk_time_parse((const char *)data, size, rules, &t, &err) != PK_OK) continue;
        char out[PK_TIME_STRLEN];
        int n = pk_time_format(&t, -1, out);
        if (t.sec >= -62167219200LL && t.sec < 253402300800LL) {
            if (pk_time_parse(out, (size_t)n, PK_TIME_STIX, &back, NULL) != PK_OK) abort();
            if (pk_time_cmp(&t, &back) != 0) abort();
        }
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the wallet file.  Whatever parses must pass the check again
 * after a round trip through text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *w = NULL;
    pk_error err;
    pk_error_clear(&err);
    if (pk_privacy_wallet_parse((const char *)data, size, &w, &err) != PK_OK) {
        if (w) abort();
        return 0;
    }
    char *s = json_dumps(w, JSON_COMPACT);
    json_t *back = NULL;
    if (s && pk_privacy_wallet_parse(s, strlen(s), &back, NULL) != PK_OK) abort();
    json_decref(back);
    pk_free(s);
    json_decref(w);
    return 0;
}

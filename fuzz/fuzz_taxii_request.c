/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what the TAXII server parses from a request line and headers.
 * The first byte picks the parser: query-string filters (with an endpoint
 * mask from the second byte), Accept, Content-Type, Authorization, a cursor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/util.h"
#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536) return 0;
    int which = data[0] % 5;
    unsigned mask = data[1] & PKI_TXF_ALL;
    char *s = pk_malloc(size - 1);
    if (!s) return 0;
    memcpy(s, data + 2, size - 2);
    s[size - 2] = '\0';
    switch (which) {
    case 0: {
        pki_tx_filter f;
        if (pki_tx_filter_init(&f) == PK_OK) {
            pk_error err;
            pk_error_clear(&err);
            pk_status st =
                pki_tx_filter_parse_query(&f, mask, (const char *)data + 2, size - 2, &err);
            if (st == PK_OK) {
                if (f.n_ids > PKI_TX_LIST_MAX || f.n_types > PKI_TX_LIST_MAX ||
                    f.n_vtimes > PKI_TX_LIST_MAX || f.n_spec > PKI_TX_LIST_MAX)
                    abort();
                if (f.limit < 0) abort();
            } else if (!err.message[0]) {
                abort(); /* every refusal says why */
            }
            pki_tx_filter_free(&f);
        }
        break;
    }
    case 1:
        (void)pki_tx_accept_ok(s);
        break;
    case 2:
        (void)pki_tx_content_type_ok(s);
        break;
    case 3: {
        char user[128], token[256];
        int sc = pki_tx_auth_parse(s, user, sizeof user, token, sizeof token);
        if (sc != PKI_TX_AUTH_NONE && (strlen(token) == 0 || strlen(token) >= sizeof token))
            abort();
        break;
    }
    default: {
        int64_t v;
        if (pki_tx_cursor_parse(s, &v) == PK_OK) {
            char back[PKI_TX_CURSOR_LEN];
            pki_tx_cursor_format(v, back);
            int64_t v2;
            if (pki_tx_cursor_parse(back, &v2) != PK_OK || v2 != v) abort();
        }
    }
    }
    pk_free(s);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a POSTed TAXII envelope, read and checked as the server does
 * before it touches the store (streaming reader, object checks, STIX
 * validation), then the granular TLP filter for every kind of reader; a kept
 * object must keep its identity properties. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "picket/util.h"
#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        pk_init();
        init = 1;
    }
    if (size > 1 << 20) return 0;
    /* What the server does with a POST body before it touches the store. */
    pki_tx_batch *batch = NULL;
    pk_error err;
    pk_error_clear(&err);
    pk_status st = pki_tx_batch_read((const char *)data, size, 1000, &batch, &err);
    if (st != PK_OK) {
        if (!err.message[0]) abort(); /* every refusal says why */
        return 0;
    }
    for (size_t i = 0; i < batch->n; i++) {
        const pki_tx_item *it = &batch->items[i];
        if (it->why) continue;
        if (!it->json || !it->raw || !it->o.id) abort();
        for (int same = 0; same < 2; same++)
            for (int red = 0; red < 2; red++) {
                json_t *c = json_deep_copy(it->json);
                if (!c) continue;
                pki_tlp_drop_granular(c, pki_tlp_visible_mask(same, red));
                if (!json_object_get(c, "id") || !json_object_get(c, "type")) abort();
                json_decref(c);
            }
    }
    pki_tx_batch_free(batch);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a POSTed TAXII envelope.  Each object goes through the checks
 * the server applies before storing, and the granular TLP filter for every
 * kind of reader; a kept object must keep its identity properties. */
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
    json_t *env = json_loadb((const char *)data, size, 0, NULL);
    if (!env) return 0;
    json_t *objects = json_object_get(env, "objects");
    size_t i;
    json_t *o;
    json_array_foreach(objects, i, o)
    {
        pki_tx_obj out;
        char why[300];
        if (pki_tx_object_check(o, &out, why, sizeof why) != PK_OK) {
            if (!why[0]) abort();
            continue;
        }
        for (int same = 0; same < 2; same++)
            for (int red = 0; red < 2; red++) {
                json_t *c = json_deep_copy(o);
                if (!c) continue;
                pki_tlp_drop_granular(c, pki_tlp_visible_mask(same, red));
                if (!json_object_get(c, "id") || !json_object_get(c, "type")) abort();
                json_decref(c);
            }
    }
    json_decref(env);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the STIX reader and validator.  The first byte picks the
 * reader's limits (tiny objects and chunks reach the refill and skip paths);
 * every object read is upgraded if 2.0, validated, given its SCO id and
 * canonical form, minified, and its observables are walked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pk_status obs(const char *path, const char *value, void *ud)
{
    (void)path;
    (void)value;
    (void)ud;
    return PK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        pk_init();
        init = 1;
    }
    if (size < 1) return 0;
    pk_stix_reader_opts o = {0, 0};
    if (data[0] & 1) o.max_object = 1 + (data[0] >> 1);
    data++;
    size--;
    pk_stix_reader *r;
    if (pk_stix_reader_open_mem(data, size, "fuzz", &o, &r, NULL)) return 0;
    pk_stix_report *rep = pk_stix_report_new();
    pk_buf b;
    pk_buf_init(&b, 1 << 20);
    pk_stix_item it;
    pk_status s;
    int guard = 0;
    while ((s = pk_stix_reader_next(r, &it, NULL)) != PK_ENOTFOUND && guard++ < 100000) {
        if (s == PK_ENOMEM || s == PK_EIO) break;
        if (s != PK_OK) continue;
        if (it.raw_len == 0 || it.raw[0] != '{' || it.raw[it.raw_len - 1] != '}') abort();
        unsigned ch;
        if (pk_stix_is_20(it.json, pk_stix_reader_bundle_spec_version(r)))
            pk_stix_upgrade(it.json, &ch);
        pk_stix_report_clear(rep);
        pk_stix_validate(it.json, 0, rep);
        char id[PK_STIX_ID_MAX];
        pk_stix_sco_id(it.json, id, NULL);
        pk_buf_reset(&b);
        pk_stix_canonical(it.json, &b);
        pk_stix_minify(it.raw, it.raw_len, &b);
        pk_stix_observables(it.json, obs, NULL);
        pk_stix_object_tlp(it.json);
    }
    pk_buf_free(&b);
    pk_stix_report_free(rep);
    pk_stix_reader_free(r);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: IOC lists.  Whatever the list, the index must build, survive
 * a round trip through its bytes, and find every value it accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_match_compiler *c = pk_match_compiler_new();
    if (!c) abort();
    size_t added = 0, rejected = 0;
    if (pk_match_compiler_add_list(c, (const char *)data, size, "fuzz", NULL, NULL, &added,
                                   &rejected, NULL) != PK_OK)
        abort();
    if (added != pk_match_compiler_count(c)) abort();
    pk_match_index *ix, *back;
    if (pk_match_compile(c, &ix, NULL) != PK_OK) abort();
    pk_match_compiler_free(c);
    if (pk_match_index_from_memory(ix->base, ix->size, &back, NULL) != PK_OK) abort();
    /* every exact entry is found through the filter and the table */
    for (uint32_t i = 0; i < ix->h->n_entries; i++) {
        const pki_entry *e = &ix->entries[i];
        if (e->type == PK_IOC_CIDR) continue;
        const uint8_t *k = ix->keys + e->key_off;
        long f = pki_probe(back, e->type, k, e->key_len, pki_hash(e->type, k, e->key_len));
        if (f < 0 || f > (long)i) abort();
    }
    pk_match_index_free(back);
    pk_match_index_free(ix);
    return 0;
}

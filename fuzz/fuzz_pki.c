/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the .pki loader.  Any bytes: refused cleanly, or accepted and
 * then safe to match against. */
#include "fuzz_match_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char line[] =
    "{\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"2001:db8::1\",\"dns\":"
    "{\"rrname\":\"a.evil.com\"},\"http\":{\"hostname\":\"evil.com\",\"url\":\"/x\"}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_match_index *ix;
    if (pk_match_index_from_memory(data, size, &ix, NULL) != PK_OK) return 0;
    pk_match_scanner *s;
    pk_match_options opt = {PK_FMT_EVE, NULL, 0};
    if (pk_match_scanner_new(ix, &opt, NULL, &s, NULL) != PK_OK) abort();
    pk_match_scanner_feed(s, line, sizeof line - 1, NULL);
    pk_match_scanner_free(s);
    pk_match_index_free(ix);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the text log adapter of picket match, fed in chunks whose size
 * the first byte picks; every alert must render and the counts agree. */
#include "fuzz_match_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_scan(data, size, PK_FMT_TEXT, NULL);
    return 0;
}

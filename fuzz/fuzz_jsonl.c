/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: generic JSON lines with a field map (nested and flat dotted
 * paths, a text field), and the same bytes with format sniffing. */
#include "fuzz_match_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_scan(data, size, PK_FMT_JSONL,
              "client.ip=ip,req.host=domain,req.url=url,msg=text,user=user-account,a.b.c=hash");
    fuzz_scan(data, size, PK_FMT_AUTO, NULL);
    return 0;
}

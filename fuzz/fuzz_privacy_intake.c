/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the intake's request bodies (a submission, an issuance
 * request) and a client finishing a token batch from any server answer, on
 * an in-memory database.  The first byte picks which. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pk_intake *intake;
static json_t *pending, *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!intake) {
        pk_intake_config cfg;
        pk_intake_config_default(&cfg);
        cfg.quota = 1000000;
        if (pk_intake_open(":memory:", &cfg, &intake, NULL) != PK_OK) abort();
        json_t *req = NULL;
        if (pk_privacy_token_request(2, &req, &pending, NULL) != PK_OK) abort();
        json_decref(req);
        if (pk_intake_keys(intake, 1000000, &keys, NULL) != PK_OK) abort();
    }
    if (size < 1) return 0;
    json_t *j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!j) return 0;
    json_t *out = NULL;
    pk_status rc;
    switch (data[0] % 3) {
    case 0:
        rc = pk_intake_submit(intake, 1000000, j, &out, NULL);
        break;
    case 1:
        rc = pk_intake_issue(intake, "org", 1000000, j, &out, NULL);
        break;
    default:
        rc = pk_privacy_token_finish(pending, j, keys, &out, NULL);
        break;
    }
    if ((rc == PK_OK) != (out != NULL)) abort();
    json_decref(out);
    json_decref(j);
    return 0;
}

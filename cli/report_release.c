/* SPDX-License-Identifier: Apache-2.0 */
/* The intake's release job: from the intake's pending releases into a TAXII
 * collection, as organisation "anonymous-intake". */
#include "report_release.h"

#include <string.h>
#include <time.h>

pk_status cli_report_release(pk_intake *in, const char *db_path, const char *collection,
                             size_t *sightings, pk_error *err)
{
    *sightings = 0;
    json_t *rel = NULL;
    pk_status rc = pk_intake_release(in, (int64_t)time(NULL), &rel, err);
    if (rc != PK_OK) return rc;
    json_t *objs = json_object_get(rel, "objects");
    if (json_array_size(objs) == 0) {
        json_decref(rel);
        return PK_OK;
    }
    pk_taxii_db *db = NULL;
    if ((rc = pk_taxii_db_open(db_path, &db, err)) == PK_OK) {
        json_t *env = json_pack("{s:O}", "objects", objs);
        size_t stored = 0, failed = 0;
        rc = env ? pk_taxii_collection_import(db, collection, CLI_RELEASE_ORG, env, &stored,
                                              &failed, err)
                 : pk_error_set(err, PK_ENOMEM, "out of memory");
        json_decref(env);
        if (rc == PK_OK && failed)
            rc = pk_error_set(err, PK_EVALIDATE, "%zu released objects were refused by the store",
                              failed);
        pk_taxii_db_close(db);
    }
    if (rc == PK_OK) rc = pk_intake_release_done(in, rel, err);
    if (rc == PK_OK) {
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) if (!strcmp(json_string_value(json_object_get(o, "type")),
                                                   "sighting"))++ *sightings;
    }
    json_decref(rel);
    return rc;
}

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

pk_status cli_report_move_inbox(pk_intake *in, const char *db_path, const char *collection,
                                size_t *moved, pk_error *err)
{
    *moved = 0;
    json_t *box = NULL, *ids = json_array();
    pk_taxii_db *db = NULL;
    pk_status rc =
        ids ? pk_intake_inbox(in, &box, err) : pk_error_set(err, PK_ENOMEM, "out of memory");
    if (rc == PK_OK && json_array_size(box)) rc = pk_taxii_db_open(db_path, &db, err);
    size_t i;
    json_t *e;
    if (rc == PK_OK) json_array_foreach(box, i, e)
        {
            json_t *report = json_object_get(e, "report");
            size_t stored = 0, failed = 0;
            rc = pk_taxii_collection_import(db, collection, CLI_RELEASE_ORG, report, &stored,
                                            &failed, err);
            if (rc == PK_OK && failed)
                rc = pk_error_set(err, PK_EVALIDATE,
                                  "%zu objects of an anonymous report were refused", failed);
            if (rc != PK_OK) break;
            json_array_append(ids, json_object_get(report, "id"));
            ++*moved;
        }
    pk_taxii_db_close(db);
    /* What went in leaves the inbox, even when a later report failed. */
    if (json_array_size(ids)) {
        pk_error e2;
        pk_error_clear(&e2);
        pk_status r2 = pk_intake_inbox_remove(in, ids, &e2);
        if (rc == PK_OK && r2 != PK_OK) {
            rc = r2;
            if (err) *err = e2;
        }
    }
    json_decref(ids);
    json_decref(box);
    return rc;
}

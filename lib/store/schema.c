/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's schema, as numbered migrations per module.  A released step is
 * never edited: a change is a new step appended to its module's list.  Other
 * modules add their own list to pki_store_modules (see store_impl.h).
 */
#include "store/store_impl.h"

/* Core: objects and their versions, collections, the observable index. */
static const pki_migration core_migrations[] = {
    {1, "CREATE TABLE objects("
        "  pk INTEGER PRIMARY KEY," /* insertion order */
        "  id TEXT NOT NULL,"
        "  idh INTEGER NOT NULL,"  /* 64 bits of the id's UUID: a small index key */
        "  version TEXT NOT NULL," /* modified, else created, else '' */
        "  type TEXT NOT NULL,"
        "  spec_version TEXT NOT NULL,"
        "  created TEXT NOT NULL,"
        "  modified TEXT NOT NULL,"
        "  revoked INTEGER NOT NULL DEFAULT 0,"
        "  created_by_ref TEXT NOT NULL DEFAULT '',"
        "  confidence INTEGER,"
        "  markings TEXT NOT NULL DEFAULT '',"
        "  tlp INTEGER NOT NULL DEFAULT 0,"
        "  added INTEGER NOT NULL," /* store-wide date_added, microseconds */
        "  raw TEXT NOT NULL);"
        "CREATE INDEX objects_idh ON objects(idh);"
        "CREATE TABLE collections("
        "  id TEXT PRIMARY KEY,"
        "  title TEXT NOT NULL,"
        "  description TEXT NOT NULL DEFAULT '',"
        "  alias TEXT,"
        "  created INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX collections_alias ON collections(alias) WHERE alias IS NOT NULL;"
        "CREATE TABLE collection_objects("
        "  collection TEXT NOT NULL REFERENCES collections(id),"
        "  date_added INTEGER NOT NULL," /* strictly increasing per collection */
        "  obj INTEGER NOT NULL REFERENCES objects(pk),"
        "  PRIMARY KEY(collection, date_added)) WITHOUT ROWID;"
        "CREATE UNIQUE INDEX collection_objects_obj ON collection_objects(obj, collection);"
        "CREATE TABLE observables(" /* rows, found by integer hashes */
        "  vh INTEGER NOT NULL,"    /* FNV-1a of path NUL value */
        "  path TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  object_id TEXT NOT NULL,"
        "  oh INTEGER NOT NULL);" /* pki_store_id_hash(object_id) */
        "CREATE INDEX observables_vh ON observables(vh);"
        "CREATE INDEX observables_oh ON observables(oh);"},
    /* The id index in two levels (an LSM of two): object_ids, large and
     * merged, and object_ids_new, the versions stored since the last merge.
     * One index on a random key took a random leaf page per object inserted
     * (at a million objects a 1,000-object commit rewrote ~600 of its ~1,200
     * leaves, 10 MB of log); new keys now go to the small level, whose few
     * leaves stay in cache, and are merged into the large one in key order
     * when it passes a threshold (PKI_STORE_MERGE_ROWS), touching each of its
     * leaves about once for tens of thousands of keys.  A lookup by id
     * probes both (see pki_store_id_hash).  Keys are (idh, pk): pk makes
     * them unique, so no rowid and no second index. */
    {2, "CREATE TABLE object_ids(idh INTEGER NOT NULL, pk INTEGER NOT NULL,"
        "  PRIMARY KEY(idh, pk)) WITHOUT ROWID;"
        "CREATE TABLE object_ids_new(idh INTEGER NOT NULL, pk INTEGER NOT NULL,"
        "  PRIMARY KEY(idh, pk)) WITHOUT ROWID;"
        "INSERT INTO object_ids(idh, pk) SELECT idh, pk FROM objects ORDER BY idh, pk;"
        "DROP INDEX objects_idh;"
        /* Whoever deletes a version, its key goes from whichever level holds it. */
        "CREATE TRIGGER objects_ids_drop AFTER DELETE ON objects BEGIN"
        "  DELETE FROM object_ids WHERE idh = OLD.idh AND pk = OLD.pk;"
        "  DELETE FROM object_ids_new WHERE idh = OLD.idh AND pk = OLD.pk;"
        "END;"},
    {0, NULL},
};

extern const pki_migration pki_privacy_migrations[]; /* lib/store/privacy_schema.c */

const pki_module_schema pki_store_modules[] = {
    {"core", core_migrations},
    {"taxii", pki_taxii_migrations},
    {"privacy", pki_privacy_migrations},
    /* Append other modules here: {"taxii", pki_taxii_migrations}, */
    {NULL, NULL},
};

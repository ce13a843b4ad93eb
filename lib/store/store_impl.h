/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of lib/store shared by its files (and by other modules' store
 * files, e.g. the TAXII tables): the SQLite handle, a cache of prepared
 * statements, error mapping, and schema migrations.
 *
 * Adding tables for a module: write lib/store/<module>_schema.c with
 *     const pki_migration pki_<module>_migrations[] = {
 *         {1, "CREATE TABLE ...; CREATE INDEX ...;"},
 *         {2, "ALTER TABLE ..."},   // append; never edit a released step
 *         {0, NULL}};
 * and append one line {"<module>", pki_<module>_migrations} to
 * pki_store_modules[] in lib/store/schema.c.  pk_store_open applies every
 * pending step of every module in one transaction and records each module's
 * version in the table schema_version(module, version).
 */
#ifndef PK_STORE_IMPL_H
#define PK_STORE_IMPL_H

#include <sqlite3.h>

#include "picket/store.h"

typedef struct pki_migration {
    int version; /* 1, 2, 3... in order; 0 ends the list */
    const char *sql;
} pki_migration;

typedef struct pki_module_schema {
    const char *module;
    const pki_migration *steps;
} pki_module_schema;

/* The TAXII tables (lib/store/taxii_schema.c). */
extern const pki_migration pki_taxii_migrations[];

/* Every module's migrations, ended by {NULL, NULL} (lib/store/schema.c). */
extern const pki_module_schema pki_store_modules[];

/** The SQLite connection of a store (NULL for other engines). */
sqlite3 *pki_store_db(pk_store *s);

/**
 * A prepared statement for `sql`, cached per store by the text's address (so
 * pass a string literal), reset and with its bindings cleared.  NULL on error,
 * with err filled (PK_ESTORE/PK_ENOMEM).  Do not finalize it.
 */
sqlite3_stmt *pki_store_stmt(pk_store *s, const char *sql, pk_error *err);

/** Fill err from the connection's last error: "what: sqlite message". */
pk_status pki_store_fail(pk_store *s, pk_error *err, const char *what);

/**
 * The integer key objects are found by (objects.idh): 64 bits of the UUID
 * at the end of the id, else FNV-1a of the id.  The index on it has two
 * levels (core migration 2): object_ids, large, and object_ids_new, the
 * versions stored since its last merge; both map (idh, pk).  There is no
 * index on the id text or on objects.idh, so SQL that finds an object by id
 * must probe both levels by their key:
 *     WHERE o.pk IN PKI_IDS_PK("?N") AND o.id = ?M   -- ?N: pki_store_id_hash(id)
 * (a view or a UNION ALL joined on o.idh is not pushed down by SQLite's
 * planner: it would be built whole, a scan of the index, per statement).
 */
int64_t pki_store_id_hash(const char *id);

/* Append " AND o.pk IN (...)": the objects whose id hash is one of the n
 * parameters ?k0 to ?k0+n-1, both levels of the id index probed by key. */
pk_status pki_ids_in_sql(pk_buf *sql, size_t n, int k0);

/** The row keys (objects.pk) of the versions whose id hash is the SQL
 * expression `h` (a parameter or a column of an outer row), from both
 * levels of the id index, as a parenthesised subquery for `pk IN`. */
#define PKI_IDS_PK(h)                                                                              \
    "(SELECT pk FROM object_ids WHERE idh = " h " UNION ALL SELECT pk FROM object_ids_new"         \
    " WHERE idh = " h ")"

/** Keys the recent level of the id index may hold before they are merged
 * into the large one (the environment variable PICKET_STORE_ID_MERGE, read
 * when a store is opened, overrides it: tests merge every few objects).
 * Per 1,000-object commit at a million objects the recent level costs about
 * T/2/900 leaf pages and the merges 1,200 x 1,000/T pages amortised. */
#define PKI_STORE_MERGE_ROWS 40000

/* Flags of pki_store_put. */
enum {
    PKI_PUT_ABSENT = 1u, /* the caller looked: this version is not in the store (in this
                            transaction), so it is not looked up again */
};

/**
 * Called by pki_store_put just before it links a version into a collection
 * (the collection_objects row), with the version's row key, its date_added in
 * the collection and its object-level TLP: a module writes its own row for
 * the version there (TAXII: the taxii_entry row, so that the triggers on
 * collection_objects find it and do nothing).  Only when the caller knows
 * the version is not in the collection yet (PKI_PUT_ABSENT).
 */
typedef struct pki_put_link {
    pk_status (*before)(void *ud, int64_t obj_pk, int64_t date_added, int tlp, pk_error *err);
    void *ud;
} pki_put_link;

/**
 * pk_store_put with flags, and the stored version's row key (objects.pk) in
 * *pk (may be NULL).  Inside a transaction the caller holds, for a batch.
 * `link` (may be NULL) is called before the version is linked into
 * `collection`; it needs PKI_PUT_ABSENT.
 */
pk_status pki_store_put(pk_store *s, const char *collection, const json_t *obj, const char *raw,
                        size_t raw_len, unsigned flags, const pki_put_link *link,
                        pk_store_put_info *info, int64_t *pk, pk_error *err);

/** 1 inside pk_store_begin ... commit. */
int pki_store_in_tx(pk_store *s);

/** Apply `steps` of `module` above its recorded version (inside a transaction
 * the caller holds). */
pk_status pki_store_migrate(pk_store *s, const char *module, const pki_migration *steps,
                            pk_error *err);

#endif /* PK_STORE_IMPL_H */

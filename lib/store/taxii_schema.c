/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TAXII server's tables, as the store's "taxii" migrations: organisations,
 * accounts (token hashes only), API roots, which API root a collection is
 * served under, per-organisation grants, TLP:RED shares, the writer of each
 * object version in a collection, and status resources.  Objects, versions,
 * collections and date_added are the core schema's.
 */
#include "store/store_impl.h"

const pki_migration pki_taxii_migrations[] = {
    {1, "CREATE TABLE taxii_meta(k TEXT PRIMARY KEY, v BLOB);"
        "CREATE TABLE taxii_org(rid INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
        "CREATE TABLE taxii_account(rid INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
        "  org INTEGER NOT NULL, admin INTEGER NOT NULL DEFAULT 0, token_hash BLOB NOT NULL,"
        "  created TEXT NOT NULL);"
        "CREATE UNIQUE INDEX taxii_account_token ON taxii_account(token_hash);"
        "CREATE TABLE taxii_apiroot(rid INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,"
        "  title TEXT NOT NULL, description TEXT);"
        "INSERT INTO taxii_apiroot(path, title, description)"
        "  VALUES('api', 'picket', 'The default API root');"
        /* collections.id -> API root; a collection without a row is under 'api' */
        "CREATE TABLE taxii_collection(coll TEXT PRIMARY KEY, apiroot INTEGER NOT NULL)"
        "  WITHOUT ROWID;"
        "CREATE TABLE taxii_grant(coll TEXT NOT NULL, org INTEGER NOT NULL,"
        "  can_read INTEGER NOT NULL, can_write INTEGER NOT NULL, PRIMARY KEY(coll, org))"
        "  WITHOUT ROWID;"
        "CREATE TABLE taxii_red_share(writer INTEGER NOT NULL, reader INTEGER NOT NULL,"
        "  PRIMARY KEY(writer, reader)) WITHOUT ROWID;"
        /* who wrote a version into a collection, and its strictest granular TLP */
        "CREATE TABLE taxii_writer(coll TEXT NOT NULL, obj INTEGER NOT NULL,"
        "  org INTEGER NOT NULL, granular INTEGER NOT NULL, PRIMARY KEY(coll, obj))"
        "  WITHOUT ROWID;"
        "CREATE TABLE taxii_status(id TEXT PRIMARY KEY, apiroot INTEGER NOT NULL,"
        "  org INTEGER NOT NULL, body TEXT NOT NULL);"},
    /* Whether a version is the newest / oldest of its object in the collection,
     * kept on write so that a listing's default match[version]=last is a
     * column test rather than a subquery per row. */
    {2, "ALTER TABLE taxii_writer ADD COLUMN latest INTEGER NOT NULL DEFAULT 1;"
        "ALTER TABLE taxii_writer ADD COLUMN first INTEGER NOT NULL DEFAULT 1;"
        "UPDATE taxii_writer SET"
        "  latest = ((SELECT o.version FROM objects o WHERE o.pk = taxii_writer.obj) ="
        "    (SELECT max(o2.version) FROM objects o2 JOIN collection_objects c2 ON c2.obj = o2.pk"
        "     WHERE c2.collection = taxii_writer.coll AND o2.id ="
        "       (SELECT o.id FROM objects o WHERE o.pk = taxii_writer.obj))),"
        "  first = ((SELECT o.version FROM objects o WHERE o.pk = taxii_writer.obj) ="
        "    (SELECT min(o2.version) FROM objects o2 JOIN collection_objects c2 ON c2.obj = o2.pk"
        "     WHERE c2.collection = taxii_writer.coll AND o2.id ="
        "       (SELECT o.id FROM objects o WHERE o.pk = taxii_writer.obj)));"},
    {0, NULL},
};

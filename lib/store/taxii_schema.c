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
    /* One row per version in a collection, in the listing's own key order
     * (coll, date_added), carrying what a listing tests: the writer's
     * organisation, the object and granular TLP, and flags (1: newest version
     * of its object in the collection, 2: oldest, 4: the object has more than
     * one version there and one of them is AMBER+STRICT or RED, so "newest"
     * and "oldest" depend on the reader).  A page is then one range read of
     * this table and one objects row per object; only flag-4 rows pay for a
     * per-reader lookup.  Triggers on the core's collection_objects keep it
     * complete whoever writes (TAXII, import, delete); TAXII then sets org and
     * granular (99: not recorded, look at the object).  It replaces
     * taxii_writer. */
    {3, "CREATE TABLE taxii_entry(coll TEXT NOT NULL, date_added INTEGER NOT NULL,"
        "  obj INTEGER NOT NULL, org INTEGER NOT NULL DEFAULT 0,"
        "  granular INTEGER NOT NULL DEFAULT 99, tlp INTEGER NOT NULL, flags INTEGER NOT NULL,"
        "  PRIMARY KEY(coll, date_added)) WITHOUT ROWID;"
        "INSERT INTO taxii_entry(coll, date_added, obj, org, granular, tlp, flags)"
        "  SELECT co.collection, co.date_added, co.obj, COALESCE(w.org, 0),"
        "    COALESCE(w.granular, 99), o.tlp, 3"
        "  FROM collection_objects co JOIN objects o ON o.pk = co.obj"
        "  LEFT JOIN taxii_writer w ON w.coll = co.collection AND w.obj = co.obj;"
        "UPDATE taxii_entry SET flags = (v.version = v.vmax) | ((v.version = v.vmin) << 1)"
        "    | ((v.mt >= 4) << 2)"
        "  FROM (SELECT co.collection AS coll, co.date_added AS da, o.version AS version,"
        "      g.vmax AS vmax, g.vmin AS vmin, g.mt AS mt"
        "    FROM (SELECT co2.collection AS coll, o2.idh AS idh, o2.id AS id,"
        "        max(o2.version) AS vmax, min(o2.version) AS vmin, max(o2.tlp) AS mt"
        "      FROM collection_objects co2 JOIN objects o2 ON o2.pk = co2.obj"
        "      GROUP BY co2.collection, o2.id HAVING count(*) > 1) AS g"
        "    JOIN objects o ON o.idh = g.idh AND o.id = g.id"
        "    JOIN collection_objects co ON co.obj = o.pk AND co.collection = g.coll) AS v"
        "  WHERE taxii_entry.coll = v.coll AND taxii_entry.date_added = v.da;"
        "DROP TABLE taxii_writer;"
        /* The flags of every version of NEW's / OLD's object in the collection,
         * computed again when it has more than one version there. */
        "CREATE TRIGGER taxii_entry_add AFTER INSERT ON collection_objects BEGIN"
        "  INSERT INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS v"
        "    WHERE a.cnt > 1 AND taxii_entry.coll = NEW.collection"
        "      AND taxii_entry.date_added = v.da;"
        "END;"
        "CREATE TRIGGER taxii_entry_drop AFTER DELETE ON collection_objects BEGIN"
        "  DELETE FROM taxii_entry WHERE coll = OLD.collection AND date_added = OLD.date_added;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.cnt > 1 AND a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = OLD.collection"
        "        WHERE n.pk = OLD.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = OLD.collection"
        "        WHERE n.pk = OLD.obj) AS v"
        "    WHERE taxii_entry.coll = OLD.collection AND taxii_entry.date_added = v.da;"
        "END;"},
    /* The flags are computed again only for an object that has another
     * version in the store (the common first version costs one probe of the
     * id hash, which the store has just read); either trigger may fire first,
     * so both insert the row if it is missing. */
    {4, "DROP TRIGGER taxii_entry_add;"
        "CREATE TRIGGER taxii_entry_add AFTER INSERT ON collection_objects BEGIN"
        "  INSERT OR IGNORE INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "END;"
        "CREATE TRIGGER taxii_entry_versions AFTER INSERT ON collection_objects"
        "  WHEN EXISTS (SELECT 1 FROM objects n JOIN objects o ON o.idh = n.idh"
        "    AND o.pk <> n.pk AND o.id = n.id WHERE n.pk = NEW.obj) BEGIN"
        "  INSERT OR IGNORE INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS v"
        "    WHERE a.cnt > 1 AND taxii_entry.coll = NEW.collection"
        "      AND taxii_entry.date_added = v.da AND taxii_entry.flags <>"
        "        ((v.version = a.vmax) | ((v.version = a.vmin) << 1) | ((a.mt >= 4) << 2));"
        "END;"},
    /* The TAXII writer inserts the taxii_entry row of a new object itself,
     * whole (writer's organisation, granular TLP, flags), before the
     * collection_objects row, and the triggers then find it and do nothing:
     * each tests the row's primary key first (the newest row of the
     * collection, a page in cache).  For other writers (import) the row is
     * missing and exactly one of the two fires: the object has no other
     * version in the store (insert the row) or has (insert it and compute the
     * flags of every version in the collection again). */
    {5, "DROP TRIGGER taxii_entry_add;"
        "DROP TRIGGER taxii_entry_versions;"
        "CREATE TRIGGER taxii_entry_add AFTER INSERT ON collection_objects"
        "  WHEN NOT EXISTS (SELECT 1 FROM taxii_entry WHERE coll = NEW.collection"
        "    AND date_added = NEW.date_added)"
        "  AND NOT EXISTS (SELECT 1 FROM objects n JOIN objects o ON o.idh = n.idh"
        "    AND o.pk <> n.pk AND o.id = n.id WHERE n.pk = NEW.obj) BEGIN"
        "  INSERT INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "END;"
        "CREATE TRIGGER taxii_entry_versions AFTER INSERT ON collection_objects"
        "  WHEN NOT EXISTS (SELECT 1 FROM taxii_entry WHERE coll = NEW.collection"
        "    AND date_added = NEW.date_added)"
        "  AND EXISTS (SELECT 1 FROM objects n JOIN objects o ON o.idh = n.idh"
        "    AND o.pk <> n.pk AND o.id = n.id WHERE n.pk = NEW.obj) BEGIN"
        "  INSERT INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.idh = n.idh AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS v"
        "    WHERE a.cnt > 1 AND taxii_entry.coll = NEW.collection"
        "      AND taxii_entry.date_added = v.da AND taxii_entry.flags <>"
        "        ((v.version = a.vmax) | ((v.version = a.vmin) << 1) | ((a.mt >= 4) << 2));"
        "END;"},
    /* The core's id index now has two levels (object_ids and object_ids_new,
     * core migration 2) and objects.idh no index: the triggers find the
     * other versions of an object by probing both levels with its id hash. */
    {6, "DROP TRIGGER taxii_entry_add;"
        "DROP TRIGGER taxii_entry_versions;"
        "DROP TRIGGER taxii_entry_drop;"
        "CREATE TRIGGER taxii_entry_add AFTER INSERT ON collection_objects"
        "  WHEN NOT EXISTS (SELECT 1 FROM taxii_entry WHERE coll = NEW.collection"
        "    AND date_added = NEW.date_added)"
        "  AND NOT EXISTS (SELECT 1 FROM objects n JOIN objects o ON o.pk IN"
        "    (SELECT pk FROM object_ids WHERE idh = n.idh"
        "     UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh)"
        "    AND o.pk <> n.pk AND o.id = n.id WHERE n.pk = NEW.obj) BEGIN"
        "  INSERT INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "END;"
        "CREATE TRIGGER taxii_entry_versions AFTER INSERT ON collection_objects"
        "  WHEN NOT EXISTS (SELECT 1 FROM taxii_entry WHERE coll = NEW.collection"
        "    AND date_added = NEW.date_added)"
        "  AND EXISTS (SELECT 1 FROM objects n JOIN objects o ON o.pk IN"
        "    (SELECT pk FROM object_ids WHERE idh = n.idh"
        "     UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh)"
        "    AND o.pk <> n.pk AND o.id = n.id WHERE n.pk = NEW.obj) BEGIN"
        "  INSERT INTO taxii_entry(coll, date_added, obj, tlp, flags)"
        "    SELECT NEW.collection, NEW.date_added, NEW.obj, tlp, 3 FROM objects"
        "    WHERE pk = NEW.obj;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.pk IN"
        "          (SELECT pk FROM object_ids WHERE idh = n.idh"
        "           UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh) AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.pk IN"
        "          (SELECT pk FROM object_ids WHERE idh = n.idh"
        "           UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh) AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = NEW.collection"
        "        WHERE n.pk = NEW.obj) AS v"
        "    WHERE a.cnt > 1 AND taxii_entry.coll = NEW.collection"
        "      AND taxii_entry.date_added = v.da AND taxii_entry.flags <>"
        "        ((v.version = a.vmax) | ((v.version = a.vmin) << 1) | ((a.mt >= 4) << 2));"
        "END;"
        "CREATE TRIGGER taxii_entry_drop AFTER DELETE ON collection_objects BEGIN"
        "  DELETE FROM taxii_entry WHERE coll = OLD.collection AND date_added = OLD.date_added;"
        "  UPDATE taxii_entry SET flags = (v.version = a.vmax) | ((v.version = a.vmin) << 1)"
        "      | ((a.cnt > 1 AND a.mt >= 4) << 2)"
        "    FROM (SELECT max(o.version) AS vmax, min(o.version) AS vmin, count(*) AS cnt,"
        "        max(o.tlp) AS mt FROM objects n JOIN objects o ON o.pk IN"
        "          (SELECT pk FROM object_ids WHERE idh = n.idh"
        "           UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh) AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = OLD.collection"
        "        WHERE n.pk = OLD.obj) AS a,"
        "      (SELECT c.date_added AS da, o.version AS version FROM objects n"
        "        JOIN objects o ON o.pk IN"
        "          (SELECT pk FROM object_ids WHERE idh = n.idh"
        "           UNION ALL SELECT pk FROM object_ids_new WHERE idh = n.idh) AND o.id = n.id"
        "        JOIN collection_objects c ON c.obj = o.pk AND c.collection = OLD.collection"
        "        WHERE n.pk = OLD.obj) AS v"
        "    WHERE taxii_entry.coll = OLD.collection AND taxii_entry.date_added = v.da;"
        "END;"},
    {0, NULL},
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/store.h: the object store.  STIX objects and all their versions,
 * collections with a strictly increasing date_added (the cursor TAXII pages
 * on), manifests, deletion, and the observable index (path, value -> ids).
 *
 * Design.  One interface, engines behind it: SQLite (embedded, the default,
 * WAL mode: one writer and many readers across processes) and later
 * PostgreSQL (several servers sharing one database).  Each object version is
 * one row holding the JSON text byte-exact plus the indexed columns id, type,
 * spec_version, created, modified, revoked, created_by_ref, confidence,
 * markings and TLP.  Every write goes through prepared statements.
 *
 * date_added is an integer count of microseconds since 1970, strictly
 * increasing per collection (and store-wide for objects outside any
 * collection): max(now, last + 1), taken inside the write transaction, so two
 * processes or server nodes sharing the store never hand out the same value
 * and a paging cursor (the last date_added seen) means the same thing to
 * every node.  Nothing about a cursor lives in process memory.
 *
 * Thread safety: a pk_store handle is used by one thread at a time.  Open one
 * handle per thread (or per request worker); SQLite serialises writers and
 * lets readers run beside them.
 */
#ifndef PICKET_STORE_H
#define PICKET_STORE_H

#include <jansson.h>

#include "picket/stix.h"
#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_store pk_store;

/** Flags for pk_store_open. */
enum {
    PK_STORE_READONLY = 1u,      /* never write; fails with PK_ENOTFOUND if absent */
    PK_STORE_FAST = 2u,          /* bulk loads: synchronous=NORMAL (a committed batch
                                    survives a crash of the process, maybe not of the OS) */
    PK_STORE_NO_CHECKPOINT = 4u, /* never checkpoint the WAL on commit: the owner calls
                                    pk_store_checkpoint (e.g. from another thread) */
};

/**
 * Open (creating if needed, unless READONLY) the store at `path`: a file name
 * for SQLite ("postgres://..." is reserved for the PostgreSQL engine and gives
 * PK_EUNSUPPORTED in this build).  Applies every pending schema migration in
 * one transaction.  PK_ESTORE with err->message from the engine on failure.
 */
PK_API pk_status pk_store_open(const char *path, unsigned flags, pk_store **out, pk_error *err);
/** Close; rolls back an open transaction.  NULL is harmless. */
PK_API void pk_store_close(pk_store *s);

/**
 * Copy what the write-ahead log holds into the database file without waiting
 * for or blocking writers or readers (SQLite's PASSIVE checkpoint), so that
 * the log can start over.  For a connection of its own, on a thread that is
 * not a writer's (see PK_STORE_NO_CHECKPOINT).  `wal_pages`/`copied` (each
 * may be NULL): frames in the log, and how many of them are now in the
 * database file.  PK_OK also when there was nothing to do; PK_ESTORE.
 */
PK_API pk_status pk_store_checkpoint(pk_store *s, int *wal_pages, int *copied, pk_error *err);

/**
 * Frames in the write-ahead log after this connection's last commit (0
 * before one, and for engines without a log).  With PK_STORE_NO_CHECKPOINT a
 * writer tells from it when to ask for a checkpoint.
 */
PK_API int pk_store_wal_pages(const pk_store *s);

/**
 * Sync the write-ahead log to disk (fdatasync on a descriptor of the store's
 * own, opened on the log's path at the first call): every commit that
 * returned on any connection of this store before the call began is then on
 * disk.  For a writer opened with PK_STORE_FAST that must not answer before
 * its commit is durable, and need not hold its write lock meanwhile: one call
 * covers the commits of every writer before it (group commit).  May run on
 * another thread than the one using `s`, beside its transactions, but not
 * concurrently with itself or pk_store_close.  PK_OK also when the log no
 * longer exists (the last connection to close copied it into the database
 * file and synced that) and for engines without a log; PK_EIO with errno's
 * text when the sync fails.
 */
PK_API pk_status pk_store_sync_log(pk_store *s, pk_error *err);

/**
 * Sync the database file to disk (fdatasync on a descriptor of the store's
 * own).  For a checkpointer: what its passes copied into the database file
 * is then on disk, so that the sync closing the checkpoint that completes
 * the log (which it may run while holding writers back) has little left to
 * write.  The same threading rules as pk_store_sync_log; PK_EIO on failure.
 */
PK_API pk_status pk_store_sync_data(pk_store *s, pk_error *err);

/** The schema version of `module` ("core", "taxii", ...), 0 when none. */
PK_API int pk_store_schema_version(pk_store *s, const char *module);

/**
 * Transactions.  pk_store_begin takes the write lock (BEGIN IMMEDIATE, waiting
 * up to the busy timeout); everything until pk_store_commit is atomic and
 * durable once commit returns PK_OK.  Writes outside a transaction run in one
 * of their own.  Nesting is an error (PK_EINVAL).
 */
PK_API pk_status pk_store_begin(pk_store *s, pk_error *err);
PK_API pk_status pk_store_commit(pk_store *s, pk_error *err);
PK_API void pk_store_rollback(pk_store *s);

/* ------------------------------------------------------------------------ */
/* Collections                                                               */
/* ------------------------------------------------------------------------ */

/** A collection as read back; strings are borrowed for the callback. */
typedef struct pk_store_collection {
    const char *id; /* a UUID (TAXII collection id) */
    const char *title;
    const char *description; /* "" when none */
    const char *alias;       /* "" when none */
    int64_t created_us;
    long long objects; /* object versions in it */
} pk_store_collection;

typedef int (*pk_store_collection_fn)(const pk_store_collection *c, void *ud);

/**
 * Create a collection.  `id` NULL makes a new UUIDv4; the id is copied to
 * `out_id` (may be NULL).  PK_EEXIST when the id (or the alias) is taken.
 */
PK_API pk_status pk_store_collection_create(pk_store *s, const char *id, const char *title,
                                            const char *description, const char *alias,
                                            char out_id[PK_UUID_STRLEN], pk_error *err);
/** Find by id, alias or title (in that order); copies the id.  PK_ENOTFOUND. */
PK_API pk_status pk_store_collection_find(pk_store *s, const char *name,
                                          char out_id[PK_UUID_STRLEN], pk_error *err);
/** Call fn for the collection with that id.  PK_ENOTFOUND. */
PK_API pk_status pk_store_collection_get(pk_store *s, const char *id, pk_store_collection_fn fn,
                                         void *ud, pk_error *err);
/** Call fn for every collection, by title.  A non-zero return from fn stops. */
PK_API pk_status pk_store_collection_list(pk_store *s, pk_store_collection_fn fn, void *ud,
                                          pk_error *err);

/* ------------------------------------------------------------------------ */
/* Objects                                                                   */
/* ------------------------------------------------------------------------ */

/** What pk_store_put did. */
typedef struct pk_store_put_info {
    int added;             /* 1: a new version was stored; 0: it was there (same id, version) */
    int collection_added;  /* 1: it was added to the collection (0 if it was in it already) */
    int64_t date_added_us; /* in the collection (or store-wide without one) */
} pk_store_put_info;

/**
 * Store one object version.  `obj` is the parsed object (its id, type,
 * version and the indexed columns are taken from it; it should be valid, see
 * pk_stix_validate); `raw`/`raw_len` its JSON text, kept byte for byte (NULL:
 * serialised from obj).  A version (same id and modified, or created, or none
 * for SCOs) already stored is not stored again.  With `collection` (an id),
 * the version is also added to that collection with a new date_added.  SCOs
 * are added to the observable index.  `info` may be NULL.
 * PK_EINVAL when obj has no string id/type, PK_ENOTFOUND for an unknown
 * collection, PK_ESTORE.
 */
PK_API pk_status pk_store_put(pk_store *s, const char *collection, const json_t *obj,
                              const char *raw, size_t raw_len, pk_store_put_info *info,
                              pk_error *err);

/** One object version as read back; everything is borrowed for the callback. */
typedef struct pk_store_row {
    const char *id;
    const char *type;
    const char *spec_version;
    const char *version;  /* modified, else created, else "" */
    const char *created;  /* "" when absent */
    const char *modified; /* "" when absent */
    int revoked;
    int confidence;             /* -1 when absent */
    const char *created_by_ref; /* "" when absent */
    const char *markings;       /* object_marking_refs joined by ',' ("" when none) */
    pk_tlp tlp;                 /* strictest TLP marking */
    const char *raw;            /* the JSON text; NULL in manifest listings */
    size_t raw_len;
    int64_t date_added_us;  /* in the collection listed, else store-wide */
    const char *media_type; /* "application/stix+json;version=2.1" */
} pk_store_row;

/** Called per row; a non-zero return stops the listing (not an error). */
typedef int (*pk_store_row_fn)(const pk_store_row *row, void *ud);

#define PK_STORE_CURSOR_MAX 32

/**
 * A listing: the filters of TAXII 2.1 "Get Objects" / "Get Object Manifests".
 * Arrays are borrowed; a NULL array (or count 0) means no filter.  Rows come
 * in date_added order (ascending).
 */
typedef struct pk_store_query {
    const char *collection; /* a collection id; NULL: the whole store */
    const char *const *ids; /* match[id] */
    size_t n_ids;
    const char *const *types; /* match[type] */
    size_t n_types;
    const char *const *versions;      /* match[version]: "last" (default), "first", */
    size_t n_versions;                /* "all", or timestamps (that exact version) */
    const char *const *spec_versions; /* match[spec_version] (default: all) */
    size_t n_spec_versions;
    int64_t added_after_us; /* added_after: only rows added later (0: none) */
    const char *next;       /* a cursor from a previous page, or NULL */
    size_t limit;           /* most rows (0: no limit) */
    int with_raw;           /* 1: fill row.raw (objects); 0: manifest only */
} pk_store_query;

/** What a listing returned. */
typedef struct pk_store_page {
    size_t count;                   /* rows given to the callback */
    int more;                       /* 1 when rows remain after this page */
    char next[PK_STORE_CURSOR_MAX]; /* the cursor for the next page when more ("" otherwise) */
    int64_t first_added_us;         /* date_added of the first and last row (0 when none) */
    int64_t last_added_us;
} pk_store_page;

/**
 * List object versions (TAXII "Get Objects", "Get Object Manifests", "Get An
 * Object" with ids = {id}, "Get Object Versions" with versions = {"all"}).
 * "last"/"first" pick per id the newest/oldest version among those in the
 * collection.  The cursor is the date_added of the last row given, so a page
 * can be continued by any process that shares the store.  `page` may be NULL.
 * PK_EINVAL for a malformed cursor or version, PK_ENOTFOUND for an unknown
 * collection, PK_ESTORE.
 */
PK_API pk_status pk_store_list(pk_store *s, const pk_store_query *q, pk_store_row_fn fn, void *ud,
                               pk_store_page *page, pk_error *err);

/**
 * Convenience for one id: the version(s) `version` selects ("last" when NULL,
 * "first", "all", or a timestamp), in `collection` (NULL: whole store).
 * PK_ENOTFOUND when nothing matches.
 */
PK_API pk_status pk_store_get(pk_store *s, const char *collection, const char *id,
                              const char *version, pk_store_row_fn fn, void *ud, pk_error *err);

/**
 * Delete an object: with `collection`, remove its versions (those `versions`
 * selects; NULL/0: all) from that collection only; without, remove them from
 * the store, every collection and the observable index.  `*deleted` (may be
 * NULL) gets the number of versions removed.  PK_ENOTFOUND when none was.
 */
PK_API pk_status pk_store_delete(pk_store *s, const char *collection, const char *id,
                                 const char *const *versions, size_t n_versions, size_t *deleted,
                                 pk_error *err);

/** date_added as a TAXII/STIX timestamp with microseconds. */
PK_API void pk_store_format_added(int64_t us, char out[PK_TIME_STRLEN]);
/** Parse a timestamp (RFC 3339) into microseconds.  PK_EPARSE. */
PK_API pk_status pk_store_parse_added(const char *ts, int64_t *us, pk_error *err);

/* ------------------------------------------------------------------------ */
/* Counts                                                                    */
/* ------------------------------------------------------------------------ */

/** Called per group; `key` borrowed ("" for none), `objects` distinct ids,
 * `versions` stored versions. */
typedef int (*pk_store_count_fn)(const char *key, long long objects, long long versions, void *ud);

/** What pk_store_count groups by. */
typedef enum pk_store_group {
    PK_STORE_BY_TYPE = 0,
    PK_STORE_BY_COLLECTION = 1, /* key: collection title */
    PK_STORE_BY_TLP = 2,        /* key: pk_tlp_name of the newest version */
    PK_STORE_BY_SPEC_VERSION = 3,
    PK_STORE_BY_INCIDENT_KIND = 4, /* incidents only; key: x_picket_kind, else the first
                                      label, else "unspecified" */
} pk_store_group;

/** Count objects grouped by `by`, keys in ascending order. */
PK_API pk_status pk_store_count(pk_store *s, pk_store_group by, pk_store_count_fn fn, void *ud,
                                pk_error *err);

/* ------------------------------------------------------------------------ */
/* The observable index                                                      */
/* ------------------------------------------------------------------------ */

/**
 * Add (path, normalised value) -> object id, e.g. ("ipv4-addr:value",
 * "198.51.100.7", "indicator--...").  pk_store_put does this for SCOs; the
 * pattern module adds the equality terms of indicator patterns.  Adding an
 * existing entry is not an error.
 */
PK_API pk_status pk_store_observable_add(pk_store *s, const char *path, const char *value,
                                         const char *object_id, pk_error *err);

typedef int (*pk_store_id_fn)(const char *object_id, void *ud);

/** Call fn with every object id indexed under (path, value); the value is
 * normalised first (pk_stix_normalize).  A non-zero return from fn stops. */
PK_API pk_status pk_store_observable_find(pk_store *s, const char *path, const char *value,
                                          pk_store_id_fn fn, void *ud, pk_error *err);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_STORE_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket/taxii.h: the TAXII 2.1 server (`picket serve`) and the accounts,
 * organisations, collections, grants and API roots it serves from the store.
 *
 * The server answers every TAXII 2.1 endpoint over libmicrohttpd with its own
 * thread pool.  Objects live in the store with a strictly increasing
 * `date_added` per collection; paging cursors are derived from it, so that the
 * server keeps no paging state in memory and any node sharing the store can
 * answer any `next`.  Tokens are 256-bit random strings shown once; the store
 * keeps only a keyed BLAKE2b hash of each.
 */
#ifndef PICKET_TAXII_H
#define PICKET_TAXII_H

#include <stdio.h>

#include <jansson.h>

#include "picket/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The one media type of TAXII 2.1 resources. */
#define PK_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
/** The media type of the STIX content in a collection. */
#define PK_STIX_MEDIA_TYPE "application/stix+json;version=2.1"

/* ------------------------------------------------------------------------ */
/* The TAXII database: accounts, collections, objects                        */
/* ------------------------------------------------------------------------ */

/**
 * A handle on the TAXII tables of a store file.  Opening creates the file and
 * the tables when missing (and the default API root `api`).  One handle may be
 * used by one thread at a time; the server opens one per worker.
 */
typedef struct pk_taxii_db pk_taxii_db;

PK_API pk_status pk_taxii_db_open(const char *path, pk_taxii_db **out, pk_error *err);
PK_API void pk_taxii_db_close(pk_taxii_db *db);

/** Length of a token as printed (base64url of 32 random bytes, "pkt_" prefix). */
#define PK_TAXII_TOKEN_LEN 47

/**
 * Create account `name` in organisation `org` (created when new).  The fresh
 * token is written to `token` (NUL-terminated) and is never stored: only its
 * keyed hash is.  PK_EEXIST when the name is taken.
 */
PK_API pk_status pk_taxii_user_add(pk_taxii_db *db, const char *name, const char *org, int admin,
                                   char token[PK_TAXII_TOKEN_LEN + 1], pk_error *err);
/** A new token for an existing account; the old one stops working. */
PK_API pk_status pk_taxii_user_rotate(pk_taxii_db *db, const char *name,
                                      char token[PK_TAXII_TOKEN_LEN + 1], pk_error *err);
PK_API pk_status pk_taxii_user_remove(pk_taxii_db *db, const char *name, pk_error *err);
/** Accounts as a new JSON array of {"name","org","admin","created"}; caller
 * owns it (json_decref).  Never contains token material. */
PK_API pk_status pk_taxii_user_list(pk_taxii_db *db, json_t **out, pk_error *err);

/**
 * Allow organisation `reader` to see TLP:RED objects written by organisation
 * `writer` (in collections `reader` can read).  `allow` 0 withdraws it.
 */
PK_API pk_status pk_taxii_red_share(pk_taxii_db *db, const char *writer, const char *reader,
                                    int allow, pk_error *err);

/** New collection under API root `apiroot` (NULL: "api"); its id (a UUID v4)
 * is written to `id`. */
PK_API pk_status pk_taxii_collection_add(pk_taxii_db *db, const char *apiroot, const char *title,
                                         const char *description, const char *alias,
                                         char id[PK_UUID_STRLEN], pk_error *err);
/** Collections as a new JSON array of {"id","api_root","title","description",
 * "alias","objects","grants":[{"org","read","write"}]}. */
PK_API pk_status pk_taxii_collection_list(pk_taxii_db *db, json_t **out, pk_error *err);
/** Set organisation `org`'s access to collection `id` (read and write flags;
 * both 0 removes the grant).  The organisation is created when new. */
PK_API pk_status pk_taxii_collection_grant(pk_taxii_db *db, const char *id, const char *org,
                                           int can_read, int can_write, pk_error *err);

/** New API root served at /PATH/ (letters, digits, '-', '_'). */
PK_API pk_status pk_taxii_apiroot_add(pk_taxii_db *db, const char *path, const char *title,
                                      const char *description, pk_error *err);
/** API roots as a new JSON array of {"path","title","description"}. */
PK_API pk_status pk_taxii_apiroot_list(pk_taxii_db *db, json_t **out, pk_error *err);

/**
 * Add the objects of a STIX bundle or TAXII envelope (JSON text with an
 * "objects" array, `len` bytes, each object's bytes kept as they are) to
 * collection `id` (id or alias) as written by organisation `org`, with the
 * checks of a POST (used by `picket collection import`).  `*stored` counts
 * objects committed, `*failed` those refused.  PK_EPARSE when it is not such
 * JSON.
 */
PK_API pk_status pk_taxii_collection_import_text(pk_taxii_db *db, const char *id, const char *org,
                                                 const char *data, size_t len, size_t *stored,
                                                 size_t *failed, pk_error *err);
/** The same for a parsed bundle or envelope (serialised first). */
PK_API pk_status pk_taxii_collection_import(pk_taxii_db *db, const char *id, const char *org,
                                            json_t *envelope, size_t *stored, size_t *failed,
                                            pk_error *err);

/* ------------------------------------------------------------------------ */
/* The server                                                                */
/* ------------------------------------------------------------------------ */

typedef struct pk_taxii_config {
    const char *db_path;      /* the store file */
    const char *listen;       /* "HOST:PORT"; default "127.0.0.1:8470" (port 0: any) */
    const char *tls_cert;     /* PEM file; with tls_key, serve HTTPS */
    const char *tls_key;      /* PEM file */
    unsigned threads;         /* worker threads (default 4) */
    size_t max_body;          /* bytes in a request body (default 16 MiB) -> 413 */
    size_t max_objects;       /* objects in one envelope (default 10000) -> 413 */
    size_t max_header;        /* bytes of request headers (default 16 KiB) -> 431 */
    unsigned max_connections; /* open connections (default 256) -> 429 */
    int fast_commit;          /* 1: an acknowledged write is in the WAL but not yet synced
                               * (survives the process, not a power cut); 0 (default): synced
                               * to disk before the answer */
    unsigned page_max;        /* most objects per page (default 1000) */
    unsigned page_default;    /* objects per page without `limit` (default 100) */
    FILE *access_log;         /* JSON lines, one per request; NULL: none */
    const char *title;        /* discovery title */
    /* Routes served beside TAXII (picket's anonymous intake, /privacy/...).
     * ext_route(method, path) returns 0 when the path is not the extension's,
     * else PK_TAXII_EXT_* flags; ext_handle answers it (JSON in *resp, freed
     * with pk_free) and returns the HTTP status.  NULL: no extension. */
    unsigned (*ext_route)(const char *method, const char *path);
    int (*ext_handle)(void *ud, const char *method, const char *path, const char *body,
                      size_t body_len, const char *org, int admin, char **resp, size_t *resp_len);
    void *ext_ud;
} pk_taxii_config;

/** Flags ext_route returns. */
enum {
    PK_TAXII_EXT_ROUTE = 1u,  /* the extension answers this path */
    PK_TAXII_EXT_AUTH = 2u,   /* authenticate first; pass the account's organisation */
    PK_TAXII_EXT_ADMIN = 4u,  /* (passes whether the account is an administrator) */
    PK_TAXII_EXT_NO_LOG = 8u, /* no access-log line and no client address kept for it */
};

/** Fill `cfg` with the defaults above. */
PK_API void pk_taxii_config_default(pk_taxii_config *cfg);

typedef struct pk_taxii_server pk_taxii_server;

/** The version of libmicrohttpd, which is opened when the first server
 * starts rather than linked (it and the TLS libraries under it would load
 * into every program using picket); NULL when it cannot be loaded. */
PK_API const char *pk_taxii_httpd_version(void);

/** Open the store and start serving.  Returns when the socket listens. */
PK_API pk_status pk_taxii_server_start(const pk_taxii_config *cfg, pk_taxii_server **out,
                                       pk_error *err);
/** The port the server listens on (useful with port 0). */
PK_API unsigned pk_taxii_server_port(const pk_taxii_server *srv);
/**
 * Graceful stop: stop accepting connections, let requests in flight finish
 * (up to `grace_ms`), then close everything and free `srv`.  NULL is harmless.
 */
PK_API void pk_taxii_server_stop(pk_taxii_server *srv, int grace_ms);

#ifdef __cplusplus
}
#endif
#endif /* PICKET_TAXII_H */

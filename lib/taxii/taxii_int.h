/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the TAXII module shared across its files: request filters,
 * TLP levels, envelope checks, the database layer and the HTTP handlers.
 * Nothing here is exported from the library (pki_ names, hidden visibility).
 */
#ifndef PICKET_TAXII_INT_H
#define PICKET_TAXII_INT_H

#include <stdint.h>

#include <jansson.h>

#include "picket/store.h"
#include "picket/taxii.h"
#include "picket/util.h"

/* ---- filters (query.c) -------------------------------------------------- */

/* Most values one match[...] list may carry; more is a 400. */
#define PKI_TX_LIST_MAX 64

/* Which query parameters an endpoint takes. */
enum {
    PKI_TXF_ADDED_AFTER = 1 << 0,
    PKI_TXF_LIMIT = 1 << 1,
    PKI_TXF_NEXT = 1 << 2,
    PKI_TXF_ID = 1 << 3,
    PKI_TXF_TYPE = 1 << 4,
    PKI_TXF_VERSION = 1 << 5,
    PKI_TXF_SPEC_VERSION = 1 << 6,
    PKI_TXF_ALL = 0x7f,
};

/*
 * A request's filters, parsed and checked.  Strings live in `arena`, freed in
 * one step with the filter.  Versions are kept as microseconds since the epoch
 * (the store's precision), `first`/`last`/`all` as flags.
 */
typedef struct pki_tx_filter {
    pk_arena *arena;
    int64_t added_after; /* date_added strictly after this; INT64_MIN: none */
    int64_t next;        /* the cursor: date_added strictly after this; INT64_MIN: none */
    long limit;          /* 0: none given */
    const char *ids[PKI_TX_LIST_MAX];
    size_t n_ids;
    const char *types[PKI_TX_LIST_MAX];
    size_t n_types;
    int v_first, v_last, v_all; /* match[version] keywords */
    int64_t v_times[PKI_TX_LIST_MAX];
    size_t n_vtimes;
    int has_version;
    const char *spec_versions[PKI_TX_LIST_MAX];
    size_t n_spec;
} pki_tx_filter;

pk_status pki_tx_filter_init(pki_tx_filter *f);
void pki_tx_filter_free(pki_tx_filter *f);
/* One decoded query parameter.  `allowed` is a PKI_TXF_ mask for the endpoint;
 * a known filter the endpoint does not take, an unknown match[...] or a bad
 * value is PK_EINVAL with a message naming the parameter.  Other parameters
 * are ignored, as HTTP allows. */
pk_status pki_tx_filter_add(pki_tx_filter *f, unsigned allowed, const char *key, const char *val,
                            pk_error *err);
/* A raw query string ("a=b&c=d", percent-encoded), as the fuzz target and the
 * unit tests feed it. */
pk_status pki_tx_filter_parse_query(pki_tx_filter *f, unsigned allowed, const char *qs, size_t n,
                                    pk_error *err);
/* Percent-decode (and '+' to space) in place; returns the new length or -1. */
long pki_tx_urldecode(char *s, size_t n);

/* The `next` cursor as text and back.  It names the date_added of the last
 * object of the page; the next page starts strictly after it. */
#define PKI_TX_CURSOR_LEN 24
void pki_tx_cursor_format(int64_t date_added, char out[PKI_TX_CURSOR_LEN]);
pk_status pki_tx_cursor_parse(const char *s, int64_t *out);

/* Microseconds since the epoch <-> STIX timestamp text. */
pk_status pki_tx_time_parse_us(const char *s, int rules, int64_t *out);
void pki_tx_time_format_us(int64_t us, char out[PK_TIME_STRLEN]);
int64_t pki_tx_now_us(void);

/* ---- media types (query.c) ---------------------------------------------- */

/* 1 when an Accept header allows application/taxii+json;version=2.1 (NULL or
 * empty header: yes). */
int pki_tx_accept_ok(const char *accept);
/* 1 when a Content-Type is application/taxii+json with version 2.1 or none. */
int pki_tx_content_type_ok(const char *ctype);

/* ---- authentication (auth.c) -------------------------------------------- */

enum { PKI_TX_AUTH_NONE = 0, PKI_TX_AUTH_BASIC = 1, PKI_TX_AUTH_BEARER = 2 };
/* Split an Authorization header.  Basic: user and token decoded from base64
 * into the given buffers; Bearer: the token.  Returns the scheme, or
 * PKI_TX_AUTH_NONE when absent or malformed. */
int pki_tx_auth_parse(const char *header, char *user, size_t user_n, char *token, size_t token_n);

/* ---- TLP (tlp.c) -------------------------------------------------------- */

enum {
    PKI_TLP_NONE = -1,
    PKI_TLP_CLEAR = 0,
    PKI_TLP_GREEN = 1,
    PKI_TLP_AMBER = 2,
    PKI_TLP_AMBER_STRICT = 3,
    PKI_TLP_RED = 4,
    PKI_TLP_UNKNOWN = 99, /* not recorded (put in the store by import): look */
};
/* The TLP level a marking-definition id stands for (TLP 2.0 and the TLP 1.0
 * ids of STIX 2.1), or PKI_TLP_NONE. */
int pki_tlp_of_marking(const char *id);
/* The most restrictive TLP of an object's object_marking_refs. */
int pki_tlp_of_object(json_t *obj);
/* The most restrictive TLP among its granular_markings (PKI_TLP_NONE if none). */
int pki_tlp_of_granular(json_t *obj);
/* Drop from `obj` every top-level property that a granular marking selects
 * whose level is not in `visible` (bit L set: level L may be seen); a selector
 * "a.b.[0]" drops all of "a".  The identity properties (id, type,
 * spec_version, created, modified) stay.  Returns how many were dropped. */
int pki_tlp_drop_granular(json_t *obj, unsigned visible);
/* The `visible` mask for a reader: what every reader sees, AMBER+STRICT for
 * the writer's organisation, RED for it and the organisations it shares with. */
unsigned pki_tlp_visible_mask(int same_org, int red_shared);

/* ---- envelopes (envelope.c) --------------------------------------------- */

/* The checks an object must pass to be stored.  On failure `why` says what is
 * wrong (property and reason).  Fills the indexed fields on success. */
typedef struct pki_tx_obj {
    json_t *obj;      /* borrowed */
    const char *id;   /* borrowed from obj */
    const char *type; /* borrowed from obj */
    const char *spec_version;
    int64_t version; /* modified, else created, else 0 (then date_added stands in) */
    int tlp;         /* object level */
    int granular;    /* granular level */
} pki_tx_obj;
pk_status pki_tx_object_check(json_t *obj, pki_tx_obj *out, char *why, size_t why_n);
/* A POSTed envelope read and checked before the store is touched (outside
 * the write lock): each element with its bytes, and why it is refused (NULL
 * when it is valid).  `o` is filled for the valid ones. */
typedef struct pki_tx_item {
    json_t *json;    /* owned (NULL for an element that did not parse) */
    const char *raw; /* its bytes, in the batch's arena */
    size_t raw_len;
    pki_tx_obj o;
    const char *why;   /* NULL: valid */
    const char *where; /* "objects[N]" */
} pki_tx_item;
typedef struct pki_tx_batch {
    pk_arena *arena;
    int json_in_arena; /* the items' JSON values are in the arena (never json_decref) */
    pki_tx_item *items;
    size_t n, cap;
} pki_tx_batch;
/* PK_EPARSE: not JSON, or not an envelope (a 400); PK_ELIMIT: more than
 * max_objects (a 413). */
pk_status pki_tx_batch_read(const char *body, size_t len, size_t max_objects, pki_tx_batch **out,
                            pk_error *err);
void pki_tx_batch_free(pki_tx_batch *b);

/* A STIX type name / identifier as the grammar allows. */
int pki_tx_valid_type(const char *s);
int pki_tx_valid_id(const char *s);

/* ---- the database (db.c) ------------------------------------------------ */

typedef struct pki_tx_account {
    int64_t id;
    int64_t org;
    int admin;
    char name[128];
} pki_tx_account;

/* pk_taxii_db_open with pk_store_open flags (PK_STORE_FAST, ...). */
pk_status pki_txdb_open(const char *path, unsigned store_flags, pk_taxii_db **out, pk_error *err);
/* The store connection under db. */
pk_store *pki_txdb_store(pk_taxii_db *db);
/* One read transaction around a GET's statements (none may write). */
pk_status pki_txdb_read_begin(pk_taxii_db *db);
void pki_txdb_read_end(pk_taxii_db *db);

pk_status pki_txdb_auth(pk_taxii_db *db, const char *user, const char *token, pki_tx_account *acct);
/* The name of organisation `org` (a row id) into out.  PK_ENOTFOUND. */
pk_status pki_txdb_org_name(pk_taxii_db *db, int64_t org, char *out, size_t n);
/* Discovery: the API roots as paths; caller frees the JSON. */
pk_status pki_txdb_apiroots(pk_taxii_db *db, json_t **out);
/* 1 when `path` is an API root; *info gets {"title","description"} (may be NULL). */
int pki_txdb_apiroot_get(pk_taxii_db *db, const char *path, json_t **info);

/* A collection as the account sees it. */
typedef struct pki_tx_coll {
    char id[64]; /* the store's collection id */
    int can_read, can_write;
} pki_tx_coll;
/* PK_ENOTFOUND when the collection is absent or the account has no grant. */
pk_status pki_txdb_collection(pk_taxii_db *db, const char *root, const char *id,
                              const pki_tx_account *a, pki_tx_coll *c, json_t **info);
/* Every collection of `root` the account has any access to. */
pk_status pki_txdb_collections(pk_taxii_db *db, const char *root, const pki_tx_account *a,
                               json_t **out);

/* What a listing returns per row. */
typedef struct pki_tx_row {
    const char *json; /* the object as stored */
    size_t json_len;
    const char *stix_id;
    int64_t date_added;
    const char *version; /* modified, else created, else "" */
    int granular;        /* TLP of granular markings: PKI_TLP_NONE if none, PKI_TLP_UNKNOWN */
    int64_t org;         /* the writer's organisation */
    int tlp;
} pki_tx_row;
typedef int (*pki_tx_row_fn)(void *ctx, const pki_tx_row *r);

/* Listing modes. */
enum { PKI_TXQ_OBJECTS = 0, PKI_TXQ_MANIFEST = 1, PKI_TXQ_VERSIONS = 2 };
/*
 * Run a listing over collection c for account a: rows in date_added order,
 * at most `limit`, only those the account may see (TLP), each handed to fn.
 * `stix_id` restricts it to one object (object and versions endpoints).
 * *more says whether rows were left.
 */
pk_status pki_txdb_list(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                        const pki_tx_filter *f, int mode, const char *stix_id, long limit,
                        pki_tx_row_fn fn, void *ctx, int *more, pk_error *err);
/* Whether organisation `reader` may see level `tlp` written by `writer`. */
int pki_txdb_may_see(pk_taxii_db *db, int64_t reader, int64_t writer, int tlp);

/*
 * Store the valid objects of a batch in one transaction, and record the
 * status resource (every element: success or failure with its reason) in the
 * same transaction, so a "success" is never reported for an object that is
 * not committed.
 */
typedef struct pki_tx_status {
    char *body; /* the status resource as JSON text (pk_free) */
    size_t len;
    size_t successes, failures;
} pki_tx_status;
pk_status pki_txdb_add(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                       const pki_tx_batch *batch, pki_tx_status *status, pk_error *err);
/* Delete the versions of stix_id the filter selects that the account may see
 * and wrote (or any, for an admin).  *deleted counts rows. */
pk_status pki_txdb_delete(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                          const char *stix_id, const pki_tx_filter *f, long *deleted,
                          pk_error *err);
/* A status resource the account's organisation created. */
pk_status pki_txdb_status(pk_taxii_db *db, const char *root, const char *id,
                          const pki_tx_account *a, json_t **out);

#endif /* PICKET_TAXII_INT_H */

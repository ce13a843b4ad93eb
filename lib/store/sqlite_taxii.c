/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store side of the TAXII server (lib/store because it is SQL on the
 * store's tables): accounts (token hashes only), organisations, API roots,
 * per-organisation grants, TLP:RED shares, the writer of each version in a
 * collection, status resources, and the listings TAXII pages through.
 *
 * Objects, their versions, collections and date_added are the core schema's
 * (objects, collections, collection_objects); writes go through pk_store_put,
 * so what TAXII receives is what import, export, stats and match see.
 * date_added is strictly increasing per collection and taken under SQLite's
 * write lock, so commits come in date_added order and a reader's snapshot
 * never lacks a row older than the newest it sees: "after date_added X" as a
 * cursor never skips an object that commits later, and paging keeps no state
 * in memory.  TLP is enforced in the WHERE clause of every listing, so
 * `limit`, `more` and `next` count only what the reader may see.
 */
#include "store/store_impl.h"
#include "taxii/taxii_int.h"

#include <sodium.h>
#include <string.h>

struct pk_taxii_db {
    pk_store *store;
    sqlite3 *db;   /* the store's connection */
    pk_map *stmts; /* SQL text -> prepared statement, for the connection's life */
    uint8_t key[crypto_generichash_KEYBYTES];
};

#define DEFAULT_ROOT "api"
/* Dynamic statements cached at most; past this the cache is emptied. */
#define STMT_CACHE_MAX 256

static pk_status db_error(pk_taxii_db *db, pk_error *err, const char *what)
{
    int code = sqlite3_errcode(db->db);
    pk_status s = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PK_EBUSY : PK_ESTORE;
    return pk_error_set(err, s, "%s: %s", what, sqlite3_errmsg(db->db));
}

static void stmt_flush(pk_taxii_db *db)
{
    size_t it = 0;
    void *v;
    while (pk_map_next(db->stmts, &it, NULL, NULL, &v))
        sqlite3_finalize(v);
    pk_map_free(db->stmts);
    db->stmts = pk_map_new(64);
}

/* A prepared statement for `sql`, reset and with bindings cleared. */
static sqlite3_stmt *stmt(pk_taxii_db *db, const char *sql)
{
    if (!db->stmts) return NULL;
    size_t n = strlen(sql);
    sqlite3_stmt *st = pk_map_get(db->stmts, sql, n);
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(db->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    if (pk_map_put(db->stmts, sql, n, st) != PK_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* The same for a statement built per request: the cache is emptied when it
 * grows past STMT_CACHE_MAX (no cached statement is running at that point). */
static sqlite3_stmt *stmt_dyn(pk_taxii_db *db, const char *sql)
{
    if (db->stmts && pk_map_count(db->stmts) >= STMT_CACHE_MAX &&
        !pk_map_get(db->stmts, sql, strlen(sql)))
        stmt_flush(db);
    return stmt(db, sql);
}

static int exec(pk_taxii_db *db, const char *sql)
{
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void rollback(pk_taxii_db *db)
{
    if (!sqlite3_get_autocommit(db->db)) exec(db, "ROLLBACK");
}

static void now_text(char out[PK_TIME_STRLEN])
{
    pki_tx_time_format_us(pki_tx_now_us(), out);
}

pk_status pk_taxii_db_open(const char *path, pk_taxii_db **out, pk_error *err)
{
    return pki_txdb_open(path, 0, out, err);
}

pk_store *pki_txdb_store(pk_taxii_db *db)
{
    return db->store;
}

pk_status pki_txdb_open(const char *path, unsigned store_flags, pk_taxii_db **out, pk_error *err)
{
    *out = NULL;
    pk_taxii_db *db = pk_calloc(1, sizeof *db);
    if (!db) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_status s = PK_OK;
    if (sodium_init() < 0) {
        s = pk_error_set(err, PK_ECRYPTO, "libsodium failed to initialise");
        goto fail;
    }
    db->stmts = pk_map_new(64);
    if (!db->stmts) {
        s = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    /* The store applies the "taxii" migrations with its own. */
    if ((s = pk_store_open(path, store_flags, &db->store, err))) goto fail;
    db->db = pki_store_db(db->store);
    if (!db->db) {
        s = pk_error_set(err, PK_EUNSUPPORTED, "the TAXII server needs the SQLite engine");
        goto fail;
    }
    /* The key of the token hashes: made once, at the store's first use. */
    sqlite3_stmt *st = stmt(db, "SELECT v FROM taxii_meta WHERE k='token_key'");
    if (!st) {
        s = db_error(db, err, "reading the token key");
        goto fail;
    }
    int have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)sizeof db->key;
    if (have) memcpy(db->key, sqlite3_column_blob(st, 0), sizeof db->key);
    sqlite3_reset(st);
    if (!have) {
        uint8_t k[sizeof db->key];
        randombytes_buf(k, sizeof k);
        st = stmt(db, "INSERT OR IGNORE INTO taxii_meta(k, v) VALUES('token_key', ?1)");
        if (!st) {
            s = db_error(db, err, "storing the token key");
            goto fail;
        }
        sqlite3_bind_blob(st, 1, k, sizeof k, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sodium_memzero(k, sizeof k);
        if (rc != SQLITE_DONE) {
            s = db_error(db, err, "storing the token key");
            goto fail;
        }
        /* Another process may have won the race: read back what is stored. */
        st = stmt(db, "SELECT v FROM taxii_meta WHERE k='token_key'");
        if (!st || sqlite3_step(st) != SQLITE_ROW ||
            sqlite3_column_bytes(st, 0) != (int)sizeof db->key) {
            if (st) sqlite3_reset(st);
            s = db_error(db, err, "reading the token key");
            goto fail;
        }
        memcpy(db->key, sqlite3_column_blob(st, 0), sizeof db->key);
        sqlite3_reset(st);
    }
    *out = db;
    return PK_OK;
fail:
    pk_taxii_db_close(db);
    return s;
}

void pk_taxii_db_close(pk_taxii_db *db)
{
    if (!db) return;
    if (db->stmts) {
        size_t it = 0;
        void *v;
        while (pk_map_next(db->stmts, &it, NULL, NULL, &v))
            sqlite3_finalize(v);
        pk_map_free(db->stmts);
    }
    pk_store_close(db->store);
    sodium_memzero(db->key, sizeof db->key);
    pk_free(db);
}

/* ---- organisations and accounts ------------------------------------------ */

static pk_status org_id(pk_taxii_db *db, const char *name, int create, int64_t *out, pk_error *err)
{
    sqlite3_stmt *st = stmt(db, "SELECT rid FROM taxii_org WHERE name=?1");
    if (!st) return db_error(db, err, "organisations");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return PK_OK;
    }
    sqlite3_reset(st);
    if (!create) return pk_error_set(err, PK_ENOTFOUND, "no organisation '%s'", name);
    st = stmt(db, "INSERT INTO taxii_org(name) VALUES(?1)");
    if (!st) return db_error(db, err, "organisations");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(db, err, "adding an organisation");
    *out = sqlite3_last_insert_rowid(db->db);
    return PK_OK;
}

static void token_hash(const pk_taxii_db *db, const char *token, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), db->key,
                       sizeof db->key);
}

static void new_token(char token[PK_TAXII_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, "pkt_", 4);
    sodium_bin2base64(token + 4, PK_TAXII_TOKEN_LEN + 1 - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x7f || c == ':') return 0;
    }
    return 1;
}

pk_status pk_taxii_user_add(pk_taxii_db *db, const char *name, const char *org, int admin,
                            char token[PK_TAXII_TOKEN_LEN + 1], pk_error *err)
{
    if (!valid_name(name))
        return pk_error_set(err, PK_EINVAL,
                            "account name '%s': 1 to 100 printable characters, no ':' or space",
                            name);
    if (!valid_name(org))
        return pk_error_set(err, PK_EINVAL, "organisation '%s': 1 to 100 printable characters",
                            org);
    if (exec(db, "BEGIN IMMEDIATE")) return db_error(db, err, "adding an account");
    int64_t oid;
    pk_status s = org_id(db, org, 1, &oid, err);
    if (s) goto fail;
    uint8_t h[32];
    new_token(token);
    token_hash(db, token, h);
    char now[PK_TIME_STRLEN];
    now_text(now);
    sqlite3_stmt *st = stmt(db, "INSERT INTO taxii_account(name, org, admin, token_hash, created)"
                                " VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!st) {
        s = db_error(db, err, "adding an account");
        goto fail;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, oid);
    sqlite3_bind_int(st, 3, admin ? 1 : 0);
    sqlite3_bind_blob(st, 4, h, sizeof h, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(db->db) == SQLITE_CONSTRAINT_UNIQUE)
            s = pk_error_set(err, PK_EEXIST, "an account named '%s' exists already", name);
        else
            s = db_error(db, err, "adding an account");
        goto fail;
    }
    if (exec(db, "COMMIT")) {
        s = db_error(db, err, "adding an account");
        goto fail;
    }
    return PK_OK;
fail:
    sodium_memzero(token, PK_TAXII_TOKEN_LEN + 1);
    rollback(db);
    return s;
}

pk_status pk_taxii_user_rotate(pk_taxii_db *db, const char *name,
                               char token[PK_TAXII_TOKEN_LEN + 1], pk_error *err)
{
    uint8_t h[32];
    new_token(token);
    token_hash(db, token, h);
    sqlite3_stmt *st = stmt(db, "UPDATE taxii_account SET token_hash=?2 WHERE name=?1");
    if (!st) return db_error(db, err, "rotating a token");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, h, sizeof h, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(db, err, "rotating a token");
    if (sqlite3_changes(db->db) == 0) {
        sodium_memzero(token, PK_TAXII_TOKEN_LEN + 1);
        return pk_error_set(err, PK_ENOTFOUND, "no account named '%s'", name);
    }
    return PK_OK;
}

pk_status pk_taxii_user_remove(pk_taxii_db *db, const char *name, pk_error *err)
{
    sqlite3_stmt *st = stmt(db, "DELETE FROM taxii_account WHERE name=?1");
    if (!st) return db_error(db, err, "removing an account");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(db, err, "removing an account");
    if (sqlite3_changes(db->db) == 0)
        return pk_error_set(err, PK_ENOTFOUND, "no account named '%s'", name);
    return PK_OK;
}

/* Run a query and turn each row into a JSON object with the given keys;
 * column types decide the JSON types (integers named like flags are booleans). */
static pk_status rows_json(pk_taxii_db *db, sqlite3_stmt *st, const char *const *keys,
                           unsigned bool_mask, json_t *arr, pk_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o)) return pk_error_set(err, PK_ENOMEM, "no memory");
        for (int i = 0; keys[i]; i++) {
            json_t *v;
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                v = (bool_mask >> i & 1) ? json_boolean(sqlite3_column_int(st, i))
                                         : json_integer(sqlite3_column_int64(st, i));
                break;
            case SQLITE_NULL:
                continue;
            default:
                v = json_string((const char *)sqlite3_column_text(st, i));
            }
            if (!v || json_object_set_new(o, keys[i], v))
                return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : db_error(db, err, "listing");
}

pk_status pk_taxii_user_list(pk_taxii_db *db, json_t **out, pk_error *err)
{
    static const char *const keys[] = {"name", "org", "admin", "created", NULL};
    *out = json_array();
    if (!*out) return pk_error_set(err, PK_ENOMEM, "out of memory");
    sqlite3_stmt *st = stmt(db, "SELECT a.name, o.name, a.admin, a.created FROM taxii_account a"
                                " JOIN taxii_org o ON o.rid=a.org ORDER BY a.name");
    pk_status s = st ? rows_json(db, st, keys, 1u << 2, *out, err) : db_error(db, err, "accounts");
    if (s) {
        json_decref(*out);
        *out = NULL;
    }
    return s;
}

pk_status pk_taxii_red_share(pk_taxii_db *db, const char *writer, const char *reader, int allow,
                             pk_error *err)
{
    int64_t w, r;
    pk_status s;
    if (exec(db, "BEGIN IMMEDIATE")) return db_error(db, err, "sharing TLP:RED");
    /* Withdrawing never creates an organisation: a misspelt name is an error. */
    if ((s = org_id(db, writer, allow, &w, err)) || (s = org_id(db, reader, allow, &r, err)))
        goto fail;
    sqlite3_stmt *st =
        stmt(db, allow ? "INSERT OR IGNORE INTO taxii_red_share(writer, reader) VALUES(?1, ?2)"
                       : "DELETE FROM taxii_red_share WHERE writer=?1 AND reader=?2");
    if (!st) {
        s = db_error(db, err, "sharing TLP:RED");
        goto fail;
    }
    sqlite3_bind_int64(st, 1, w);
    sqlite3_bind_int64(st, 2, r);
    if (sqlite3_step(st) != SQLITE_DONE) {
        s = db_error(db, err, "sharing TLP:RED");
        goto fail;
    }
    if (!allow && sqlite3_changes(db->db) == 0) {
        s = pk_error_set(err, PK_ENOTFOUND, "'%s' does not share TLP:RED with '%s'", writer,
                         reader);
        goto fail;
    }
    if (exec(db, "COMMIT")) {
        s = db_error(db, err, "sharing TLP:RED");
        goto fail;
    }
    return PK_OK;
fail:
    rollback(db);
    return s;
}

pk_status pki_txdb_read_begin(pk_taxii_db *db)
{
    sqlite3_stmt *st = stmt(db, "BEGIN");
    if (!st) return PK_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : PK_ESTORE;
}

void pki_txdb_read_end(pk_taxii_db *db)
{
    if (sqlite3_get_autocommit(db->db)) return;
    sqlite3_stmt *st = stmt(db, "COMMIT");
    if (st && sqlite3_step(st) == SQLITE_DONE) {
        sqlite3_reset(st);
        return;
    }
    if (st) sqlite3_reset(st);
    rollback(db);
}

pk_status pki_txdb_auth(pk_taxii_db *db, const char *user, const char *token, pki_tx_account *a)
{
    uint8_t h[32];
    token_hash(db, token, h);
    sqlite3_stmt *st;
    if (user && *user) {
        st = stmt(db, "SELECT rid, org, admin, name, token_hash FROM taxii_account WHERE name=?1");
        if (!st) return PK_ESTORE;
        sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    } else {
        st = stmt(db, "SELECT rid, org, admin, name, token_hash FROM taxii_account"
                      " WHERE token_hash=?1");
        if (!st) return PK_ESTORE;
        sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_STATIC);
    }
    pk_status s = PK_EAUTH;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 4) == (int)sizeof h &&
        sodium_memcmp(sqlite3_column_blob(st, 4), h, sizeof h) == 0) {
        a->id = sqlite3_column_int64(st, 0);
        a->org = sqlite3_column_int64(st, 1);
        a->admin = sqlite3_column_int(st, 2);
        snprintf(a->name, sizeof a->name, "%s", (const char *)sqlite3_column_text(st, 3));
        s = PK_OK;
    }
    sqlite3_reset(st);
    return s;
}

pk_status pki_txdb_org_name(pk_taxii_db *db, int64_t org, char *out, size_t n)
{
    sqlite3_stmt *st = stmt(db, "SELECT name FROM taxii_org WHERE rid=?1");
    if (!st) return PK_ESTORE;
    sqlite3_bind_int64(st, 1, org);
    pk_status s = PK_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        s = PK_OK;
    }
    sqlite3_reset(st);
    return s;
}

/* ---- API roots and collections ------------------------------------------- */

static int valid_root(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return strcmp(s, "taxii2") != 0;
}

pk_status pk_taxii_apiroot_add(pk_taxii_db *db, const char *path, const char *title,
                               const char *description, pk_error *err)
{
    if (!valid_root(path))
        return pk_error_set(err, PK_EINVAL,
                            "API root '%s': 1 to 64 letters, digits, '-' or '_' (not taxii2)",
                            path);
    sqlite3_stmt *st =
        stmt(db, "INSERT INTO taxii_apiroot(path, title, description) VALUES(?1, ?2, ?3)");
    if (!st) return db_error(db, err, "adding an API root");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title && *title ? title : path, -1, SQLITE_STATIC);
    if (description)
        sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(db->db) == SQLITE_CONSTRAINT_UNIQUE)
            return pk_error_set(err, PK_EEXIST, "API root '%s' exists already", path);
        return db_error(db, err, "adding an API root");
    }
    return PK_OK;
}

pk_status pk_taxii_apiroot_list(pk_taxii_db *db, json_t **out, pk_error *err)
{
    static const char *const keys[] = {"path", "title", "description", NULL};
    *out = json_array();
    if (!*out) return pk_error_set(err, PK_ENOMEM, "out of memory");
    sqlite3_stmt *st = stmt(db, "SELECT path, title, description FROM taxii_apiroot ORDER BY rid");
    pk_status s = st ? rows_json(db, st, keys, 0, *out, err) : db_error(db, err, "API roots");
    if (s) {
        json_decref(*out);
        *out = NULL;
    }
    return s;
}

pk_status pki_txdb_apiroots(pk_taxii_db *db, json_t **out)
{
    return pk_taxii_apiroot_list(db, out, NULL);
}

int pki_txdb_apiroot_get(pk_taxii_db *db, const char *path, json_t **info)
{
    sqlite3_stmt *st = stmt(db, "SELECT title, description FROM taxii_apiroot WHERE path=?1");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found && info) {
        const char *d = (const char *)sqlite3_column_text(st, 1);
        *info = json_pack("{s:s}", "title", (const char *)sqlite3_column_text(st, 0));
        if (*info && d) json_object_set_new(*info, "description", json_string(d));
    }
    sqlite3_reset(st);
    return found;
}

pk_status pk_taxii_collection_add(pk_taxii_db *db, const char *apiroot, const char *title,
                                  const char *description, const char *alias,
                                  char id[PK_UUID_STRLEN], pk_error *err)
{
    if (!apiroot) apiroot = DEFAULT_ROOT;
    if (!title || !*title) return pk_error_set(err, PK_EINVAL, "a collection needs a title");
    pk_status s = pk_store_begin(db->store, err);
    if (s) return s;
    sqlite3_stmt *st = stmt(db, "SELECT rid FROM taxii_apiroot WHERE path=?1");
    if (!st) {
        s = db_error(db, err, "adding a collection");
        goto fail;
    }
    sqlite3_bind_text(st, 1, apiroot, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        s = pk_error_set(err, PK_ENOTFOUND, "no API root '%s' (add it with picket apiroot add)",
                         apiroot);
        goto fail;
    }
    int64_t root = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if ((s = pk_store_collection_create(db->store, NULL, title, description, alias, id, err)))
        goto fail;
    st = stmt(db, "INSERT INTO taxii_collection(coll, apiroot) VALUES(?1, ?2)");
    if (!st) {
        s = db_error(db, err, "adding a collection");
        goto fail;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, root);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        s = db_error(db, err, "adding a collection");
        goto fail;
    }
    return pk_store_commit(db->store, err);
fail:
    pk_store_rollback(db->store);
    return s;
}

/* The API root a collection row is under: its taxii_collection row, else 'api'. */
#define COLL_ROOT                                                                                  \
    "COALESCE((SELECT tc.apiroot FROM taxii_collection tc WHERE tc.coll = c.id),"                  \
    " (SELECT rid FROM taxii_apiroot WHERE path = 'api'))"

pk_status pk_taxii_collection_list(pk_taxii_db *db, json_t **out, pk_error *err)
{
    static const char *const keys[] = {"id",    "api_root", "title", "description",
                                       "alias", "objects",  NULL};
    *out = json_array();
    if (!*out) return pk_error_set(err, PK_ENOMEM, "out of memory");
    sqlite3_stmt *st =
        stmt(db, "SELECT c.id, r.path, c.title, NULLIF(c.description, ''), c.alias,"
                 " (SELECT count(*) FROM collection_objects co WHERE co.collection = c.id)"
                 " FROM collections c JOIN taxii_apiroot r ON r.rid = " COLL_ROOT
                 " ORDER BY c.created, c.id");
    pk_status s = st ? rows_json(db, st, keys, 0, *out, err) : db_error(db, err, "collections");
    size_t i;
    json_t *c;
    json_array_foreach(*out, i, c)
    {
        if (s) break;
        static const char *const gkeys[] = {"org", "read", "write", NULL};
        json_t *g = json_array();
        if (!g || json_object_set_new(c, "grants", g)) {
            s = pk_error_set(err, PK_ENOMEM, "out of memory");
            break;
        }
        sqlite3_stmt *gs = stmt(db, "SELECT o.name, g.can_read, g.can_write FROM taxii_grant g"
                                    " JOIN taxii_org o ON o.rid=g.org WHERE g.coll=?1"
                                    " ORDER BY o.name");
        if (!gs) {
            s = db_error(db, err, "grants");
            break;
        }
        sqlite3_bind_text(gs, 1, json_string_value(json_object_get(c, "id")), -1, SQLITE_TRANSIENT);
        s = rows_json(db, gs, gkeys, 6, g, err);
    }
    if (s) {
        json_decref(*out);
        *out = NULL;
    }
    return s;
}

pk_status pk_taxii_collection_grant(pk_taxii_db *db, const char *id, const char *org, int can_read,
                                    int can_write, pk_error *err)
{
    if (!valid_name(org))
        return pk_error_set(err, PK_EINVAL, "organisation '%s': 1 to 100 printable characters",
                            org);
    char cid[PK_UUID_STRLEN];
    pk_status s = pk_store_collection_find(db->store, id, cid, err);
    if (s) return s == PK_ENOTFOUND ? pk_error_set(err, s, "no collection '%s'", id) : s;
    if (exec(db, "BEGIN IMMEDIATE")) return db_error(db, err, "granting");
    int64_t oid;
    /* Revoking never creates an organisation: a misspelt name is an error. */
    if ((s = org_id(db, org, can_read || can_write, &oid, err))) goto fail;
    sqlite3_stmt *st =
        stmt(db, (can_read || can_write) ? "INSERT OR REPLACE INTO taxii_grant(coll, org, can_read,"
                                           " can_write) VALUES(?1, ?2, ?3, ?4)"
                                         : "DELETE FROM taxii_grant WHERE coll=?1 AND org=?2");
    if (!st) {
        s = db_error(db, err, "granting");
        goto fail;
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, oid);
    if (can_read || can_write) {
        sqlite3_bind_int(st, 3, can_read ? 1 : 0);
        sqlite3_bind_int(st, 4, can_write ? 1 : 0);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        s = db_error(db, err, "granting");
        goto fail;
    }
    if (!(can_read || can_write) && sqlite3_changes(db->db) == 0) {
        s = pk_error_set(err, PK_ENOTFOUND, "'%s' has no grant on collection '%s'", org, id);
        goto fail;
    }
    if (exec(db, "COMMIT")) {
        s = db_error(db, err, "granting");
        goto fail;
    }
    return PK_OK;
fail:
    rollback(db);
    return s;
}

static json_t *collection_json(sqlite3_stmt *st, int can_read, int can_write)
{
    const char *d = (const char *)sqlite3_column_text(st, 2);
    const char *al = (const char *)sqlite3_column_text(st, 3);
    json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:[s]}", "id", (const char *)sqlite3_column_text(st, 0),
                          "title", (const char *)sqlite3_column_text(st, 1), "can_read", can_read,
                          "can_write", can_write, "media_types", PK_STIX_MEDIA_TYPE);
    if (o && d && *d) json_object_set_new(o, "description", json_string(d));
    if (o && al && *al) json_object_set_new(o, "alias", json_string(al));
    return o;
}

#define COLL_SELECT                                                                                \
    "SELECT c.id, c.title, c.description, c.alias, 0, g.can_read, g.can_write"                     \
    " FROM collections c LEFT JOIN taxii_grant g ON g.coll = c.id AND g.org = ?2"                  \
    " WHERE " COLL_ROOT " = (SELECT rid FROM taxii_apiroot WHERE path = ?1)"

pk_status pki_txdb_collection(pk_taxii_db *db, const char *root, const char *id,
                              const pki_tx_account *a, pki_tx_coll *c, json_t **info)
{
    sqlite3_stmt *st = stmt(db, COLL_SELECT " AND (c.id=?3 OR c.alias=?3)");
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->org);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    pk_status s = PK_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(c->id, sizeof c->id, "%s", (const char *)sqlite3_column_text(st, 0));
        c->can_read = a->admin || sqlite3_column_int(st, 5);
        c->can_write = a->admin || sqlite3_column_int(st, 6);
        if (c->can_read || c->can_write) {
            s = PK_OK;
            if (info) {
                *info = collection_json(st, c->can_read, c->can_write);
                if (!*info) s = PK_ENOMEM;
            }
        }
    }
    sqlite3_reset(st);
    return s;
}

pk_status pki_txdb_collections(pk_taxii_db *db, const char *root, const pki_tx_account *a,
                               json_t **out)
{
    *out = json_array();
    if (!*out) return PK_ENOMEM;
    sqlite3_stmt *st = stmt(db, COLL_SELECT " ORDER BY c.created, c.id");
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->org);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int r = a->admin || sqlite3_column_int(st, 5), w = a->admin || sqlite3_column_int(st, 6);
        if (!r && !w) continue;
        if (json_array_append_new(*out, collection_json(st, r, w))) {
            sqlite3_reset(st);
            return PK_ENOMEM;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : PK_ESTORE;
}

/* ---- listings ------------------------------------------------------------ */

/* Values bound to a statement built per request, in order. */
typedef struct binds {
    int n;
    struct {
        int is_text;
        int64_t i;
        const char *s;
    } v[4 * PKI_TX_LIST_MAX + 16];
} binds;

static void bind_i(binds *b, int64_t v)
{
    b->v[b->n].is_text = 0;
    b->v[b->n++].i = v;
}

static void bind_s(binds *b, const char *s)
{
    b->v[b->n].is_text = 1;
    b->v[b->n++].s = s;
}

static pk_status add_in(pk_buf *q, binds *b, const char *col, const char *const *items, size_t n)
{
    if (!n) return PK_OK;
    pk_status s = pk_buf_addf(q, " AND %s IN (", col);
    for (size_t i = 0; i < n && !s; i++) {
        s = pk_buf_adds(q, i ? ",?" : "?");
        bind_s(b, items[i]);
    }
    return s ? s : pk_buf_adds(q, ")");
}

/* The TLP rule as SQL for reader organisation `org`.  The store numbers TLP
 * one above PKI_TLP (0 is "none"): 4 is AMBER+STRICT, 5 RED.  A version with
 * no writer row (put in the store by import, not over TAXII) has no
 * organisation: its RED and AMBER+STRICT go to nobody. */
static pk_status add_visibility(pk_buf *q, binds *b, int64_t org)
{
    bind_i(b, org);
    int r1 = b->n;
    bind_i(b, org);
    int r2 = b->n;
    return pk_buf_addf(q,
                       " AND (e.tlp < %d OR e.org = ?%d OR (e.tlp = %d AND EXISTS (SELECT 1 FROM"
                       " taxii_red_share s WHERE s.writer = e.org AND s.reader = ?%d)))",
                       PKI_TLP_AMBER_STRICT + 1, r1, PKI_TLP_RED + 1, r2);
}

/* The store's version key of a time: RFC 3339 with nine fractional digits. */
static void version_key(int64_t us, char out[PK_TIME_STRLEN])
{
    pk_time t;
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    t.sec = sec;
    t.nsec = (int32_t)(rem * 1000);
    t.digits = 9;
    pk_time_format(&t, 9, out);
}

/* "o is the newest (fn max, flag 1) or oldest (min, flag 2) version of its
 * object in the collection among those the reader may see".  When every
 * version of the object there is visible to every reader of the collection
 * (taxii_entry flag 4 clear), that is the flag kept on write; otherwise it is
 * computed for this reader, so that a newer RED version does not hide an
 * older GREEN one from a reader who may not see RED (versions put in by
 * import count as well).  The CASE runs the subquery only for flag-4 rows. */
static pk_status add_version_of(pk_buf *q, binds *b, const char *fn, int flag, int64_t org)
{
    bind_i(b, org);
    int r1 = b->n;
    bind_i(b, org);
    int r2 = b->n;
    return pk_buf_addf(q,
                       "(CASE WHEN e.flags & 4 = 0 THEN e.flags & %d <> 0 ELSE"
                       " o.version = (SELECT %s(o2.version) FROM objects o2 CROSS"
                       " JOIN collection_objects c2 ON c2.obj = o2.pk AND c2.collection = e.coll"
                       " CROSS JOIN taxii_entry e2 ON e2.coll = c2.collection"
                       " AND e2.date_added = c2.date_added"
                       " WHERE o2.pk IN " PKI_IDS_PK(
                           "o.idh") " AND o2.id = o.id"
                                    " AND (e2.tlp < %d OR e2.org = ?%d OR"
                                    " (e2.tlp = %d AND EXISTS (SELECT 1 FROM taxii_red_share s2"
                                    " WHERE s2.writer = e2.org AND s2.reader = ?%d)))) END)",
                       flag, fn, PKI_TLP_AMBER_STRICT + 1, r1, PKI_TLP_RED + 1, r2);
}

static pk_status add_versions(pk_buf *q, binds *b, const pki_tx_filter *f, int64_t org,
                              char (*keys)[PK_TIME_STRLEN])
{
    if (!f->has_version) {
        pk_status s = pk_buf_adds(q, " AND ");
        return s ? s : add_version_of(q, b, "max", 1, org);
    }
    if (f->v_all) return PK_OK;
    pk_status s = pk_buf_adds(q, " AND (0");
    if (!s && f->v_last && !(s = pk_buf_adds(q, " OR "))) s = add_version_of(q, b, "max", 1, org);
    if (!s && f->v_first && !(s = pk_buf_adds(q, " OR "))) s = add_version_of(q, b, "min", 2, org);
    if (!s && f->n_vtimes) {
        s = pk_buf_adds(q, " OR o.version IN (");
        for (size_t i = 0; i < f->n_vtimes && !s; i++) {
            version_key(f->v_times[i], keys[i]);
            s = pk_buf_adds(q, i ? ",?" : "?");
            bind_s(b, keys[i]);
        }
        if (!s) s = pk_buf_adds(q, ")");
    }
    return s ? s : pk_buf_adds(q, ")");
}

static int bind_all(sqlite3_stmt *st, const binds *b)
{
    for (int i = 0; i < b->n; i++) {
        int rc = b->v[i].is_text ? sqlite3_bind_text(st, i + 1, b->v[i].s, -1, SQLITE_STATIC)
                                 : sqlite3_bind_int64(st, i + 1, b->v[i].i);
        if (rc != SQLITE_OK) return -1;
    }
    return 0;
}

pk_status pki_txdb_list(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                        const pki_tx_filter *f, int mode, const char *stix_id, long limit,
                        pki_tx_row_fn fn, void *ctx, int *more, pk_error *err)
{
    pk_buf q;
    binds b;
    char keys[PKI_TX_LIST_MAX][PK_TIME_STRLEN];
    b.n = 0;
    pk_buf_init(&q, 64 * 1024);
    int64_t after = f->added_after > f->next ? f->added_after : f->next;
    bind_s(&b, c->id);
    bind_i(&b, after);
    /* A whole listing is a range of taxii_entry in date_added order and the
     * objects rows it points at; for given ids, the objects come first (by
     * the id hash) and their entries are found through collection_objects. */
    pk_status s = pk_buf_addf(
        &q,
        "SELECT %s, o.id, e.date_added, CASE WHEN o.modified <> '' THEN o.modified ELSE"
        " o.created END, e.granular, e.org, e.tlp - 1 FROM %s"
        " WHERE e.coll = ?1 AND e.date_added > ?2",
        mode == PKI_TXQ_OBJECTS ? "o.raw" : "o.spec_version",
        stix_id || f->n_ids ? "objects o CROSS JOIN collection_objects co ON co.obj = o.pk"
                              " AND co.collection = ?1 CROSS JOIN taxii_entry e ON"
                              " e.coll = co.collection AND e.date_added = co.date_added"
                            : "taxii_entry e JOIN objects o ON o.pk = e.obj");
    if (!s && stix_id) {
        /* the store finds ids by a 64-bit hash, in two levels of its index */
        bind_i(&b, pki_store_id_hash(stix_id));
        s = pk_buf_addf(&q,
                        " AND o.pk IN (SELECT pk FROM object_ids WHERE idh = ?%d UNION ALL"
                        " SELECT pk FROM object_ids_new WHERE idh = ?%d) AND o.id = ?",
                        b.n, b.n);
        bind_s(&b, stix_id);
    }
    if (!s && f->n_ids) {
        int k0 = b.n + 1;
        for (size_t i = 0; i < f->n_ids; i++)
            bind_i(&b, pki_store_id_hash(f->ids[i]));
        s = pki_ids_in_sql(&q, f->n_ids, k0);
    }
    if (!s) s = add_in(&q, &b, "o.id", f->ids, f->n_ids);
    if (!s) s = add_in(&q, &b, "o.type", f->types, f->n_types);
    if (!s) s = add_in(&q, &b, "o.spec_version", f->spec_versions, f->n_spec);
    if (!s && mode != PKI_TXQ_VERSIONS) s = add_versions(&q, &b, f, a->org, keys);
    if (!s) s = add_visibility(&q, &b, a->org);
    if (!s) s = pk_buf_adds(&q, " ORDER BY e.date_added LIMIT ?");
    bind_i(&b, limit + 1);
    if (s) {
        pk_buf_free(&q);
        return pk_error_set(err, s, "building the query");
    }
    sqlite3_stmt *st = stmt_dyn(db, q.data);
    pk_buf_free(&q);
    if (!st || bind_all(st, &b)) return db_error(db, err, "listing objects");
    long n = 0;
    int rc;
    *more = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            *more = 1;
            break;
        }
        pki_tx_row r;
        r.json = (const char *)sqlite3_column_text(st, 0);
        r.json_len = (size_t)sqlite3_column_bytes(st, 0);
        r.stix_id = (const char *)sqlite3_column_text(st, 1);
        r.date_added = sqlite3_column_int64(st, 2);
        r.version = (const char *)sqlite3_column_text(st, 3);
        r.granular = sqlite3_column_int(st, 4);
        r.org = sqlite3_column_int64(st, 5);
        r.tlp = sqlite3_column_int(st, 6);
        if (fn(ctx, &r)) {
            sqlite3_reset(st);
            return pk_error_set(err, PK_ENOMEM, "out of memory");
        }
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(db, err, "listing objects");
    return PK_OK;
}

int pki_txdb_may_see(pk_taxii_db *db, int64_t reader, int64_t writer, int tlp)
{
    if (tlp < PKI_TLP_AMBER_STRICT || (writer && reader == writer)) return 1;
    if (tlp != PKI_TLP_RED || !writer) return 0;
    sqlite3_stmt *st = stmt(db, "SELECT 1 FROM taxii_red_share WHERE writer=?1 AND reader=?2");
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, writer);
    sqlite3_bind_int64(st, 2, reader);
    int ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return ok;
}

/* ---- adding -------------------------------------------------------------- */

/* A JSON string of `t`: quotes, backslashes and control characters escaped,
 * a byte that is not part of well-formed UTF-8 (a message cut short in the
 * middle of a character) replaced by U+FFFD. */
static pk_status add_jstr(pk_buf *b, const char *t)
{
    pk_status s = pk_buf_addc(b, '"');
    const unsigned char *p = (const unsigned char *)t;
    while (!s && *p) {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            s = pk_buf_add(b, e, 2);
            p++;
        } else if (ch < 0x20) {
            s = pk_buf_addf(b, "\\u%04x", ch);
            p++;
        } else if (ch < 0x80) {
            const unsigned char *q = p;
            while (*q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
                q++;
            s = pk_buf_add(b, p, (size_t)(q - p));
            p = q;
        } else {
            size_t n = ch >= 0xf0 && ch < 0xf5   ? 4
                       : ch >= 0xe0              ? 3
                       : ch >= 0xc2 && ch < 0xe0 ? 2
                                                 : 0;
            size_t k = 1;
            while (n && k < n && (p[k] & 0xc0) == 0x80)
                k++;
            int ok = n && k == n;
            /* no overlong forms, surrogates or code points past U+10FFFF */
            if (ok && n == 3 && ((ch == 0xe0 && p[1] < 0xa0) || (ch == 0xed && p[1] >= 0xa0)))
                ok = 0;
            if (ok && n == 4 && ((ch == 0xf0 && p[1] < 0x90) || (ch == 0xf4 && p[1] >= 0x90)))
                ok = 0;
            if (ok) {
                s = pk_buf_add(b, p, n);
                p += n;
            } else {
                s = pk_buf_adds(b, "\\ufffd");
                p++;
            }
        }
    }
    return s ? s : pk_buf_addc(b, '"');
}

/* One entry of a status resource's successes or failures, as JSON text. */
static pk_status status_item(pk_buf *list, size_t *n, const char *id, const char *version,
                             const char *msg)
{
    pk_status s = pk_buf_adds(list, *n ? ",{\"id\":" : "{\"id\":");
    if (!s) s = add_jstr(list, id ? id : "");
    if (!s && version && !(s = pk_buf_adds(list, ",\"version\":"))) s = add_jstr(list, version);
    if (!s && msg && !(s = pk_buf_adds(list, ",\"message\":"))) s = add_jstr(list, msg);
    if (!s) s = pk_buf_addc(list, '}');
    (*n)++;
    return s;
}

/* Record who wrote the version just added to the collection at `date_added`
 * (its taxii_entry row, made by the store's trigger with its TLP and
 * latest/first flags, lacks only that). */
static pk_status note_writer(pk_taxii_db *db, const pki_tx_coll *c, int64_t org, int granular,
                             int64_t date_added, pk_error *err)
{
    sqlite3_stmt *st = stmt(db, "UPDATE taxii_entry SET org = ?3, granular = ?4"
                                " WHERE coll = ?1 AND date_added = ?2");
    if (!st) return db_error(db, err, "recording the writer");
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, date_added);
    sqlite3_bind_int64(st, 3, org);
    sqlite3_bind_int(st, 4, granular);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : db_error(db, err, "recording the writer");
}

typedef struct same_ctx {
    json_t *posted;
    int found, equal; /* version `v` is stored; with the posted content */
    int other;        /* the store holds another version of the id */
} same_ctx;

/* Every stored version of `id`, in one lookup on the objects' id hash (a
 * probe of each level of the id index): is version `v` among them, is it the
 * posted content, and are there others?  The version is compared as the
 * store keys it (RFC 3339 with nine fractional digits, "" when none); only
 * its row's text is read.  A compound of two joins rather than `pk IN
 * (...)`, which would fill a temporary table per object posted. */
static pk_status stored_versions(pk_taxii_db *db, const char *id, const char *v, same_ctx *sc,
                                 pk_error *err)
{
    char key[PK_TIME_STRLEN];
    pk_time t;
    if (v && *v && pk_time_parse(v, strlen(v), PK_TIME_RFC3339, &t, NULL) == PK_OK)
        pk_time_format(&t, 9, key);
    else
        snprintf(key, sizeof key, "%s", v ? v : "");
    sqlite3_stmt *st =
        stmt(db, "SELECT CASE WHEN o.version = ?2 THEN o.raw END FROM object_ids i"
                 " CROSS JOIN objects o ON o.pk = i.pk WHERE i.idh = ?3 AND o.id = ?1"
                 " UNION ALL SELECT CASE WHEN o.version = ?2 THEN o.raw END FROM object_ids_new i"
                 " CROSS JOIN objects o ON o.pk = i.pk WHERE i.idh = ?3 AND o.id = ?1");
    if (!st) return db_error(db, err, "looking up a version");
    sqlite3_bind_int64(st, 3, pki_store_id_hash(id));
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            sc->other = 1;
            continue;
        }
        sc->found = 1;
        json_t *stored = json_loadb((const char *)sqlite3_column_text(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0), 0, NULL);
        sc->equal = stored && json_equal(stored, sc->posted);
        json_decref(stored);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : db_error(db, err, "looking up a version");
}

/* The whole taxii_entry row of a new object (no other version in the
 * store: newest and oldest, flags 3), written just before the store links
 * it into the collection, so that the triggers find it and do nothing. */
typedef struct entry_ctx {
    pk_taxii_db *db;
    const pki_tx_coll *c;
    int64_t org;
    int granular;
} entry_ctx;

static pk_status entry_before_link(void *ud, int64_t obj_pk, int64_t date_added, int tlp,
                                   pk_error *err)
{
    entry_ctx *e = ud;
    sqlite3_stmt *st = stmt(e->db, "INSERT INTO taxii_entry(coll, date_added, obj, org, granular,"
                                   " tlp, flags) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 3)");
    if (!st) return db_error(e->db, err, "recording the writer");
    sqlite3_bind_text(st, 1, e->c->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, date_added);
    sqlite3_bind_int64(st, 3, obj_pk);
    sqlite3_bind_int64(st, 4, e->org);
    sqlite3_bind_int(st, 5, e->granular);
    sqlite3_bind_int(st, 6, tlp);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : db_error(e->db, err, "recording the writer");
}

pk_status pki_txdb_add(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                       const pki_tx_batch *batch, pki_tx_status *status, pk_error *err)
{
    memset(status, 0, sizeof *status);
    pk_uuid u;
    char sid[PK_UUID_STRLEN], now[PK_TIME_STRLEN];
    if (pk_uuid_v4(&u)) return pk_error_set(err, PK_EIO, "no randomness for a status id");
    pk_uuid_format(&u, sid);
    pki_tx_time_format_us(pki_tx_now_us(), now);
    /* The status resource is written as text as it is built: it is stored
     * and sent as it is, with no tree of JSON values per object. */
    pk_buf succ, fail, body;
    size_t n_succ = 0, n_fail = 0;
    pk_buf_init(&succ, 0);
    pk_buf_init(&fail, 0);
    pk_buf_init(&body, 0);
    pk_status s = pk_store_begin(db->store, err);
    int in_tx = !s;
    if (s) goto out;
    sqlite3_stmt *st = stmt(db, "SELECT " COLL_ROOT " FROM collections c WHERE c.id = ?1");
    if (!st) {
        s = db_error(db, err, "adding objects");
        goto out;
    }
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    int64_t root = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    size_t count = batch->n;
    for (size_t i = 0; i < batch->n; i++) {
        const pki_tx_item *it = &batch->items[i];
        const char *id = it->json ? json_string_value(json_object_get(it->json, "id")) : NULL;
        const char *v = it->json ? json_string_value(json_object_get(it->json, "modified")) : NULL;
        if (!v && it->json) v = json_string_value(json_object_get(it->json, "created"));
        if (it->why) {
            if (status_item(&fail, &n_fail, id ? id : it->where, v, it->why)) goto oom;
            continue;
        }
        /* A version already in the store (written by anyone, into any
         * collection) is linked into this one only when the posted content is
         * the same: otherwise a writer could claim another's version by its id
         * and read it back. */
        same_ctx sc = {it->json, 0, 0, 0};
        pk_error pe;
        pk_error_clear(&pe);
        if ((s = stored_versions(db, id, pk_stix_version(it->json), &sc, err))) goto out;
        pk_status r;
        if (sc.found && !sc.equal) {
            if (status_item(&fail, &n_fail, id, v,
                            "conflicts with a stored object of the same id and version"))
                goto oom;
            continue;
        }
        /* The common case, an id the store has never seen: its taxii_entry
         * row is written whole on the way in.  Otherwise (another version,
         * or this one in another collection) the store's triggers make the
         * row and compute the flags of every version, and the writer is
         * recorded after. */
        entry_ctx ec = {db, c, a->org, it->o.granular};
        pki_put_link link = {entry_before_link, &ec};
        int whole = !sc.found && !sc.other;
        pk_store_put_info info;
        pk_error_clear(&pe);
        r = pki_store_put(db->store, c->id, it->json, it->raw, it->raw_len,
                          sc.found ? 0 : PKI_PUT_ABSENT, whole ? &link : NULL, &info, NULL, &pe);
        if (r == PK_EINVAL || r == PK_EVALIDATE) {
            if (status_item(&fail, &n_fail, id, v, pe.message)) goto oom;
            continue;
        }
        if (r) {
            s = pk_error_set(err, r, "%s", pe.message);
            goto out;
        }
        if (info.collection_added && !whole &&
            (s = note_writer(db, c, a->org, it->o.granular, info.date_added_us, err)))
            goto out;
        char vbuf[PK_TIME_STRLEN];
        if (!v) {
            pki_tx_time_format_us(info.date_added_us, vbuf);
            v = vbuf;
        }
        if (status_item(&succ, &n_succ, id, v,
                        info.collection_added ? NULL : "already in the collection"))
            goto oom;
    }
    if (pk_buf_addf(&body,
                    "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
                    "\"total_count\":%zu,\"success_count\":%zu,\"successes\":[",
                    sid, now, count, n_succ) ||
        pk_buf_add(&body, succ.data ? succ.data : "", succ.len) ||
        pk_buf_addf(&body, "],\"failure_count\":%zu,\"failures\":[", n_fail) ||
        pk_buf_add(&body, fail.data ? fail.data : "", fail.len) ||
        pk_buf_adds(&body, "],\"pending_count\":0,\"pendings\":[]}"))
        goto oom;
    st = stmt(db, "INSERT INTO taxii_status(id, apiroot, org, body) VALUES(?1, ?2, ?3, ?4)");
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, root);
        sqlite3_bind_int64(st, 3, a->org);
        sqlite3_bind_text(st, 4, body.data, (int)body.len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        s = db_error(db, err, "recording the status");
        goto out;
    }
    /* Committed (in the write-ahead log) before anyone is told "success". */
    s = pk_store_commit(db->store, err);
    in_tx = 0;
    goto out;
oom:
    s = pk_error_set(err, PK_ENOMEM, "out of memory");
out:
    if (in_tx) pk_store_rollback(db->store);
    pk_buf_free(&succ);
    pk_buf_free(&fail);
    if (!s) {
        status->body = pk_buf_detach(&body, &status->len);
        if (!status->body) s = pk_error_set(err, PK_ENOMEM, "out of memory");
        status->successes = n_succ;
        status->failures = n_fail;
    }
    pk_buf_free(&body);
    return s;
}

pk_status pki_txdb_delete(pk_taxii_db *db, const pki_tx_coll *c, const pki_tx_account *a,
                          const char *stix_id, const pki_tx_filter *f, long *deleted, pk_error *err)
{
    pk_buf q;
    binds b;
    char keys[PKI_TX_LIST_MAX][PK_TIME_STRLEN];
    b.n = 0;
    *deleted = 0;
    pk_buf_init(&q, 64 * 1024);
    bind_s(&b, c->id);
    bind_s(&b, stix_id);
    bind_i(&b, pki_store_id_hash(stix_id));
    /* The versions this account may delete: those it may see, that its
     * organisation wrote (any, for an admin). */
    pk_status s = pk_buf_adds(&q, "SELECT e.date_added FROM objects o CROSS JOIN"
                                  " collection_objects co ON co.obj = o.pk"
                                  " AND co.collection = ?1 CROSS JOIN taxii_entry e"
                                  " ON e.coll = co.collection AND e.date_added = co.date_added"
                                  " WHERE e.coll = ?1 AND o.id = ?2 AND o.pk IN " PKI_IDS_PK("?3"));
    if (!s) s = add_in(&q, &b, "o.spec_version", f->spec_versions, f->n_spec);
    /* Without match[version], every version goes. */
    if (!s && f->has_version) s = add_versions(&q, &b, f, a->org, keys);
    if (!s) s = add_visibility(&q, &b, a->org);
    if (!s && !a->admin) {
        s = pk_buf_adds(&q, " AND e.org = ?");
        bind_i(&b, a->org);
    }
    if (s) {
        pk_buf_free(&q);
        return pk_error_set(err, s, "building the query");
    }
    if ((s = pk_store_begin(db->store, err))) {
        pk_buf_free(&q);
        return s;
    }
    int64_t dates[1024];
    size_t nd = 0;
    char *sql_copy = pk_buf_detach(&q, NULL);
    if (!sql_copy) {
        pk_store_rollback(db->store);
        return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st = stmt_dyn(db, sql_copy);
    if (!st || bind_all(st, &b)) {
        s = db_error(db, err, "deleting");
        goto fail;
    }
    size_t total = 0;
    int rc;
again:
    nd = 0;
    while (nd < sizeof dates / sizeof *dates && (rc = sqlite3_step(st)) == SQLITE_ROW)
        dates[nd++] = sqlite3_column_int64(st, 0);
    if (nd == sizeof dates / sizeof *dates) rc = SQLITE_ROW;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        s = db_error(db, err, "deleting");
        goto fail;
    }
    for (size_t i = 0; i < nd; i++) {
        /* The taxii_entry row goes, and the flags of the versions left are
         * computed again, in the store's trigger. */
        st = stmt(db, "DELETE FROM collection_objects WHERE collection = ?1 AND date_added = ?2");
        if (!st) {
            s = db_error(db, err, "deleting");
            goto fail;
        }
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, dates[i]);
        int r1 = sqlite3_step(st);
        sqlite3_reset(st);
        if (r1 != SQLITE_DONE) {
            s = db_error(db, err, "deleting");
            goto fail;
        }
    }
    total += nd;
    if (nd == sizeof dates / sizeof *dates) {
        /* More than one round's worth: select again (the statement is
         * cached; the rows just deleted are gone from it). */
        st = stmt_dyn(db, sql_copy);
        if (!st || bind_all(st, &b)) {
            s = db_error(db, err, "deleting");
            goto fail;
        }
        goto again;
    }
    if ((s = pk_store_commit(db->store, err))) goto fail;
    pk_free(sql_copy);
    *deleted = (long)total;
    return PK_OK;
fail:
    pk_free(sql_copy);
    pk_store_rollback(db->store);
    return s;
}

pk_status pki_txdb_status(pk_taxii_db *db, const char *root, const char *id,
                          const pki_tx_account *a, json_t **out)
{
    sqlite3_stmt *st = stmt(db, "SELECT s.body, s.org FROM taxii_status s JOIN taxii_apiroot r"
                                " ON r.rid=s.apiroot WHERE r.path=?1 AND s.id=?2");
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    pk_status s = PK_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW && (a->admin || sqlite3_column_int64(st, 1) == a->org)) {
        *out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        s = *out ? PK_OK : PK_ENOMEM;
    }
    sqlite3_reset(st);
    return s;
}

pk_status pk_taxii_collection_import_text(pk_taxii_db *db, const char *id, const char *org,
                                          const char *data, size_t len, size_t *stored,
                                          size_t *failed, pk_error *err)
{
    *stored = *failed = 0;
    pki_tx_account a;
    memset(&a, 0, sizeof a);
    a.admin = 1;
    pk_status s = org_id(db, org, 1, &a.org, err);
    if (s) return s;
    pki_tx_coll c;
    if ((s = pk_store_collection_find(db->store, id, c.id, err)))
        return s == PK_ENOTFOUND ? pk_error_set(err, s, "no collection '%s'", id) : s;
    c.can_read = c.can_write = 1;
    pki_tx_status status;
    pki_tx_batch *batch;
    if ((s = pki_tx_batch_read(data, len, (size_t)-1, &batch, err))) return s;
    s = pki_txdb_add(db, &c, &a, batch, &status, err);
    pki_tx_batch_free(batch);
    if (s) return s;
    *stored = status.successes;
    *failed = status.failures;
    pk_free(status.body);
    return PK_OK;
}

pk_status pk_taxii_collection_import(pk_taxii_db *db, const char *id, const char *org,
                                     json_t *envelope, size_t *stored, size_t *failed,
                                     pk_error *err)
{
    *stored = *failed = 0;
    if (!json_is_array(json_object_get(envelope, "objects")))
        return pk_error_set(err, PK_EPARSE, "expected a bundle or envelope with an objects list");
    char *txt = json_dumps(envelope, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!txt) return pk_error_set(err, PK_ENOMEM, "out of memory");
    pk_status s =
        pk_taxii_collection_import_text(db, id, org, txt, strlen(txt), stored, failed, err);
    pk_free(txt);
    return s;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite engine of the store: WAL mode (one writer, many readers, also
 * across processes), prepared statements cached per connection, numbered
 * migrations, and date_added values that are strictly increasing because they
 * are computed inside the write transaction from the last one stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_impl.h"

#define STMT_CACHE 48

struct pk_store {
    sqlite3 *db;
    unsigned flags;
    int in_tx;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    size_t ncache;
    /* Last date_added handed out in this transaction (valid while in_tx). */
    int g_valid;
    int64_t g_last;
    char c_id[PK_UUID_STRLEN + 64];
    int c_valid;
    int64_t c_last;
    pk_buf tmp, markings;
    _Atomic int wal_pages; /* frames in the log after our last commit */
    /* pk_store_sync_log: the log's path (NULL: no log) and our descriptor on it */
    char *wal_path;
    int wal_fd;
    /* pk_store_sync_data: the database file's path and our descriptor on it */
    char *db_path;
    int db_fd;
    /* The id index's recent level (see schema.c, migration 2): its rows as
     * far as this handle knows (-1: count them again; another process may
     * write too, so the count is taken afresh before a merge), and the
     * count past which it is merged into the large level. */
    int64_t ids_new;
    int64_t merge_rows;
};

sqlite3 *pki_store_db(pk_store *s)
{
    return s->db;
}

int pki_store_in_tx(pk_store *s)
{
    return s->in_tx;
}

pk_status pki_store_fail(pk_store *s, pk_error *err, const char *what)
{
    int rc = sqlite3_extended_errcode(s->db);
    pk_status code = (rc & 0xff) == SQLITE_NOMEM                                  ? PK_ENOMEM
                     : (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? PK_EBUSY
                                                                                  : PK_ESTORE;
    return pk_error_set(err, code, "%s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *pki_store_stmt(pk_store *s, const char *sql, pk_error *err)
{
    for (size_t i = 0; i < s->ncache; i++)
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        pki_store_fail(s, err, "prepare");
        return NULL;
    }
    if (s->ncache < STMT_CACHE) {
        s->cache[s->ncache].sql = sql;
        s->cache[s->ncache].st = st;
        s->ncache++;
    } else {
        /* Full: replace the oldest entry (rare; the core uses fewer). */
        sqlite3_finalize(s->cache[0].st);
        memmove(&s->cache[0], &s->cache[1], (STMT_CACHE - 1) * sizeof s->cache[0]);
        s->cache[STMT_CACHE - 1].sql = sql;
        s->cache[STMT_CACHE - 1].st = st;
    }
    return st;
}

static int on_wal_commit(void *ud, sqlite3 *db, const char *name, int frames);

static pk_status exec(pk_store *s, const char *sql, pk_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        pk_status st = pk_error_set(err, PK_ESTORE, "%s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return st;
    }
    return PK_OK;
}

pk_status pki_store_migrate(pk_store *s, const char *module, const pki_migration *steps,
                            pk_error *err)
{
    int have = pk_store_schema_version(s, module);
    for (; steps->version; steps++) {
        if (steps->version <= have) continue;
        pk_status st = exec(s, steps->sql, err);
        if (st) return st;
        sqlite3_stmt *up = pki_store_stmt(
            s, "INSERT OR REPLACE INTO schema_version(module, version) VALUES(?1, ?2)", err);
        if (!up) return PK_ESTORE;
        sqlite3_bind_text(up, 1, module, -1, SQLITE_STATIC);
        sqlite3_bind_int(up, 2, steps->version);
        if (sqlite3_step(up) != SQLITE_DONE) return pki_store_fail(s, err, "schema_version");
        sqlite3_reset(up);
    }
    return PK_OK;
}

int pk_store_schema_version(pk_store *s, const char *module)
{
    sqlite3_stmt *st =
        pki_store_stmt(s, "SELECT version FROM schema_version WHERE module = ?1", NULL);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

/* SQLite keeps allocation statistics by default, taking a process-wide mutex
 * around every malloc and free (about 6% of a POST's CPU): picket reads no
 * statistics, so they are turned off before SQLite starts. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    /* SQLITE_MISUSE when the process started SQLite already: harmless. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

pk_status pk_store_open(const char *path, unsigned flags, pk_store **out, pk_error *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    *out = NULL;
    if (!strncmp(path, "postgres://", 11) || !strncmp(path, "postgresql://", 13))
        return pk_error_set(err, PK_EUNSUPPORTED,
                            "the PostgreSQL engine is not in this build; use a file path");
    pk_store *s = pk_calloc(1, sizeof *s);
    if (!s) return pk_error_set(err, PK_ENOMEM, "out of memory");
    s->flags = flags;
    s->wal_fd = -1;
    s->db_fd = -1;
    s->ids_new = -1;
    s->merge_rows = PKI_STORE_MERGE_ROWS;
    /* For tests (a merge every few objects) and measurements. */
    const char *mr = getenv("PICKET_STORE_ID_MERGE");
    if (mr && *mr) {
        char *end;
        long long v = strtoll(mr, &end, 10);
        if (!*end && v > 0) s->merge_rows = v;
    }
    pk_buf_init(&s->tmp, 0);
    pk_buf_init(&s->markings, 0);
    int oflags = SQLITE_OPEN_NOMUTEX |
                 ((flags & PK_STORE_READONLY) ? SQLITE_OPEN_READONLY
                                              : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    pk_status st = PK_OK;
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        st = s->db ? pki_store_fail(s, err, "open") : pk_error_set(err, PK_ENOMEM, "open");
        if ((flags & PK_STORE_READONLY) && st == PK_ESTORE) {
            st = PK_ENOTFOUND;
            if (err) err->code = st;
        }
        pk_error_at(err, path, 0, 0);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 10000);
    if (!(flags & PK_STORE_READONLY)) {
        if ((st = exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", err))) goto fail_at;
        if ((st = exec(s,
                       (flags & PK_STORE_FAST)
                           ? "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000"
                           : "PRAGMA synchronous=FULL",
                       err)))
            goto fail_at;
        /* The log is cut back to 64 MiB when it starts over, whoever
         * checkpoints it. */
        if ((st = exec(s, "PRAGMA journal_size_limit=67108864", err))) goto fail_at;
        if (flags & PK_STORE_NO_CHECKPOINT) {
            if ((st = exec(s, "PRAGMA wal_autocheckpoint=0", err))) goto fail_at;
            sqlite3_wal_hook(s->db, on_wal_commit, s);
        }
        /* The log's name as SQLite opens it (for pk_store_sync_log); "" for
         * a store in memory, which has none. */
        const char *main_file = sqlite3_db_filename(s->db, "main");
        const char *wal = sqlite3_filename_wal(main_file);
        if ((wal && *wal && !(s->wal_path = pk_strdup(wal))) ||
            (main_file && *main_file && !(s->db_path = pk_strdup(main_file)))) {
            st = pk_error_set(err, PK_ENOMEM, "out of memory");
            goto fail_at;
        }
    }
    if ((st = exec(s, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY", err))) goto fail_at;
    if (flags & PK_STORE_READONLY) {
        int core = pk_store_schema_version(s, "core");
        if (core < 1) {
            st = pk_error_set(err, PK_ENOTFOUND, "not a picket store (no schema)");
            goto fail_at;
        }
        /* A reader cannot upgrade the schema, and this code finds objects
         * by id through the tables of core migration 2. */
        if (core < 2) {
            st = pk_error_set(err, PK_EUNSUPPORTED,
                              "the store was made by an older picket (schema core %d); open it "
                              "once with a command that writes to it (picket serve, picket "
                              "import) to upgrade it",
                              core);
            goto fail_at;
        }
    } else {
        if ((st = exec(s, "BEGIN IMMEDIATE", err))) goto fail_at;
        st = exec(s,
                  "CREATE TABLE IF NOT EXISTS schema_version(module TEXT PRIMARY KEY, "
                  "version INTEGER NOT NULL)",
                  err);
        for (const pki_module_schema *m = pki_store_modules; !st && m->module; m++)
            st = pki_store_migrate(s, m->module, m->steps, err);
        if (st) {
            exec(s, "ROLLBACK", NULL);
            goto fail_at;
        }
        if ((st = exec(s, "COMMIT", err))) goto fail_at;
    }
    *out = s;
    return PK_OK;
fail_at:
    pk_error_at(err, path, 0, 0);
fail:
    pk_store_close(s);
    return st;
}

void pk_store_close(pk_store *s)
{
    if (!s) return;
    if (s->in_tx) pk_store_rollback(s);
    for (size_t i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->db);
    if (s->wal_fd >= 0) close(s->wal_fd);
    pk_free(s->wal_path);
    if (s->db_fd >= 0) close(s->db_fd);
    pk_free(s->db_path);
    pk_buf_free(&s->tmp);
    pk_buf_free(&s->markings);
    pk_free(s);
}

/* The commit hook of a connection that does not checkpoint: remember the
 * log's size for pk_store_wal_pages. */
static int on_wal_commit(void *ud, sqlite3 *db, const char *name, int frames)
{
    pk_store *s = ud;
    (void)db;
    (void)name;
    atomic_store(&s->wal_pages, frames);
    return SQLITE_OK;
}

int pk_store_wal_pages(const pk_store *s)
{
    return s ? atomic_load(&((pk_store *)s)->wal_pages) : 0;
}

pk_status pk_store_checkpoint(pk_store *s, int *wal_pages, int *copied, pk_error *err)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (wal_pages) *wal_pages = log > 0 ? log : 0;
    if (copied) *copied = done > 0 ? done : 0;
    /* BUSY: another connection is checkpointing; not an error here. */
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) return pki_store_fail(s, err, "checkpoint");
    return PK_OK;
}

/* Sync the directory holding `path`, so that a file just made there keeps
 * its name after a power cut. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if ((size_t)(slash - path) >= sizeof dir)
        return 0;
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Why a descriptor of our own rather than SQLite's: SQLite's file handle
 * belongs to the connection, which the next writer is using while this runs;
 * fdatasync on any descriptor of the file syncs what every descriptor wrote.
 * The log keeps its inode while any connection has the store open (SQLite
 * deletes it only when the last connection closes, after copying it into the
 * database file and syncing that), so one descriptor serves the server's
 * life; a log found unlinked (st_nlink 0) is opened again by name. */
pk_status pk_store_sync_log(pk_store *s, pk_error *err)
{
    if (!s || !s->wal_path) return PK_OK;
    struct stat sb;
    if (s->wal_fd >= 0 && (fstat(s->wal_fd, &sb) != 0 || sb.st_nlink == 0)) {
        close(s->wal_fd);
        s->wal_fd = -1;
        s->db_fd = -1;
    }
    if (s->wal_fd < 0) {
        s->wal_fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
        /* No log: everything committed is in the database file, synced. */
        if (s->wal_fd < 0 && errno == ENOENT) return PK_OK;
        if (s->wal_fd < 0) return pk_error_set(err, PK_EIO, "%s: %s", s->wal_path, strerror(errno));
        /* The log may be new: its name must survive a power cut too. */
        if (sync_dir(s->wal_path))
            return pk_error_set(err, PK_EIO, "syncing the directory of %s: %s", s->wal_path,
                                strerror(errno));
    }
    if (fdatasync(s->wal_fd) != 0)
        return pk_error_set(err, PK_EIO, "syncing %s: %s", s->wal_path, strerror(errno));
    return PK_OK;
}

pk_status pk_store_sync_data(pk_store *s, pk_error *err)
{
    if (!s || !s->db_path) return PK_OK;
    if (s->db_fd < 0 && (s->db_fd = open(s->db_path, O_RDONLY | O_CLOEXEC)) < 0)
        return pk_error_set(err, PK_EIO, "%s: %s", s->db_path, strerror(errno));
    if (fdatasync(s->db_fd) != 0)
        return pk_error_set(err, PK_EIO, "syncing %s: %s", s->db_path, strerror(errno));
    return PK_OK;
}

static void tx_reset(pk_store *s)
{
    s->g_valid = 0;
    s->c_valid = 0;
}

pk_status pk_store_begin(pk_store *s, pk_error *err)
{
    if (s->in_tx) return pk_error_set(err, PK_EINVAL, "a transaction is already open");
    sqlite3_stmt *st = pki_store_stmt(s, "BEGIN IMMEDIATE", err);
    if (!st) return PK_ESTORE;
    if (sqlite3_step(st) != SQLITE_DONE) return pki_store_fail(s, err, "begin");
    s->in_tx = 1;
    tx_reset(s);
    return PK_OK;
}

pk_status pk_store_commit(pk_store *s, pk_error *err)
{
    if (!s->in_tx) return pk_error_set(err, PK_EINVAL, "no transaction is open");
    sqlite3_stmt *st = pki_store_stmt(s, "COMMIT", err);
    if (!st) return PK_ESTORE;
    if (sqlite3_step(st) != SQLITE_DONE) {
        pk_status r = pki_store_fail(s, err, "commit");
        pk_store_rollback(s);
        return r;
    }
    s->in_tx = 0;
    tx_reset(s);
    return PK_OK;
}

void pk_store_rollback(pk_store *s)
{
    if (!s->in_tx) return;
    if (!sqlite3_get_autocommit(s->db)) exec(s, "ROLLBACK", NULL);
    s->in_tx = 0;
    /* The keys added (or a merge) in it are gone: count again. */
    s->ids_new = -1;
    tx_reset(s);
}

/* ---- the id index in two levels ---- */

pk_status pki_ids_in_sql(pk_buf *sql, size_t n, int k0)
{
    pk_status r = PK_OK;
    for (int lvl = 0; lvl < 2 && !r; lvl++) {
        r = pk_buf_adds(sql, lvl ? " UNION ALL SELECT pk FROM object_ids_new WHERE idh IN ("
                                 : " AND o.pk IN (SELECT pk FROM object_ids WHERE idh IN (");
        for (size_t i = 0; i < n && !r; i++)
            r = pk_buf_addf(sql, "%s?%d", i ? "," : "", k0 + (int)i);
        if (!r) r = pk_buf_addc(sql, ')');
    }
    return r ? r : pk_buf_addc(sql, ')');
}

static pk_status count_new_ids(pk_store *s, pk_error *err)
{
    sqlite3_stmt *st = pki_store_stmt(s, "SELECT count(*) FROM object_ids_new", err);
    if (!st) return PK_ESTORE;
    if (sqlite3_step(st) != SQLITE_ROW) {
        pk_status r = pki_store_fail(s, err, "counting the recent ids");
        sqlite3_reset(st);
        return r;
    }
    s->ids_new = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return PK_OK;
}

/* Move the recent level into the large one, inside the caller's write
 * transaction, when it holds more than merge_rows keys (counted afresh: a
 * writer in another process may have added to it, or merged it).  The
 * recent level is read in key order, so the inserts walk the large level's
 * leaves from the first to the last, each touched about once; OR IGNORE
 * (no key can be in both levels: pk is unique and a deleted version leaves
 * both) spares SQLite a statement journal of every page touched.  The
 * DELETE without WHERE empties the table in one step, its pages going to
 * the free list for the next keys. */
static pk_status merge_ids(pk_store *s, pk_error *err)
{
    pk_status r = count_new_ids(s, err);
    if (r || s->ids_new <= s->merge_rows) return r;
    static const char *const steps[] = {
        "INSERT OR IGNORE INTO object_ids(idh, pk) SELECT idh, pk FROM object_ids_new"
        " ORDER BY idh, pk",
        "DELETE FROM object_ids_new",
    };
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = pki_store_stmt(s, steps[i], err);
        if (!st) return PK_ESTORE;
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return pki_store_fail(s, err, "merging the id index");
    }
    s->ids_new = 0;
    return PK_OK;
}

/* ---- time ---- */

static int64_t now_us(void)
{
    pk_time t = pk_time_now();
    return t.sec * 1000000 + t.nsec / 1000;
}

void pk_store_format_added(int64_t us, char out[PK_TIME_STRLEN])
{
    pk_time t;
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) rem += 1000000, sec--;
    t.sec = sec;
    t.nsec = (int32_t)(rem * 1000);
    t.digits = 6;
    pk_time_format(&t, 6, out);
}

pk_status pk_store_parse_added(const char *ts, int64_t *us, pk_error *err)
{
    pk_time t;
    pk_status st = pk_time_parse(ts, strlen(ts), PK_TIME_RFC3339, &t, err);
    if (st) return st;
    *us = t.sec * 1000000 + t.nsec / 1000;
    return PK_OK;
}

/* The sortable form of a version: a timestamp with nine fractional digits,
 * so that text order is time order whatever precision it was written with. */
static void version_key(const char *v, char out[PK_TIME_STRLEN])
{
    pk_time t;
    if (v && *v && pk_time_parse(v, strlen(v), PK_TIME_RFC3339, &t, NULL) == PK_OK)
        pk_time_format(&t, 9, out);
    else
        snprintf(out, PK_TIME_STRLEN, "%s", v ? v : "");
}

/*
 * The key objects are found by: 64 bits of the UUID at the end of the id
 * (random for v4, a hash for v5), else FNV-1a of the whole id.  An integer
 * index is several times smaller and faster to update than one on the id
 * text; queries check the id itself as well, so a collision costs nothing.
 */
int64_t pki_store_id_hash(const char *id)
{
    size_t n = strlen(id);
    uint64_t h = 0;
    int digits = 0;
    for (size_t i = n; i > 0 && digits < 16; i--) {
        char c = id[i - 1];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (c == '-') continue;
        if (v < 0) break;
        h |= (uint64_t)v << (4 * digits);
        digits++;
    }
    if (digits < 16) {
        h = 14695981039346656037ull;
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
    }
    return (int64_t)h;
}

/* Next store-wide date_added: max(now, last + 1). */
static pk_status next_global(pk_store *s, int64_t *out, pk_error *err)
{
    if (!s->g_valid) {
        sqlite3_stmt *st =
            pki_store_stmt(s, "SELECT added FROM objects ORDER BY pk DESC LIMIT 1", err);
        if (!st) return PK_ESTORE;
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return pki_store_fail(s, err, "date_added");
        s->g_last = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        s->g_valid = 1;
    }
    int64_t n = now_us();
    *out = n > s->g_last ? n : s->g_last + 1;
    return PK_OK;
}

static pk_status next_in_collection(pk_store *s, const char *coll, int64_t *out, pk_error *err)
{
    if (!s->c_valid || strcmp(s->c_id, coll) != 0) {
        sqlite3_stmt *st = pki_store_stmt(
            s, "SELECT max(date_added) FROM collection_objects WHERE collection = ?1", err);
        if (!st) return PK_ESTORE;
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) return pki_store_fail(s, err, "date_added");
        s->c_last = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        snprintf(s->c_id, sizeof s->c_id, "%s", coll);
        s->c_valid = 1;
    }
    int64_t n = now_us();
    *out = n > s->c_last ? n : s->c_last + 1;
    return PK_OK;
}

/* ---- collections ---- */

pk_status pk_store_collection_create(pk_store *s, const char *id, const char *title,
                                     const char *description, const char *alias,
                                     char out_id[PK_UUID_STRLEN], pk_error *err)
{
    char idbuf[PK_UUID_STRLEN];
    if (!id) {
        pk_uuid u;
        pk_status st = pk_uuid_v4(&u);
        if (st) return pk_error_set(err, st, "no randomness for a collection id");
        pk_uuid_format(&u, idbuf);
        id = idbuf;
    }
    if (!title || !*title) return pk_error_set(err, PK_EINVAL, "a collection needs a title");
    sqlite3_stmt *st = pki_store_stmt(
        s, "INSERT INTO collections(id, title, description, alias, created) VALUES(?1,?2,?3,?4,?5)",
        err);
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, description ? description : "", -1, SQLITE_STATIC);
    if (alias && *alias)
        sqlite3_bind_text(st, 4, alias, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, now_us());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
        return pk_error_set(err, PK_EEXIST, "a collection with id %s or alias %s exists", id,
                            alias ? alias : "");
    if (rc != SQLITE_DONE) return pki_store_fail(s, err, "create collection");
    if (out_id) snprintf(out_id, PK_UUID_STRLEN, "%s", id);
    return PK_OK;
}

pk_status pk_store_collection_find(pk_store *s, const char *name, char out_id[PK_UUID_STRLEN],
                                   pk_error *err)
{
    sqlite3_stmt *st = pki_store_stmt(s,
                                      "SELECT id FROM collections WHERE id = ?1 OR alias = ?1 "
                                      "OR title = ?1 ORDER BY id = ?1 DESC, alias = ?1 DESC "
                                      "LIMIT 1",
                                      err);
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(out_id, PK_UUID_STRLEN, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        return PK_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return pki_store_fail(s, err, "find collection");
    return pk_error_set(err, PK_ENOTFOUND, "no collection '%s'", name);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static pk_status collections_query(pk_store *s, const char *id, pk_store_collection_fn fn, void *ud,
                                   pk_error *err)
{
    static const char *const q_one =
        "SELECT c.id, c.title, c.description, coalesce(c.alias,''), c.created, "
        "(SELECT count(*) FROM collection_objects o WHERE o.collection = c.id) "
        "FROM collections c WHERE c.id = ?1";
    static const char *const q_all =
        "SELECT c.id, c.title, c.description, coalesce(c.alias,''), c.created, "
        "(SELECT count(*) FROM collection_objects o WHERE o.collection = c.id) "
        "FROM collections c ORDER BY c.title, c.id";
    sqlite3_stmt *st = pki_store_stmt(s, id ? q_one : q_all, err);
    if (!st) return PK_ESTORE;
    if (id) sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pk_store_collection c = {col_text(st, 0),
                                 col_text(st, 1),
                                 col_text(st, 2),
                                 col_text(st, 3),
                                 sqlite3_column_int64(st, 4),
                                 sqlite3_column_int64(st, 5)};
        n++;
        if (fn(&c, ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return pki_store_fail(s, err, "collections");
    if (id && !n) return pk_error_set(err, PK_ENOTFOUND, "no collection %s", id);
    return PK_OK;
}

pk_status pk_store_collection_get(pk_store *s, const char *id, pk_store_collection_fn fn, void *ud,
                                  pk_error *err)
{
    return collections_query(s, id, fn, ud, err);
}

pk_status pk_store_collection_list(pk_store *s, pk_store_collection_fn fn, void *ud, pk_error *err)
{
    return collections_query(s, NULL, fn, ud, err);
}

static int collection_exists(pk_store *s, const char *id)
{
    sqlite3_stmt *st = pki_store_stmt(s, "SELECT 1 FROM collections WHERE id = ?1", NULL);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return ok;
}

/* ---- objects ---- */

typedef struct obs_ctx {
    pk_store *s;
    const char *id;
    pk_error *err;
} obs_ctx;

static pk_status observable_add(pk_store *s, const char *path, const char *value,
                                const char *object_id, int fresh, pk_error *err);

static pk_status obs_add(const char *path, const char *value, void *ud)
{
    obs_ctx *c = ud;
    /* An SCO has one version: stored just now, nothing was indexed for it. */
    return observable_add(c->s, path, value, c->id, 1, c->err);
}

static pk_status put_in_tx(pk_store *s, const char *collection, const json_t *obj, const char *raw,
                           size_t raw_len, unsigned flags, const pki_put_link *link,
                           pk_store_put_info *info, int64_t *out_pk, pk_error *err)
{
    const char *id = pk_stix_str(obj, "id"), *type = pk_stix_str(obj, "type");
    const char *created = pk_stix_str(obj, "created"), *modified = pk_stix_str(obj, "modified");
    const char *sv = pk_stix_str(obj, "spec_version");
    char vkey[PK_TIME_STRLEN];
    version_key(pk_stix_version(obj), vkey);
    pk_buf_reset(&s->markings);
    json_t *refs = json_object_get(obj, "object_marking_refs");
    for (size_t i = 0; i < json_array_size(refs); i++) {
        const char *m = json_string_value(json_array_get(refs, i));
        if (!m) continue;
        if ((s->markings.len && pk_buf_addc(&s->markings, ',')) || pk_buf_adds(&s->markings, m))
            return pk_error_set(err, PK_ENOMEM, "out of memory");
    }
    int64_t added = 0;
    pk_status r = next_global(s, &added, err);
    if (r) return r;
    int64_t idh = pki_store_id_hash(id), pk = 0;
    int tlp = (int)pk_stix_object_tlp(obj);
    if (link && !(flags & PKI_PUT_ABSENT))
        return pk_error_set(err, PK_EINVAL, "a link hook needs an absent version");
    sqlite3_stmt *st;
    int rc = SQLITE_DONE;
    if (!(flags & PKI_PUT_ABSENT)) {
        st = pki_store_stmt(
            s,
            "SELECT pk FROM objects WHERE pk IN " PKI_IDS_PK("?1") " AND id = ?2 AND version = ?3",
            err);
        if (!st) return PK_ESTORE;
        sqlite3_bind_int64(st, 1, idh);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, vkey, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) pk = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return pki_store_fail(s, err, "find object");
    }
    int added_now = rc == SQLITE_DONE;
    if (added_now) {
        st = pki_store_stmt(
            s,
            "INSERT INTO objects(id, version, type, spec_version, created, modified, revoked, "
            "created_by_ref, confidence, markings, tlp, added, raw, idh) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
            err);
        if (!st) return PK_ESTORE;
        sqlite3_bind_int64(st, 14, idh);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, vkey, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, sv ? sv : "2.1", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, created ? created : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, modified ? modified : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, json_is_true(json_object_get(obj, "revoked")));
        const char *cbr = pk_stix_str(obj, "created_by_ref");
        sqlite3_bind_text(st, 8, cbr ? cbr : "", -1, SQLITE_STATIC);
        json_t *conf = json_object_get(obj, "confidence");
        if (json_is_integer(conf))
            sqlite3_bind_int64(st, 9, json_integer_value(conf));
        else
            sqlite3_bind_null(st, 9);
        sqlite3_bind_text(st, 10, s->markings.data ? s->markings.data : "", (int)s->markings.len,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 11, tlp);
        sqlite3_bind_int64(st, 12, added);
        sqlite3_bind_text64(st, 13, raw, raw_len, SQLITE_STATIC, SQLITE_UTF8);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return pki_store_fail(s, err, "store object");
    }
    if (added_now) {
        pk = sqlite3_last_insert_rowid(s->db);
        s->g_last = added;
        /* Its key into the recent level of the id index (merged into the
         * large one past merge_rows keys). */
        st = pki_store_stmt(s, "INSERT INTO object_ids_new(idh, pk) VALUES(?1, ?2)", err);
        if (!st) return PK_ESTORE;
        sqlite3_bind_int64(st, 1, idh);
        sqlite3_bind_int64(st, 2, pk);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return pki_store_fail(s, err, "store object");
        if (s->ids_new < 0) {
            if ((r = count_new_ids(s, err))) return r;
        } else {
            s->ids_new++;
        }
        if (s->ids_new > s->merge_rows && (r = merge_ids(s, err))) return r;
        if (pk_stix_type_kind(type) == PK_STIX_SCO) {
            obs_ctx oc = {s, id, err};
            if ((r = pk_stix_observables(obj, obs_add, &oc))) return r;
        }
    }
    if (info) {
        info->added = added_now;
        info->collection_added = 0;
        info->date_added_us = added_now ? added : 0;
    }
    if (out_pk) *out_pk = pk;
    if (!collection) return PK_OK;
    int64_t date = 0;
    if ((r = next_in_collection(s, collection, &date, err))) return r;
    if (link && (r = link->before(link->ud, pk, date, tlp, err))) return r;
    /* OR IGNORE rather than ON CONFLICT DO NOTHING (the same for a version
     * already in the collection; the values are never NULL): no constraint
     * of the statement, or of the triggers it fires (which take its policy),
     * can then abort it, so SQLite keeps no statement journal for it.  With
     * one, every page the insert or its triggers touch was first copied
     * whole into that journal, 16 KiB at a time: about 5 us per object. */
    st = pki_store_stmt(s,
                        "INSERT OR IGNORE INTO collection_objects(collection, date_added, obj) "
                        "VALUES(?1,?2,?3)",
                        err);
    if (!st) return PK_ESTORE;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, date);
    sqlite3_bind_int64(st, 3, pk);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return pki_store_fail(s, err, "add to collection");
    /* A version absent from the store cannot be in the collection yet. */
    if (link && sqlite3_changes(s->db) == 0)
        return pk_error_set(err, PK_ESTORE, "a new version was already in the collection");
    if (sqlite3_changes(s->db) > 0) {
        s->c_last = date;
        if (info) {
            info->collection_added = 1;
            info->date_added_us = date;
        }
    }
    return PK_OK;
}

pk_status pk_store_put(pk_store *s, const char *collection, const json_t *obj, const char *raw,
                       size_t raw_len, pk_store_put_info *info, pk_error *err)
{
    return pki_store_put(s, collection, obj, raw, raw_len, 0, NULL, info, NULL, err);
}

pk_status pki_store_put(pk_store *s, const char *collection, const json_t *obj, const char *raw,
                        size_t raw_len, unsigned flags, const pki_put_link *link,
                        pk_store_put_info *info, int64_t *pk, pk_error *err)
{
    const char *id = pk_stix_str(obj, "id"), *type = pk_stix_str(obj, "type");
    if (!id || !type) return pk_error_set(err, PK_EINVAL, "the object has no id or no type");
    char *dumped = NULL;
    if (!raw) {
        dumped = json_dumps(obj, JSON_COMPACT);
        if (!dumped) return pk_error_set(err, PK_ENOMEM, "out of memory");
        raw = dumped;
        raw_len = strlen(dumped);
    }
    int own = !s->in_tx;
    pk_status r = PK_OK;
    if (own && (r = pk_store_begin(s, err))) goto out;
    /* A collection known in this transaction (its last date_added is
     * cached) exists: no need to ask again for each object of a batch. */
    if (collection && !(s->c_valid && !strcmp(s->c_id, collection)) &&
        !collection_exists(s, collection)) {
        r = pk_error_set(err, PK_ENOTFOUND, "no collection %s", collection);
        if (own) pk_store_rollback(s);
        goto out;
    }
    r = put_in_tx(s, collection, obj, raw, raw_len, flags, link, info, pk, err);
    if (r) pk_error_object(err, id, NULL);
    if (own) {
        if (r)
            pk_store_rollback(s);
        else
            r = pk_store_commit(s, err);
    }
out:
    if (dumped) pk_free(dumped);
    return r;
}

/* ---- listing ---- */

typedef int (*row_fn)(const pk_store_row *row, int64_t pk, void *ud);

typedef struct binds {
    const char *text[256];
    int64_t num[256];
    int is_num[256];
    int n;
} binds;

static int bind_text(binds *b, const char *t)
{
    if (b->n >= 256) return -1;
    b->text[b->n] = t;
    b->is_num[b->n] = 0;
    return ++b->n;
}

static int bind_num(binds *b, int64_t v)
{
    if (b->n >= 256) return -1;
    b->num[b->n] = v;
    b->is_num[b->n] = 1;
    return ++b->n;
}

static pk_status add_in(pk_buf *sql, binds *b, const char *col, const char *const *v, size_t n)
{
    if (!n) return PK_OK;
    pk_status st = pk_buf_addf(sql, " AND %s IN (", col);
    for (size_t i = 0; i < n && !st; i++) {
        int k = bind_text(b, v[i]);
        if (k < 0) return PK_ELIMIT;
        st = pk_buf_addf(sql, "%s?%d", i ? "," : "", k);
    }
    return st ? st : pk_buf_addc(sql, ')');
}

static pk_status run_query(pk_store *s, const pk_store_query *q, int with_raw, row_fn fn, void *ud,
                           pk_store_page *page, pk_error *err)
{
    pk_buf sql;
    pk_buf_init(&sql, 1 << 20);
    binds *b = pk_calloc(1, sizeof *b);
    char(*vkeys)[PK_TIME_STRLEN] = NULL;
    sqlite3_stmt *st = NULL;
    pk_status r = PK_OK;
    if (!b) return pk_error_set(err, PK_ENOMEM, "out of memory");
    if (page) memset(page, 0, sizeof *page);
    const char *date = q->collection ? "c.date_added" : "o.added";
    r = pk_buf_addf(&sql,
                    "SELECT o.id, o.type, o.spec_version, o.created, o.modified, o.revoked, "
                    "o.confidence, o.created_by_ref, o.markings, o.tlp, %s, %s, o.pk FROM ",
                    with_raw ? "o.raw" : "NULL", date);
    if (!r && q->collection) {
        int k = bind_text(b, q->collection);
        r = pk_buf_addf(&sql,
                        "collection_objects c JOIN objects o ON o.pk = c.obj WHERE "
                        "c.collection = ?%d",
                        k);
    } else if (!r) {
        r = pk_buf_adds(&sql, "objects o WHERE 1");
    }
    if (!r && q->n_ids) {
        /* Both levels of the id index, each probed by its key. */
        int k0 = b->n + 1;
        for (size_t i = 0; i < q->n_ids && !r; i++)
            if (bind_num(b, pki_store_id_hash(q->ids[i])) < 0) r = PK_ELIMIT;
        if (!r) r = pki_ids_in_sql(&sql, q->n_ids, k0);
    }
    if (!r) r = add_in(&sql, b, "o.id", q->ids, q->n_ids);
    if (!r) r = add_in(&sql, b, "o.type", q->types, q->n_types);
    if (!r) r = add_in(&sql, b, "o.spec_version", q->spec_versions, q->n_spec_versions);
    int64_t after = q->added_after_us;
    if (!r && q->next && *q->next) {
        char *end;
        long long c = strtoll(q->next, &end, 10);
        if (*end || c < 0) {
            r = pk_error_set(err, PK_EINVAL, "malformed paging cursor '%.40s'", q->next);
            goto out;
        }
        if (c > after) after = c;
    }
    if (!r && after > 0) r = pk_buf_addf(&sql, " AND %s > ?%d", date, bind_num(b, after));
    /* match[version]: "last" by default. */
    size_t nv = q->n_versions;
    static const char *const last_only[] = {"last"};
    const char *const *vers = nv ? q->versions : last_only;
    if (!nv) nv = 1;
    int all = 0;
    for (size_t i = 0; i < nv; i++)
        if (!strcmp(vers[i], "all")) all = 1;
    if (!r && !all) {
        vkeys = pk_calloc(nv, sizeof *vkeys);
        if (!vkeys) {
            r = PK_ENOMEM;
            goto out;
        }
        const char *scope =
            q->collection
                ? "(SELECT %s(o2.version) FROM objects o2 CROSS JOIN collection_objects c2 ON "
                  "c2.obj = o2.pk AND c2.collection = c.collection WHERE o2.pk IN " PKI_IDS_PK(
                      "o.idh") " AND o2.id = o.id)"
                : "(SELECT %s(o2.version) FROM objects o2 WHERE o2.pk IN " PKI_IDS_PK(
                      "o.idh") " AND o2.id = o.id)";
        r = pk_buf_adds(&sql, " AND (");
        for (size_t i = 0; i < nv && !r; i++) {
            if (i) r = pk_buf_adds(&sql, " OR ");
            if (r) break;
            if (!strcmp(vers[i], "last") || !strcmp(vers[i], "first")) {
                r = pk_buf_adds(&sql, "o.version = ");
                if (!r) r = pk_buf_addf(&sql, scope, vers[i][0] == 'l' ? "max" : "min");
            } else {
                pk_time t;
                if (pk_time_parse(vers[i], strlen(vers[i]), PK_TIME_RFC3339, &t, NULL)) {
                    r = pk_error_set(err, PK_EINVAL,
                                     "match[version]: expected first, last, all or a timestamp, "
                                     "found '%.40s'",
                                     vers[i]);
                    goto out;
                }
                version_key(vers[i], vkeys[i]);
                r = pk_buf_addf(&sql, "o.version = ?%d", bind_text(b, vkeys[i]));
            }
        }
        if (!r) r = pk_buf_addc(&sql, ')');
    }
    if (!r) r = pk_buf_addf(&sql, " ORDER BY %s", date);
    if (!r && q->limit) r = pk_buf_addf(&sql, " LIMIT %zu", q->limit + 1);
    if (r) {
        r = pk_error_set(err, r, "query too large");
        goto out;
    }
    if (q->collection && !collection_exists(s, q->collection)) {
        r = pk_error_set(err, PK_ENOTFOUND, "no collection %s", q->collection);
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, sql.data, (int)sql.len, &st, NULL) != SQLITE_OK) {
        r = pki_store_fail(s, err, "query");
        goto out;
    }
    for (int i = 0; i < b->n; i++) {
        if (b->is_num[i])
            sqlite3_bind_int64(st, i + 1, b->num[i]);
        else
            sqlite3_bind_text(st, i + 1, b->text[i], -1, SQLITE_STATIC);
    }
    int rc;
    size_t count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (q->limit && count == q->limit) {
            if (page) {
                page->more = 1;
                snprintf(page->next, sizeof page->next, "%" PRId64, page->last_added_us);
            }
            rc = SQLITE_DONE;
            break;
        }
        pk_store_row row;
        row.id = col_text(st, 0);
        row.type = col_text(st, 1);
        row.spec_version = col_text(st, 2);
        row.created = col_text(st, 3);
        row.modified = col_text(st, 4);
        row.version = *row.modified ? row.modified : row.created;
        row.revoked = sqlite3_column_int(st, 5);
        row.confidence = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6);
        row.created_by_ref = col_text(st, 7);
        row.markings = col_text(st, 8);
        row.tlp = (pk_tlp)sqlite3_column_int(st, 9);
        row.raw = with_raw ? (const char *)sqlite3_column_text(st, 10) : NULL;
        row.raw_len = with_raw ? (size_t)sqlite3_column_bytes(st, 10) : 0;
        row.date_added_us = sqlite3_column_int64(st, 11);
        row.media_type = "application/stix+json;version=2.1";
        count++;
        if (page) {
            if (count == 1) page->first_added_us = row.date_added_us;
            page->last_added_us = row.date_added_us;
            page->count = count;
        }
        if (fn(&row, sqlite3_column_int64(st, 12), ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) r = pki_store_fail(s, err, "list");
out:
    sqlite3_finalize(st);
    pk_buf_free(&sql);
    pk_free(b);
    pk_free(vkeys);
    return r;
}

typedef struct pub_ctx {
    pk_store_row_fn fn;
    void *ud;
} pub_ctx;

static int pub_row(const pk_store_row *row, int64_t pk, void *ud)
{
    pub_ctx *c = ud;
    (void)pk;
    return c->fn(row, c->ud);
}

pk_status pk_store_list(pk_store *s, const pk_store_query *q, pk_store_row_fn fn, void *ud,
                        pk_store_page *page, pk_error *err)
{
    pub_ctx c = {fn, ud};
    return run_query(s, q, q->with_raw, pub_row, &c, page, err);
}

pk_status pk_store_get(pk_store *s, const char *collection, const char *id, const char *version,
                       pk_store_row_fn fn, void *ud, pk_error *err)
{
    const char *ids[1] = {id};
    const char *vers[1] = {version ? version : "last"};
    pk_store_query q = {0};
    q.collection = collection;
    q.ids = ids;
    q.n_ids = 1;
    q.versions = vers;
    q.n_versions = 1;
    q.with_raw = 1;
    pk_store_page page;
    pub_ctx c = {fn, ud};
    pk_status r = run_query(s, &q, 1, pub_row, &c, &page, err);
    if (r) return r;
    if (page.count == 0) {
        pk_error_object(err, id, NULL);
        return pk_error_set(err, PK_ENOTFOUND, "no such object%s",
                            collection ? " in the collection" : "");
    }
    return PK_OK;
}

typedef struct pks {
    int64_t *v;
    size_t n, cap;
    int oom;
} pks;

static int collect_pk(const pk_store_row *row, int64_t pk, void *ud)
{
    pks *p = ud;
    (void)row;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        int64_t *nv = pk_realloc(p->v, nc * sizeof *nv);
        if (!nv) {
            p->oom = 1;
            return 1;
        }
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n++] = pk;
    return 0;
}

pk_status pk_store_delete(pk_store *s, const char *collection, const char *id,
                          const char *const *versions, size_t n_versions, size_t *deleted,
                          pk_error *err)
{
    static const char *const all[] = {"all"};
    const char *ids[1] = {id};
    pk_store_query q = {0};
    q.collection = collection;
    q.ids = ids;
    q.n_ids = 1;
    q.versions = n_versions ? versions : all;
    q.n_versions = n_versions ? n_versions : 1;
    pks p = {0};
    if (deleted) *deleted = 0;
    int own = !s->in_tx;
    pk_status r = own ? pk_store_begin(s, err) : PK_OK;
    if (r) return r;
    r = run_query(s, &q, 0, collect_pk, &p, NULL, err);
    if (!r && p.oom) r = pk_error_set(err, PK_ENOMEM, "out of memory");
    for (size_t i = 0; i < p.n && !r; i++) {
        sqlite3_stmt *st;
        if (collection) {
            st = pki_store_stmt(
                s, "DELETE FROM collection_objects WHERE collection = ?1 AND obj = ?2", err);
            if (!st) {
                r = PK_ESTORE;
                break;
            }
            sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, p.v[i]);
            if (sqlite3_step(st) != SQLITE_DONE) r = pki_store_fail(s, err, "delete");
            sqlite3_reset(st);
        } else {
            static const char *const dels[] = {"DELETE FROM collection_objects WHERE obj = ?1",
                                               "DELETE FROM objects WHERE pk = ?1"};
            for (int k = 0; k < 2 && !r; k++) {
                st = pki_store_stmt(s, dels[k], err);
                if (!st) {
                    r = PK_ESTORE;
                    break;
                }
                sqlite3_bind_int64(st, 1, p.v[i]);
                if (sqlite3_step(st) != SQLITE_DONE) r = pki_store_fail(s, err, "delete");
                sqlite3_reset(st);
            }
        }
    }
    if (!r && !collection && p.n) {
        /* Drop index entries of an object none of whose versions remain. */
        sqlite3_stmt *st = pki_store_stmt(
            s,
            "DELETE FROM observables WHERE oh = ?2 AND object_id = ?1 AND NOT EXISTS "
            "(SELECT 1 FROM objects WHERE pk IN " PKI_IDS_PK("?2") " AND id = ?1)",
            err);
        if (!st)
            r = PK_ESTORE;
        else {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, pki_store_id_hash(id));
            if (sqlite3_step(st) != SQLITE_DONE) r = pki_store_fail(s, err, "delete");
            sqlite3_reset(st);
        }
    }
    if (own) {
        if (r)
            pk_store_rollback(s);
        else
            r = pk_store_commit(s, err);
    }
    if (!r && deleted) *deleted = p.n;
    if (!r && p.n == 0) {
        pk_error_object(err, id, NULL);
        r = pk_error_set(err, PK_ENOTFOUND, "no such object%s",
                         collection ? " in the collection" : "");
    }
    pk_free(p.v);
    return r;
}

/* ---- counts ---- */

pk_status pk_store_count(pk_store *s, pk_store_group by, pk_store_count_fn fn, void *ud,
                         pk_error *err)
{
    static const char *const qs[] = {
        [PK_STORE_BY_TYPE] =
            "SELECT type, count(DISTINCT id), count(*) FROM objects GROUP BY type ORDER BY type",
        [PK_STORE_BY_COLLECTION] =
            "SELECT c.title, count(DISTINCT o.id), count(o.pk) FROM collections c "
            "LEFT JOIN collection_objects co ON co.collection = c.id "
            "LEFT JOIN objects o ON o.pk = co.obj GROUP BY c.id ORDER BY c.title, c.id",
        [PK_STORE_BY_TLP] = "SELECT tlp, count(DISTINCT id), count(*) FROM objects GROUP BY tlp "
                            "ORDER BY tlp",
        [PK_STORE_BY_SPEC_VERSION] = "SELECT spec_version, count(DISTINCT id), count(*) FROM "
                                     "objects GROUP BY spec_version ORDER BY spec_version",
        [PK_STORE_BY_INCIDENT_KIND] =
            "SELECT coalesce(json_extract(raw, '$.x_picket_kind'), "
            "json_extract(raw, '$.labels[0]'), 'unspecified') AS k, count(DISTINCT id), "
            "count(*) FROM objects WHERE type = 'incident' GROUP BY k ORDER BY k",
    };
    if ((unsigned)by > PK_STORE_BY_INCIDENT_KIND)
        return pk_error_set(err, PK_EINVAL, "unknown grouping");
    sqlite3_stmt *st = pki_store_stmt(s, qs[by], err);
    if (!st) return PK_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = by == PK_STORE_BY_TLP ? pk_tlp_name((pk_tlp)sqlite3_column_int(st, 0))
                                                : col_text(st, 0);
        if (fn(key, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return pki_store_fail(s, err, "count");
    return PK_OK;
}

/* ---- observables ---- */

/* The key the index is found by: FNV-1a of path, NUL, value (stable across
 * processes and builds).  Queries compare path and value as well. */
static int64_t value_hash(const char *path, const char *value)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0) * 1099511628211ull;
    for (const char *p = value; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (int64_t)h;
}

/* `fresh`: the object is new to the store, so the entry cannot exist yet. */
static pk_status observable_add(pk_store *s, const char *path, const char *value,
                                const char *object_id, int fresh, pk_error *err)
{
    int64_t vh = value_hash(path, value);
    sqlite3_stmt *st;
    if (!fresh) {
        st = pki_store_stmt(s,
                            "SELECT 1 FROM observables WHERE vh = ?1 AND path = ?2 AND value = ?3 "
                            "AND object_id = ?4",
                            err);
        if (!st) return PK_ESTORE;
        sqlite3_bind_int64(st, 1, vh);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, object_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) return PK_OK;
        if (rc != SQLITE_DONE) return pki_store_fail(s, err, "observable index");
    }
    st = pki_store_stmt(
        s, "INSERT INTO observables(vh, path, value, object_id, oh) VALUES(?1,?2,?3,?4,?5)", err);
    if (!st) return PK_ESTORE;
    sqlite3_bind_int64(st, 1, vh);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, pki_store_id_hash(object_id));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : pki_store_fail(s, err, "observable index");
}

pk_status pk_store_observable_add(pk_store *s, const char *path, const char *value,
                                  const char *object_id, pk_error *err)
{
    return observable_add(s, path, value, object_id, 0, err);
}

pk_status pk_store_observable_find(pk_store *s, const char *path, const char *value,
                                   pk_store_id_fn fn, void *ud, pk_error *err)
{
    pk_status r = pk_stix_normalize(path, value, &s->tmp);
    if (r) return pk_error_set(err, r, "value too large");
    sqlite3_stmt *st = pki_store_stmt(s,
                                      "SELECT object_id FROM observables WHERE vh = ?1 AND "
                                      "path = ?2 AND value = ?3 ORDER BY object_id",
                                      err);
    if (!st) return PK_ESTORE;
    sqlite3_bind_int64(st, 1, value_hash(path, s->tmp.data));
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s->tmp.data, (int)s->tmp.len, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(col_text(st, 0), ud)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? PK_OK : pki_store_fail(s, err, "observable index");
}

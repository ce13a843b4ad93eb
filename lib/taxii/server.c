/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TAXII 2.1 server on libmicrohttpd: limits checked before a body is
 * read (connections 429, headers 431, Content-Length 413), a capped body
 * buffer, authentication, routing of every endpoint, content negotiation,
 * TAXII error messages on every 4xx/5xx, an access log of JSON lines, and a
 * graceful stop.  Each worker thread borrows a store connection from a pool
 * for the length of one request.
 */
#include "taxii_int.h"
#include "taxii/mhd_dl.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pk_taxii_server {
    pk_taxii_config cfg;
    struct MHD_Daemon *mhd;
    unsigned port;
    char *tls_cert, *tls_key; /* PEM text, kept for the daemon's life */
    /* store connections, one per worker */
    pk_taxii_db **pool;
    unsigned pool_n, pool_free;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pthread_mutex_t log_mu;
    /* Writers of this process take turns here rather than in SQLite's busy
     * handler, which sleeps in steps of up to 100 ms, and all write through
     * one connection: in WAL mode a connection drops its whole page cache
     * when it sees another's commit, so writers taking turns on different
     * connections would each start cold, reading back the index pages of a
     * growing table on every envelope. */
    pthread_mutex_t write_mu;
    pk_taxii_db *writer;
    /* Group commit.  The writer commits into the log without syncing it
     * (synchronous=NORMAL) and lets go of write_mu; a poster then waits until
     * a sync of the log that began after its commit has ended (unless
     * --commit fast).  `commits` counts commits (under write_mu), `synced`
     * the commits known to be on disk; one sync at a time runs (`syncing`),
     * and covers every commit counted before it began, so posters that
     * committed meanwhile share the next one. */
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    _Atomic int64_t commits;
    int64_t synced;
    int syncing;
    int sync_failed; /* a sync failed: no write is acknowledged any more */
    char sync_err[PK_ERROR_MSG_MAX];
    /* The writer never checkpoints the log itself (a checkpoint copies pages
     * and syncs the file: tens of milliseconds in one POST); this thread does,
     * on its own connection, when the log passes CKPT_PAGES or once a second. */
    pk_taxii_db *ckpt_db;
    pthread_t ckpt_thread;
    int ckpt_started, ckpt_stop, ckpt_wanted;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    atomic_int connections; /* open connections */
    atomic_int inflight;    /* requests begun and not completed */
    /* POSTs run on these threads, their connection suspended meanwhile
     * (post_worker): libmicrohttpd binds a connection to one of its pool
     * threads, and two posters whose connections share a thread would
     * otherwise take turns, one parsing only while the other waited for
     * nothing (a million objects over two connections: ~40,000 objects/s
     * when they shared a thread, ~60,000 when not). */
    pthread_t *post_threads;
    unsigned post_n;
    int post_stop;
    struct req *post_head, *post_tail; /* queued, oldest first */
    pthread_mutex_t post_mu;
    pthread_cond_t post_cv;
    /* Listing bodies handed back by libmicrohttpd once sent, kept for the
     * next listing (no malloc, realloc growth or fresh page faults per page). */
    pthread_mutex_t bufs_mu;
    struct body_buf *bufs;
    unsigned bufs_n;
};

/* A listing body: the bytes and the server whose pool it returns to. */
typedef struct body_buf {
    struct body_buf *next;
    pk_taxii_server *srv;
    pk_buf b;
} body_buf;

/* Bodies kept at most, and the largest kept: past either they are freed. */
#define BODY_POOL_MAX 64
#define BODY_KEEP_MAX ((size_t)1 << 20)
/* Room for a listing's head: {"more":true,"next":"<cursor>","versions":[ */
#define HEAD_ROOM (48 + PKI_TX_CURSOR_LEN)

/* One request's state, from its headers to its completion. */
typedef struct req {
    pk_taxii_server *srv;
    pk_buf body;
    int too_big;
    int responded;
    int status;
    size_t bytes;
    int64_t t0;
    char method[16];
    char path[512];
    char account[128];
    unsigned ext; /* ext_route flags of this request (0: TAXII) */
    int started;  /* on_request has seen it (0: libmicrohttpd refused it first) */
    /* A POST handed to a post worker: 1 queued or running (the connection
     * suspended), 2 done (the answer below, queued when libmicrohttpd calls
     * on_request again after the worker resumed the connection). */
    int job;
    struct req *job_next;
    struct MHD_Connection *conn;
    pki_tx_account job_account;
    pki_tx_coll job_coll;
    int job_status;
    char *job_body;
    size_t job_len;
} req;

void pk_taxii_config_default(pk_taxii_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->db_path = "picket.db";
    cfg->listen = "127.0.0.1:8470";
    cfg->threads = 4;
    cfg->max_body = 16u << 20;
    cfg->max_objects = 10000;
    cfg->max_header = 16u << 10;
    cfg->max_connections = 256;
    cfg->page_max = 1000;
    cfg->page_default = 100;
    cfg->title = "picket TAXII 2.1 server";
}

unsigned pk_taxii_server_port(const pk_taxii_server *srv)
{
    return srv ? srv->port : 0;
}

/* ---- the connection pool ------------------------------------------------- */

static pk_taxii_db *pool_get(pk_taxii_server *s)
{
    pthread_mutex_lock(&s->pool_mu);
    while (s->pool_free == 0)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    pk_taxii_db *db = s->pool[--s->pool_free];
    pthread_mutex_unlock(&s->pool_mu);
    return db;
}

static void pool_put(pk_taxii_server *s, pk_taxii_db *db)
{
    pthread_mutex_lock(&s->pool_mu);
    s->pool[s->pool_free++] = db;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- the writer and the checkpointer --------------------------------------- */

/* Log frames after which the checkpointer is woken, and after which it
 * holds writers back to complete a checkpoint so that the log starts over
 * (16,384 pages: 256 MiB at the store's 16 KiB pages).  Under a steady
 * stream of 1,000-object envelopes (about 500 new frames each at a million
 * objects) the completing step costs the writers tens of milliseconds each
 * time (the last frames copied and the database file synced): at 4,096
 * pages it came every 8 envelopes and held writers back for about a
 * quarter of the time they wrote. */
#define CKPT_PAGES 16384
/* A copy pass that found fewer new frames than this is followed by the
 * last one, with writers held back. */
#define CKPT_REST 512

/* Call with write_mu held, after a commit: its number, for wait_synced. */
static int64_t committed(pk_taxii_server *s)
{
    return atomic_fetch_add(&s->commits, 1) + 1;
}

/* Return once commit number `n` is on disk (0), or -1 when a sync failed
 * (after a failed fsync the kernel may have dropped the dirty pages, so no
 * later sync can be trusted either: every write is refused from then on).
 * Runs without write_mu: the next writer commits while this one syncs. */
static int wait_synced(pk_taxii_server *s, int64_t n, pk_error *err)
{
    pthread_mutex_lock(&s->sync_mu);
    while (s->synced < n && !s->sync_failed) {
        if (s->syncing) {
            pthread_cond_wait(&s->sync_cv, &s->sync_mu);
            continue;
        }
        s->syncing = 1;
        int64_t upto = atomic_load(&s->commits);
        pthread_mutex_unlock(&s->sync_mu);
        pk_error e;
        pk_error_clear(&e);
        pk_status r = pk_store_sync_log(pki_txdb_store(s->writer), &e);
        pthread_mutex_lock(&s->sync_mu);
        s->syncing = 0;
        if (r) {
            s->sync_failed = 1;
            snprintf(s->sync_err, sizeof s->sync_err, "%s", e.message);
        } else if (upto > s->synced) {
            s->synced = upto;
        }
        pthread_cond_broadcast(&s->sync_cv);
    }
    int failed = s->synced < n;
    if (failed) pk_error_set(err, PK_EIO, "the write was not synced to disk: %s", s->sync_err);
    pthread_mutex_unlock(&s->sync_mu);
    return failed ? -1 : 0;
}

/* 1 when writes are refused because a sync of the log failed. */
static int sync_broken(pk_taxii_server *s)
{
    pthread_mutex_lock(&s->sync_mu);
    int b = s->sync_failed;
    pthread_mutex_unlock(&s->sync_mu);
    return b;
}

/* Call with write_mu held, after a write. */
static void wrote(pk_taxii_server *s)
{
    if (pk_store_wal_pages(pki_txdb_store(s->writer)) < CKPT_PAGES) return;
    pthread_mutex_lock(&s->ckpt_mu);
    if (!s->ckpt_wanted) {
        s->ckpt_wanted = 1;
        pthread_cond_signal(&s->ckpt_cv);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
}

static void *checkpointer(void *arg)
{
    pk_taxii_server *s = arg;
    pk_store *st = pki_txdb_store(s->ckpt_db);
    pthread_mutex_lock(&s->ckpt_mu);
    while (!s->ckpt_stop) {
        if (!s->ckpt_wanted) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&s->ckpt_cv, &s->ckpt_mu, &ts);
            if (s->ckpt_stop) break;
        }
        s->ckpt_wanted = 0;
        pthread_mutex_unlock(&s->ckpt_mu);
        /* The bulk of the copy runs beside the writers, again while they
         * add much meanwhile.  Then, with writers held back, the rest: the
         * log is then wholly in the database, and the next write starts it
         * over from its beginning (a writer mid-transaction when a copy
         * completes would otherwise append, and the log would only grow). */
        int64_t commits = atomic_load(&s->commits);
        int log = 0, done = 0, before = 0;
        for (int pass = 0; pass < 4; pass++) {
            if (pk_store_checkpoint(st, &log, &done, NULL) || done - before < CKPT_REST) break;
            before = done;
        }
        /* Writers are held back only when the log is long, or when nobody
         * wrote during the passes (then it costs nobody anything).  A
         * shorter log is copied beside the writers and starts over by
         * itself when a pass completes between two commits. */
        int idle = atomic_load(&s->commits) == commits;
        if (log > 0 && (log >= CKPT_PAGES || idle)) {
            /* What the passes copied goes to disk now, beside the writers:
             * the sync that closes the last step then writes only what that
             * step copies.  One more pass first for what came meanwhile. */
            if (!pk_store_sync_data(st, NULL)) pk_store_checkpoint(st, &log, NULL, NULL);
            pthread_mutex_lock(&s->write_mu);
            pk_store_checkpoint(st, NULL, NULL, NULL);
            pthread_mutex_unlock(&s->write_mu);
        }
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

/* ---- responses ----------------------------------------------------------- */

static body_buf *body_get(pk_taxii_server *srv)
{
    pthread_mutex_lock(&srv->bufs_mu);
    body_buf *bb = srv->bufs;
    if (bb) {
        srv->bufs = bb->next;
        srv->bufs_n--;
    }
    pthread_mutex_unlock(&srv->bufs_mu);
    if (!bb) {
        bb = pk_calloc(1, sizeof *bb);
        if (!bb) return NULL;
        bb->srv = srv;
        pk_buf_init(&bb->b, (size_t)1 << 30);
    }
    pk_buf_reset(&bb->b); /* a pooled one keeps its memory */
    return bb;
}

/* Back to the pool (libmicrohttpd calls this once the body is sent). */
static void body_put(void *cls)
{
    body_buf *bb = cls;
    pk_taxii_server *srv = bb->srv;
    if (bb->b.cap <= BODY_KEEP_MAX) {
        pthread_mutex_lock(&srv->bufs_mu);
        if (srv->bufs_n < BODY_POOL_MAX) {
            bb->b.len = 0;
            bb->next = srv->bufs;
            srv->bufs = bb;
            srv->bufs_n++;
            bb = NULL;
        }
        pthread_mutex_unlock(&srv->bufs_mu);
        if (!bb) return;
    }
    pk_buf_free(&bb->b);
    pk_free(bb);
}

typedef struct hdr {
    const char *k, *v;
} hdr;

static enum MHD_Result send_body(req *r, struct MHD_Connection *c, int status, char *body,
                                 size_t len, const char *ctype, const hdr *hdrs)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, body, pk_free);
    if (!resp) {
        pk_free(body);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (; hdrs && hdrs->k; hdrs++)
        MHD_add_response_header(resp, hdrs->k, hdrs->v);
    r->status = status;
    r->bytes = len;
    r->responded = 1;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The same for a pooled body whose bytes start at `off`. */
static enum MHD_Result send_pooled(req *r, struct MHD_Connection *c, body_buf *bb, size_t off,
                                   const hdr *hdrs)
{
    size_t len = bb->b.len - off;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(len, bb->b.data + off, body_put, bb);
    if (!resp) {
        body_put(bb);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, PK_TAXII_MEDIA_TYPE);
    for (; hdrs && hdrs->k; hdrs++)
        MHD_add_response_header(resp, hdrs->k, hdrs->v);
    r->status = 200;
    r->bytes = len;
    r->responded = 1;
    enum MHD_Result ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_json(req *r, struct MHD_Connection *c, int status, json_t *j,
                                 const hdr *hdrs)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s) return MHD_NO;
    return send_body(r, c, status, s, strlen(s), PK_TAXII_MEDIA_TYPE, hdrs);
}

/* A TAXII error message (section 3.6.1): title, description, http_status. */
static enum MHD_Result send_error(req *r, struct MHD_Connection *c, int status,
                                  const char *description, const hdr *hdrs)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_t *j = json_pack("{s:s,s:s,s:s}", "title", pk_http_status_title(status), "description",
                          description, "http_status", code);
    return send_json(r, c, status, j, hdrs);
}

/* ---- authentication ------------------------------------------------------ */

static int authenticate(pk_taxii_db *db, struct MHD_Connection *c, req *r, pki_tx_account *a)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char user[128], token[256];
    int scheme = pki_tx_auth_parse(h, user, sizeof user, token, sizeof token);
    if (scheme == PKI_TX_AUTH_NONE) return 0;
    int ok = pki_txdb_auth(db, scheme == PKI_TX_AUTH_BASIC ? user : NULL, token, a) == PK_OK;
    if (ok) snprintf(r->account, sizeof r->account, "%s", a->name);
    return ok;
}

/* ---- objects, manifest, versions ----------------------------------------- */

typedef struct listing {
    pk_taxii_db *db;
    const pki_tx_account *a;
    int mode;
    pk_buf out; /* the rows; in a pooled body, after room for the envelope's head */
    long n;
    int64_t first, last;
    int failed;
} listing;

static int emit_row(void *ctx, const pki_tx_row *row)
{
    listing *l = ctx;
    if (l->n == 0) l->first = row->date_added;
    l->last = row->date_added;
    pk_status s = l->n++ ? pk_buf_addc(&l->out, ',') : PK_OK;
    if (s) return -1;
    if (l->mode == PKI_TXQ_OBJECTS) {
        unsigned mask = 0;
        int granular = row->granular;
        json_t *parsed = NULL;
        if (granular == PKI_TLP_UNKNOWN) {
            /* Not recorded when it was stored: look at the object itself. */
            parsed = json_loadb(row->json, row->json_len, 0, NULL);
            if (!parsed) return -1;
            granular = pki_tlp_of_granular(parsed);
        }
        if (granular >= PKI_TLP_AMBER_STRICT) {
            int same = row->org == l->a->org;
            int red = !same && pki_txdb_may_see(l->db, l->a->org, row->org, PKI_TLP_RED);
            mask = pki_tlp_visible_mask(same, red);
        }
        /* Drop per marking whenever the reader is not the writer's organisation:
         * a RED-shared reader sees the RED properties but still not the
         * AMBER+STRICT ones, whatever the strictest level is. */
        if (mask && (mask >> PKI_TLP_AMBER_STRICT & 1) == 0) {
            /* Some property is marked more strictly than this reader may see. */
            json_t *o = parsed ? parsed : json_loadb(row->json, row->json_len, 0, NULL);
            if (!o) return -1;
            pki_tlp_drop_granular(o, mask);
            char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            if (!txt) return -1;
            s = pk_buf_adds(&l->out, txt);
            pk_free(txt);
            return s ? -1 : 0;
        }
        json_decref(parsed);
        return pk_buf_add(&l->out, row->json, row->json_len) ? -1 : 0;
    }
    char added[PK_TIME_STRLEN], vbuf[PK_TIME_STRLEN];
    pki_tx_time_format_us(row->date_added, added);
    const char *ver = row->version;
    if (!ver || !*ver) {
        /* No modified or created (an SCO): date_added stands for the version. */
        memcpy(vbuf, added, sizeof vbuf);
        ver = vbuf;
    }
    if (l->mode == PKI_TXQ_VERSIONS) return pk_buf_addf(&l->out, "\"%s\"", ver) ? -1 : 0;
    /* Manifest: json holds the spec_version here. */
    return pk_buf_addf(&l->out,
                       "{\"id\":\"%s\",\"date_added\":\"%s\",\"version\":\"%s\","
                       "\"media_type\":\"application/stix+json;version=%s\"}",
                       row->stix_id, added, ver, row->json)
               ? -1
               : 0;
}

typedef struct arg_ctx {
    pki_tx_filter *f;
    unsigned allowed;
    pk_error err;
    int bad;
} arg_ctx;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    arg_ctx *ac = cls;
    if (ac->bad) return MHD_NO;
    if (pki_tx_filter_add(ac->f, ac->allowed, key, value ? value : "", &ac->err) != PK_OK) {
        ac->bad = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result do_listing(req *r, struct MHD_Connection *c, pk_taxii_db *db,
                                  const pki_tx_account *a, const pki_tx_coll *coll, int mode,
                                  const char *stix_id, unsigned allowed)
{
    pk_taxii_server *srv = r->srv;
    pki_tx_filter f;
    if (pki_tx_filter_init(&f)) return send_error(r, c, 500, "out of memory", NULL);
    arg_ctx ac = {&f, allowed, {0}, 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &ac);
    if (ac.bad) {
        pki_tx_filter_free(&f);
        return send_error(r, c, 400, ac.err.message, NULL);
    }
    long limit = f.limit ? f.limit : (long)srv->cfg.page_default;
    if (limit > (long)srv->cfg.page_max) limit = (long)srv->cfg.page_max;
    listing l = {db, a, mode, {0}, 0, 0, 0, 0};
    /* The rows go straight into the body, after room for its head
     * ({"more":…,"next":…,"objects":[), which is written last, right-aligned
     * against them: one copy of each object, no second buffer. */
    body_buf *bb = body_get(srv);
    if (!bb) {
        pki_tx_filter_free(&f);
        return send_error(r, c, 500, "out of memory", NULL);
    }
    l.out = bb->b;
    char head[HEAD_ROOM];
    memset(head, ' ', sizeof head);
    int more = 0;
    pk_error err;
    pk_error_clear(&err);
    pk_status s = pk_buf_add(&l.out, head, sizeof head);
    if (s) pk_error_set(&err, s, "out of memory");
    if (!s) s = pki_txdb_list(db, coll, a, &f, mode, stix_id, limit, emit_row, &l, &more, &err);
    if (!s && l.n == 0 && stix_id) {
        /* No row: is the object there at all (for this reader)? */
        pki_tx_filter all;
        if (pki_tx_filter_init(&all) == PK_OK) {
            all.has_version = all.v_all = 1;
            listing probe = {db, a, PKI_TXQ_VERSIONS, {0}, 0, 0, 0, 0};
            pk_buf_init(&probe.out, 4096);
            int m2;
            s = pki_txdb_list(db, coll, a, &all, PKI_TXQ_VERSIONS, stix_id, 1, emit_row, &probe,
                              &m2, &err);
            pk_buf_free(&probe.out);
            pki_tx_filter_free(&all);
            if (!s && probe.n == 0) {
                pki_tx_filter_free(&f);
                bb->b = l.out;
                body_put(bb);
                return send_error(r, c, 404, "no such object in this collection", NULL);
            }
        }
    }
    pki_tx_filter_free(&f);
    if (!s) s = pk_buf_adds(&l.out, l.n ? "]}" : "}");
    bb->b = l.out;
    if (s) {
        body_put(bb);
        return send_error(r, c, s == PK_EBUSY ? 503 : 500,
                          err.message[0] ? err.message : "out of memory", NULL);
    }
    char cur[PKI_TX_CURSOR_LEN];
    pki_tx_cursor_format(l.last, cur);
    int hn = snprintf(head, sizeof head, "{\"more\":%s%s%s%s%s%s", more ? "true" : "false",
                      more ? ",\"next\":\"" : "", more ? cur : "", more ? "\"" : "",
                      l.n ? (mode == PKI_TXQ_VERSIONS ? ",\"versions\":" : ",\"objects\":") : "",
                      l.n ? "[" : "");
    if (hn < 0 || (size_t)hn >= sizeof head) {
        body_put(bb);
        return send_error(r, c, 500, "listing head too long", NULL);
    }
    size_t off = sizeof head - (size_t)hn;
    memcpy(bb->b.data + off, head, (size_t)hn);
    char first[PK_TIME_STRLEN], last[PK_TIME_STRLEN];
    hdr h[3] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    if (l.n) {
        pki_tx_time_format_us(l.first, first);
        pki_tx_time_format_us(l.last, last);
        h[0].k = "X-TAXII-Date-Added-First";
        h[0].v = first;
        h[1].k = "X-TAXII-Date-Added-Last";
        h[1].v = last;
    }
    return send_pooled(r, c, bb, off, h);
}

/* The answer of a POST as a TAXII error message (section 3.6.1), made on a
 * post worker and sent by on_request. */
static void post_error(req *r, int status, const char *description)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_t *j = json_pack("{s:s,s:s,s:s}", "title", pk_http_status_title(status), "description",
                          description, "http_status", code);
    char *b = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    r->job_status = status;
    r->job_body = b;
    r->job_len = b ? strlen(b) : 0;
}

/* A POST's work, on a post worker: parse and check outside the write lock
 * (so that one request's checks overlap another's commit), write under it,
 * then wait for the sync of the log outside it.  The answer is left in r. */
static void post_run(req *r)
{
    pki_tx_status status;
    pk_error err;
    pk_error_clear(&err);
    pki_tx_batch *batch = NULL;
    pk_status s = pki_tx_batch_read(r->body.data ? r->body.data : "", r->body.len,
                                    r->srv->cfg.max_objects, &batch, &err);
    if (s == PK_EPARSE) return post_error(r, 400, err.message);
    if (s == PK_ELIMIT) return post_error(r, 413, err.message);
    if (s) return post_error(r, 500, err.message);
    if (sync_broken(r->srv)) {
        pki_tx_batch_free(batch);
        return post_error(r, 503, "writes are refused: a sync of the log to disk failed");
    }
    int64_t n = 0;
    pthread_mutex_lock(&r->srv->write_mu);
    s = pki_txdb_add(r->srv->writer, &r->job_coll, &r->job_account, batch, &status, &err);
    if (!s) n = committed(r->srv);
    wrote(r->srv);
    pthread_mutex_unlock(&r->srv->write_mu);
    pki_tx_batch_free(batch);
    if (s) return post_error(r, s == PK_EBUSY ? 503 : 500, err.message);
    /* Synced before acknowledged (DESIGN: nothing acknowledged is lost). */
    if (!r->srv->cfg.fast_commit && wait_synced(r->srv, n, &err)) {
        pk_free(status.body);
        return post_error(r, 500, err.message);
    }
    r->job_status = 202;
    r->job_body = status.body;
    r->job_len = status.len;
}

static void *post_worker(void *arg)
{
    pk_taxii_server *srv = arg;
    pthread_mutex_lock(&srv->post_mu);
    for (;;) {
        req *r = srv->post_head;
        if (!r) {
            if (srv->post_stop) break;
            pthread_cond_wait(&srv->post_cv, &srv->post_mu);
            continue;
        }
        srv->post_head = r->job_next;
        if (!srv->post_head) srv->post_tail = NULL;
        pthread_mutex_unlock(&srv->post_mu);
        post_run(r);
        r->job = 2;
        /* libmicrohttpd calls on_request again, which sends the answer. */
        MHD_resume_connection(r->conn);
        pthread_mutex_lock(&srv->post_mu);
    }
    pthread_mutex_unlock(&srv->post_mu);
    return NULL;
}

/* Hand the POST to a post worker and suspend its connection, so that this
 * libmicrohttpd thread serves its other connections meanwhile. */
static enum MHD_Result do_post(req *r, struct MHD_Connection *c, pk_taxii_db *db,
                               const pki_tx_account *a, const pki_tx_coll *coll)
{
    (void)db;
    r->job_account = *a;
    r->job_coll = *coll;
    r->conn = c;
    r->job = 1;
    r->job_next = NULL;
    MHD_suspend_connection(c);
    pthread_mutex_lock(&r->srv->post_mu);
    if (r->srv->post_tail)
        r->srv->post_tail->job_next = r;
    else
        r->srv->post_head = r;
    r->srv->post_tail = r;
    pthread_cond_signal(&r->srv->post_cv);
    pthread_mutex_unlock(&r->srv->post_mu);
    return MHD_YES;
}

static enum MHD_Result do_delete(req *r, struct MHD_Connection *c, pk_taxii_db *db,
                                 const pki_tx_account *a, const pki_tx_coll *coll,
                                 const char *stix_id)
{
    pki_tx_filter f;
    if (pki_tx_filter_init(&f)) return send_error(r, c, 500, "out of memory", NULL);
    arg_ctx ac = {&f, PKI_TXF_VERSION | PKI_TXF_SPEC_VERSION, {0}, 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &ac);
    if (ac.bad) {
        pki_tx_filter_free(&f);
        return send_error(r, c, 400, ac.err.message, NULL);
    }
    long n = 0;
    pk_error err;
    pk_error_clear(&err);
    (void)db;
    if (sync_broken(r->srv)) {
        pki_tx_filter_free(&f);
        return send_error(r, c, 503, "writes are refused: a sync of the log to disk failed", NULL);
    }
    int64_t seq = 0;
    pthread_mutex_lock(&r->srv->write_mu);
    pk_status s = pki_txdb_delete(r->srv->writer, coll, a, stix_id, &f, &n, &err);
    if (!s) seq = committed(r->srv);
    wrote(r->srv);
    pthread_mutex_unlock(&r->srv->write_mu);
    pki_tx_filter_free(&f);
    if (s) return send_error(r, c, s == PK_EBUSY ? 503 : 500, err.message, NULL);
    if (!r->srv->cfg.fast_commit && n > 0 && wait_synced(r->srv, seq, &err))
        return send_error(r, c, 500, err.message, NULL);
    if (n == 0) return send_error(r, c, 404, "no such object that this account may delete", NULL);
    char *empty = pk_strdup("");
    if (!empty) return MHD_NO;
    return send_body(r, c, 200, empty, 0, NULL, NULL);
}

/* ---- routing ------------------------------------------------------------- */

#define MAX_SEGS 8

/* Split a path into its segments; trailing slash optional.  -1 when it has
 * too many or empty inner segments. */
static int split_path(char *p, char **segs)
{
    int n = 0;
    if (*p == '/') p++;
    while (*p) {
        if (n == MAX_SEGS) return -1;
        char *e = strchr(p, '/');
        if (e == p) return -1;
        segs[n++] = p;
        if (!e) break;
        *e = '\0';
        p = e + 1;
    }
    return n;
}

static enum MHD_Result method_not_allowed(req *r, struct MHD_Connection *c, const char *allow)
{
    hdr h[2] = {{"Allow", allow}, {NULL, NULL}};
    char msg[96];
    snprintf(msg, sizeof msg, "this resource allows %s", allow);
    return send_error(r, c, 405, msg, h);
}

static enum MHD_Result discovery(req *r, struct MHD_Connection *c, pk_taxii_db *db)
{
    json_t *roots = NULL;
    if (pki_txdb_apiroots(db, &roots)) return send_error(r, c, 500, "store failure", NULL);
    json_t *paths = json_array();
    json_t *j = json_pack("{s:s,s:s,s:o}", "title", r->srv->cfg.title, "description",
                          "TAXII 2.1 server of picket: every endpoint but this one needs a token",
                          "api_roots", paths);
    size_t i;
    json_t *e;
    const char *def = NULL;
    char buf[160];
    json_array_foreach(roots, i, e)
    {
        const char *p = json_string_value(json_object_get(e, "path"));
        snprintf(buf, sizeof buf, "/%s/", p);
        json_array_append_new(paths, json_string(buf));
        if (!def || !strcmp(p, "api")) def = p;
    }
    if (def && j) {
        snprintf(buf, sizeof buf, "/%s/", def);
        json_object_set_new(j, "default", json_string(buf));
    }
    json_decref(roots);
    return send_json(r, c, 200, j, NULL);
}

/* A request for the extension (the anonymous intake): authenticate only when
 * it asks, hand it the body, send its JSON back. */
static enum MHD_Result ext_request(req *r, struct MHD_Connection *c, const char *url,
                                   const char *method, pk_taxii_db *db)
{
    const pk_taxii_config *cfg = &r->srv->cfg;
    char org[256] = "";
    int admin = 0;
    if (r->ext & PK_TAXII_EXT_AUTH) {
        pki_tx_account a;
        if (!authenticate(db, c, r, &a)) {
            hdr h[2] = {{"WWW-Authenticate", "Basic realm=\"picket\", Bearer realm=\"picket\""},
                        {NULL, NULL}};
            return send_error(r, c, 401,
                              "send the account name and token with HTTP Basic, or the token as "
                              "Authorization: Bearer",
                              h);
        }
        if (pki_txdb_org_name(db, a.org, org, sizeof org) != PK_OK)
            return send_error(r, c, 500, "store failure", NULL);
        admin = a.admin;
    }
    char *resp = NULL;
    size_t len = 0;
    int status = cfg->ext_handle(cfg->ext_ud, method, url, r->body.data, r->body.len,
                                 org[0] ? org : NULL, admin, &resp, &len);
    if (!resp) return send_error(r, c, 500, "out of memory", NULL);
    return send_body(r, c, status, resp, len, "application/json", NULL);
}

static enum MHD_Result route(req *r, struct MHD_Connection *c, const char *url, const char *method,
                             pk_taxii_db *db)
{
    char path[512];
    if (strlen(url) >= sizeof path) return send_error(r, c, 404, "no such resource", NULL);
    snprintf(path, sizeof path, "%s", url);
    char *seg[MAX_SEGS];
    int n = split_path(path, seg);
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

    if (r->ext & PK_TAXII_EXT_ROUTE) return ext_request(r, c, url, method, db);
    if (n == 1 && !strcmp(seg[0], "taxii2")) {
        if (!get) return method_not_allowed(r, c, "GET");
        if (!pki_tx_accept_ok(accept))
            return send_error(r, c, 406, "this server speaks " PK_TAXII_MEDIA_TYPE, NULL);
        return discovery(r, c, db);
    }
    pki_tx_account a;
    if (!authenticate(db, c, r, &a)) {
        hdr h[2] = {{"WWW-Authenticate", "Basic realm=\"picket\", Bearer realm=\"picket\""},
                    {NULL, NULL}};
        return send_error(r, c, 401,
                          "send the account name and token with HTTP Basic, or the token as "
                          "Authorization: Bearer",
                          h);
    }
    if (n < 1 || !pki_txdb_apiroot_get(db, seg[0], NULL))
        return send_error(r, c, 404, "no such API root", NULL);
    const char *root = seg[0];
    /* Which resource, and which methods it allows. */
    enum { R_ROOT, R_STATUS, R_COLLS, R_COLL, R_OBJECTS, R_MANIFEST, R_OBJECT, R_VERSIONS } kind;
    if (n == 1)
        kind = R_ROOT;
    else if (n == 3 && !strcmp(seg[1], "status"))
        kind = R_STATUS;
    else if (n == 2 && !strcmp(seg[1], "collections"))
        kind = R_COLLS;
    else if (n == 3 && !strcmp(seg[1], "collections"))
        kind = R_COLL;
    else if (n == 4 && !strcmp(seg[1], "collections") && !strcmp(seg[3], "objects"))
        kind = R_OBJECTS;
    else if (n == 4 && !strcmp(seg[1], "collections") && !strcmp(seg[3], "manifest"))
        kind = R_MANIFEST;
    else if (n == 5 && !strcmp(seg[1], "collections") && !strcmp(seg[3], "objects"))
        kind = R_OBJECT;
    else if (n == 6 && !strcmp(seg[1], "collections") && !strcmp(seg[3], "objects") &&
             !strcmp(seg[5], "versions"))
        kind = R_VERSIONS;
    else
        return send_error(r, c, 404, "no such resource", NULL);

    if (kind == R_OBJECTS) {
        if (!get && !post) return method_not_allowed(r, c, "GET, POST");
    } else if (kind == R_OBJECT) {
        if (!get && !del) return method_not_allowed(r, c, "GET, DELETE");
    } else if (!get) {
        return method_not_allowed(r, c, "GET");
    }
    if (!pki_tx_accept_ok(accept))
        return send_error(r, c, 406, "this server answers with " PK_TAXII_MEDIA_TYPE, NULL);
    if (post) {
        const char *ct =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!pki_tx_content_type_ok(ct))
            return send_error(r, c, 415, "send the envelope as " PK_TAXII_MEDIA_TYPE, NULL);
    }

    if (kind == R_ROOT) {
        json_t *info = NULL;
        pki_txdb_apiroot_get(db, root, &info);
        if (!info) return send_error(r, c, 500, "out of memory", NULL);
        json_object_set_new(info, "versions", json_pack("[s]", PK_TAXII_MEDIA_TYPE));
        json_object_set_new(info, "max_content_length",
                            json_integer((json_int_t)r->srv->cfg.max_body));
        return send_json(r, c, 200, info, NULL);
    }
    if (kind == R_STATUS) {
        json_t *st = NULL;
        pk_status s = pki_txdb_status(db, root, seg[2], &a, &st);
        if (s == PK_ENOTFOUND) return send_error(r, c, 404, "no such status resource", NULL);
        if (s) return send_error(r, c, 500, "store failure", NULL);
        return send_json(r, c, 200, st, NULL);
    }
    if (kind == R_COLLS) {
        json_t *list = NULL;
        if (pki_txdb_collections(db, root, &a, &list)) {
            json_decref(list);
            return send_error(r, c, 500, "store failure", NULL);
        }
        json_t *j = json_object();
        if (j && json_array_size(list))
            json_object_set_new(j, "collections", list);
        else
            json_decref(list);
        return send_json(r, c, 200, j, NULL);
    }
    pki_tx_coll coll;
    json_t *info = NULL;
    pk_status s = pki_txdb_collection(db, root, seg[2], &a, &coll, kind == R_COLL ? &info : NULL);
    if (s == PK_ENOTFOUND)
        return send_error(r, c, 404, "no such collection, or no access to it", NULL);
    if (s) return send_error(r, c, 500, "store failure", NULL);
    if (kind == R_COLL) return send_json(r, c, 200, info, NULL);
    if (post || del) {
        if (!coll.can_write)
            return send_error(r, c, 403, "this account may not write to this collection", NULL);
    } else if (!coll.can_read) {
        return send_error(r, c, 403, "this account may not read this collection", NULL);
    }
    if (kind == R_OBJECTS && post) return do_post(r, c, db, &a, &coll);
    if (kind == R_OBJECTS)
        return do_listing(r, c, db, &a, &coll, PKI_TXQ_OBJECTS, NULL, PKI_TXF_ALL);
    if (kind == R_MANIFEST)
        return do_listing(r, c, db, &a, &coll, PKI_TXQ_MANIFEST, NULL, PKI_TXF_ALL);
    if (!pki_tx_valid_id(seg[4])) return send_error(r, c, 404, "not a STIX identifier", NULL);
    if (kind == R_OBJECT && del) return do_delete(r, c, db, &a, &coll, seg[4]);
    if (kind == R_OBJECT)
        return do_listing(r, c, db, &a, &coll, PKI_TXQ_OBJECTS, seg[4],
                          PKI_TXF_ADDED_AFTER | PKI_TXF_LIMIT | PKI_TXF_NEXT | PKI_TXF_VERSION |
                              PKI_TXF_SPEC_VERSION);
    return do_listing(r, c, db, &a, &coll, PKI_TXQ_VERSIONS, seg[4],
                      PKI_TXF_ADDED_AFTER | PKI_TXF_LIMIT | PKI_TXF_NEXT | PKI_TXF_SPEC_VERSION);
}

/* ---- libmicrohttpd callbacks --------------------------------------------- */

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    size_t *sum = cls;
    *sum += strlen(k) + (v ? strlen(v) : 0) + 4;
    return MHD_YES;
}

static req *req_new(pk_taxii_server *srv, const char *path, size_t n)
{
    req *r = pk_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->srv = srv;
    r->t0 = pki_tx_now_us();
    pk_buf_init(&r->body, srv->cfg.max_body);
    if (n >= sizeof r->path) n = sizeof r->path - 1;
    memcpy(r->path, path, n);
    r->path[n] = '\0';
    atomic_fetch_add(&srv->inflight, 1);
    return r;
}

/*
 * Called by libmicrohttpd as soon as it has read a request line, before the
 * headers.  The request's state starts here so that a request it then refuses
 * by itself (headers past its per-connection buffer: 431; a malformed header:
 * 400) still reaches on_completed and the access log.  Those answers carry
 * libmicrohttpd's own short HTML body, not a TAXII error message: 0.9.x has
 * no way to replace them.  Headers past --max-header but within the buffer
 * (twice --max-header plus 32 KiB) get picket's 431 with a TAXII body.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    const char *q = strchr(uri, '?');
    return req_new(cls, uri, q ? (size_t)(q - uri) : strlen(uri));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    pk_taxii_server *srv = cls;
    req *r = *con_cls;
    if (!r || !r->started) {
        if (!r && !(r = req_new(srv, url, strlen(url)))) return MHD_NO;
        *con_cls = r;
        r->started = 1;
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        if (srv->cfg.ext_route && srv->cfg.ext_handle) r->ext = srv->cfg.ext_route(method, url);
        /* Limits answered before any body is read. */
        if ((unsigned)atomic_load(&srv->connections) > srv->cfg.max_connections) {
            hdr h[2] = {{"Retry-After", "1"}, {NULL, NULL}};
            return send_error(r, c, 429, "too many open connections; retry in a second", h);
        }
        size_t hsum = strlen(url);
        MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &hsum);
        if (hsum > srv->cfg.max_header) {
            char msg[96];
            snprintf(msg, sizeof msg, "request headers may take at most %zu bytes",
                     srv->cfg.max_header);
            return send_error(r, c, 431, msg, NULL);
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body) {
            char msg[96];
            snprintf(msg, sizeof msg, "a request body may take at most %zu bytes",
                     srv->cfg.max_body);
            return send_error(r, c, 413, msg, NULL);
        }
        return MHD_YES;
    }
    if (r->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->job == 2) {
        char *b = r->job_body;
        r->job_body = NULL;
        if (!b) return MHD_NO; /* out of memory making the answer */
        return send_body(r, c, r->job_status, b, r->job_len, PK_TAXII_MEDIA_TYPE, NULL);
    }
    if (r->job) return MHD_YES; /* suspended: not called until resumed */
    if (*upload_data_size) {
        if (!r->too_big && pk_buf_add(&r->body, upload_data, *upload_data_size) != PK_OK) {
            r->too_big = 1;
            pk_buf_free(&r->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "a request body may take at most %zu bytes", srv->cfg.max_body);
        return send_error(r, c, 413, msg, NULL);
    }
    pk_taxii_db *db = pool_get(srv);
    /* A GET reads the account, the API root, the collection and the page:
     * one read transaction for all of them rather than one each (each costs
     * file locks and a look at the WAL), and one snapshot. */
    int snap = !r->ext && (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
               pki_txdb_read_begin(db) == PK_OK;
    enum MHD_Result ret = route(r, c, url, method, db);
    if (snap) pki_txdb_read_end(db);
    pool_put(srv, db);
    return ret;
}

static void json_str(pk_buf *b, const char *s)
{
    pk_buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            pk_buf_addf(b, "\\%c", ch);
        else if (ch < 0x20)
            pk_buf_addf(b, "\\u%04x", ch);
        else
            pk_buf_addc(b, (char)ch);
    }
    pk_buf_addc(b, '"');
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pk_taxii_server *srv = cls;
    req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    if (srv->cfg.access_log && !(r->ext & PK_TAXII_EXT_NO_LOG)) {
        char remote[INET6_ADDRSTRLEN] = "-", ts[PK_TIME_STRLEN];
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, remote,
                          sizeof remote);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, remote,
                          sizeof remote);
        }
        int64_t now = pki_tx_now_us();
        pki_tx_time_format_us(now, ts);
        pk_buf line;
        pk_buf_init(&line, 8192);
        pk_buf_addf(&line, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":", ts, remote);
        json_str(&line, r->method);
        pk_buf_adds(&line, ",\"path\":");
        json_str(&line, r->path);
        pk_buf_addf(&line, ",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f,\"account\":",
                    r->responded ? r->status : 0, r->bytes, (double)(now - r->t0) / 1000.0);
        if (r->account[0])
            json_str(&line, r->account);
        else
            pk_buf_adds(&line, "null");
        if (!r->started)
            pk_buf_adds(&line, ",\"refused\":\"by libmicrohttpd before the headers were read "
                               "(headers past its buffer, or malformed)\"");
        pk_buf_adds(&line,
                    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "}\n" : ",\"aborted\":true}\n");
        if (line.data) {
            pthread_mutex_lock(&srv->log_mu);
            fwrite(line.data, 1, line.len, srv->cfg.access_log);
            fflush(srv->cfg.access_log);
            pthread_mutex_unlock(&srv->log_mu);
        }
        pk_buf_free(&line);
    }
    pk_buf_free(&r->body);
    pk_free(r->job_body);
    pk_free(r);
    atomic_fetch_sub(&srv->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pk_taxii_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&srv->connections, 1);
    else
        atomic_fetch_sub(&srv->connections, 1);
}

/* ---- start and stop ------------------------------------------------------ */

static pk_status read_file(const char *path, char **out, pk_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pk_error_set(err, PK_EIO, "%s: cannot open", path);
    pk_buf b;
    pk_buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    pk_status s = PK_OK;
    while (!s && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        s = pk_buf_add(&b, tmp, n);
    fclose(f);
    if (s) {
        pk_buf_free(&b);
        return pk_error_set(err, s, "%s: too large or out of memory", path);
    }
    *out = pk_buf_detach(&b, NULL);
    return *out ? PK_OK : pk_error_set(err, PK_ENOMEM, "out of memory");
}

/* Stop the post workers once the queue is empty (each POST taken finishes
 * and resumes its connection). */
static void post_workers_stop(pk_taxii_server *srv)
{
    pthread_mutex_lock(&srv->post_mu);
    srv->post_stop = 1;
    pthread_cond_broadcast(&srv->post_cv);
    pthread_mutex_unlock(&srv->post_mu);
    for (unsigned i = 0; i < srv->post_n; i++)
        pthread_join(srv->post_threads[i], NULL);
    srv->post_n = 0;
}

static void server_free(pk_taxii_server *srv)
{
    if (!srv) return;
    post_workers_stop(srv);
    pk_free(srv->post_threads);
    pthread_mutex_destroy(&srv->post_mu);
    pthread_cond_destroy(&srv->post_cv);
    if (srv->ckpt_started) {
        pthread_mutex_lock(&srv->ckpt_mu);
        srv->ckpt_stop = 1;
        pthread_cond_signal(&srv->ckpt_cv);
        pthread_mutex_unlock(&srv->ckpt_mu);
        pthread_join(srv->ckpt_thread, NULL);
    }
    pk_taxii_db_close(srv->ckpt_db);
    pk_taxii_db_close(srv->writer);
    pthread_mutex_destroy(&srv->ckpt_mu);
    pthread_cond_destroy(&srv->ckpt_cv);
    for (unsigned i = 0; i < srv->pool_n; i++)
        pk_taxii_db_close(srv->pool[i]);
    pk_free(srv->pool);
    if (srv->tls_key) sodium_memzero(srv->tls_key, strlen(srv->tls_key));
    pk_free(srv->tls_key);
    pk_free(srv->tls_cert);
    pthread_mutex_destroy(&srv->pool_mu);
    pthread_cond_destroy(&srv->pool_cv);
    pthread_mutex_destroy(&srv->log_mu);
    pthread_mutex_destroy(&srv->write_mu);
    pthread_mutex_destroy(&srv->sync_mu);
    pthread_cond_destroy(&srv->sync_cv);
    while (srv->bufs) {
        body_buf *bb = srv->bufs;
        srv->bufs = bb->next;
        pk_buf_free(&bb->b);
        pk_free(bb);
    }
    pthread_mutex_destroy(&srv->bufs_mu);
    pk_free(srv);
}

pk_status pk_taxii_server_start(const pk_taxii_config *cfg, pk_taxii_server **out, pk_error *err)
{
    *out = NULL;
    pk_status ls = pki_mhd_load(err);
    if (ls != PK_OK) return ls;
    pk_taxii_server *srv = pk_calloc(1, sizeof *srv);
    if (!srv) return pk_error_set(err, PK_ENOMEM, "out of memory");
    srv->cfg = *cfg;
    pthread_mutex_init(&srv->pool_mu, NULL);
    pthread_cond_init(&srv->pool_cv, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    pthread_mutex_init(&srv->write_mu, NULL);
    pthread_mutex_init(&srv->sync_mu, NULL);
    pthread_cond_init(&srv->sync_cv, NULL);
    pthread_mutex_init(&srv->ckpt_mu, NULL);
    pthread_cond_init(&srv->ckpt_cv, NULL);
    pthread_mutex_init(&srv->bufs_mu, NULL);
    pthread_mutex_init(&srv->post_mu, NULL);
    pthread_cond_init(&srv->post_cv, NULL);
    if (!srv->cfg.threads) srv->cfg.threads = 4;
    if (!srv->cfg.page_default) srv->cfg.page_default = 100;
    if (!srv->cfg.page_max) srv->cfg.page_max = 1000;
    if (srv->cfg.page_default > srv->cfg.page_max) srv->cfg.page_default = srv->cfg.page_max;
    pk_status s = PK_OK;

    /* One store connection per worker thread, so no request waits for one. */
    srv->pool = pk_calloc(srv->cfg.threads, sizeof *srv->pool);
    if (!srv->pool) {
        s = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < srv->cfg.threads; i++) {
        if ((s = pk_taxii_db_open(cfg->db_path, &srv->pool[i], err))) goto fail;
        srv->pool_n = srv->pool_free = i + 1;
    }
    /* Writes: one connection, committing into the log without syncing it
     * (synchronous=NORMAL).  By default a POST or DELETE is answered only
     * after a sync of the log that began after its commit (wait_synced,
     * outside the write lock), so nothing acknowledged is lost even if the
     * machine fails.  With fast_commit it is answered at once: it survives
     * the process, and is lost only if the OS or the machine fails before
     * the next sync (another poster's, or the checkpoint's). */
    if ((s = pki_txdb_open(cfg->db_path, PK_STORE_NO_CHECKPOINT | PK_STORE_FAST, &srv->writer,
                           err)) ||
        (s = pki_txdb_open(cfg->db_path, PK_STORE_FAST, &srv->ckpt_db, err)))
        goto fail;
    if (pthread_create(&srv->ckpt_thread, NULL, checkpointer, srv) != 0) {
        s = pk_error_set(err, PK_ENOMEM, "cannot start the checkpoint thread");
        goto fail;
    }
    /* As many post workers as libmicrohttpd threads: POSTs wait for the
     * write lock in turn anyway, and parse on these meanwhile. */
    srv->post_threads = pk_calloc(srv->cfg.threads, sizeof *srv->post_threads);
    if (!srv->post_threads) {
        s = pk_error_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < srv->cfg.threads; i++) {
        if (pthread_create(&srv->post_threads[i], NULL, post_worker, srv) != 0) {
            s = pk_error_set(err, PK_ENOMEM, "cannot start the POST threads");
            goto fail;
        }
        srv->post_n = i + 1;
    }
    srv->ckpt_started = 1;

    /* HOST:PORT, or [V6]:PORT */
    char host[256], port[16];
    const char *lp = cfg->listen ? cfg->listen : "127.0.0.1:8470";
    const char *colon = strrchr(lp, ':');
    if (!colon || (size_t)(colon - lp) >= sizeof host || strlen(colon + 1) >= sizeof port ||
        !colon[1]) {
        s = pk_error_set(err, PK_EINVAL, "--listen '%s': expected HOST:PORT", lp);
        goto fail;
    }
    const char *hs = lp, *he = colon;
    if (*hs == '[' && he > hs && he[-1] == ']') {
        hs++;
        he--;
    }
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        s = pk_error_set(err, PK_EINVAL, "--listen '%s': cannot resolve the address", lp);
        goto fail;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (cfg->tls_cert || cfg->tls_key) {
        if (!cfg->tls_cert || !cfg->tls_key) {
            freeaddrinfo(ai);
            s = pk_error_set(err, PK_EINVAL, "TLS needs both --tls-cert and --tls-key");
            goto fail;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            freeaddrinfo(ai);
            s = pk_error_set(err, PK_EUNSUPPORTED, "this libmicrohttpd has no TLS");
            goto fail;
        }
        if ((s = read_file(cfg->tls_cert, &srv->tls_cert, err)) ||
            (s = read_file(cfg->tls_key, &srv->tls_key, err))) {
            freeaddrinfo(ai);
            goto fail;
        }
        flags |= MHD_USE_TLS;
    }
    size_t pool_mem = srv->cfg.max_header * 2 + 32768;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)srv->cfg.threads, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(srv->cfg.max_connections + 64), NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool_mem, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, srv},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv},
        {srv->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert},
        {srv->tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                                MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->mhd) {
        s = pk_error_set(err, PK_EIO,
                         "cannot listen on %s (in use, not an address of this host, or bad TLS "
                         "files)",
                         lp);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (di && getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
        srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    *out = srv;
    return PK_OK;
fail:
    server_free(srv);
    return s;
}

void pk_taxii_server_stop(pk_taxii_server *srv, int grace_ms)
{
    if (!srv) return;
    /* Stop accepting, then let the requests in flight finish. */
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    for (int waited = 0; atomic_load(&srv->inflight) > 0 && waited < grace_ms; waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* No connection may stay suspended when libmicrohttpd stops: every POST
     * taken is finished and its connection resumed first. */
    post_workers_stop(srv);
    MHD_stop_daemon(srv->mhd);
    server_free(srv);
}

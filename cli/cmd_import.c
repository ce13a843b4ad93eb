/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket import: stream STIX files into the store in batched transactions;
 * invalid objects are reported and skipped, STIX 2.0 is converted.
 *
 * Two threads: one reads, parses, converts, validates and minifies objects
 * into batches; the other (the caller) stores them.  Parsing and SQLite each
 * take about half the work, so on two cores the import runs at the speed of
 * the slower half.  A bounded queue of batches keeps memory independent of
 * the input's size.  With --strict a file is taken in one transaction by one
 * thread, so that refusing it is a rollback.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_import = {
    "import",
    "store the objects of STIX files (2.1, or 2.0 converted) in the store",
    "Usage: picket import [--db PATH] [--collection NAME] [--strict] [--batch N] FILE...|-\n"
    "\n"
    "Read bundles, JSON arrays, single objects or JSON lines (\"-\" is standard\n"
    "input) one object at a time, validate each, and store the valid ones with all\n"
    "their versions.  Invalid objects are reported (as `picket validate` would) and\n"
    "skipped; the others in the same batch are kept.  STIX 2.0 objects are\n"
    "converted to 2.1 first.  An object version already stored (same id and\n"
    "modified) counts as a duplicate and is not stored twice.  Objects are\n"
    "committed in batches: a crash loses at most the batch in flight.\n"
    "\n"
    "Options:\n"
    "  --collection NAME  also add the objects to this collection (by id, alias or\n"
    "                     title; created with that title if there is none)\n"
    "  --strict           refuse a whole file when any object in it is invalid\n"
    "  --batch N          objects per transaction (default 50000)\n"
    "  -v                 report each committed batch (and warnings)\n"
    "\n"
    "The summary line says: stored, duplicate, rejected, converted.\n"
    "Exit status: 0 everything was stored (or already there), 1 some objects were\n"
    "rejected, 2 a file could not be read, 3 the store failed.\n"
    "\n"
    "Example:\n"
    "  picket import --collection partners enterprise-attack.json\n",
    run,
};

#define OPT_COLLECTION 0x2101
#define OPT_STRICT 0x2102
#define OPT_BATCH 0x2103

struct counts {
    long long stored, duplicate, rejected, converted;
};

struct ctx {
    pk_store *store;
    const char *collection;
    int strict;
    long batch;
    struct counts total;
};

/* ---- preparing one object (the reading thread) ---- */

typedef struct prep {
    const char *path;
    pk_stix_report *rep;
    pk_buf min;
    long long rejected, converted;
} prep;

static void report_issue(const char *path, const pk_stix_item *it, const pk_stix_issue *is)
{
    if (is->warning && !cli_opt.verbose) return;
    pk_error e = is->err;
    pk_error_at(&e, path, it->line, it->column);
    e.offset = it->offset;
    snprintf(e.message, sizeof e.message, "%s: %.490s", is->warning ? "warning" : "error",
             is->err.message);
    cli_report("import", &e);
}

/*
 * Read the next object and make it ready to store.  Returns 1 with *json
 * (a new reference) and *raw and *raw_len (in p->min, or in *dumped to free)
 * set; 0 when the object was rejected (reported); -1 at the end; -2 when
 * reading failed (reported; *read_rc set).
 */
static int prepare_next(prep *p, pk_stix_reader *r, json_t **json, const char **raw,
                        size_t *raw_len, char **dumped, pk_stix_item *it, int *read_rc)
{
    pk_error err;
    pk_error_clear(&err);
    *dumped = NULL;
    pk_status s = pk_stix_reader_next(r, it, &err);
    if (s == PK_ENOTFOUND) return -1;
    if (s == PK_EIO || s == PK_ENOMEM) {
        cli_report("import", &err);
        *read_rc = EXIT_PK_USAGE;
        return -2;
    }
    if (s != PK_OK) {
        cli_report("import", &err);
        p->rejected++;
        return 0;
    }
    unsigned changed = 0;
    if (pk_stix_is_20(it->json, pk_stix_reader_bundle_spec_version(r))) {
        if (pk_stix_upgrade(it->json, &changed) != PK_OK) cli_oom();
        if (changed) p->converted++;
    }
    pk_stix_report_clear(p->rep);
    s = pk_stix_validate(it->json, 0, p->rep);
    if (s == PK_ENOMEM) cli_oom();
    for (size_t i = 0; i < pk_stix_report_count(p->rep); i++)
        report_issue(p->path, it, pk_stix_report_get(p->rep, i));
    if (s != PK_OK) {
        p->rejected++;
        return 0;
    }
    /* A converted object is serialised anew; any other keeps its bytes. */
    if (changed) {
        *dumped = json_dumps(it->json, JSON_COMPACT);
        if (!*dumped) cli_oom();
        *raw = *dumped;
        *raw_len = strlen(*dumped);
    } else {
        if (pk_stix_minify(it->raw, it->raw_len, &p->min)) cli_oom();
        *raw = p->min.data;
        *raw_len = p->min.len;
    }
    *json = json_incref(it->json);
    return 1;
}

/* ---- storing (the calling thread) ---- */

typedef struct sink {
    struct ctx *x;
    const char *path;
    struct counts c;
    int in_tx;
    long in_batch, batches;
    pk_error err;
} sink;

static void committed(sink *k)
{
    k->batches++;
    if (cli_opt.verbose)
        fprintf(stderr, "picket import: %s: committed batch %ld, %lld objects so far\n", k->path,
                k->batches, k->c.stored + k->c.duplicate);
}

/* Store one object; 0 or -1 on a store failure (k->err filled). */
static int sink_put(sink *k, json_t *json, const char *raw, size_t raw_len, long line, long col)
{
    pk_status s;
    if (!k->in_tx) {
        if ((s = pk_store_begin(k->x->store, &k->err))) return -1;
        k->in_tx = 1;
    }
    pk_store_put_info info;
    s = pk_store_put(k->x->store, k->x->collection, json, raw, raw_len, &info, &k->err);
    if (s) {
        pk_error_at(&k->err, k->path, line, col);
        return -1;
    }
    if (info.added)
        k->c.stored++;
    else
        k->c.duplicate++;
    if (++k->in_batch >= k->x->batch && !k->x->strict) {
        if ((s = pk_store_commit(k->x->store, &k->err))) {
            k->in_tx = 0;
            return -1;
        }
        k->in_tx = 0;
        k->in_batch = 0;
        committed(k);
    }
    return 0;
}

/* ---- the pipeline ---- */

#define PIPE_BATCH 512
#define PIPE_DEPTH 8

typedef struct pitem {
    json_t *json;
    char *raw;
    size_t raw_len;
    long line, column;
} pitem;

typedef struct pbatch {
    pitem items[PIPE_BATCH];
    size_t n;
    pk_arena *arena;
    long long consumed;
} pbatch;

typedef struct pipe_t {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pbatch *queue[PIPE_DEPTH];
    size_t head, count;
    pbatch *spare[PIPE_DEPTH + 2];
    size_t nspare;
    int done, stop;
    /* the producer's side */
    pk_stix_reader *r;
    prep p;
    int read_rc;
} pipe_t;

/*
 * jansson's allocations on the reading thread come from the arena of the batch
 * being filled, and its frees there are no-ops: a batch's objects are then
 * released all at once by resetting the arena when the batch is reused, which
 * takes about a third off the reading thread's time (malloc/free dominated
 * it).  Every other allocation goes through pk_malloc as usual.
 */
static __thread pk_arena *tls_arena; /* jansson allocates here when set */
static __thread int tls_keep;        /* jansson's frees are no-ops when set */

static void *imp_malloc(size_t n)
{
    return tls_arena ? pk_arena_alloc(tls_arena, n) : pk_malloc(n);
}

static void imp_free(void *p)
{
    if (!tls_keep) pk_free(p);
}

static pbatch *batch_get(pipe_t *q)
{
    pthread_mutex_lock(&q->mu);
    pbatch *b = q->nspare ? q->spare[--q->nspare] : NULL;
    pthread_mutex_unlock(&q->mu);
    if (!b) {
        b = pk_calloc(1, sizeof *b);
        if (!b || !(b->arena = pk_arena_new(1 << 20, 0))) cli_oom();
    }
    /* The batch's objects live in its arena: dropping them is a reset. */
    b->n = 0;
    pk_arena_reset(b->arena);
    tls_arena = b->arena;
    return b;
}

static void batch_free(pbatch *b)
{
    pk_arena_free(b->arena);
    pk_free(b);
}

static void batch_release(pipe_t *q, pbatch *b)
{
    pthread_mutex_lock(&q->mu);
    if (q->nspare < sizeof q->spare / sizeof *q->spare) {
        q->spare[q->nspare++] = b;
        b = NULL;
    }
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (b) batch_free(b);
}

/* Hand a batch to the storing thread; 0 when it asked us to stop. */
static int batch_push(pipe_t *q, pbatch *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == PIPE_DEPTH && !q->stop)
        pthread_cond_wait(&q->cv, &q->mu);
    int ok = !q->stop;
    if (ok) {
        q->queue[(q->head + q->count) % PIPE_DEPTH] = b;
        q->count++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok) batch_free(b);
    return ok;
}

static void *producer(void *arg)
{
    pipe_t *q = arg;
    tls_keep = 1;
    pbatch *b = batch_get(q);
    pk_stix_item it;
    for (;;) {
        json_t *json;
        const char *raw;
        size_t raw_len;
        char *dumped;
        int k = prepare_next(&q->p, q->r, &json, &raw, &raw_len, &dumped, &it, &q->read_rc);
        if (k < 0) break;
        if (k == 0) continue;
        pitem *pi = &b->items[b->n++];
        pi->json = json;
        pi->raw = pk_arena_strndup(b->arena, raw, raw_len);
        if (!pi->raw) cli_oom();
        pi->raw_len = raw_len;
        pi->line = it.line;
        pi->column = it.column;
        imp_free(dumped);
        /* The reader must not touch the object once its batch is handed on:
         * the storing thread may finish it and we may reset its arena before
         * the reader's next call would have let go of it. */
        pk_stix_reader_drop(q->r);
        if (b->n == PIPE_BATCH) {
            b->consumed = pk_stix_reader_consumed(q->r);
            if (!batch_push(q, b)) return NULL;
            b = batch_get(q);
        }
    }
    b->consumed = pk_stix_reader_consumed(q->r);
    tls_arena = NULL;
    if (b->n)
        batch_push(q, b);
    else
        batch_free(b);
    pthread_mutex_lock(&q->mu);
    q->done = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static pbatch *batch_pop(pipe_t *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->done)
        pthread_cond_wait(&q->cv, &q->mu);
    pbatch *b = NULL;
    if (q->count) {
        b = q->queue[q->head];
        q->head = (q->head + 1) % PIPE_DEPTH;
        q->count--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

/* ---- one file ---- */

static int import_file(struct ctx *x, const char *path)
{
    pk_stix_reader *r;
    pk_error err;
    pk_error_clear(&err);
    if (pk_stix_reader_open(path, NULL, &r, &err)) {
        cli_report("import", &err);
        return EXIT_PK_USAGE;
    }
    long long size = pk_stix_reader_size(r);
    cli_progress *bar = cli_progress_start("import", size > 0 ? (unsigned long long)size : 0, "B");
    sink k = {0};
    k.x = x;
    k.path = path;
    pk_error_clear(&k.err);
    prep p = {0};
    p.path = path;
    p.rep = pk_stix_report_new();
    if (!p.rep) cli_oom();
    pk_buf_init(&p.min, 0);
    int rc = EXIT_PK_OK, read_rc = EXIT_PK_OK, failed = 0, refused = 0;

    if (x->strict) {
        /* One thread, one transaction: refusing the file is a rollback. */
        pk_stix_item it;
        for (;;) {
            json_t *json;
            const char *raw;
            size_t raw_len;
            char *dumped;
            int n = prepare_next(&p, r, &json, &raw, &raw_len, &dumped, &it, &read_rc);
            if (n == -1) break;
            if (n <= 0) {
                refused = 1;
                break;
            }
            failed = sink_put(&k, json, raw, raw_len, it.line, it.column) < 0;
            json_decref(json);
            pk_free(dumped);
            if (failed) break;
            cli_progress_update(bar, (unsigned long long)pk_stix_reader_consumed(r));
        }
    } else {
        pipe_t *q = pk_calloc(1, sizeof *q);
        if (!q) cli_oom();
        /* This thread frees no jansson memory of its own while the reading
         * thread runs; what it might free (the reader's last object) is in
         * an arena. */
        tls_keep = 1;
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->cv, NULL);
        q->r = r;
        q->p = p;
        q->read_rc = EXIT_PK_OK;
        pthread_t th;
        if (pthread_create(&th, NULL, producer, q) != 0) cli_oom();
        pbatch *b;
        while ((b = batch_pop(q))) {
            for (size_t i = 0; i < b->n && !failed; i++)
                failed = sink_put(&k, b->items[i].json, b->items[i].raw, b->items[i].raw_len,
                                  b->items[i].line, b->items[i].column) < 0;
            cli_progress_update(bar, (unsigned long long)b->consumed);
            batch_release(q, b);
            if (failed) {
                pthread_mutex_lock(&q->mu);
                q->stop = 1;
                pthread_cond_broadcast(&q->cv);
                pthread_mutex_unlock(&q->mu);
                while ((b = batch_pop(q)))
                    batch_release(q, b);
                break;
            }
        }
        pthread_join(th, NULL);
        pk_stix_reader_free(r); /* before the arenas its last object may be in */
        r = NULL;
        tls_keep = 0;
        p = q->p;
        read_rc = q->read_rc;
        for (size_t i = 0; i < q->nspare; i++)
            batch_free(q->spare[i]);
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->cv);
        pk_free(q);
    }
    cli_progress_done(bar);
    if (failed) {
        cli_report("import", &k.err);
        if (k.in_tx) pk_store_rollback(x->store);
        rc = EXIT_PK_INTERNAL;
    } else if (refused || (x->strict && read_rc != EXIT_PK_OK)) {
        if (k.in_tx) pk_store_rollback(x->store);
        k.in_tx = 0;
        cli_error("import", "%s: refused (--strict): nothing from this file was stored", path);
        k.c.stored = k.c.duplicate = 0;
        rc = read_rc != EXIT_PK_OK ? read_rc : EXIT_PK_NEGATIVE;
    } else if (k.in_tx) {
        k.in_tx = 0;
        if (pk_store_commit(x->store, &k.err)) {
            cli_report("import", &k.err);
            rc = EXIT_PK_INTERNAL;
        } else {
            committed(&k);
        }
    }
    k.c.rejected = p.rejected;
    k.c.converted = p.converted;
    if (rc == EXIT_PK_OK) rc = read_rc;
    if (rc == EXIT_PK_OK && k.c.rejected) rc = EXIT_PK_NEGATIVE;
    pk_stix_report_free(p.rep);
    pk_buf_free(&p.min);
    pk_stix_reader_free(r);
    if (!cli_opt.quiet && !cli_opt.json)
        fprintf(stderr, "%s: stored %lld, duplicate %lld, rejected %lld, converted %lld\n", path,
                k.c.stored, k.c.duplicate, k.c.rejected, k.c.converted);
    x->total.stored += k.c.stored;
    x->total.duplicate += k.c.duplicate;
    x->total.rejected += k.c.rejected;
    x->total.converted += k.c.converted;
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"collection", required_argument, 0, OPT_COLLECTION},
                                             {"strict", no_argument, 0, OPT_STRICT},
                                             {"batch", required_argument, 0, OPT_BATCH},
                                             CLI_COMMON_LONGOPTS,
                                             {0, 0, 0, 0}};
    struct ctx x = {0};
    const char *collection = NULL;
    x.batch = 50000;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == OPT_COLLECTION) {
            collection = optarg;
        } else if (c == OPT_STRICT) {
            x.strict = 1;
        } else if (c == OPT_BATCH) {
            char *end;
            x.batch = strtol(optarg, &end, 10);
            if (*end || x.batch < 1)
                return cli_usage_error("import", "--batch wants a positive number, not '%s'",
                                       optarg);
        } else if ((rc = cli_common_option(&cli_cmd_import, c, argv)) != 0) {
            return cli_finish(rc);
        }
    }
    if (optind >= argc) return cli_usage_error("import", "no input: give FILE... or -");
    pk_error err;
    pk_error_clear(&err);
    if (pk_store_open(cli_db_path(), PK_STORE_FAST, &x.store, &err)) {
        cli_report("import", &err);
        return EXIT_PK_INTERNAL;
    }
    char cid[PK_UUID_STRLEN];
    if (collection) {
        pk_status s = pk_store_collection_find(x.store, collection, cid, &err);
        if (s == PK_ENOTFOUND)
            s = pk_store_collection_create(x.store, NULL, collection, "", NULL, cid, &err);
        if (s) {
            cli_report("import", &err);
            pk_store_close(x.store);
            return EXIT_PK_INTERNAL;
        }
        x.collection = cid;
    }
    json_set_alloc_funcs(imp_malloc, imp_free);
    int worst = EXIT_PK_OK;
    for (int i = optind; i < argc; i++) {
        int r = import_file(&x, argv[i]);
        if (r > worst) worst = r;
        if (r == EXIT_PK_INTERNAL) break;
    }
    if (cli_opt.json)
        printf("{\"stored\":%lld,\"duplicate\":%lld,\"rejected\":%lld,\"converted\":%lld}\n",
               x.total.stored, x.total.duplicate, x.total.rejected, x.total.converted);
    else if (!cli_opt.quiet && argc - optind > 1)
        fprintf(stderr, "total: stored %lld, duplicate %lld, rejected %lld, converted %lld\n",
                x.total.stored, x.total.duplicate, x.total.rejected, x.total.converted);
    pk_store_close(x.store);
    return worst;
}

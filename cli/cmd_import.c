/* SPDX-License-Identifier: Apache-2.0 */
/* picket import: stream STIX files into the store in batched transactions;
 * invalid objects are reported and skipped, STIX 2.0 is converted. */
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
    "  --batch N          objects per transaction (default 20000)\n"
    "  -v                 report each committed batch\n"
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
    pk_stix_report *rep;
    pk_buf min;
    struct counts total;
};

static void report_issue(const char *path, const pk_stix_item *it, const pk_stix_issue *is)
{
    if (is->warning && !cli_opt.verbose) return;
    pk_error e = is->err;
    pk_error_at(&e, path, it->line, it->column);
    e.offset = it->offset;
    char msg[PK_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s: %.490s", is->warning ? "warning" : "error", is->err.message);
    snprintf(e.message, sizeof e.message, "%s", msg);
    cli_report("import", &e);
}

/* Returns an exit code for this file. */
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
    struct counts c = {0};
    int rc = EXIT_PK_OK, in_tx = 0, refused = 0;
    long in_batch = 0, batches = 0;
    pk_stix_item it;
    pk_status s;
    for (;;) {
        pk_error_clear(&err);
        s = pk_stix_reader_next(r, &it, &err);
        if (s == PK_ENOTFOUND) break;
        if (s == PK_EIO || s == PK_ENOMEM) {
            cli_report("import", &err);
            rc = EXIT_PK_USAGE;
            refused = x->strict;
            break;
        }
        if (s != PK_OK) {
            cli_report("import", &err);
            c.rejected++;
            if (x->strict) {
                refused = 1;
                break;
            }
            continue;
        }
        unsigned changed = 0;
        if (pk_stix_is_20(it.json, pk_stix_reader_bundle_spec_version(r))) {
            if (pk_stix_upgrade(it.json, &changed) != PK_OK) cli_oom();
            if (changed) c.converted++;
        }
        pk_stix_report_clear(x->rep);
        s = pk_stix_validate(it.json, 0, x->rep);
        if (s == PK_ENOMEM) cli_oom();
        for (size_t i = 0; i < pk_stix_report_count(x->rep); i++)
            report_issue(path, &it, pk_stix_report_get(x->rep, i));
        if (s != PK_OK) {
            c.rejected++;
            if (x->strict) {
                refused = 1;
                break;
            }
            continue;
        }
        if (!in_tx) {
            if ((s = pk_store_begin(x->store, &err))) goto store_failed;
            in_tx = 1;
        }
        /* A converted object is serialised anew; any other keeps its bytes. */
        const char *raw;
        size_t raw_len;
        char *dumped = NULL;
        if (changed) {
            dumped = json_dumps(it.json, JSON_COMPACT);
            if (!dumped) cli_oom();
            raw = dumped;
            raw_len = strlen(dumped);
        } else {
            if (pk_stix_minify(it.raw, it.raw_len, &x->min)) cli_oom();
            raw = x->min.data;
            raw_len = x->min.len;
        }
        pk_store_put_info info;
        s = pk_store_put(x->store, x->collection, it.json, raw, raw_len, &info, &err);
        pk_free(dumped); /* jansson allocates through pk_malloc */
        if (s) {
            pk_error_at(&err, path, it.line, it.column);
            goto store_failed;
        }
        if (info.added)
            c.stored++;
        else
            c.duplicate++;
        if (++in_batch >= x->batch && !x->strict) {
            if ((s = pk_store_commit(x->store, &err))) goto store_failed;
            in_tx = 0;
            batches++;
            if (cli_opt.verbose)
                fprintf(stderr, "picket import: %s: committed batch %ld, %lld objects so far\n",
                        path, batches, c.stored + c.duplicate);
            in_batch = 0;
        }
        cli_progress_update(bar, (unsigned long long)pk_stix_reader_consumed(r));
    }
    if (refused) {
        if (in_tx) pk_store_rollback(x->store);
        in_tx = 0;
        cli_error("import", "%s: refused (--strict): nothing from this file was stored", path);
        c.stored = c.duplicate = 0;
        if (rc == EXIT_PK_OK) rc = EXIT_PK_NEGATIVE;
    }
    if (in_tx) {
        if ((s = pk_store_commit(x->store, &err))) goto store_failed;
        batches++;
        if (cli_opt.verbose)
            fprintf(stderr, "picket import: %s: committed batch %ld, %lld objects so far\n", path,
                    batches, c.stored + c.duplicate);
    }
    cli_progress_done(bar);
    pk_stix_reader_free(r);
    if (c.rejected && rc == EXIT_PK_OK) rc = EXIT_PK_NEGATIVE;
    if (!cli_opt.quiet && !cli_opt.json)
        fprintf(stderr, "%s: stored %lld, duplicate %lld, rejected %lld, converted %lld\n", path,
                c.stored, c.duplicate, c.rejected, c.converted);
    x->total.stored += c.stored;
    x->total.duplicate += c.duplicate;
    x->total.rejected += c.rejected;
    x->total.converted += c.converted;
    return rc;
store_failed:
    cli_progress_done(bar);
    cli_report("import", &err);
    if (in_tx) pk_store_rollback(x->store);
    pk_stix_reader_free(r);
    return EXIT_PK_INTERNAL;
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
    x.batch = 20000;
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
    x.rep = pk_stix_report_new();
    if (!x.rep) cli_oom();
    pk_buf_init(&x.min, 0);
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
    pk_buf_free(&x.min);
    pk_stix_report_free(x.rep);
    pk_store_close(x.store);
    return worst;
}

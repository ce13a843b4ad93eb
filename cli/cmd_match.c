/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket match: run logs through the indicator index and print every hit as a
 * JSON line; optionally write STIX sightings.  -j spreads the inputs over
 * threads that share one index, each with its own scanner.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_match = {
    "match",
    "match logs against indicators at line rate; print alerts",
    "Usage: picket match (--iocs LIST... | --indicators BUNDLE... | --db PATH | --index FILE.pki)\n"
    "                    [--format auto|eve|zeek|jsonl|text] [--map PATH=TYPE,...]\n"
    "                    [--alerts FILE] [--sightings FILE] [--sensor NAME]\n"
    "                    [--follow] [-j N] LOG...|-\n"
    "\n"
    "Match every record of the logs against the indicators and print one JSON\n"
    "line per hit: the indicator (its STIX id, or the IOC list's file:line), the\n"
    "type and value, what was observed, how (exact, subdomain, cidr, pattern),\n"
    "the field, the log file, line and the record's time.\n"
    "\n"
    "Indicators:\n"
    "  --iocs LIST        an IOC list: one value a line, or type<TAB>value (types\n"
    "                     ipv4 ipv6 cidr domain url email md5 sha1 sha256 sha512\n"
    "                     filename user-account); repeatable\n"
    "  --index FILE.pki   an index written by 'picket compile' (ready in ms)\n"
    "  --indicators FILE  a STIX 2.1 bundle (or JSON lines) of indicators; repeatable\n"
    "  --db PATH          the indicators in picket's store\n"
    "                     (STIX patterns: equalities and ISSUBSET networks are\n"
    "                     indexed; ORed equalities are decided at once, other\n"
    "                     patterns by the pattern evaluator over the last 64\n"
    "                     records of the input; a pattern with nothing to index\n"
    "                     costs an evaluation per record of the object types\n"
    "                     it names)\n"
    "Domains: an IOC-list domain also hits its subdomains (how: subdomain); a STIX\n"
    "[domain-name:value = 'x'] is an equality and hits x only.\n"
    "Logs (plain or gzip; - is standard input):\n"
    "  --format F         auto (default, sniffed per file), eve, zeek (TSV or\n"
    "                     JSON), jsonl (fields from --map), text\n"
    "  --map P=T,...      read JSON field P (dotted path) as type T (ipv4 ipv6 ip\n"
    "                     domain url email md5 sha1 sha256 hash filename\n"
    "                     user-account text time); repeatable\n"
    "Output:\n"
    "  --alerts FILE      write alerts there instead of standard output\n"
    "  --sightings FILE   write a STIX 2.1 bundle of sightings per indicator\n"
    "  --sensor NAME      the identity the sightings name (default: host name)\n"
    "  --follow           keep reading the logs as they grow (until interrupted)\n"
    "  -j N               match N inputs at once (threads sharing one index)\n"
    "\n"
    "A malformed record is reported (file:line: reason), counted and skipped.\n"
    "Exit status: 0 hits, 1 no hits, 2 usage error, an unreadable input or a\n"
    "malformed record (alerts are printed all the same).\n"
    "\n"
    "Examples:\n"
    "  picket match --iocs bad.txt /var/log/suricata/eve.json\n"
    "  picket compile --iocs feed.txt -o feed.pki && picket match --index feed.pki -j 2 *.log.gz\n"
    "  picket match --iocs bad.txt --format jsonl --map 'client.ip=ipv4,req.host=domain' app.log\n",
    run,
};

/* Shared with cmd_compile.c. */
int cli_match_build_index(const char *verb, char **iocs, size_t niocs, char **bundles,
                          size_t nbundles, const char *index_path, pk_match_index **out,
                          size_t *values, size_t *rejected);

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

static void bad_ioc(void *ud, const pk_error *err)
{
    const char *verb = ud;
    pthread_mutex_lock(&err_lock);
    cli_report(verb, err);
    pthread_mutex_unlock(&err_lock);
}

/* One STIX object: an indicator with a STIX pattern goes into the compiler;
 * anything else is passed over.  Returns 1 added, 0 passed over, -1 rejected. */
static int add_stix(pk_match_compiler *c, const char *verb, json_t *o, const char *file, long line)
{
    const char *type = pk_stix_str(o, "type");
    if (!type || strcmp(type, "indicator") != 0) return 0;
    if (json_is_true(json_object_get(o, "revoked"))) return 0;
    const char *id = pk_stix_str(o, "id"), *pattern = pk_stix_str(o, "pattern");
    const char *ptype = pk_stix_str(o, "pattern_type");
    pk_error err;
    pk_error_clear(&err);
    pk_status rc;
    if (!id || !pattern)
        rc = pk_error_set(&err, PK_EVALIDATE, "an indicator needs an id and a pattern");
    else if (ptype && strcmp(ptype, "stix") != 0)
        rc = pk_error_set(&err, PK_EUNSUPPORTED, "pattern_type '%s' is not stix", ptype);
    else
        rc = pk_match_compiler_add_indicator(c, id, pattern, strlen(pattern), &err);
    if (rc == PK_OK) return 1;
    if (rc == PK_ENOMEM) cli_oom();
    pk_error_at(&err, file, line, 0);
    pk_error_object(&err, id ? id : "", "pattern");
    bad_ioc((void *)verb, &err);
    return -1;
}

typedef struct db_ctx {
    pk_match_compiler *c;
    const char *verb, *path;
    size_t values, rejected;
} db_ctx;

static int db_row(const pk_store_row *row, void *ud)
{
    db_ctx *d = ud;
    if (!row->raw) return 0;
    json_t *o = json_loadb(row->raw, row->raw_len, 0, NULL);
    if (!o) return 0;
    int r = add_stix(d->c, d->verb, o, d->path, 0);
    json_decref(o);
    if (r > 0) d->values++;
    if (r < 0) d->rejected++;
    return 0;
}

int cli_match_build_index(const char *verb, char **iocs, size_t niocs, char **bundles,
                          size_t nbundles, const char *index_path, pk_match_index **out,
                          size_t *values, size_t *rejected)
{
    pk_error err;
    pk_error_clear(&err);
    *out = NULL;
    *values = *rejected = 0;
    if (index_path) {
        if (niocs || nbundles) {
            cli_error(verb, "--index cannot be combined with --iocs or --indicators");
            return EXIT_PK_USAGE;
        }
        if (pk_match_index_load(index_path, out, &err) != PK_OK) {
            cli_report(verb, &err);
            return EXIT_PK_USAGE;
        }
        return EXIT_PK_OK;
    }
    const char *db = cli_opt.db;
    if (!niocs && !nbundles && !db) {
        return cli_usage_error(verb, "no indicators: give --iocs, --indicators, --db or --index");
    }
    pk_match_compiler *c = pk_match_compiler_new();
    if (!c) cli_oom();
    for (size_t i = 0; i < niocs; i++) {
        size_t added = 0, rej = 0;
        pk_status rc =
            pk_match_compiler_add_list_file(c, iocs[i], bad_ioc, (void *)verb, &added, &rej, &err);
        if (rc == PK_ENOMEM) cli_oom();
        if (rc != PK_OK) {
            cli_report(verb, &err);
            pk_match_compiler_free(c);
            return EXIT_PK_USAGE;
        }
        *values += added;
        *rejected += rej;
    }
    for (size_t i = 0; i < nbundles; i++) {
        pk_stix_reader *r = NULL;
        if (pk_stix_reader_open(bundles[i], NULL, &r, &err) != PK_OK) {
            cli_report(verb, &err);
            pk_match_compiler_free(c);
            return EXIT_PK_USAGE;
        }
        for (;;) {
            pk_stix_item item;
            pk_error_clear(&err);
            pk_status rc = pk_stix_reader_next(r, &item, &err);
            if (rc == PK_ENOTFOUND) break;
            if (rc == PK_EPARSE || rc == PK_ELIMIT) {
                cli_report(verb, &err);
                (*rejected)++;
                continue;
            }
            if (rc != PK_OK) {
                cli_report(verb, &err);
                pk_stix_reader_free(r);
                pk_match_compiler_free(c);
                return rc == PK_ENOMEM ? EXIT_PK_INTERNAL : EXIT_PK_USAGE;
            }
            int a = add_stix(c, verb, item.json, bundles[i], item.line);
            if (a > 0) (*values)++;
            if (a < 0) (*rejected)++;
        }
        pk_stix_reader_free(r);
    }
    if (db) {
        pk_store *st = NULL;
        if (pk_store_open(db, PK_STORE_READONLY, &st, &err) != PK_OK) {
            pk_error_at(&err, db, 0, 0);
            cli_report(verb, &err);
            pk_match_compiler_free(c);
            return EXIT_PK_USAGE;
        }
        const char *types[] = {"indicator"};
        pk_store_query q;
        memset(&q, 0, sizeof q);
        q.types = types;
        q.n_types = 1;
        q.with_raw = 1;
        db_ctx d = {c, verb, db, 0, 0};
        pk_status rc = pk_store_list(st, &q, db_row, &d, NULL, &err);
        pk_store_close(st);
        if (rc != PK_OK) {
            cli_report(verb, &err);
            pk_match_compiler_free(c);
            return EXIT_PK_INTERNAL;
        }
        *values += d.values;
        *rejected += d.rejected;
    }
    pk_status rc = pk_match_compile(c, out, &err);
    pk_match_compiler_free(c);
    if (rc == PK_ENOMEM) cli_oom();
    if (rc != PK_OK) {
        cli_report(verb, &err);
        return EXIT_PK_INTERNAL;
    }
    return EXIT_PK_OK;
}

/* ---- the run ------------------------------------------------------------- */

typedef struct shared {
    pk_match_index *ix;
    pk_match_options opt;
    char **files;
    size_t nfiles;
    atomic_size_t next;
    FILE *out;
    pthread_mutex_t out_lock;
    int follow;
    int want_sightings;
    atomic_int unreadable;
} shared;

typedef struct worker {
    shared *sh;
    pk_match_scanner *s; /* made before the run (the first worker's), or NULL */
    pthread_t tid;
    pk_buf buf;
    pk_match_sightings *sight;
    pk_match_stats st;
    long bad_in_file;
    const char *cur;
    int failed;
} worker;

static volatile int stop_flag;

/* The index and the scanners stay until the process exits: unmapping a
 * 43 MB index, its filter's huge page and each scanner's buffers, one call
 * and one TLB flush at a time (0.1-0.3 ms of wall time each on this VM under
 * strace), is work the exit does anyway, at once.  Held here, they are not
 * leaks to LeakSanitizer. */
static struct {
    pk_match_index *ix;
    worker *ws;
} at_exit;

static void leave_to_exit(pk_match_index *ix, worker *ws)
{
    at_exit.ix = ix;
    at_exit.ws = ws;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void flush_out(worker *w)
{
    if (!w->buf.len) return;
    pthread_mutex_lock(&w->sh->out_lock);
    fwrite(w->buf.data, 1, w->buf.len, w->sh->out);
    if (w->sh->follow) fflush(w->sh->out);
    pthread_mutex_unlock(&w->sh->out_lock);
    pk_buf_reset(&w->buf);
}

static void on_alert(void *ud, const pk_match_alert *a)
{
    worker *w = ud;
    if (pk_match_alert_json(a, &w->buf) != PK_OK) cli_oom();
    if (w->sight && pk_match_sightings_add(w->sight, a) != PK_OK) cli_oom();
    if (w->buf.len > (1u << 18) || w->sh->follow) flush_out(w);
}

#define BAD_SHOWN 20

static void on_malformed(void *ud, const pk_error *err)
{
    worker *w = ud;
    if (++w->bad_in_file > BAD_SHOWN) return;
    pthread_mutex_lock(&err_lock);
    char line[1200];
    pk_error_format(err, line, sizeof line);
    cli_error("match", "%s (line skipped)", line);
    pthread_mutex_unlock(&err_lock);
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    pk_match_callbacks cb = {on_alert, on_malformed, w};
    pk_match_scanner *s = w->s;
    pk_error err;
    pk_error_clear(&err);
    if (!s && pk_match_scanner_new(sh->ix, &sh->opt, &cb, &s, &err) != PK_OK) {
        pthread_mutex_lock(&err_lock);
        cli_report("match", &err);
        pthread_mutex_unlock(&err_lock);
        w->failed = 1;
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->nfiles || stop_flag) break;
        w->bad_in_file = 0;
        pk_match_stats before;
        pk_match_scanner_stats(s, &before);
        pk_status rc = pk_match_scan_file(s, sh->files[i], sh->follow, &stop_flag, &err);
        flush_out(w);
        if (rc != PK_OK) {
            atomic_store(&sh->unreadable, 1);
            pthread_mutex_lock(&err_lock);
            cli_report("match", &err);
            pthread_mutex_unlock(&err_lock);
            pk_error_clear(&err);
        }
        if (w->bad_in_file > BAD_SHOWN) {
            pthread_mutex_lock(&err_lock);
            cli_error("match", "%s: %ld more malformed lines not shown", sh->files[i],
                      w->bad_in_file - BAD_SHOWN);
            pthread_mutex_unlock(&err_lock);
        }
    }
    pk_match_scanner_stats(s, &w->st);
    w->s = s; /* freed, or left to the exit, by run() */
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int add_arg(char ***v, size_t *n, char *a)
{
    char **nv = pk_realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) cli_oom();
    nv[(*n)++] = a;
    *v = nv;
    return 0;
}

enum {
    OPT_IOCS = 0x2001,
    OPT_INDEX,
    OPT_INDICATORS,
    OPT_FORMAT,
    OPT_MAP,
    OPT_ALERTS,
    OPT_SIGHTINGS,
    OPT_SENSOR,
    OPT_FOLLOW
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"iocs", required_argument, 0, OPT_IOCS},
                                             {"index", required_argument, 0, OPT_INDEX},
                                             {"indicators", required_argument, 0, OPT_INDICATORS},
                                             {"format", required_argument, 0, OPT_FORMAT},
                                             {"map", required_argument, 0, OPT_MAP},
                                             {"alerts", required_argument, 0, OPT_ALERTS},
                                             {"sightings", required_argument, 0, OPT_SIGHTINGS},
                                             {"sensor", required_argument, 0, OPT_SENSOR},
                                             {"follow", no_argument, 0, OPT_FOLLOW},
                                             {"jobs", required_argument, 0, 'j'},
                                             {0, 0, 0, 0}};
    char **iocs = NULL, **bundles = NULL;
    size_t niocs = 0, nbundles = 0;
    const char *index_path = NULL, *alerts = NULL, *sightings = NULL, *sensor = NULL;
    pk_buf map;
    pk_buf_init(&map, 1 << 20);
    int format = PK_FMT_AUTO, follow = 0;
    long jobs = 1;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":j:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_IOCS:
            add_arg(&iocs, &niocs, optarg);
            continue;
        case OPT_INDICATORS:
            add_arg(&bundles, &nbundles, optarg);
            continue;
        case OPT_INDEX:
            index_path = optarg;
            continue;
        case OPT_FORMAT:
            if ((format = pk_match_format_parse(optarg)) < 0) {
                rc = cli_usage_error("match", "unknown format '%s' (auto eve zeek jsonl text)",
                                     optarg);
                goto out;
            }
            continue;
        case OPT_MAP:
            if (map.len) pk_buf_addc(&map, ',');
            if (pk_buf_adds(&map, optarg) != PK_OK) cli_oom();
            continue;
        case OPT_ALERTS:
            alerts = optarg;
            continue;
        case OPT_SIGHTINGS:
            sightings = optarg;
            continue;
        case OPT_SENSOR:
            sensor = optarg;
            continue;
        case OPT_FOLLOW:
            follow = 1;
            continue;
        case 'j': {
            char *end;
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 256) {
                rc = cli_usage_error("match", "-j wants a number from 1 to 256");
                goto out;
            }
            continue;
        }
        default:
            break;
        }
        if ((rc = cli_common_option(&cli_cmd_match, c, argv)) != 0) {
            rc = cli_finish(rc);
            goto out;
        }
    }
    if (optind >= argc) {
        rc = cli_usage_error("match", "no logs given (use - for standard input)");
        goto out;
    }
    pk_match_index *ix = NULL;
    size_t values = 0, rejected = 0;
    double t0 = now_s();
    rc = cli_match_build_index("match", iocs, niocs, bundles, nbundles, index_path, &ix, &values,
                               &rejected);
    if (rc != EXIT_PK_OK) goto out;
    double t_index = now_s() - t0;

    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.ix = ix;
    sh.opt.format = (pk_match_format)format;
    sh.opt.map = map.len ? map.data : NULL;
    sh.files = argv + optind;
    sh.nfiles = (size_t)(argc - optind);
    atomic_init(&sh.next, 0);
    atomic_init(&sh.unreadable, 0);
    sh.follow = follow;
    pthread_mutex_init(&sh.out_lock, NULL);
    sh.out = stdout;
    if (follow) {
        jobs = (long)sh.nfiles; /* every followed file needs its own reader */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    if ((size_t)jobs > sh.nfiles) jobs = (long)sh.nfiles;
    worker *ws = pk_calloc((size_t)jobs, sizeof *ws);
    if (!ws) cli_oom();
    for (long i = 0; i < jobs; i++) {
        ws[i].sh = &sh;
        pk_buf_init(&ws[i].buf, 0);
    }
    {
        /* The first worker's scanner, made here: a bad --map is a usage
         * error, found before any thread starts (and no scanner is made
         * only to find it). */
        pk_match_callbacks cb = {on_alert, on_malformed, &ws[0]};
        pk_error err;
        pk_error_clear(&err);
        if (pk_match_scanner_new(ix, &sh.opt, &cb, &ws[0].s, &err) != PK_OK) {
            cli_report("match", &err);
            pk_free(ws);
            pk_match_index_free(ix);
            rc = err.code == PK_ENOMEM ? EXIT_PK_INTERNAL : EXIT_PK_USAGE;
            goto out;
        }
    }
    if (alerts && !(sh.out = fopen(alerts, "w"))) {
        cli_error("match", "%s: cannot create: %s", alerts, strerror(errno));
        pk_match_scanner_free(ws[0].s);
        pk_free(ws);
        pk_match_index_free(ix);
        rc = EXIT_PK_USAGE;
        goto out;
    }
    for (long i = 0; i < jobs; i++)
        if (sightings && !(ws[i].sight = pk_match_sightings_new())) cli_oom();
    if (jobs == 1) {
        work(&ws[0]);
    } else {
        for (long i = 0; i < jobs; i++)
            if (pthread_create(&ws[i].tid, NULL, work, &ws[i]) != 0) {
                cli_error("match", "cannot start a thread");
                ws[i].failed = 2;
            }
        for (long i = 0; i < jobs; i++)
            if (ws[i].failed != 2) pthread_join(ws[i].tid, NULL);
    }
    double t_total = now_s() - t0;
    pk_match_stats tot;
    memset(&tot, 0, sizeof tot);
    int failed = 0;
    for (long i = 0; i < jobs; i++) {
        tot.bytes += ws[i].st.bytes;
        tot.lines += ws[i].st.lines;
        tot.records += ws[i].st.records;
        tot.observations += ws[i].st.observations;
        tot.alerts += ws[i].st.alerts;
        tot.malformed += ws[i].st.malformed;
        failed |= ws[i].failed;
        pk_buf_free(&ws[i].buf);
    }
    if (sightings) {
        for (long i = 1; i < jobs; i++)
            if (pk_match_sightings_merge(ws[0].sight, ws[i].sight) != PK_OK) cli_oom();
        char host[256] = "";
        if (!sensor) {
            gethostname(host, sizeof host - 1);
            sensor = host;
        }
        pk_buf b;
        pk_buf_init(&b, 0);
        pk_error err;
        pk_error_clear(&err);
        FILE *f = NULL;
        if (pk_match_sightings_json(ws[0].sight, sensor, &b, &err) != PK_OK) {
            cli_report("match", &err);
            failed = 1;
        } else if (!(f = fopen(sightings, "w")) || fwrite(b.data, 1, b.len, f) != b.len) {
            cli_error("match", "%s: cannot write: %s", sightings, strerror(errno));
            failed = 1;
        }
        if (f && fclose(f) != 0) failed = 1;
        pk_buf_free(&b);
    }
    for (long i = 0; i < jobs; i++)
        pk_match_sightings_free(ws[i].sight);
    if (sh.out != stdout) {
        if (fclose(sh.out) != 0) failed = 1;
    } else {
        fflush(stdout);
    }
    pthread_mutex_destroy(&sh.out_lock);
    leave_to_exit(ix, ws);
    if (!cli_opt.quiet) {
        double mb = (double)tot.bytes / 1e6;
        fprintf(stderr,
                "picket match: %zu input%s, %llu lines, %llu alerts, %llu malformed; "
                "%.1f MB in %.3f s (%.0f MB/s); index ready in %.1f ms\n",
                sh.nfiles, sh.nfiles == 1 ? "" : "s", tot.lines, tot.alerts, tot.malformed, mb,
                t_total - t_index, t_total - t_index > 0 ? mb / (t_total - t_index) : 0.0,
                t_index * 1e3);
    }
    if (failed) {
        rc = EXIT_PK_INTERNAL;
    } else if (atomic_load(&sh.unreadable) || tot.malformed) {
        rc = EXIT_PK_USAGE;
    } else {
        rc = tot.alerts ? EXIT_PK_OK : EXIT_PK_NEGATIVE;
    }
out:
    pk_free(iocs);
    pk_free(bundles);
    pk_buf_free(&map);
    return rc;
}

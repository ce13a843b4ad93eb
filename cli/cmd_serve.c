/* SPDX-License-Identifier: Apache-2.0 */
/* picket serve: run the TAXII 2.1 server on the store until SIGTERM/SIGINT,
 * then finish the requests in flight and stop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "report_release.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_serve = {
    "serve",
    "run the TAXII 2.1 server (accounts, permissions, TLP) on the store",
    "Usage: picket serve [--db PATH] [--listen HOST:PORT] [--tls-cert PEM --tls-key PEM]\n"
    "                    [--threads N] [--access-log FILE] [--demo] [LIMITS]\n"
    "\n"
    "Serve the store over TAXII 2.1: discovery at /taxii2/, the default API root at\n"
    "/api/.  Every endpoint but discovery needs an account's token, sent with HTTP\n"
    "Basic (account name and token) or as 'Authorization: Bearer TOKEN'.  TLP is\n"
    "enforced on every read.  Binds 127.0.0.1:8470 unless --listen says otherwise\n"
    "(port 0 takes any free port; the address is printed on standard output).\n"
    "SIGTERM or SIGINT stops accepting, lets requests in flight finish (--grace),\n"
    "then exits 0.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT     address to bind (default 127.0.0.1:8470)\n"
    "  --tls-cert FILE        PEM certificate; with --tls-key, serve HTTPS\n"
    "  --tls-key FILE         PEM private key\n"
    "  --threads N            worker threads (default 4)\n"
    "  --access-log FILE      one JSON line per request ('-': standard output)\n"
    "  --demo                 on a store with no accounts, create account 'admin' and a\n"
    "                         'Demo' collection with generated indicators and reports;\n"
    "                         on every start print the URL and a fresh admin token\n"
    "  --grace SECONDS        how long a stop waits for requests in flight (default 10)\n"
    "  --commit sync|fast     sync (default): a write is synced to disk before it is\n"
    "                         acknowledged; fast: it is in the write-ahead log, safe\n"
    "                         from a crash of picket but not from a power cut\n"
    "Limits (each answered with a TAXII error message):\n"
    "  --max-body BYTES       request body (default 16777216) -> 413\n"
    "  --max-objects N        objects in one envelope (default 10000) -> 413\n"
    "  --max-header BYTES     request headers (default 16384) -> 431\n"
    "  --max-connections N    open connections (default 256) -> 429\n"
    "  --page-max N           most objects per page (default 1000)\n"
    "Anonymous intake (see picket report):\n"
    "  --release-k N          reports that must share an observable before it is\n"
    "                         released to the sharing collection (default 3)\n"
    "  --release-collection C the collection (id or alias) released sightings go to;\n"
    "                         without it nothing is released\n"
    "  --intake-collection C  the collection (id or alias) the release job moves the\n"
    "                         scrubbed anonymous reports to, for your analysts\n"
    "  --release-interval S   seconds between release runs (default 86400)\n"
    "  --token-quota N        anonymous tokens per organisation per epoch (default 20)\n"
    "  --epoch-seconds S      lifetime of a token key (default 604800, a week)\n"
    "  --epoch-grace N        epochs a token stays redeemable after its own (default 1)\n"
    "\n"
    "Examples:\n"
    "  picket serve --db intel.db --listen 0.0.0.0:8470 --tls-cert c.pem --tls-key k.pem\n"
    "  curl -H 'Accept: application/taxii+json;version=2.1' -u alice:TOKEN \\\n"
    "       http://127.0.0.1:8470/api/collections/\n",
    run,
};

enum {
    OPT_LISTEN = 0x2001,
    OPT_CERT,
    OPT_KEY,
    OPT_THREADS,
    OPT_LOG,
    OPT_DEMO,
    OPT_GRACE,
    OPT_MAX_BODY,
    OPT_MAX_OBJECTS,
    OPT_MAX_HEADER,
    OPT_MAX_CONN,
    OPT_COMMIT,
    OPT_PAGE_MAX,
    OPT_RELEASE_K,
    OPT_RELEASE_COLL,
    OPT_INTAKE_COLL,
    OPT_RELEASE_INTERVAL,
    OPT_TOKEN_QUOTA,
    OPT_EPOCH_SECONDS,
    OPT_EPOCH_GRACE,
};

/* ---- the anonymous intake ------------------------------------------------ */

static int intake_handle(void *ud, const char *method, const char *path, const char *body,
                         size_t body_len, const char *org, int admin, char **resp, size_t *resp_len)
{
    return pk_privacy_service_handle(ud, method, path, body, body_len, org, admin, resp, resp_len);
}

/* Every member organisation and account name, scrubbed from anonymous
 * reports by the server too. */
struct names_src {
    const char *db_path;
};

static json_t *member_names(void *ud)
{
    struct names_src *ns = ud;
    pk_taxii_db *db = NULL;
    json_t *users = NULL, *out = json_array();
    if (!out || pk_taxii_db_open(ns->db_path, &db, NULL) != PK_OK ||
        pk_taxii_user_list(db, &users, NULL) != PK_OK) {
        pk_taxii_db_close(db);
        return out;
    }
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        json_array_append(out, json_object_get(u, "name"));
        json_array_append(out, json_object_get(u, "org"));
    }
    json_decref(users);
    pk_taxii_db_close(db);
    return out;
}

/* The release job runs on a timer, never when a report arrives, so that no
 * stored date_added tells when the k-th report came. */
struct releaser {
    pk_privacy_service *svc;
    const char *db_path, *collection, *intake_collection;
    unsigned long long interval;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void *release_loop(void *arg)
{
    struct releaser *rl = arg;
    pthread_mutex_lock(&rl->mu);
    while (!rl->stop) {
        pthread_mutex_unlock(&rl->mu);
        pk_error err;
        pk_error_clear(&err);
        size_t n = 0;
        pk_privacy_service_lock(rl->svc, 1);
        pk_intake *in = pk_privacy_service_intake(rl->svc);
        pk_status s =
            rl->collection ? cli_report_release(in, rl->db_path, rl->collection, &n, &err) : PK_OK;
        if (s) cli_report("serve", &err);
        pk_error_clear(&err);
        if (rl->intake_collection &&
            cli_report_move_inbox(in, rl->db_path, rl->intake_collection, &n, &err))
            cli_report("serve", &err);
        pk_privacy_service_lock(rl->svc, 0);
        pthread_mutex_lock(&rl->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)rl->interval;
        while (!rl->stop && pthread_cond_timedwait(&rl->cv, &rl->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return NULL;
}

static int parse_num(const char *opt, const char *v, unsigned long long max,
                     unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || n == 0 || n > max || v[0] == '-') {
        cli_usage_error("serve", "%s: '%s' is not a number from 1 to %llu", opt, v, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* A small, deterministic-looking sample: indicators of several kinds and
 * reports that point at them, under mixed TLP. */
static json_t *demo_envelope(void)
{
    static const char *const tlp[] = {
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* CLEAR */
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* GREEN */
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* AMBER */
    };
    json_t *objs = json_array();
    json_t *env = json_pack("{s:o}", "objects", objs);
    if (!env) cli_oom();
    char now[PK_TIME_STRLEN];
    pk_time t = pk_time_now();
    pk_time_format(&t, 3, now);
    json_t *refs = NULL;
    for (int i = 0; i < 300; i++) {
        pk_uuid u;
        char us[PK_UUID_STRLEN], id[80], pattern[200], name[120];
        pk_uuid_v4(&u);
        pk_uuid_format(&u, us);
        snprintf(id, sizeof id, "indicator--%s", us);
        switch (i % 4) {
        case 0:
            snprintf(pattern, sizeof pattern, "[ipv4-addr:value = '198.51.100.%d']", i % 250 + 1);
            snprintf(name, sizeof name, "C2 server 198.51.100.%d", i % 250 + 1);
            break;
        case 1:
            snprintf(pattern, sizeof pattern, "[domain-name:value = 'update-%d.example.net']", i);
            snprintf(name, sizeof name, "Phishing domain update-%d.example.net", i);
            break;
        case 2:
            snprintf(pattern, sizeof pattern,
                     "[user-account:account_type = 'linkedin' AND user-account:user_id = "
                     "'recruiter-%d']",
                     i);
            snprintf(name, sizeof name, "Fake recruiter profile recruiter-%d", i);
            break;
        default:
            snprintf(pattern, sizeof pattern, "[email-addr:value = 'hr%d@talent-example.org']", i);
            snprintf(name, sizeof name, "Recruitment approach sender hr%d@talent-example.org", i);
        }
        json_t *o =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:[s]}", "type", "indicator",
                      "spec_version", "2.1", "id", id, "created", now, "modified", now, "name",
                      name, "pattern", pattern, "pattern_type", "stix", "valid_from", now,
                      "indicator_types", "malicious-activity", "object_marking_refs", tlp[i % 3]);
        if (!o || json_array_append_new(objs, o)) cli_oom();
        if (i % 10 == 0) {
            if (refs) {
                pk_uuid_v4(&u);
                pk_uuid_format(&u, us);
                char rid[80], rname[80];
                snprintf(rid, sizeof rid, "report--%s", us);
                snprintf(rname, sizeof rname, "Campaign report %d", i / 10);
                json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:O}", "type", "report",
                                      "spec_version", "2.1", "id", rid, "created", now, "modified",
                                      now, "name", rname, "published", now, "report_types",
                                      "threat-actor", "object_refs", refs);
                if (!r || json_array_append_new(objs, r)) cli_oom();
                json_decref(refs);
            }
            refs = json_array();
        }
        json_array_append_new(refs, json_string(id));
    }
    json_decref(refs);
    return env;
}

static int demo_setup(const char *db_path, char token[PK_TAXII_TOKEN_LEN + 1])
{
    pk_taxii_db *db;
    pk_error err;
    pk_error_clear(&err);
    if (pk_taxii_db_open(db_path, &db, &err)) {
        cli_report("serve", &err);
        return EXIT_PK_INTERNAL;
    }
    json_t *users = NULL;
    int rc = EXIT_PK_OK;
    if (pk_taxii_user_list(db, &users, &err)) goto fail;
    if (json_array_size(users) == 0) {
        char id[PK_UUID_STRLEN];
        size_t stored, failed;
        if (pk_taxii_user_add(db, "admin", "picket-demo", 1, token, &err) ||
            pk_taxii_collection_add(db, NULL, "Demo", "Generated indicators and reports", "demo",
                                    id, &err) ||
            pk_taxii_collection_grant(db, id, "picket-demo", 1, 1, &err))
            goto fail;
        json_t *env = demo_envelope();
        pk_status s =
            pk_taxii_collection_import(db, id, "picket-demo", env, &stored, &failed, &err);
        json_decref(env);
        if (s) goto fail;
        if (!cli_opt.quiet)
            printf("picket serve: created %s with account 'admin' and collection 'Demo' (%s, "
                   "%zu objects)\n",
                   db_path, id, stored);
    } else if (pk_taxii_user_rotate(db, "admin", token, &err)) {
        goto fail;
    }
    json_decref(users);
    pk_taxii_db_close(db);
    return rc;
fail:
    json_decref(users);
    cli_report("serve", &err);
    pk_taxii_db_close(db);
    return EXIT_PK_INTERNAL;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"listen", required_argument, 0, OPT_LISTEN},
        {"tls-cert", required_argument, 0, OPT_CERT},
        {"tls-key", required_argument, 0, OPT_KEY},
        {"threads", required_argument, 0, OPT_THREADS},
        {"access-log", required_argument, 0, OPT_LOG},
        {"demo", no_argument, 0, OPT_DEMO},
        {"grace", required_argument, 0, OPT_GRACE},
        {"max-body", required_argument, 0, OPT_MAX_BODY},
        {"max-objects", required_argument, 0, OPT_MAX_OBJECTS},
        {"max-header", required_argument, 0, OPT_MAX_HEADER},
        {"max-connections", required_argument, 0, OPT_MAX_CONN},
        {"commit", required_argument, 0, OPT_COMMIT},
        {"page-max", required_argument, 0, OPT_PAGE_MAX},
        {"release-k", required_argument, 0, OPT_RELEASE_K},
        {"release-collection", required_argument, 0, OPT_RELEASE_COLL},
        {"intake-collection", required_argument, 0, OPT_INTAKE_COLL},
        {"release-interval", required_argument, 0, OPT_RELEASE_INTERVAL},
        {"token-quota", required_argument, 0, OPT_TOKEN_QUOTA},
        {"epoch-seconds", required_argument, 0, OPT_EPOCH_SECONDS},
        {"epoch-grace", required_argument, 0, OPT_EPOCH_GRACE},
        {0, 0, 0, 0},
    };
    pk_taxii_config cfg;
    pk_taxii_config_default(&cfg);
    const char *log_path = NULL;
    int demo = 0, c, rc;
    unsigned long long n, grace = 10, release_interval = 86400;
    pk_intake_config icfg;
    pk_intake_config_default(&icfg);
    const char *release_coll = NULL, *intake_coll = NULL;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            cfg.listen = optarg;
            continue;
        case OPT_CERT:
            cfg.tls_cert = optarg;
            continue;
        case OPT_KEY:
            cfg.tls_key = optarg;
            continue;
        case OPT_LOG:
            log_path = optarg;
            continue;
        case OPT_DEMO:
            demo = 1;
            continue;
        case OPT_THREADS:
            if (parse_num("--threads", optarg, 256, &n)) return EXIT_PK_USAGE;
            cfg.threads = (unsigned)n;
            continue;
        case OPT_GRACE:
            if (parse_num("--grace", optarg, 3600, &grace)) return EXIT_PK_USAGE;
            continue;
        case OPT_MAX_BODY:
            if (parse_num("--max-body", optarg, 1ull << 31, &n)) return EXIT_PK_USAGE;
            cfg.max_body = (size_t)n;
            continue;
        case OPT_MAX_OBJECTS:
            if (parse_num("--max-objects", optarg, 1000000, &n)) return EXIT_PK_USAGE;
            cfg.max_objects = (size_t)n;
            continue;
        case OPT_MAX_HEADER:
            if (parse_num("--max-header", optarg, 1 << 20, &n)) return EXIT_PK_USAGE;
            cfg.max_header = (size_t)n;
            continue;
        case OPT_MAX_CONN:
            if (parse_num("--max-connections", optarg, 100000, &n)) return EXIT_PK_USAGE;
            cfg.max_connections = (unsigned)n;
            continue;
        case OPT_COMMIT:
            if (!strcmp(optarg, "sync") || !strcmp(optarg, "fast")) {
                cfg.fast_commit = !strcmp(optarg, "fast");
                continue;
            }
            return cli_usage_error("serve", "--commit is sync or fast, not '%s'", optarg);
        case OPT_PAGE_MAX:
            if (parse_num("--page-max", optarg, 100000, &n)) return EXIT_PK_USAGE;
            cfg.page_max = (unsigned)n;
            continue;
        case OPT_RELEASE_K:
            if (parse_num("--release-k", optarg, 1000000, &n)) return EXIT_PK_USAGE;
            icfg.release_k = (unsigned)n;
            continue;
        case OPT_RELEASE_COLL:
            release_coll = optarg;
            continue;
        case OPT_INTAKE_COLL:
            intake_coll = optarg;
            continue;
        case OPT_RELEASE_INTERVAL:
            if (parse_num("--release-interval", optarg, 366ull * 86400, &release_interval))
                return EXIT_PK_USAGE;
            continue;
        case OPT_TOKEN_QUOTA:
            if (parse_num("--token-quota", optarg, 1000000, &n)) return EXIT_PK_USAGE;
            icfg.quota = (unsigned)n;
            continue;
        case OPT_EPOCH_SECONDS:
            if (parse_num("--epoch-seconds", optarg, 10ull * 366 * 86400, &n)) return EXIT_PK_USAGE;
            icfg.epoch_seconds = (int64_t)n;
            continue;
        case OPT_EPOCH_GRACE:
            /* 0 is allowed: a token only in its own epoch. */
            if (!strcmp(optarg, "0")) {
                icfg.grace_epochs = 0;
                continue;
            }
            if (parse_num("--epoch-grace", optarg, 1000, &n)) return EXIT_PK_USAGE;
            icfg.grace_epochs = (unsigned)n;
            continue;
        }
        if ((rc = cli_common_option(&cli_cmd_serve, c, argv)) != 0) return cli_finish(rc);
    }
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    cfg.db_path = cli_db_path();
    char token[PK_TAXII_TOKEN_LEN + 1] = "";
    if (demo && (rc = demo_setup(cfg.db_path, token)) != EXIT_PK_OK) return rc;
    FILE *log = NULL;
    if (log_path) {
        log = strcmp(log_path, "-") ? fopen(log_path, "a") : stdout;
        if (!log) {
            cli_error("serve", "%s: cannot open the access log: %s", log_path, strerror(errno));
            return EXIT_PK_USAGE;
        }
        cfg.access_log = log;
    }
    /* Block the stop signals in every thread (the workers inherit the mask),
     * then wait for them here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pk_taxii_server *srv;
    pk_error err;
    pk_error_clear(&err);
    pk_privacy_service *svc = NULL;
    if (pk_privacy_service_new(cfg.db_path, &icfg, &svc, &err)) {
        cli_report("serve", &err);
        if (log && log != stdout) fclose(log);
        return EXIT_PK_INTERNAL;
    }
    struct names_src names = {cfg.db_path};
    pk_privacy_service_set_names(svc, member_names, &names);
    cfg.ext_route = pk_privacy_route;
    cfg.ext_handle = intake_handle;
    cfg.ext_ud = svc;
    if (pk_taxii_server_start(&cfg, &srv, &err)) {
        cli_report("serve", &err);
        pk_privacy_service_free(svc);
        if (log && log != stdout) fclose(log);
        return err.code == PK_EINVAL ? EXIT_PK_USAGE : EXIT_PK_INTERNAL;
    }
    struct releaser rl = {.svc = svc,
                          .db_path = cfg.db_path,
                          .collection = release_coll,
                          .intake_collection = intake_coll,
                          .interval = release_interval,
                          .mu = PTHREAD_MUTEX_INITIALIZER,
                          .cv = PTHREAD_COND_INITIALIZER};
    pthread_t rl_thread;
    int rl_running =
        (release_coll || intake_coll) && pthread_create(&rl_thread, NULL, release_loop, &rl) == 0;
    const char *lp = cfg.listen, *colon = strrchr(lp, ':');
    printf("picket serve: listening on %s://%.*s:%u/taxii2/\n", cfg.tls_cert ? "https" : "http",
           (int)(colon - lp), lp, pk_taxii_server_port(srv));
    if (token[0]) {
        printf("picket serve: account 'admin', token %s\n", token);
        printf("  try: curl -u admin:%s -H 'Accept: %s' %s://%.*s:%u/api/collections/\n", token,
               PK_TAXII_MEDIA_TYPE, cfg.tls_cert ? "https" : "http", (int)(colon - lp), lp,
               pk_taxii_server_port(srv));
    }
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!cli_opt.quiet) fprintf(stderr, "picket serve: stopping (signal %d)\n", sig);
    pk_taxii_server_stop(srv, (int)grace * 1000);
    if (rl_running) {
        pthread_mutex_lock(&rl.mu);
        rl.stop = 1;
        pthread_cond_signal(&rl.cv);
        pthread_mutex_unlock(&rl.mu);
        pthread_join(rl_thread, NULL);
    }
    pk_privacy_service_free(svc);
    if (log && log != stdout) fclose(log);
    return EXIT_PK_OK;
}

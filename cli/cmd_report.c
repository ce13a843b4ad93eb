/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket report: anonymous incident reporting.  `template` prints a report
 * to fill, `tokens` fetches one-time tokens with the member's account into a
 * wallet, `submit` scrubs a report and sends it with one token and no
 * credentials (optionally through a SOCKS proxy such as Tor), `inbox` and
 * `release` are the server operator's side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "curl_dl.h"
#include "report_release.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_report = {
    "report",
    "report an incident anonymously: templates, one-time tokens, submission",
    "Usage: picket report template KIND\n"
    "       picket report tokens --server URL --user NAME --token TOKEN [--count N]\n"
    "                            [--wallet FILE] [--redact NAME]... [--proxy URL]\n"
    "       picket report submit FILE --server URL [--wallet FILE] [--redact NAME]...\n"
    "                            [--proxy URL] [--dry-run]\n"
    "       picket report inbox [--db PATH]\n"
    "       picket report release [--collection C] [--intake-collection C] [--db PATH]\n"
    "\n"
    "template KIND prints a STIX 2.1 bundle to fill in: an incident with its kind,\n"
    "sector and date, an observed-data and the SCOs such incidents usually have.\n"
    "KIND is one of cyber-intrusion, recruitment-approach, insider,\n"
    "theft-of-technology, suspicious-visit, other.\n"
    "\n"
    "tokens authenticates with your account and fetches N (default 5) one-time\n"
    "tokens, blinded so that the server cannot recognise them when they are spent.\n"
    "It checks that the server used the key it publishes for everybody (GET\n"
    "/privacy/keys) and that its proof holds, then keeps the tokens in the wallet\n"
    "(default $XDG_DATA_HOME/picket/wallet.json, else\n"
    "~/.local/share/picket/wallet.json; mode 0600).  Your account name, your\n"
    "organisation and every --redact NAME are remembered there to be scrubbed\n"
    "from what you submit.\n"
    "\n"
    "submit scrubs FILE (a STIX bundle) as the server will: it drops identities,\n"
    "created_by_ref, sightings, custom properties and references to what is\n"
    "dropped, gives every object a new random id, cuts every timestamp to its\n"
    "day and replaces the remembered names with [redacted].  Then it sends the\n"
    "result with one token and no credentials, no cookie and no user agent.\n"
    "--dry-run prints exactly the request that would leave and sends nothing.\n"
    "\n"
    "Options:\n"
    "  --server URL     the picket server (http://host:port or https://...)\n"
    "  --user NAME      your account name (tokens)\n"
    "  --token TOKEN    your account's API token (tokens)\n"
    "  --count N        tokens to fetch, 1..100 (default 5)\n"
    "  --wallet FILE    the wallet file\n"
    "  --redact NAME    a name to scrub from reports (repeatable)\n"
    "  --proxy URL      send through this proxy, e.g. socks5h://127.0.0.1:9050 for Tor\n"
    "  --dry-run        show what submit would send, send nothing\n"
    "\n"
    "inbox prints the scrubbed anonymous reports stored in the database --db, one\n"
    "JSON object per line ({\"day\", \"report\"}), for the hosting organisation.\n"
    "\n"
    "release publishes, into the TAXII collection C (id or alias), the observables\n"
    "that k distinct reports share, each as one aggregated sighting with a count\n"
    "and no where_sighted_refs.  picket serve --release-collection does the same\n"
    "on a timer; run this from cron instead if you prefer.  --intake-collection\n"
    "also moves the waiting scrubbed reports into collection C for your analysts.\n"
    "\n"
    "Exit status: 1 when the server refuses (token spent, expired or not genuine,\n"
    "quota used up).\n"
    "\n"
    "Examples:\n"
    "  picket report template recruitment-approach > approach.json\n"
    "  picket report tokens --server https://isac.example --user alice --token pkt_...\n"
    "  picket report submit approach.json --server http://isacxyz.onion \\\n"
    "      --proxy socks5h://127.0.0.1:9050 --dry-run\n",
    run,
};

#define VERB "report"

enum {
    OPT_SERVER = 0x2001,
    OPT_USER,
    OPT_TOKEN,
    OPT_COUNT,
    OPT_WALLET,
    OPT_REDACT,
    OPT_PROXY,
    OPT_DRY_RUN,
    OPT_COLLECTION,
    OPT_INTAKE_COLLECTION,
};

struct opts {
    const char *server, *user, *token, *wallet, *proxy, *collection, *intake_collection;
    long count;
    int dry_run;
    const char *redact[64];
    size_t n_redact;
};

/* ---- HTTP --------------------------------------------------------------- */

static const struct cli_curl *cu; /* libcurl, once curl_open has loaded it */

static int curl_open(void)
{
    char why[256];
    if (!(cu = cli_curl_load(why, sizeof why))) cli_error(VERB, "%s", why);
    return cu != NULL;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    pk_buf *b = ud;
    return pk_buf_add(b, p, size * n) == PK_OK ? size * n : 0;
}

/* One request.  Only the headers listed are sent besides Host and
 * Content-Length: no user agent, no cookies; credentials only when given. */
static int http(const char *method, const char *url, const char *user, const char *token,
                const char *body, const char *proxy, long *status, pk_buf *resp)
{
    CURL *c = cu->easy_init();
    if (!c) return -1;
    struct curl_slist *h = NULL;
    h = cu->slist_append(h, "Accept: application/json");
    if (body) h = cu->slist_append(h, "Content-Type: application/json");
    h = cu->slist_append(h, "Expect:");
    cu->easy_setopt(c, CURLOPT_URL, url);
    cu->easy_setopt(c, CURLOPT_HTTPHEADER, h);
    cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    cu->easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    cu->easy_setopt(c, CURLOPT_WRITEDATA, resp);
    cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (proxy) cu->easy_setopt(c, CURLOPT_PROXY, proxy);
    if (user && token) {
        cu->easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        cu->easy_setopt(c, CURLOPT_USERNAME, user);
        cu->easy_setopt(c, CURLOPT_PASSWORD, token);
    }
    if (!strcmp(method, "POST")) {
        cu->easy_setopt(c, CURLOPT_POST, 1L);
        cu->easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    }
    CURLcode rc = cu->easy_perform(c);
    if (rc != CURLE_OK) {
        cli_error(VERB, "%s: %s", url, cu->easy_strerror(rc));
    } else {
        cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    cu->slist_free_all(h);
    cu->easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static char *url_of(const char *server, const char *route)
{
    pk_buf b;
    pk_buf_init(&b, 8192);
    size_t n = strlen(server);
    while (n && server[n - 1] == '/')
        n--;
    if (pk_buf_add(&b, server, n) != PK_OK || pk_buf_adds(&b, PK_PRIVACY_PREFIX) != PK_OK ||
        pk_buf_adds(&b, route) != PK_OK)
        cli_oom();
    return pk_buf_detach(&b, NULL);
}

/* The server's error text, or the whole body. */
static void report_refusal(long status, const pk_buf *resp)
{
    json_t *j = json_loadb(resp->data ? resp->data : "", resp->len, 0, NULL);
    const char *d = json_string_value(json_object_get(j, "description"));
    cli_error(VERB, "server answered %ld: %s", status,
              d ? d : (resp->data ? resp->data : "(no body)"));
    json_decref(j);
}

/* GET+parse JSON; NULL after printing the problem. */
static json_t *get_json(const char *server, const char *route, const char *proxy)
{
    char *url = url_of(server, route);
    pk_buf resp;
    pk_buf_init(&resp, 16u << 20);
    long status = 0;
    json_t *j = NULL;
    if (http("GET", url, NULL, NULL, NULL, proxy, &status, &resp) == 0) {
        if (status != 200)
            report_refusal(status, &resp);
        else if (!(j = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL)))
            cli_error(VERB, "%s: the answer is not JSON", url);
    }
    pk_buf_free(&resp);
    pk_free(url);
    return j;
}

/* ---- wallet --------------------------------------------------------------- */

static char *wallet_path(const struct opts *o)
{
    if (o->wallet) {
        char *p = pk_strdup(o->wallet);
        if (!p) cli_oom();
        return p;
    }
    char *p = pk_privacy_wallet_default_path();
    if (!p) cli_error(VERB, "no wallet path: set --wallet, $XDG_DATA_HOME or $HOME");
    return p;
}

/* mkdir -p the wallet's directory, 0700. */
static int make_parent(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static void add_redact(json_t *w, const char *name)
{
    if (!name || !*name) return;
    json_t *r = json_object_get(w, "redact");
    size_t i;
    json_t *e;
    json_array_foreach(r, i, e) if (!strcmp(json_string_value(e), name)) return;
    json_array_append_new(r, json_string(name));
}

/* ---- subcommands ---------------------------------------------------------- */

static int cmd_template(int argc, char **argv)
{
    if (argc != 1) return cli_usage_error(VERB, "template needs exactly one KIND");
    json_t *t = pk_privacy_template(argv[0]);
    if (!t) {
        pk_buf b;
        pk_buf_init(&b, 4096);
        for (const char *const *k = pk_privacy_kinds(); *k; k++)
            pk_buf_addf(&b, "%s%s", k == pk_privacy_kinds() ? "" : ", ", *k);
        int rc =
            cli_usage_error(VERB, "unknown kind '%s' (one of %s)", argv[0], b.data ? b.data : "");
        pk_buf_free(&b);
        return rc;
    }
    char *s = json_dumps(t, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(t);
    if (!s) cli_oom();
    puts(s);
    pk_free(s);
    return EXIT_PK_OK;
}

static int cmd_tokens(const struct opts *o)
{
    if (!o->server || !o->user || !o->token)
        return cli_usage_error(VERB, "tokens needs --server, --user and --token");
    if (o->count < 1 || o->count > PK_PRIVACY_MAX_BATCH)
        return cli_usage_error(VERB, "--count must be 1..%d", PK_PRIVACY_MAX_BATCH);
    char *wpath = wallet_path(o);
    if (!wpath) return EXIT_PK_USAGE;
    int rc = EXIT_PK_INTERNAL;
    json_t *wallet = NULL, *keys = NULL, *req = NULL, *pend = NULL, *resp = NULL, *toks = NULL;
    char *body = NULL, *url = NULL;
    pk_buf rb;
    pk_buf_init(&rb, 16u << 20);
    pk_error err;
    pk_error_clear(&err);
    if (pk_privacy_wallet_load(wpath, &wallet, &err) != PK_OK) {
        cli_report(VERB, &err);
        rc = EXIT_PK_USAGE;
        goto out;
    }
    /* The published keys, fetched without credentials. */
    if (!(keys = get_json(o->server, "keys", o->proxy))) {
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    if (pk_privacy_token_request((size_t)o->count, &req, &pend, &err) != PK_OK) {
        cli_report(VERB, &err);
        goto out;
    }
    body = json_dumps(req, JSON_COMPACT);
    url = url_of(o->server, "tokens");
    if (!body) cli_oom();
    long status = 0;
    if (http("POST", url, o->user, o->token, body, o->proxy, &status, &rb) != 0) {
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    if (status != 200) {
        report_refusal(status, &rb);
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    if (!(resp = json_loadb(rb.data ? rb.data : "", rb.len, 0, NULL))) {
        cli_error(VERB, "%s: the answer is not JSON", url);
        goto out;
    }
    if (pk_privacy_token_finish(pend, resp, keys, &toks, &err) != PK_OK) {
        cli_report(VERB, &err);
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    size_t i;
    json_t *t;
    json_array_foreach(toks, i, t)
    {
        json_object_set_new(t, "server", json_string(o->server));
        json_array_append(json_object_get(wallet, "tokens"), t);
    }
    add_redact(wallet, o->user);
    add_redact(wallet, json_string_value(json_object_get(resp, "organisation")));
    for (i = 0; i < o->n_redact; i++)
        add_redact(wallet, o->redact[i]);
    if (make_parent(wpath) != 0 || pk_privacy_wallet_save(wallet, wpath, &err) != PK_OK) {
        if (err.code == PK_OK) pk_error_set(&err, PK_EIO, "cannot create the wallet's directory");
        cli_report(VERB, &err);
        goto out;
    }
    if (!cli_opt.quiet)
        printf("%zu tokens for epoch %lld saved in %s (%lld more may be fetched this epoch)\n",
               json_array_size(toks), (long long)json_integer_value(json_object_get(resp, "epoch")),
               wpath, (long long)json_integer_value(json_object_get(resp, "remaining")));
    rc = EXIT_PK_OK;
out:
    json_decref(wallet);
    json_decref(keys);
    json_decref(req);
    json_decref(pend);
    json_decref(resp);
    json_decref(toks);
    pk_free(body);
    pk_free(url);
    pk_free(wpath);
    pk_buf_free(&rb);
    return rc;
}

static json_t *read_json_file(const char *path, pk_error *err)
{
    json_error_t je;
    json_t *j = !strcmp(path, "-") ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
    if (!j) {
        pk_error_at(err, path, je.line, je.column);
        pk_error_set(err, PK_EPARSE, "%s", je.text);
    }
    return j;
}

static int cmd_submit(const char *file, const struct opts *o)
{
    if (!o->server) return cli_usage_error(VERB, "submit needs --server");
    char *wpath = wallet_path(o);
    if (!wpath) return EXIT_PK_USAGE;
    int rc = EXIT_PK_INTERNAL;
    json_t *wallet = NULL, *in = NULL, *clean = NULL, *body = NULL, *tok = NULL;
    char *text = NULL, *url = NULL;
    const char **names = NULL;
    pk_buf rb;
    pk_buf_init(&rb, 16u << 20);
    pk_error err;
    pk_error_clear(&err);
    if (pk_privacy_wallet_load(wpath, &wallet, &err) != PK_OK) {
        cli_report(VERB, &err);
        rc = EXIT_PK_USAGE;
        goto out;
    }
    if (!(in = read_json_file(file, &err))) {
        cli_report(VERB, &err);
        rc = EXIT_PK_USAGE;
        goto out;
    }
    json_t *red = json_object_get(wallet, "redact");
    size_t nn = json_array_size(red) + o->n_redact;
    names = pk_calloc(nn + 1, sizeof *names);
    if (!names) cli_oom();
    size_t i;
    json_t *e;
    json_array_foreach(red, i, e) names[i] = json_string_value(e);
    for (size_t j = 0; j < o->n_redact; j++)
        names[json_array_size(red) + j] = o->redact[j];
    pk_scrub_stats st;
    if (pk_privacy_scrub(in, names, nn, &clean, &st, &err) != PK_OK) {
        pk_error_at(&err, file, 0, 0);
        cli_report(VERB, &err);
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    /* The oldest token for this server: it expires first. */
    json_t *toks = json_object_get(wallet, "tokens");
    size_t pick = (size_t)-1;
    json_array_foreach(toks, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "server")), o->server) != 0) continue;
        if (pick == (size_t)-1 ||
            json_integer_value(json_object_get(e, "epoch")) <
                json_integer_value(json_object_get(json_array_get(toks, pick), "epoch")))
            pick = i;
    }
    if (pick == (size_t)-1) {
        cli_error(VERB, "%s: no token for %s; run picket report tokens first", wpath, o->server);
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    json_t *w = json_array_get(toks, pick);
    tok = json_pack("{s:O, s:O, s:O}", "epoch", json_object_get(w, "epoch"), "input",
                    json_object_get(w, "input"), "output", json_object_get(w, "output"));
    body = json_pack("{s:O, s:O}", "token", tok, "report", clean);
    text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    url = url_of(o->server, "reports");
    if (!text) cli_oom();
    if (o->dry_run) {
        /* Exactly the request http() would make. */
        CURLU *u = cu->url();
        char *host = NULL, *port = NULL, *path = NULL;
        if (u && cu->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
            cu->url_get(u, CURLUPART_HOST, &host, 0);
            cu->url_get(u, CURLUPART_PORT, &port, 0);
            cu->url_get(u, CURLUPART_PATH, &path, 0);
        }
        printf("# dry run: nothing is sent.  %zu objects kept, %zu dropped, %zu properties "
               "dropped,\n# %zu references dropped, %zu timestamps cut to the day, %zu names "
               "redacted.\n",
               st.kept, st.dropped_objects, st.dropped_properties, st.refs_dropped,
               st.timestamps_cut, st.redacted);
        if (o->proxy) printf("# through proxy %s\n", o->proxy);
        printf("POST %s HTTP/1.1\nHost: %s%s%s\nAccept: application/json\n"
               "Content-Type: application/json\nContent-Length: %zu\n\n%s\n",
               path ? path : "/privacy/reports", host ? host : "?", port ? ":" : "",
               port ? port : "", strlen(text), text);
        cu->release(host);
        cu->release(port);
        cu->release(path);
        cu->url_cleanup(u);
        rc = EXIT_PK_OK;
        goto out;
    }
    long status = 0;
    if (http("POST", url, NULL, NULL, text, o->proxy, &status, &rb) != 0) {
        rc = EXIT_PK_NEGATIVE; /* the token stays: it may not have arrived */
        goto out;
    }
    if (status == 202 || status == 409 || status == 403) {
        /* Accepted, spent, expired or refused as not genuine: it is of no
         * further use either way. */
        json_array_remove(toks, pick);
        if (pk_privacy_wallet_save(wallet, wpath, &err) != PK_OK) cli_report(VERB, &err);
    }
    if (status != 202) {
        report_refusal(status, &rb);
        rc = EXIT_PK_NEGATIVE;
        goto out;
    }
    if (!cli_opt.quiet)
        printf("report accepted (%zu objects); %zu tokens left for %s\n", st.kept,
               json_array_size(toks), o->server);
    rc = EXIT_PK_OK;
out:
    json_decref(wallet);
    json_decref(in);
    json_decref(clean);
    json_decref(body);
    json_decref(tok);
    pk_free(text);
    pk_free(url);
    pk_free(names);
    pk_free(wpath);
    pk_buf_free(&rb);
    return rc;
}

static int cmd_inbox(void)
{
    pk_intake *in = NULL;
    pk_error err;
    pk_error_clear(&err);
    json_t *box = NULL;
    if (pk_intake_open(cli_db_path(), NULL, &in, &err) != PK_OK ||
        pk_intake_inbox(in, &box, &err) != PK_OK) {
        cli_report(VERB, &err);
        pk_intake_close(in);
        return EXIT_PK_INTERNAL;
    }
    size_t i;
    json_t *e;
    json_array_foreach(box, i, e)
    {
        char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s) cli_oom();
        puts(s);
        pk_free(s);
    }
    json_decref(box);
    pk_intake_close(in);
    return EXIT_PK_OK;
}

static int cmd_release(const char *collection, const char *intake_collection)
{
    pk_intake *in = NULL;
    pk_error err;
    pk_error_clear(&err);
    size_t n = 0, moved = 0;
    if (pk_intake_open(cli_db_path(), NULL, &in, &err) != PK_OK ||
        (collection && cli_report_release(in, cli_db_path(), collection, &n, &err) != PK_OK) ||
        (intake_collection &&
         cli_report_move_inbox(in, cli_db_path(), intake_collection, &moved, &err) != PK_OK)) {
        cli_report(VERB, &err);
        pk_intake_close(in);
        return EXIT_PK_INTERNAL;
    }
    pk_intake_close(in);
    if (!cli_opt.quiet && collection)
        printf("%zu aggregated sightings released to %s\n", n, collection);
    if (!cli_opt.quiet && intake_collection)
        printf("%zu anonymous reports moved to %s\n", moved, intake_collection);
    return EXIT_PK_OK;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"server", required_argument, 0, OPT_SERVER},
        {"user", required_argument, 0, OPT_USER},
        {"token", required_argument, 0, OPT_TOKEN},
        {"count", required_argument, 0, OPT_COUNT},
        {"wallet", required_argument, 0, OPT_WALLET},
        {"redact", required_argument, 0, OPT_REDACT},
        {"proxy", required_argument, 0, OPT_PROXY},
        {"dry-run", no_argument, 0, OPT_DRY_RUN},
        {"collection", required_argument, 0, OPT_COLLECTION},
        {"intake-collection", required_argument, 0, OPT_INTAKE_COLLECTION},
        {0, 0, 0, 0}};
    struct opts o;
    memset(&o, 0, sizeof o);
    o.count = 5;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((rc = cli_common_option(&cli_cmd_report, c, argv)) >= 0) {
            if (rc) return cli_finish(rc);
            continue;
        }
        switch (c) {
        case OPT_SERVER: {
            /* One spelling per server in the wallet: no trailing slash. */
            size_t n = strlen(optarg);
            while (n > 1 && optarg[n - 1] == '/')
                optarg[--n] = '\0';
            o.server = optarg;
            break;
        }
        case OPT_USER:
            o.user = optarg;
            break;
        case OPT_TOKEN:
            o.token = optarg;
            break;
        case OPT_COUNT: {
            char *end;
            errno = 0;
            o.count = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg)
                return cli_usage_error(VERB, "--count needs a number, not '%s'", optarg);
            break;
        }
        case OPT_WALLET:
            o.wallet = optarg;
            break;
        case OPT_REDACT:
            if (o.n_redact == sizeof o.redact / sizeof *o.redact)
                return cli_usage_error(VERB, "too many --redact names");
            o.redact[o.n_redact++] = optarg;
            break;
        case OPT_PROXY:
            o.proxy = optarg;
            break;
        case OPT_DRY_RUN:
            o.dry_run = 1;
            break;
        case OPT_COLLECTION:
            o.collection = optarg;
            break;
        case OPT_INTAKE_COLLECTION:
            o.intake_collection = optarg;
            break;
        default:
            return cli_usage_error(VERB, "unexpected option");
        }
    }
    if (optind >= argc)
        return cli_usage_error(VERB,
                               "missing subcommand (template, tokens, submit, inbox, release)");
    const char *sub = argv[optind++];
    pk_init();
    if (!strcmp(sub, "template")) return cmd_template(argc - optind, argv + optind);
    if (!strcmp(sub, "tokens")) {
        if (optind < argc) return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
        if (!curl_open()) return EXIT_PK_INTERNAL;
        cu->global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd_tokens(&o);
        cu->global_cleanup();
        return rc;
    }
    if (!strcmp(sub, "submit")) {
        if (argc - optind != 1) return cli_usage_error(VERB, "submit needs exactly one FILE");
        if (!curl_open()) return EXIT_PK_INTERNAL;
        cu->global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd_submit(argv[optind], &o);
        cu->global_cleanup();
        return rc;
    }
    if (!strcmp(sub, "inbox")) {
        if (optind < argc) return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
        return cmd_inbox();
    }
    if (!strcmp(sub, "release")) {
        if (optind < argc) return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
        if (!o.collection && !o.intake_collection)
            return cli_usage_error(VERB, "release needs --collection or --intake-collection");
        return cmd_release(o.collection, o.intake_collection);
    }
    return cli_usage_error(VERB, "unknown subcommand '%s'", sub);
}

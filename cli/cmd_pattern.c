/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket pattern: check a STIX pattern (print its canonical form or the
 * column of the first error) and match one against observed-data files.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_pattern = {
    "pattern",
    "check a STIX pattern, or match it against observed-data",
    "Usage: picket pattern check [--spec 2.0|2.1] [--anchors] [--json] 'PATTERN'\n"
    "       picket pattern match [--spec 2.0|2.1] 'PATTERN' FILE...|-\n"
    "       picket pattern match [--spec 2.0|2.1] --patterns LIST FILE...|-\n"
    "\n"
    "check: print the canonical form of PATTERN and exit 0, or print\n"
    "'column N: reason' on stderr and exit 1.  --anchors also prints the\n"
    "equality terms a match must satisfy (one of them), one per line; --json\n"
    "prints {\"valid\",\"canonical\",\"anchors\",\"exact\"} or\n"
    "{\"valid\":false,\"column\",\"message\"} on standard output instead.\n"
    "\n"
    "match: read STIX bundles or JSON arrays of objects (observed-data and the\n"
    "SCOs they refer to, or STIX 2.0 observed-data with embedded objects) from\n"
    "the FILEs ('-' is standard input) and print the ids of the observed-data\n"
    "that satisfy PATTERN as a JSON array.  Exit 0 when it matched, 1 when it\n"
    "did not, 2 when the pattern or the input is invalid (reason on stderr).\n"
    "With --patterns, LIST holds one pattern per line (blank lines and lines\n"
    "starting with # are skipped) and each prints one JSON line\n"
    "{\"line\":N,\"matches\":[...]}; -v adds the evaluation rate on stderr.\n"
    "\n"
    "Options:\n"
    "  --spec 2.0|2.1  the STIX version of the pattern and the data (default:\n"
    "                  detected)\n"
    "  --patterns LIST match every pattern in the file LIST\n"
    "\n"
    "Examples:\n"
    "  picket pattern check \"[ipv4-addr:value ISSUBSET '198.51.100.0/24']\"\n"
    "  picket pattern match \"[domain-name:value = 'evil.example']\" bundle.json\n",
    run,
};

#define OPT_SPEC 0x2001
#define OPT_ANCHORS 0x2002
#define OPT_PATTERNS 0x2003

static int spec_of(const char *s, pk_pattern_spec *out)
{
    if (strcmp(s, "2.0") == 0)
        *out = PK_PATTERN_SPEC_20;
    else if (strcmp(s, "2.1") == 0)
        *out = PK_PATTERN_SPEC_21;
    else
        return -1;
    return 0;
}

static void print_value(const pk_pattern_value *v)
{
    switch (v->kind) {
    case PK_PV_STRING: {
        json_t *j = json_stringn(v->bytes, v->len);
        char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        if (!t) cli_oom();
        fputs(t, stdout);
        pk_free(t);
        json_decref(j);
        break;
    }
    default:
        fputs(v->lexeme, stdout);
    }
}

static json_t *value_json(const pk_pattern_value *v)
{
    switch (v->kind) {
    case PK_PV_STRING:
        return json_stringn(v->bytes, v->len);
    case PK_PV_INT:
        return json_integer(v->i);
    case PK_PV_FLOAT:
        return json_real(v->f);
    case PK_PV_BOOL:
        return json_boolean(v->i);
    default:
        return json_string(v->lexeme); /* b'', h'', t'' as written */
    }
}

static void print_json(json_t *j)
{
    if (!j) cli_oom();
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!out) cli_oom();
    printf("%s\n", out);
    pk_free(out);
}

static int do_check(const char *text, pk_pattern_spec spec, int anchors)
{
    pk_pattern *p;
    pk_error err;
    pk_status st = pk_pattern_parse(text, strlen(text), spec, &p, &err);
    if (st == PK_ENOMEM) cli_oom();
    if (st) {
        if (cli_opt.json)
            print_json(json_pack("{s:b, s:i, s:s}", "valid", 0, "column", (json_int_t)err.column,
                                 "message", err.message));
        else
            fprintf(stderr, "column %ld: %s\n", err.column, err.message);
        return EXIT_PK_NEGATIVE;
    }
    const pk_pattern_anchors *a = pk_pattern_get_anchors(p);
    if (cli_opt.json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->count; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "type", a->anchor[i].path->type,
                                                 "path", a->anchor[i].path->prop, "value",
                                                 value_json(a->anchor[i].value)));
        print_json(json_pack("{s:b, s:s, s:o, s:b}", "valid", 1, "canonical",
                             pk_pattern_canonical(p), "anchors", arr, "exact", a->exact));
        pk_pattern_free(p);
        return EXIT_PK_OK;
    }
    printf("%s\n", pk_pattern_canonical(p));
    if (anchors) {
        printf("anchors: %zu%s\n", a->count, a->exact ? " (exact)" : "");
        for (size_t i = 0; i < a->count; i++) {
            printf("  %s = ", a->anchor[i].path->text);
            print_value(a->anchor[i].value);
            putchar('\n');
        }
    }
    pk_pattern_free(p);
    return EXIT_PK_OK;
}

static void print_ids(const pk_pattern_obs *obs, const pk_pattern_result *res, const char *pre)
{
    json_t *arr = json_array();
    if (!arr) cli_oom();
    for (size_t i = 0; i < res->count; i++)
        if (json_array_append_new(arr, json_string(pk_pattern_obs_id(obs, res->index[i]))))
            cli_oom();
    char *out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!out) cli_oom();
    printf("%s%s%s\n", pre, out, *pre ? "}" : "");
    pk_free(out);
}

/* Read every FILE into one observation set; an exit code on failure, else 0. */
static int load_obs(pk_pattern_spec spec, int nfiles, char **files, pk_pattern_obs **out)
{
    pk_error err;
    pk_status st;
    if ((st = pk_pattern_obs_new(out, &err))) cli_oom();
    for (int i = 0; i < nfiles; i++) {
        json_error_t je;
        int stdin_ = strcmp(files[i], "-") == 0;
        json_t *doc = stdin_ ? json_loadf(stdin, 0, &je) : json_load_file(files[i], 0, &je);
        if (!doc) {
            cli_error("pattern", "%s:%d:%d: %s", stdin_ ? "-" : files[i], je.line, je.column,
                      je.text);
            return EXIT_PK_USAGE;
        }
        st = pk_pattern_obs_add(*out, doc, spec, &err);
        json_decref(doc);
        if (st == PK_ENOMEM) cli_oom();
        if (st) {
            if (!err.file[0]) pk_error_at(&err, files[i], 0, 0);
            cli_report("pattern", &err);
            return EXIT_PK_USAGE;
        }
    }
    return 0;
}

static int do_match(const char *text, pk_pattern_spec spec, int nfiles, char **files)
{
    pk_pattern *p = NULL;
    pk_pattern_obs *obs = NULL;
    pk_pattern_result res = {0};
    pk_error err;
    int rc = EXIT_PK_USAGE;
    pk_status st = pk_pattern_parse(text, strlen(text), spec, &p, &err);
    if (st == PK_ENOMEM) cli_oom();
    if (st) {
        cli_error("pattern", "column %ld: %s", err.column, err.message);
        return EXIT_PK_USAGE;
    }
    if (load_obs(spec, nfiles, files, &obs)) goto done;
    st = pk_pattern_eval(p, obs, &res, &err);
    if (st == PK_ENOMEM) cli_oom();
    if (st) {
        cli_error("pattern", "column %ld: %s", err.column, err.message);
        goto done;
    }
    print_ids(obs, &res, "");
    rc = res.count ? EXIT_PK_OK : EXIT_PK_NEGATIVE;
done:
    pk_pattern_result_free(&res);
    pk_pattern_obs_free(obs);
    pk_pattern_free(p);
    return rc;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* One line of f into b (without the newline); 0 at the end of the file. */
static int read_line(FILE *f, pk_buf *b)
{
    int c, any = 0;
    pk_buf_reset(b);
    while ((c = fgetc(f)) != EOF) {
        any = 1;
        if (c == '\n') break;
        if (pk_buf_addc(b, (char)c)) cli_oom();
    }
    if (b->len && b->data[b->len - 1] == '\r') b->data[--b->len] = '\0';
    if (!b->data && pk_buf_adds(b, "")) cli_oom();
    return any;
}

static int do_match_list(const char *list, pk_pattern_spec spec, int nfiles, char **files)
{
    pk_pattern_obs *obs = NULL;
    pk_pattern **pats = NULL;
    long *lines = NULL;
    size_t np = 0, cap = 0;
    int rc = EXIT_PK_USAGE, matched = 0;
    FILE *f = fopen(list, "r");
    if (!f) {
        cli_error("pattern", "%s: cannot open: %s", list, strerror(errno));
        return EXIT_PK_USAGE;
    }
    pk_buf line;
    pk_buf_init(&line, 0);
    long lineno = 0;
    while (read_line(f, &line)) {
        lineno++;
        if (line.len == 0 || line.data[0] == '#') continue;
        pk_pattern *p;
        pk_error err;
        pk_status st = pk_pattern_parse(line.data, line.len, spec, &p, &err);
        if (st == PK_ENOMEM) cli_oom();
        if (st) {
            cli_error("pattern", "%s:%ld:%ld: %s", list, lineno, err.column, err.message);
            goto done;
        }
        if (np == cap) {
            cap = cap ? cap * 2 : 64;
            pk_pattern **nv = pk_realloc(pats, cap * sizeof *nv);
            if (!nv) cli_oom();
            pats = nv;
            long *nl = pk_realloc(lines, cap * sizeof *nl);
            if (!nl) cli_oom();
            lines = nl;
        }
        pats[np] = p;
        lines[np++] = lineno;
    }
    if (load_obs(spec, nfiles, files, &obs)) goto done;
    double t0 = now_s(), spent = 0, cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), cpu = 0;
    for (size_t i = 0; i < np; i++) {
        pk_pattern_result res;
        pk_error err;
        double a = now_s(), ca = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        pk_status st = pk_pattern_eval(pats[i], obs, &res, &err);
        spent += now_s() - a;
        cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - ca;
        if (st == PK_ENOMEM) cli_oom();
        if (st) {
            cli_error("pattern", "%s:%ld:%ld: %s", list, lines[i], err.column, err.message);
            goto done;
        }
        if (res.count) matched = 1;
        char pre[64];
        snprintf(pre, sizeof pre, "{\"line\":%ld,\"matches\":", lines[i]);
        print_ids(obs, &res, pre);
        pk_pattern_result_free(&res);
    }
    if (cli_opt.verbose) {
        double pairs = (double)np * (double)pk_pattern_obs_count(obs);
        fprintf(stderr,
                "picket pattern: %zu patterns x %zu observed-data = %.0f pairs evaluated in "
                "%.3f s: %.0f pairs/s; %.3f s of CPU: %.0f pairs per CPU second (%.3f s, %.3f "
                "CPU s with output)\n",
                np, pk_pattern_obs_count(obs), pairs, spent, spent > 0 ? pairs / spent : 0, cpu,
                cpu > 0 ? pairs / cpu : 0, now_s() - t0, clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
    }
    rc = matched ? EXIT_PK_OK : EXIT_PK_NEGATIVE;
done:
    fclose(f);
    pk_buf_free(&line);
    for (size_t i = 0; i < np; i++)
        pk_pattern_free(pats[i]);
    pk_free(pats);
    pk_free(lines);
    pk_pattern_obs_free(obs);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"spec", required_argument, 0, OPT_SPEC},
                                             {"anchors", no_argument, 0, OPT_ANCHORS},
                                             {"patterns", required_argument, 0, OPT_PATTERNS},
                                             {0, 0, 0, 0}};
    int c, rc, anchors = 0;
    const char *list = NULL;
    pk_pattern_spec spec = PK_PATTERN_SPEC_AUTO;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == OPT_SPEC) {
            if (spec_of(optarg, &spec))
                return cli_usage_error("pattern", "--spec must be 2.0 or 2.1, not '%s'", optarg);
            continue;
        }
        if (c == OPT_PATTERNS) {
            list = optarg;
            continue;
        }
        if (c == OPT_ANCHORS) {
            anchors = 1;
            continue;
        }
        if ((rc = cli_common_option(&cli_cmd_pattern, c, argv)) != 0) return cli_finish(rc);
    }
    if (optind >= argc) return cli_usage_error("pattern", "expected 'check' or 'match'");
    const char *sub = argv[optind++];
    if (strcmp(sub, "check") == 0) {
        if (argc - optind != 1)
            return cli_usage_error("pattern", "check takes exactly one PATTERN argument");
        return do_check(argv[optind], spec, anchors);
    }
    if (strcmp(sub, "match") == 0) {
        if (list) {
            if (argc - optind < 1)
                return cli_usage_error("pattern", "match --patterns takes at least one FILE or -");
            return do_match_list(list, spec, argc - optind, argv + optind);
        }
        if (argc - optind < 2)
            return cli_usage_error("pattern", "match takes a PATTERN and at least one FILE or -");
        return do_match(argv[optind], spec, argc - optind - 1, argv + optind + 1);
    }
    return cli_usage_error("pattern", "unknown subcommand '%s' (check or match)", sub);
}

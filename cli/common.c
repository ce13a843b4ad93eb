/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Option handling, error printing and the progress bar that every subcommand
 * shares, so that they all look and fail the same way.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cli_common cli_opt;

void cli_print_usage(const struct cli_cmd *cmd, FILE *f)
{
    fputs(cmd->usage, f);
    fputs("\nCommon options:\n"
          "  --db PATH      the store (default $PICKET_DB, else ./picket.db)\n"
          "  --json         machine-readable output\n"
          "  -q, --quiet    only errors\n"
          "  -v, --verbose  more detail\n"
          "  -h, --help     this help\n"
          "\nExit status: 0 success, 1 a negative finding (no match, invalid input found),\n"
          "2 usage or unreadable input, 3 internal or store failure.\n",
          f);
}

int cli_common_option(const struct cli_cmd *cmd, int c, char **argv)
{
    switch (c) {
    case CLI_OPT_DB:
        cli_opt.db = optarg;
        return 0;
    case CLI_OPT_JSON:
        cli_opt.json = 1;
        return 0;
    case 'q':
        cli_opt.quiet = 1;
        return 0;
    case 'v':
        cli_opt.verbose++;
        return 0;
    case 'h':
        cli_print_usage(cmd, stdout);
        return CLI_DONE_OK;
    case '?':
        if (optopt) return cli_usage_error(cmd->name, "unknown option '-%c'", optopt);
        return cli_usage_error(cmd->name, "unknown option '%s'", argv[optind - 1]);
    case ':':
        if (optopt && optopt < 0x100)
            return cli_usage_error(cmd->name, "option '-%c' needs a value", optopt);
        return cli_usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
    default:
        return -1;
    }
}

int cli_finish(int rc)
{
    return rc == CLI_DONE_OK ? EXIT_PK_OK : rc;
}

void cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "picket%s%s: ", verb ? " " : "", verb ? verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_report(const char *verb, const pk_error *err)
{
    char line[1200];
    pk_error_format(err, line, sizeof line);
    cli_error(verb, "%s", line);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "picket%s%s: ", verb ? " " : "", verb ? verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'picket %s%s'.\n", verb ? "help " : "--help", verb ? verb : "");
    return EXIT_PK_USAGE;
}

void cli_oom(void)
{
    fputs("picket: out of memory\n", stderr);
    exit(EXIT_PK_INTERNAL);
}

const char *cli_db_path(void)
{
    if (cli_opt.db) return cli_opt.db;
    const char *env = getenv("PICKET_DB");
    return env && *env ? env : "picket.db";
}

struct cli_progress {
    char label[64];
    char unit[16];
    unsigned long long total, done;
    double start, last;
    int drawn;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

cli_progress *cli_progress_start(const char *label, unsigned long long total, const char *unit)
{
    if (cli_opt.quiet || !isatty(STDERR_FILENO)) return NULL;
    cli_progress *p = pk_calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
    p->total = total;
    p->start = p->last = now_s();
    return p;
}

static void draw(cli_progress *p, double t)
{
    double el = t - p->start;
    int bytes = strcmp(p->unit, "B") == 0;
    double scale = bytes ? 1e6 : 1.0;
    const char *u = bytes ? "MB" : p->unit;
    double rate = el > 0 ? (double)p->done / scale / el : 0;
    if (p->total) {
        int width = 30, fill = (int)((double)p->done * width / (double)p->total);
        if (fill > width) fill = width;
        char bar[31];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(width - fill));
        bar[width] = '\0';
        double left =
            rate > 0
                ? ((double)(p->total - (p->done < p->total ? p->done : p->total)) / scale) / rate
                : 0;
        fprintf(stderr, "\r%s [%s] %3d%%  %.1f %s/s  %.0fs left ", p->label, bar,
                (int)((double)p->done * 100 / (double)p->total), rate, u, left);
    } else {
        if (bytes)
            fprintf(stderr, "\r%s %.1f %s  %.1f %s/s ", p->label, (double)p->done / scale, u, rate,
                    u);
        else
            fprintf(stderr, "\r%s %llu %s  %.0f %s/s ", p->label, p->done, u, rate, u);
    }
    p->drawn = 1;
}

void cli_progress_update(cli_progress *p, unsigned long long done)
{
    if (!p) return;
    p->done = done;
    double t = now_s();
    if (t - p->last < 0.1) return;
    p->last = t;
    draw(p, t);
}

void cli_progress_clear(cli_progress *p)
{
    if (!p || !p->drawn) return;
    fputs("\r\033[K", stderr);
    p->drawn = 0;
    p->last = 0; /* redraw at the next update */
}

void cli_progress_done(cli_progress *p)
{
    if (!p) return;
    if (p->drawn) fputs("\r\033[K", stderr);
    pk_free(p);
}

int cli_action(const char *verb, int npos, char **pos, const struct cli_action *acts)
{
    char names[256] = "";
    size_t used = 0;
    for (int i = 0; acts[i].name; i++) {
        int n = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", acts[i].name);
        if (n > 0 && (size_t)n < sizeof names - used) used += (size_t)n;
    }
    if (npos < 1) return -cli_usage_error(verb, "which action: %s?", names);
    for (int i = 0; acts[i].name; i++) {
        if (strcmp(pos[0], acts[i].name)) continue;
        if (npos - 1 != acts[i].args)
            return -cli_usage_error(verb, "%s takes %d argument%s", acts[i].name, acts[i].args,
                                    acts[i].args == 1 ? "" : "s");
        return i;
    }
    return -cli_usage_error(verb, "unknown action '%s' (one of: %s)", pos[0], names);
}

void cli_print_json(const json_t *j)
{
    char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!txt) cli_oom();
    printf("%s\n", txt);
    pk_free(txt);
}

pk_taxii_db *cli_taxii_open(const char *verb)
{
    pk_taxii_db *db;
    pk_error err;
    pk_error_clear(&err);
    if (pk_taxii_db_open(cli_db_path(), &db, &err)) {
        cli_report(verb, &err);
        return NULL;
    }
    return db;
}

int cli_status_exit(const char *verb, pk_status s, const pk_error *err)
{
    if (!s) return EXIT_PK_OK;
    cli_report(verb, err);
    if (s == PK_EINVAL || s == PK_EPARSE) return EXIT_PK_USAGE;
    return s == PK_ENOTFOUND || s == PK_EEXIST ? EXIT_PK_NEGATIVE : EXIT_PK_INTERNAL;
}

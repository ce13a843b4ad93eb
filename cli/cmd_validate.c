/* SPDX-License-Identifier: Apache-2.0 */
/* picket validate: check STIX files (bundles, arrays, single objects, JSON
 * lines) against the STIX 2.1 rules and print every problem with its place. */
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_validate = {
    "validate",
    "check STIX 2.1 files and print every problem with its place",
    "Usage: picket validate [--strict-vocab] [--no-warnings] FILE...|-\n"
    "\n"
    "Read bundles, JSON arrays of objects, single objects or JSON lines (\"-\" is\n"
    "standard input) and check every object against the STIX 2.1 rules: required\n"
    "properties, property types, identifiers, timestamps, vocabularies, markings.\n"
    "STIX 2.0 objects are checked as they would be converted by `picket import`.\n"
    "Each problem is one line: FILE:LINE:COLUMN: OBJECT-ID: PROPERTY: message.\n"
    "\n"
    "Options:\n"
    "  --strict-vocab   values outside an open vocabulary are errors, not warnings\n"
    "  --no-warnings    print errors only\n"
    "  --json           one JSON object per problem, then one summary per file\n"
    "\n"
    "Exit status: 0 every object is valid, 1 problems were found, 2 a file could\n"
    "not be read.\n"
    "\n"
    "Example:\n"
    "  picket validate reports/*.json\n",
    run,
};

#define OPT_STRICT_VOCAB 0x2001
#define OPT_NO_WARNINGS 0x2002

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static cli_progress *bar; /* the current file's progress, cleared before a problem is printed */

static void print_problem(const char *severity, const pk_error *e)
{
    cli_progress_clear(bar);
    if (cli_opt.json) {
        printf("{\"severity\":\"%s\",\"file\":", severity);
        json_str(stdout, e->file);
        printf(",\"line\":%ld,\"column\":%ld,\"offset\":%lld,\"object\":", e->line, e->column,
               e->offset);
        json_str(stdout, e->object_id);
        printf(",\"property\":");
        json_str(stdout, e->property);
        printf(",\"message\":");
        json_str(stdout, e->message);
        printf("}\n");
        return;
    }
    pk_error copy = *e;
    snprintf(copy.message, sizeof copy.message, "%s: %.490s", severity, e->message);
    char line[1400];
    pk_error_format(&copy, line, sizeof line);
    printf("%s\n", line);
}

struct counts {
    long objects, valid, invalid, warnings, converted;
};

/* Returns 0 when all valid, 1 on problems, 2 when unreadable. */
static int validate_file(const char *path, unsigned flags, pk_stix_report *rep, struct counts *t)
{
    pk_stix_reader *r;
    pk_error err;
    pk_error_clear(&err);
    if (pk_stix_reader_open(path, NULL, &r, &err)) {
        cli_report("validate", &err);
        return 2;
    }
    long long size = pk_stix_reader_size(r);
    bar = cli_progress_start("validate", size > 0 ? (unsigned long long)size : 0, "B");
    struct counts c = {0};
    int rc = 0;
    pk_stix_item it;
    pk_status s;
    for (;;) {
        pk_error_clear(&err);
        s = pk_stix_reader_next(r, &it, &err);
        if (s == PK_ENOTFOUND) break;
        if (s == PK_EIO || s == PK_ENOMEM) {
            cli_report("validate", &err);
            rc = 2;
            break;
        }
        c.objects++;
        cli_progress_update(bar, (unsigned long long)pk_stix_reader_consumed(r));
        if (s != PK_OK) {
            print_problem("error", &err);
            c.invalid++;
            rc = rc ? rc : 1;
            continue;
        }
        if (pk_stix_is_20(it.json, pk_stix_reader_bundle_spec_version(r))) {
            unsigned ch;
            if (pk_stix_upgrade(it.json, &ch) != PK_OK) cli_oom();
            c.converted++;
        }
        pk_stix_report_clear(rep);
        s = pk_stix_validate(it.json, flags, rep);
        if (s == PK_ENOMEM) cli_oom();
        for (size_t i = 0; i < pk_stix_report_count(rep); i++) {
            pk_stix_issue is = *pk_stix_report_get(rep, i);
            pk_error_at(&is.err, path, it.line, it.column);
            is.err.offset = it.offset;
            print_problem(is.warning ? "warning" : "error", &is.err);
        }
        c.warnings += (long)pk_stix_report_warnings(rep);
        if (s == PK_OK) {
            c.valid++;
        } else {
            c.invalid++;
            rc = rc ? rc : 1;
        }
    }
    cli_progress_done(bar);
    bar = NULL;
    pk_stix_reader_free(r);
    if (cli_opt.json) {
        printf("{\"file\":");
        json_str(stdout, path);
        printf(
            ",\"objects\":%ld,\"valid\":%ld,\"invalid\":%ld,\"warnings\":%ld,\"converted\":%ld}\n",
            c.objects, c.valid, c.invalid, c.warnings, c.converted);
    } else if (!cli_opt.quiet) {
        fprintf(stderr, "%s: %ld objects, %ld valid, %ld invalid, %ld warnings", path, c.objects,
                c.valid, c.invalid, c.warnings);
        if (c.converted) fprintf(stderr, ", %ld converted from STIX 2.0", c.converted);
        fputc('\n', stderr);
    }
    t->objects += c.objects;
    t->valid += c.valid;
    t->invalid += c.invalid;
    t->warnings += c.warnings;
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"strict-vocab", no_argument, 0, OPT_STRICT_VOCAB},
                                             {"no-warnings", no_argument, 0, OPT_NO_WARNINGS},
                                             CLI_COMMON_LONGOPTS,
                                             {0, 0, 0, 0}};
    unsigned flags = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == OPT_STRICT_VOCAB) {
            flags |= PK_STIX_VAL_STRICT_VOCAB;
            continue;
        }
        if (c == OPT_NO_WARNINGS) {
            flags |= PK_STIX_VAL_NO_WARNINGS;
            continue;
        }
        if ((rc = cli_common_option(&cli_cmd_validate, c, argv)) != 0) return cli_finish(rc);
    }
    if (optind >= argc) return cli_usage_error("validate", "no input: give FILE... or -");
    pk_stix_report *rep = pk_stix_report_new();
    if (!rep) cli_oom();
    struct counts total = {0};
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int r = validate_file(argv[i], flags, rep, &total);
        if (r > worst) worst = r;
    }
    pk_stix_report_free(rep);
    if (!cli_opt.quiet && !cli_opt.json && argc - optind > 1)
        fprintf(stderr, "total: %ld objects, %ld valid, %ld invalid, %ld warnings\n", total.objects,
                total.valid, total.invalid, total.warnings);
    return worst == 2 ? EXIT_PK_USAGE : worst == 1 ? EXIT_PK_NEGATIVE : EXIT_PK_OK;
}

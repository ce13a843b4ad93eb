/* SPDX-License-Identifier: Apache-2.0 */
/* picket export: write stored objects as a bundle, JSON lines or CSV, each
 * object's JSON exactly as it was stored. */
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_export = {
    "export",
    "write stored objects as a STIX bundle, JSON lines or CSV",
    "Usage: picket export [--db PATH] [--type T]... [--collection C]\n"
    "                     [--format bundle|jsonl|csv] [--all-versions] [-o FILE]\n"
    "\n"
    "Write the latest version of each stored object (every version with\n"
    "--all-versions), in the order they were added.  Each object's JSON is written\n"
    "exactly as it was stored, so `picket import` of the output stores the same\n"
    "values again.\n"
    "\n"
    "Options:\n"
    "  --type T         only objects of type T (repeatable)\n"
    "  --collection C   only objects in collection C (id, alias or title)\n"
    "  --format F       bundle (default): one STIX 2.1 bundle; jsonl: one object per\n"
    "                   line; csv: id,type,spec_version,version,created,modified,\n"
    "                   revoked,confidence,created_by_ref,tlp,date_added\n"
    "  --all-versions   every stored version, not only the latest\n"
    "  -o, --output F   write to F instead of standard output\n"
    "\n"
    "Example:\n"
    "  picket export --type indicator --format jsonl -o indicators.jsonl\n",
    run,
};

#define OPT_TYPE 0x2201
#define OPT_COLLECTION 0x2202
#define OPT_FORMAT 0x2203
#define OPT_ALL 0x2204

enum fmt { F_BUNDLE, F_JSONL, F_CSV };

struct out {
    FILE *f;
    enum fmt fmt;
    long long n;
    cli_progress *bar; /* objects written, when stderr is a terminal */
};

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int row(const pk_store_row *r, void *ud)
{
    struct out *o = ud;
    if (o->fmt == F_BUNDLE) {
        fputs(o->n ? ",\n" : "\n", o->f);
        fwrite(r->raw, 1, r->raw_len, o->f);
    } else if (o->fmt == F_JSONL) {
        fwrite(r->raw, 1, r->raw_len, o->f);
        fputc('\n', o->f);
    } else {
        char added[PK_TIME_STRLEN];
        pk_store_format_added(r->date_added_us, added);
        csv_field(o->f, r->id);
        fputc(',', o->f);
        csv_field(o->f, r->type);
        fputc(',', o->f);
        csv_field(o->f, r->spec_version);
        fputc(',', o->f);
        csv_field(o->f, r->version);
        fputc(',', o->f);
        csv_field(o->f, r->created);
        fputc(',', o->f);
        csv_field(o->f, r->modified);
        fprintf(o->f, ",%s,", r->revoked ? "true" : "false");
        if (r->confidence >= 0) fprintf(o->f, "%d", r->confidence);
        fputc(',', o->f);
        csv_field(o->f, r->created_by_ref);
        fprintf(o->f, ",%s,%s\n", pk_tlp_name(r->tlp), added);
    }
    o->n++;
    cli_progress_update(o->bar, (unsigned long long)o->n);
    return ferror(o->f) != 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"type", required_argument, 0, OPT_TYPE},
                                             {"collection", required_argument, 0, OPT_COLLECTION},
                                             {"format", required_argument, 0, OPT_FORMAT},
                                             {"all-versions", no_argument, 0, OPT_ALL},
                                             {"output", required_argument, 0, 'o'},
                                             CLI_COMMON_LONGOPTS,
                                             {0, 0, 0, 0}};
    const char *types[64];
    size_t ntypes = 0;
    const char *collection = NULL, *output = NULL;
    int all = 0, c, rc;
    struct out o = {stdout, F_BUNDLE, 0, NULL};
    while ((c = getopt_long(argc, argv, ":o:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TYPE:
            if (ntypes == sizeof types / sizeof *types)
                return cli_usage_error("export", "too many --type options");
            types[ntypes++] = optarg;
            break;
        case OPT_COLLECTION:
            collection = optarg;
            break;
        case OPT_ALL:
            all = 1;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "bundle"))
                o.fmt = F_BUNDLE;
            else if (!strcmp(optarg, "jsonl"))
                o.fmt = F_JSONL;
            else if (!strcmp(optarg, "csv"))
                o.fmt = F_CSV;
            else
                return cli_usage_error("export", "--format is bundle, jsonl or csv, not '%s'",
                                       optarg);
            break;
        default:
            if ((rc = cli_common_option(&cli_cmd_export, c, argv)) != 0) return cli_finish(rc);
        }
    }
    if (optind < argc) return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    pk_error err;
    pk_error_clear(&err);
    pk_store *s;
    if (pk_store_open(cli_db_path(), PK_STORE_READONLY, &s, &err)) {
        cli_report("export", &err);
        return EXIT_PK_INTERNAL;
    }
    char cid[PK_UUID_STRLEN];
    if (collection) {
        if (pk_store_collection_find(s, collection, cid, &err)) {
            cli_report("export", &err);
            pk_store_close(s);
            return EXIT_PK_USAGE;
        }
    }
    if (output && !(o.f = fopen(output, "w"))) {
        cli_error("export", "%s: cannot write", output);
        pk_store_close(s);
        return EXIT_PK_USAGE;
    }
    static const char *const allv[] = {"all"};
    pk_store_query q = {0};
    q.collection = collection ? cid : NULL;
    q.types = types;
    q.n_types = ntypes;
    if (all) {
        q.versions = allv;
        q.n_versions = 1;
    }
    q.with_raw = o.fmt != F_CSV;
    if (o.fmt == F_BUNDLE) {
        char bid[PK_STIX_ID_MAX];
        if (pk_stix_new_id("bundle", bid)) {
            cli_error("export", "no randomness for a bundle id");
            return EXIT_PK_INTERNAL;
        }
        fprintf(o.f, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", bid);
    } else if (o.fmt == F_CSV) {
        fputs("id,type,spec_version,version,created,modified,revoked,confidence,created_by_ref,"
              "tlp,date_added\n",
              o.f);
    }
    /* a bar only when the objects do not go to the same terminal */
    o.bar = output || !isatty(STDOUT_FILENO) ? cli_progress_start("export", 0, "objects") : NULL;
    pk_status st = pk_store_list(s, &q, row, &o, NULL, &err);
    cli_progress_done(o.bar);
    if (o.fmt == F_BUNDLE) fputs(o.n ? "\n]}\n" : "]}\n", o.f);
    int bad = ferror(o.f);
    if (o.f != stdout) bad |= fclose(o.f) != 0;
    pk_store_close(s);
    if (st) {
        cli_report("export", &err);
        return EXIT_PK_INTERNAL;
    }
    if (bad) {
        cli_error("export", "write failed");
        return EXIT_PK_INTERNAL;
    }
    if (cli_opt.verbose) fprintf(stderr, "picket export: %lld objects\n", o.n);
    return EXIT_PK_OK;
}

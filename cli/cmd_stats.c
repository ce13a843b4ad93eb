/* SPDX-License-Identifier: Apache-2.0 */
/* picket stats: what the store holds, by type, collection, TLP, STIX version
 * and incident kind. */
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_stats = {
    "stats",
    "count the stored objects by type, collection, TLP and incident kind",
    "Usage: picket stats [--db PATH] [--json]\n"
    "\n"
    "Count the objects in the store (distinct ids, and stored versions) by type,\n"
    "by collection, by TLP marking, by STIX version, and incidents by kind\n"
    "(x_picket_kind, else their first label).\n"
    "\n"
    "With --json the output is one object:\n"
    "  "
    "{\"objects\":N,\"versions\":N,\"by_type\":{\"indicator\":{\"objects\":N,\"versions\":N},...},"
    "\n"
    "   \"by_collection\":{...},\"by_tlp\":{...},\"by_spec_version\":{...},\n"
    "   \"by_incident_kind\":{...}}\n"
    "\n"
    "Example:\n"
    "  picket stats --json\n",
    run,
};

struct acc {
    int first;
    long long objects, versions;
};

static void json_key(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s >= 0x20) putchar(*s);
    }
    putchar('"');
}

static int emit(const char *key, long long objects, long long versions, void *ud)
{
    struct acc *a = ud;
    a->objects += objects;
    a->versions += versions;
    if (cli_opt.json) {
        if (!a->first) putchar(',');
        json_key(key);
        printf(":{\"objects\":%lld,\"versions\":%lld}", objects, versions);
    } else {
        printf("  %-40s %10lld %10lld\n", key, objects, versions);
    }
    a->first = 0;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((rc = cli_common_option(&cli_cmd_stats, c, argv)) != 0) return cli_finish(rc);
    }
    if (optind < argc) return cli_usage_error("stats", "unexpected argument '%s'", argv[optind]);
    pk_error err;
    pk_error_clear(&err);
    pk_store *s;
    if (pk_store_open(cli_db_path(), PK_STORE_READONLY, &s, &err)) {
        cli_report("stats", &err);
        return EXIT_PK_INTERNAL;
    }
    static const struct {
        pk_store_group by;
        const char *json, *title;
    } groups[] = {
        {PK_STORE_BY_TYPE, "by_type", "by type"},
        {PK_STORE_BY_COLLECTION, "by_collection", "by collection"},
        {PK_STORE_BY_TLP, "by_tlp", "by TLP"},
        {PK_STORE_BY_SPEC_VERSION, "by_spec_version", "by STIX version"},
        {PK_STORE_BY_INCIDENT_KIND, "by_incident_kind", "incidents by kind"},
    };
    pk_status st = PK_OK;
    long long objects = 0, versions = 0;
    if (cli_opt.json) putchar('{');
    for (size_t i = 0; i < sizeof groups / sizeof *groups && !st; i++) {
        struct acc a = {1, 0, 0};
        if (cli_opt.json) {
            printf("%s\"%s\":{", i ? "," : "", groups[i].json);
        } else {
            printf("%s%-42s %10s %10s\n", i ? "\n" : "", groups[i].title, "objects", "versions");
        }
        st = pk_store_count(s, groups[i].by, emit, &a, &err);
        if (cli_opt.json) putchar('}');
        if (i == 0) {
            objects = a.objects;
            versions = a.versions;
        }
    }
    if (cli_opt.json)
        printf(",\"objects\":%lld,\"versions\":%lld}\n", objects, versions);
    else
        printf("\n%-42s %10lld %10lld\n", "total", objects, versions);
    pk_store_close(s);
    if (st) {
        cli_report("stats", &err);
        return EXIT_PK_INTERNAL;
    }
    return EXIT_PK_OK;
}

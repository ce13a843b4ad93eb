/* SPDX-License-Identifier: Apache-2.0 */
/* picket collection: the TAXII collections, their per-organisation grants,
 * and a direct import of a bundle into one. */
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_collection = {
    "collection",
    "manage TAXII collections and which organisations may read or write them",
    "Usage: picket collection add TITLE [--description TEXT] [--alias ALIAS] [--api-root R]\n"
    "       picket collection list [--json]\n"
    "       picket collection grant ID --org ORG [--read] [--write]\n"
    "       picket collection import ID FILE --org ORG\n"
    "\n"
    "add prints the new collection's id (a UUID).  grant sets what organisation\n"
    "ORG may do with collection ID (its id or alias): --read, --write, both; with\n"
    "neither, the grant is removed.  Without a grant an organisation does not see\n"
    "the collection at all.  import adds the objects of a STIX bundle or TAXII\n"
    "envelope FILE ('-': standard input) as written by ORG, as a POST would.\n"
    "\n"
    "Options:\n"
    "  --description TEXT   the collection's description\n"
    "  --alias ALIAS        a short name usable in URLs instead of the id\n"
    "  --api-root R         the API root to put it under (default api)\n"
    "  --org ORG            the organisation to grant to, or the writer for import\n"
    "  --read, --write      the access granted\n"
    "\n"
    "Example:\n"
    "  id=$(picket collection add 'Recruitment approaches')\n"
    "  picket collection grant \"$id\" --org cert-example --read --write\n",
    run,
};

enum { OPT_DESC = 0x2001, OPT_ALIAS, OPT_ROOT, OPT_ORG, OPT_READ, OPT_WRITE };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"description", required_argument, 0, OPT_DESC},
        {"alias", required_argument, 0, OPT_ALIAS},
        {"api-root", required_argument, 0, OPT_ROOT},
        {"org", required_argument, 0, OPT_ORG},
        {"read", no_argument, 0, OPT_READ},
        {"write", no_argument, 0, OPT_WRITE},
        {0, 0, 0, 0},
    };
    const char *desc = NULL, *alias = NULL, *root = NULL, *org = NULL;
    int rd = 0, wr = 0, c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DESC:
            desc = optarg;
            continue;
        case OPT_ALIAS:
            alias = optarg;
            continue;
        case OPT_ROOT:
            root = optarg;
            continue;
        case OPT_ORG:
            org = optarg;
            continue;
        case OPT_READ:
            rd = 1;
            continue;
        case OPT_WRITE:
            wr = 1;
            continue;
        }
        if ((rc = cli_common_option(&cli_cmd_collection, c, argv)) != 0) return cli_finish(rc);
    }
    enum { ADD, LIST, GRANT, IMPORT };
    static const struct cli_action acts[] = {
        {"add", 1}, {"list", 0}, {"grant", 1}, {"import", 2}, {NULL, 0},
    };
    int act = cli_action("collection", argc - optind, argv + optind, acts);
    if (act < 0) return -act;
    char **pos = argv + optind;
    if ((act == GRANT || act == IMPORT) && !org)
        return cli_usage_error("collection", "%s needs --org ORG", pos[0]);
    pk_buf data;
    pk_buf_init(&data, 0);
    if (act == IMPORT) {
        FILE *f = strcmp(pos[2], "-") ? fopen(pos[2], "rb") : stdin;
        if (!f) {
            cli_error("collection", "%s: cannot open", pos[2]);
            return EXIT_PK_USAGE;
        }
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            if (pk_buf_add(&data, chunk, n)) cli_oom();
        if (f != stdin) fclose(f);
    }
    pk_taxii_db *db = cli_taxii_open("collection");
    if (!db) {
        pk_buf_free(&data);
        return EXIT_PK_INTERNAL;
    }
    pk_error err;
    pk_error_clear(&err);
    pk_status s;
    if (act == ADD) {
        char id[PK_UUID_STRLEN];
        s = pk_taxii_collection_add(db, root, pos[1], desc, alias, id, &err);
        if (!s) printf("%s\n", id);
    } else if (act == GRANT) {
        s = pk_taxii_collection_grant(db, pos[1], org, rd, wr, &err);
    } else if (act == IMPORT) {
        size_t stored, failed;
        s = pk_taxii_collection_import_text(db, pos[1], org, data.data ? data.data : "", data.len,
                                            &stored, &failed, &err);
        if (!s && !cli_opt.quiet) printf("stored %zu, rejected %zu\n", stored, failed);
        if (!s && failed) s = PK_EVALIDATE;
    } else {
        json_t *list;
        s = pk_taxii_collection_list(db, &list, &err);
        if (!s) {
            if (cli_opt.json) {
                cli_print_json(list);
            } else {
                size_t i, j;
                json_t *col, *g;
                json_array_foreach(list, i, col)
                {
                    printf("%s  /%s/  %-30s %lld objects\n",
                           json_string_value(json_object_get(col, "id")),
                           json_string_value(json_object_get(col, "api_root")),
                           json_string_value(json_object_get(col, "title")),
                           (long long)json_integer_value(json_object_get(col, "objects")));
                    json_array_foreach(json_object_get(col, "grants"), j, g)
                    {
                        printf("    %-30s%s%s\n", json_string_value(json_object_get(g, "org")),
                               json_is_true(json_object_get(g, "read")) ? " read" : "",
                               json_is_true(json_object_get(g, "write")) ? " write" : "");
                    }
                }
            }
            json_decref(list);
        }
    }
    pk_buf_free(&data);
    pk_taxii_db_close(db);
    if (s == PK_EVALIDATE) return EXIT_PK_NEGATIVE; /* the counts are printed */
    return cli_status_exit("collection", s, &err);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* picket apiroot: the TAXII server's API roots (the default is /api/). */
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_apiroot = {
    "apiroot",
    "manage the TAXII server's API roots",
    "Usage: picket apiroot add PATH [--title TEXT] [--description TEXT]\n"
    "       picket apiroot list [--json]\n"
    "\n"
    "An API root is served at /PATH/ and listed by discovery at /taxii2/.  The\n"
    "store starts with one, 'api'.  PATH is 1 to 64 letters, digits, '-' or '_'.\n"
    "Collections are put under an API root with picket collection add --api-root.\n"
    "\n"
    "Options:\n"
    "  --title TEXT         the API root's title (default: its path)\n"
    "  --description TEXT   its description\n"
    "\n"
    "Example:\n"
    "  picket apiroot add allies --title 'Allied exchange'\n",
    run,
};

enum { OPT_TITLE = 0x2001, OPT_DESC };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"title", required_argument, 0, OPT_TITLE},
        {"description", required_argument, 0, OPT_DESC},
        {0, 0, 0, 0},
    };
    const char *title = NULL, *desc = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == OPT_TITLE)
            title = optarg;
        else if (c == OPT_DESC)
            desc = optarg;
        else if ((rc = cli_common_option(&cli_cmd_apiroot, c, argv)) != 0)
            return cli_finish(rc);
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (npos < 1) return cli_usage_error("apiroot", "which action: add, list?");
    int add = !strcmp(pos[0], "add");
    if (!add && strcmp(pos[0], "list"))
        return cli_usage_error("apiroot", "unknown action '%s'", pos[0]);
    if (npos != (add ? 2 : 1))
        return cli_usage_error("apiroot", add ? "add takes one PATH" : "list takes no argument");
    pk_taxii_db *db;
    pk_error err;
    pk_error_clear(&err);
    if (pk_taxii_db_open(cli_db_path(), &db, &err)) {
        cli_report("apiroot", &err);
        return EXIT_PK_INTERNAL;
    }
    pk_status s;
    if (add) {
        s = pk_taxii_apiroot_add(db, pos[1], title, desc, &err);
    } else {
        json_t *list;
        s = pk_taxii_apiroot_list(db, &list, &err);
        if (!s) {
            size_t i;
            json_t *r;
            if (cli_opt.json) {
                char *txt = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (!txt) cli_oom();
                printf("%s\n", txt);
                pk_free(txt);
            } else {
                json_array_foreach(list, i, r)
                {
                    printf("/%s/  %s\n", json_string_value(json_object_get(r, "path")),
                           json_string_value(json_object_get(r, "title")));
                }
            }
            json_decref(list);
        }
    }
    pk_taxii_db_close(db);
    if (s) {
        cli_report("apiroot", &err);
        if (s == PK_EINVAL) return EXIT_PK_USAGE;
        return s == PK_EEXIST ? EXIT_PK_NEGATIVE : EXIT_PK_INTERNAL;
    }
    return EXIT_PK_OK;
}

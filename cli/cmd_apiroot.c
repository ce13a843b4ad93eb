/* SPDX-License-Identifier: Apache-2.0 */
/* picket apiroot: the TAXII server's API roots (the default is /api/). */
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
    static const struct cli_action acts[] = {{"add", 1}, {"list", 0}, {NULL, 0}};
    int act = cli_action("apiroot", argc - optind, argv + optind, acts);
    if (act < 0) return -act;
    char **pos = argv + optind;
    pk_taxii_db *db = cli_taxii_open("apiroot");
    if (!db) return EXIT_PK_INTERNAL;
    pk_error err;
    pk_error_clear(&err);
    pk_status s;
    if (act == 0) {
        s = pk_taxii_apiroot_add(db, pos[1], title, desc, &err);
    } else {
        json_t *list;
        s = pk_taxii_apiroot_list(db, &list, &err);
        if (!s) {
            size_t i;
            json_t *r;
            if (cli_opt.json) {
                cli_print_json(list);
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
    return cli_status_exit("apiroot", s, &err);
}

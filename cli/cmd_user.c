/* SPDX-License-Identifier: Apache-2.0 */
/* picket user: the accounts of the TAXII server.  A token is printed once,
 * when it is made; the store keeps only its hash. */
#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_user = {
    "user",
    "manage the TAXII server's accounts and their tokens",
    "Usage: picket user add NAME --org ORG [--admin]\n"
    "       picket user list [--json]\n"
    "       picket user remove NAME\n"
    "       picket user rotate NAME\n"
    "       picket user red-share WRITER_ORG READER_ORG [--revoke]\n"
    "\n"
    "add prints the new account's token once: the store keeps only a keyed hash\n"
    "of it.  The account authenticates with HTTP Basic (NAME and the token as the\n"
    "password) or with 'Authorization: Bearer TOKEN'.  The organisation is\n"
    "created when new; access to collections is granted per organisation\n"
    "(picket collection grant).  An --admin account reads and writes every\n"
    "collection, but TLP applies to it as to anyone.\n"
    "rotate prints a new token and revokes the old one.\n"
    "red-share lets READER_ORG see the TLP:RED objects that WRITER_ORG wrote\n"
    "(in collections READER_ORG may read); --revoke withdraws it.\n"
    "\n"
    "Options:\n"
    "  --org ORG     the account's organisation\n"
    "  --admin       an administrator account\n"
    "  --revoke      with red-share: withdraw the share\n"
    "\n"
    "Example:\n"
    "  picket user add alice --org cert-example\n",
    run,
};

enum { OPT_ORG = 0x2001, OPT_ADMIN, OPT_REVOKE };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"org", required_argument, 0, OPT_ORG},
        {"admin", no_argument, 0, OPT_ADMIN},
        {"revoke", no_argument, 0, OPT_REVOKE},
        {0, 0, 0, 0},
    };
    const char *org = NULL;
    int admin = 0, revoke = 0, c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == OPT_ORG)
            org = optarg;
        else if (c == OPT_ADMIN)
            admin = 1;
        else if (c == OPT_REVOKE)
            revoke = 1;
        else if ((rc = cli_common_option(&cli_cmd_user, c, argv)) != 0)
            return cli_finish(rc);
    }
    enum { ADD, LIST, REMOVE, ROTATE, RED_SHARE };
    static const struct cli_action acts[] = {
        {"add", 1}, {"list", 0}, {"remove", 1}, {"rotate", 1}, {"red-share", 2}, {NULL, 0},
    };
    int act = cli_action("user", argc - optind, argv + optind, acts);
    if (act < 0) return -act;
    char **pos = argv + optind;
    if (act == ADD && !org) return cli_usage_error("user", "add needs --org ORG");
    pk_taxii_db *db = cli_taxii_open("user");
    if (!db) return EXIT_PK_INTERNAL;
    pk_error err;
    pk_error_clear(&err);
    pk_status s = PK_OK;
    char token[PK_TAXII_TOKEN_LEN + 1];
    if (act == ADD || act == ROTATE) {
        s = act == ADD ? pk_taxii_user_add(db, pos[1], org, admin, token, &err)
                       : pk_taxii_user_rotate(db, pos[1], token, &err);
        if (!s) {
            if (cli_opt.json)
                printf("{\"name\":\"%s\",\"token\":\"%s\"}\n", pos[1], token);
            else
                printf("%s\n", token);
            if (!cli_opt.quiet && !cli_opt.json)
                fprintf(stderr, "picket user: the token of '%s' is shown only this once\n", pos[1]);
        }
    } else if (act == REMOVE) {
        s = pk_taxii_user_remove(db, pos[1], &err);
    } else if (act == RED_SHARE) {
        s = pk_taxii_red_share(db, pos[1], pos[2], !revoke, &err);
    } else {
        json_t *list;
        s = pk_taxii_user_list(db, &list, &err);
        if (!s) {
            size_t i;
            json_t *u;
            if (cli_opt.json) {
                cli_print_json(list);
            } else {
                json_array_foreach(list, i, u)
                {
                    printf("%-24s %-24s %s%s\n", json_string_value(json_object_get(u, "name")),
                           json_string_value(json_object_get(u, "org")),
                           json_string_value(json_object_get(u, "created")),
                           json_is_true(json_object_get(u, "admin")) ? "  admin" : "");
                }
            }
            json_decref(list);
        }
    }
    pk_taxii_db_close(db);
    return cli_status_exit("user", s, &err);
}

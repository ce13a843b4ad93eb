/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket: dispatch to the subcommand named by the first argument.  The table
 * of subcommands is generated from the cli/cmd_<verb>.c files.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_commands.h"

static void print_help(FILE *f)
{
    fputs("picket: counter-espionage threat intelligence (STIX 2.1, TAXII 2.1)\n"
          "\n"
          "Usage: picket COMMAND [OPTIONS] [ARGS]\n"
          "       picket help COMMAND     the options and examples of one command\n"
          "       picket --version\n"
          "\nCommands:\n",
          f);
    for (const struct cli_cmd *const *c = cli_commands; *c; c++)
        fprintf(f, "  %-12s %s\n", (*c)->name, (*c)->summary);
    fputs("\nEnvironment:\n"
          "  PICKET_DB      the store to use when --db is not given (default ./picket.db)\n"
          "\nExit status:\n"
          "  0  success (valid, matched, stored)\n"
          "  1  a negative finding (no match, invalid input found)\n"
          "  2  usage error or unreadable input\n"
          "  3  internal or store failure\n"
          "\nSee picket(1) for the whole manual.\n",
          f);
}

static const struct cli_cmd *find(const char *name)
{
    for (const struct cli_cmd *const *c = cli_commands; *c; c++)
        if (strcmp((*c)->name, name) == 0) return *c;
    return NULL;
}

int main(int argc, char **argv)
{
    pk_init();
    if (argc < 2) {
        fputs("Usage: picket COMMAND [OPTIONS] [ARGS]\nTry 'picket --help'.\n", stderr);
        return EXIT_PK_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || (!strcmp(verb, "help") && argc == 2)) {
        print_help(stdout);
        return EXIT_PK_OK;
    }
    if (!strcmp(verb, "--version") || !strcmp(verb, "-V")) {
        printf("picket %s\n", PK_VERSION_STRING);
        return EXIT_PK_OK;
    }
    if (!strcmp(verb, "help")) {
        const struct cli_cmd *cmd = find(argv[2]);
        if (!cmd) return cli_usage_error(NULL, "no command '%s'", argv[2]);
        cli_print_usage(cmd, stdout);
        return EXIT_PK_OK;
    }
    if (verb[0] == '-') return cli_usage_error(NULL, "unknown option '%s'", verb);
    const struct cli_cmd *cmd = find(verb);
    if (!cmd) return cli_usage_error(NULL, "unknown command '%s'", verb);
    optind = 1;
    opterr = 0;
    return cmd->run(argc - 1, argv + 1);
}

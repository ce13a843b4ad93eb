/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every subcommand shares: its table entry, the exit codes, the common
 * options (--db, --json, -q, -v), error printing and the progress bar.
 */
#ifndef PICKET_CLI_H
#define PICKET_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "picket/picket.h"

/* Exit codes, the same for every subcommand (documented in --help and picket(1)). */
enum {
    EXIT_PK_OK = 0,       /* success: valid, matched, stored */
    EXIT_PK_NEGATIVE = 1, /* a negative finding: no match, invalid input found */
    EXIT_PK_USAGE = 2,    /* bad usage or unreadable input */
    EXIT_PK_INTERNAL = 3, /* internal or store failure */
};

/** One subcommand: cli/cmd_<verb>.c defines `const struct cli_cmd cli_cmd_<verb>`. */
struct cli_cmd {
    const char *name;
    const char *summary;               /* one line for `picket --help` */
    const char *usage;                 /* the whole text for `picket help CMD` and `CMD --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the verb; returns an exit code */
};

/** Options every subcommand accepts. */
struct cli_common {
    const char *db; /* --db, else $PICKET_DB, else ./picket.db */
    int json;       /* --json: machine-readable output */
    int quiet;      /* -q: only errors */
    int verbose;    /* -v: more detail (repeatable) */
};
extern struct cli_common cli_opt;

/* getopt_long entries for the common options; put in a command's option table. */
#define CLI_OPT_DB 0x1001
#define CLI_OPT_JSON 0x1002
#define CLI_COMMON_LONGOPTS                                                                        \
    {"db", required_argument, 0, CLI_OPT_DB}, {"json", no_argument, 0, CLI_OPT_JSON},              \
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'},                          \
    {                                                                                              \
        "help", no_argument, 0, 'h'                                                                \
    }
#define CLI_COMMON_SHORTOPTS "qvh"

/**
 * Handle one getopt_long result common to all commands (call getopt_long with
 * a leading ':' in the short options and opterr = 0).  Returns -1 when `c` is
 * not a common option, 0 when it was handled and parsing goes on, and
 * otherwise a code to return from run() through cli_finish(): CLI_DONE_OK after
 * --help, EXIT_PK_USAGE after an unknown option or a missing value.
 */
#define CLI_DONE_OK 100
int cli_common_option(const struct cli_cmd *cmd, int c, char **argv);
/** The exit code to return from run() for a cli_common_option() result. */
int cli_finish(int rc);

/** Print "picket VERB: message" on stderr. */
void cli_error(const char *verb, const char *fmt, ...) PK_PRINTF(2, 3);
/** Print a pk_error as "picket VERB: file:line:col: ... message". */
void cli_report(const char *verb, const pk_error *err);
/** Usage error: message, then the hint; returns EXIT_PK_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) PK_PRINTF(2, 3);
/** Out of memory in the CLI: print and exit(3).  Only the CLI may do this. */
void cli_oom(void) __attribute__((noreturn));
/** Print a command's usage text to `f`. */
void cli_print_usage(const struct cli_cmd *cmd, FILE *f);
/** Resolve --db / $PICKET_DB / ./picket.db. */
const char *cli_db_path(void);

/** An action word of a command with sub-actions, and how many words it takes with it. */
struct cli_action {
    const char *name;
    int args;
};
/**
 * Find pos[0] among `acts` (ended by a NULL name) and check that npos - 1
 * arguments follow it.  Returns the action's index, or -EXIT_PK_USAGE after
 * printing the usage error ("which action: a, b?", "unknown action", "x takes N
 * arguments").
 */
int cli_action(const char *verb, int npos, char **pos, const struct cli_action *acts);
/** Print a JSON value compactly on one line of standard output. */
void cli_print_json(const json_t *j);
/** Open the TAXII tables of the store (--db); on failure report and return NULL. */
pk_taxii_db *cli_taxii_open(const char *verb);
/**
 * The exit code for a failed library call: reports `err`, then 2 for bad input
 * (PK_EINVAL, PK_EPARSE), 1 for a negative answer (PK_ENOTFOUND, PK_EEXIST) and 3
 * for anything else.  PK_OK gives 0.
 */
int cli_status_exit(const char *verb, pk_status s, const pk_error *err);

/**
 * A progress bar on standard error, drawn only when it is a terminal and -q is
 * off, at most ten times a second.  total 0 means unknown (a spinner with the
 * count).  unit is "B" for bytes (shown as MB) or a noun ("objects").
 */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_start(const char *label, unsigned long long total, const char *unit);
void cli_progress_update(cli_progress *p, unsigned long long done);
void cli_progress_done(cli_progress *p); /* clears the line; NULL is harmless */
/** Clear the bar's line before printing a message; the next update draws it again. */
void cli_progress_clear(cli_progress *p);

#endif /* PICKET_CLI_H */

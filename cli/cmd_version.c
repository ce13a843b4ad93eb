/* SPDX-License-Identifier: Apache-2.0 */
/* picket version: this build's version and the libraries it runs on. */
#include <hs/hs.h>
#include <jansson.h>
#include <microhttpd.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_version = {
    "version",
    "print picket's version and the versions of the libraries it uses",
    "Usage: picket version [--json]\n"
    "\n"
    "Print picket's version, then one line per library it is linked with:\n"
    "jansson, SQLite, libpq, libmicrohttpd, libcurl, libsodium, Hyperscan, zlib.\n"
    "\n"
    "Example:\n"
    "  picket version --json\n",
    run,
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {0, 0, 0, 0}};
    int c, rc;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if ((rc = cli_common_option(&cli_cmd_version, c, argv)) != 0) return cli_finish(rc);
    }
    if (optind < argc) return cli_usage_error("version", "unexpected argument '%s'", argv[optind]);
    const char *hs = hs_version();
    char hsv[32];
    snprintf(hsv, sizeof hsv, "%.*s", (int)strcspn(hs, " "), hs);
    char pq[16];
    int pv = PQlibVersion();
    snprintf(pq, sizeof pq, "%d.%d", pv / 10000, pv % 10000);
    const char *names[] = {"jansson", "sqlite",    "libpq",     "libmicrohttpd",
                           "libcurl", "libsodium", "hyperscan", "zlib"};
    const char *vers[] = {jansson_version_str(),
                          sqlite3_libversion(),
                          pq,
                          MHD_get_version(),
                          curl_version_info(CURLVERSION_NOW)->version,
                          sodium_version_string(),
                          hsv,
                          zlibVersion()};
    if (cli_opt.json) {
        printf("{\"picket\":\"%s\"", PK_VERSION_STRING);
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            printf(",\"%s\":\"%s\"", names[i], vers[i]);
        printf("}\n");
    } else {
        printf("picket %s\n", PK_VERSION_STRING);
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            printf("  %-14s %s\n", names[i], vers[i]);
    }
    return EXIT_PK_OK;
}

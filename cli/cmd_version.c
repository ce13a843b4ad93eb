/* SPDX-License-Identifier: Apache-2.0 */
/* picket version: this build's version and the libraries it runs on. */
#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"
#include "curl_dl.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_version = {
    "version",
    "print picket's version and the versions of the libraries it uses",
    "Usage: picket version [--json]\n"
    "\n"
    "Print picket's version, then one line per library it uses: jansson,\n"
    "SQLite, libmicrohttpd, libcurl, libsodium, PCRE2, zlib.  libmicrohttpd and\n"
    "libcurl are loaded only by the commands that need them (picket serve,\n"
    "picket report); each is shown as \"not installed\" when it cannot be\n"
    "loaded.\n"
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
    char pcre[48] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre); /* "10.42 2022-12-11" */
    pcre[strcspn(pcre, " ")] = '\0';
    const char *httpd = pk_taxii_httpd_version();
    char why[256];
    const struct cli_curl *cu = cli_curl_load(why, sizeof why);
    const char *names[] = {"jansson",   "sqlite", "libmicrohttpd", "libcurl",
                           "libsodium", "pcre2",  "zlib"};
    const char *vers[] = {jansson_version_str(),
                          sqlite3_libversion(),
                          httpd ? httpd : "not installed",
                          cu ? cu->version_info(CURLVERSION_NOW)->version : "not installed",
                          sodium_version_string(),
                          pcre,
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

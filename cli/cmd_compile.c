/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket compile: build the indicator index once and write it as a .pki file
 * that `picket match --index` maps into memory, ready in milliseconds.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_compile = {
    "compile",
    "compile indicators into an index file for picket match",
    "Usage: picket compile (--iocs LIST... | --indicators BUNDLE... | --db PATH) -o FILE.pki\n"
    "\n"
    "Normalise the indicators (addresses, networks, names, URLs, e-mail, hashes)\n"
    "and write the index picket match uses: a flat file with a header, a version\n"
    "and a checksum, mapped into memory and validated when loaded.\n"
    "\n"
    "  --iocs LIST        an IOC list: one value a line, or type<TAB>value; repeatable\n"
    "  --indicators FILE  a STIX 2.1 bundle of indicators; repeatable\n"
    "  --db PATH          the indicators in picket's store\n"
    "  -o, --output FILE  the index to write (written whole, then renamed)\n"
    "\n"
    "Bad lines are reported (file:line: why) and left out; the index is written\n"
    "all the same.  Exit status: 0 written, 1 written but lines were rejected,\n"
    "2 usage or unreadable input, 3 the index could not be built or written.\n"
    "\n"
    "Example:\n"
    "  picket compile --iocs partner-feed.txt -o feed.pki\n"
    "  picket match --index feed.pki /var/log/suricata/eve.json\n",
    run,
};

int cli_match_build_index(const char *verb, char **iocs, size_t niocs, char **bundles,
                          size_t nbundles, const char *index_path, pk_match_index **out,
                          size_t *values, size_t *rejected);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { OPT_IOCS = 0x2001, OPT_INDICATORS };

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"iocs", required_argument, 0, OPT_IOCS},
                                             {"indicators", required_argument, 0, OPT_INDICATORS},
                                             {"output", required_argument, 0, 'o'},
                                             {0, 0, 0, 0}};
    char **iocs = NULL, **bundles = NULL;
    size_t niocs = 0, nbundles = 0;
    const char *output = NULL;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":o:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        char ***v = NULL;
        size_t *n = NULL;
        if (c == OPT_IOCS) v = &iocs, n = &niocs;
        if (c == OPT_INDICATORS) v = &bundles, n = &nbundles;
        if (v) {
            char **nv = pk_realloc(*v, (*n + 1) * sizeof *nv);
            if (!nv) cli_oom();
            nv[(*n)++] = optarg;
            *v = nv;
            continue;
        }
        if (c == 'o') {
            output = optarg;
            continue;
        }
        if ((rc = cli_common_option(&cli_cmd_compile, c, argv)) != 0) {
            rc = cli_finish(rc);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("compile", "unexpected argument '%s' (IOC lists go after --iocs)",
                             argv[optind]);
        goto out;
    }
    if (!output) {
        rc = cli_usage_error("compile", "no output file: give -o FILE.pki");
        goto out;
    }
    double t0 = now_s();
    pk_match_index *ix = NULL;
    size_t values = 0, rejected = 0;
    rc = cli_match_build_index("compile", iocs, niocs, bundles, nbundles, NULL, &ix, &values,
                               &rejected);
    if (rc != EXIT_PK_OK) goto out;
    pk_error err;
    pk_error_clear(&err);
    if (pk_match_index_save(ix, output, &err) != PK_OK) {
        cli_report("compile", &err);
        pk_match_index_free(ix);
        rc = EXIT_PK_INTERNAL;
        goto out;
    }
    pk_match_index_info info;
    pk_match_index_info_get(ix, &info);
    pk_match_index_free(ix);
    if (!cli_opt.quiet)
        fprintf(stderr,
                "picket compile: %zu values (%zu rejected) -> %s: %zu bytes, %zu keys, %zu "
                "networks, %zu patterns, in %.0f ms\n",
                values, rejected, output, info.bytes, info.keys, info.cidrs4 + info.cidrs6,
                info.patterns, (now_s() - t0) * 1e3);
    rc = rejected ? EXIT_PK_NEGATIVE : EXIT_PK_OK;
out:
    pk_free(iocs);
    pk_free(bundles);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the match fuzz targets: one small index over every indicator
 * kind, built once, and a scanner run that lets the first input byte choose
 * the chunk size, so that line assembly across feeds is fuzzed as well.
 */
#ifndef PK_FUZZ_MATCH_COMMON_H
#define PK_FUZZ_MATCH_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picket/match.h"

static const char fuzz_iocs[] = "10.0.0.1\n"
                                "cidr\t192.168.0.0/16\n"
                                "cidr\t2001:db8::/32\n"
                                "evil.com\n"
                                "url\thttp://evil.com/x\n"
                                "email\ta@evil.com\n"
                                "md5\td41d8cd98f00b204e9800998ecf8427e\n"
                                "sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n"
                                "filename\tbad.exe\n"
                                "user-account\troot\n";

static inline pk_match_index *fuzz_index(void)
{
    static pk_match_index *ix;
    if (ix) return ix;
    pk_match_compiler *c = pk_match_compiler_new();
    if (!c) abort();
    if (pk_match_compiler_add_list(c, fuzz_iocs, sizeof fuzz_iocs - 1, "fuzz", NULL, NULL, NULL,
                                   NULL, NULL) != PK_OK ||
        pk_match_compile(c, &ix, NULL) != PK_OK)
        abort();
    pk_match_compiler_free(c);
    return ix;
}

static inline void fuzz_alert(void *ud, const pk_match_alert *a)
{
    pk_buf b;
    pk_buf_init(&b, 0);
    if (pk_match_alert_json(a, &b) != PK_OK) abort();
    pk_buf_free(&b);
    if (!a->value || !a->field || !a->source || a->line < 1) abort();
    (*(size_t *)ud)++;
}

/* One scanner per format, made once and begun again for every input, so
 * that the fuzzer spends its time in the adapters (and state left over from
 * one input is fuzzed too: begin() must reset it). */
static inline void fuzz_scan(const uint8_t *data, size_t size, pk_match_format fmt, const char *map)
{
    static pk_match_scanner *scanners[16];
    static size_t hits;
    size_t slot = (size_t)fmt + (map ? 5 : 0);
    size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1;
    if (!scanners[slot]) {
        pk_match_options opt = {fmt, map, 0};
        pk_match_callbacks cb = {fuzz_alert, NULL, &hits};
        if (pk_match_scanner_new(fuzz_index(), &opt, &cb, &scanners[slot], NULL) != PK_OK) abort();
    }
    pk_match_scanner *s = scanners[slot];
    pk_match_stats before, after;
    pk_match_scanner_stats(s, &before);
    size_t hits_before = hits;
    pk_match_scanner_begin(s, "fuzz", NULL);
    for (size_t i = 0; i < size; i += chunk)
        pk_match_scanner_feed(s, data + i, size - i < chunk ? size - i : chunk, NULL);
    pk_match_scanner_end(s, NULL);
    pk_match_scanner_stats(s, &after);
    if (after.alerts - before.alerts != hits - hits_before || after.bytes - before.bytes != size)
        abort();
}

#endif

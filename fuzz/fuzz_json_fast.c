/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the JSON walk's fast path against the byte-by-byte walker.
 * Every line of the input is walked by the walker alone and by each form of
 * the fast path (masks in plain C, SSE2, AVX2 where the CPU has it), from a
 * copy whose end lies right before its PKI_PAD readable bytes; a different
 * result, reason or recorded value aborts, and so does a line end found by
 * stage 1 that memchr does not find.  The first byte picks the field table
 * (EVE, Zeek, JSON lines). */
#include "fuzz_match_common.h"
#include "match/scan_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One walk: the result and what was recorded, as offsets into the line. */
static void walk(pk_match_scanner *s, int mode, const char *p, size_t n, const pki_ftab *t,
                 pk_buf *out)
{
    s->jmode = mode;
    s->nobs = 0;
    s->time = NULL;
    s->path = NULL;
    s->time_state = 0;
    s->jf.line = NULL;
    const char *why = pki_json_line(s, p, n, t);
    pk_buf_reset(out);
    pk_buf_addf(out, "[%s]", why ? why : "ok");
    for (size_t i = 0; i < s->nobs; i++)
        pk_buf_addf(out, " %ld+%u/%u/%u/%s", (long)(s->obs[i].v - p), s->obs[i].len, s->obs[i].role,
                    s->obs[i].esc, s->obs[i].field ? s->obs[i].field : "-");
    if (s->time) pk_buf_addf(out, " t%ld+%zu/%d", (long)(s->time - p), s->time_len, s->time_esc);
    if (s->path) pk_buf_addf(out, " p%ld+%zu", (long)(s->path - p), s->path_len);
    pk_buf_addc(out, '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pk_match_scanner *s;
    if (!s) {
        pk_match_options opt = {PK_FMT_EVE, NULL, 0};
        if (pk_match_scanner_new(fuzz_index(), &opt, NULL, &s, NULL) != PK_OK) abort();
    }
    if (size < 1 || size > 65536) return 0;
    const pki_ftab *tabs[3] = {&s->fields.eve, &s->fields.zeek, &s->fields.jsonl};
    const pki_ftab *t = tabs[data[0] % 3];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    int modes[PKI_JSON_NMODES], nm = pki_json_modes(modes);
    /* the whole input with its pad, for the line search */
    char *all = malloc(len + PKI_PAD);
    if (!all) return 0;
    memcpy(all, in, len);
    memset(all + len, '\n', PKI_PAD); /* a newline past the end must not count */
    pk_buf ref, got;
    pk_buf_init(&ref, 0);
    pk_buf_init(&got, 0);
    s->fmt = F_EVE;
    for (size_t p = 0; p <= len;) {
        const char *nl = memchr(all + p, '\n', len - p);
        size_t n = nl ? (size_t)(nl - (all + p)) : len - p;
        for (int m = 0; m < nm; m++) {
            s->jmode = modes[m];
            size_t f = pki_json_find_line(s, all + p, len - p);
            size_t want = nl ? n : PKI_JF_NOLINE;
            if (n >= PKI_JF_MAX) want = PKI_JF_NONE; /* memchr's */
            if (f != want) abort();
        }
        s->jf.line = NULL;
        if (n) {
            char *line = malloc(n + PKI_PAD);
            if (!line) break;
            memcpy(line, all + p, n);
            memset(line + n, '"', PKI_PAD); /* not the line's */
            walk(s, PKI_JSON_WALK, line, n, t, &ref);
            for (int m = 0; m < nm; m++) {
                walk(s, modes[m], line, n, t, &got);
                if (strcmp(ref.data, got.data) != 0) abort();
            }
            free(line);
        }
        p += n + 1;
    }
    pk_buf_free(&ref);
    pk_buf_free(&got);
    free(all);
    return 0;
}

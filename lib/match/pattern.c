/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Indicators whose patterns are more than ORed equalities.  This build has
 * no pattern support yet (picket/pattern.h is not on main): such indicators
 * are refused at compile time with PK_EUNSUPPORTED, and an index that holds
 * patterns is refused at load time.
 */
#include "scan_int.h"

pk_status pk_match_compiler_add_indicator(pk_match_compiler *c, const char *indicator_id,
                                          const char *pattern, size_t n, pk_error *err)
{
    (void)c;
    (void)indicator_id;
    (void)pattern;
    (void)n;
    return pk_error_set(err, PK_EUNSUPPORTED, "this build cannot read STIX patterns yet");
}

pk_status pki_patterns_prepare(pk_match_index *ix, pk_error *err)
{
    if (ix->h->n_patterns)
        return pk_error_set(err, PK_EUNSUPPORTED, "the index holds patterns this build cannot run");
    return PK_OK;
}

void pki_patterns_release(pk_match_index *ix)
{
    (void)ix;
}

pk_status pki_pat_scanner_init(pk_match_scanner *s, pk_error *err)
{
    (void)s;
    (void)err;
    return PK_OK;
}

void pki_pat_scanner_free(pk_match_scanner *s)
{
    (void)s;
}

void pki_pat_record_begin(pk_match_scanner *s)
{
    (void)s;
}

void pki_pat_candidate(pk_match_scanner *s, uint32_t ei, const char *field, const char *observed,
                       size_t olen)
{
    (void)s;
    (void)ei;
    (void)field;
    (void)observed;
    (void)olen;
}

void pki_pat_record_end(pk_match_scanner *s)
{
    (void)s;
}

void pki_pat_stream_reset(pk_match_scanner *s)
{
    (void)s;
}

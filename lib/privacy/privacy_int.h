/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by lib/privacy files and its unit tests; not public API. */
#ifndef PICKET_PRIVACY_INT_H
#define PICKET_PRIVACY_INT_H

#include "picket/privacy.h"

/*
 * OR-ed into a pk_voprf_mode, this swaps RFC 9497's contextString for the one
 * of draft-irtf-cfrg-voprf-09 ("VOPRF09-" || mode || I2OSP(0x0001, 2)).  It
 * exists only so that the tests can check the draft-09 vectors that
 * ../shared/data carries; nothing in the protocol uses it.
 */
#define PKI_VOPRF_DRAFT09 0x100

/* 1 when property name `k` is a reference (ends in _ref or _refs). */
int pki_is_ref_prop(const char *k);
/* When s (n bytes) is an RFC 3339 timestamp, write it cut to its day as
 * YYYY-MM-DDT00:00:00.000Z and return 1; else 0. */
int pki_cut_to_day(const char *s, size_t n, char out[PK_TIME_STRLEN]);

#endif

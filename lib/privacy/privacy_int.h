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

#endif

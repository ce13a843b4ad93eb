/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of lib/stix. */
#ifndef PK_STIX_IMPL_H
#define PK_STIX_IMPL_H

#include <stdio.h>
#include <stdlib.h>

#include "picket/stix.h"

struct pk_stix_report {
    pk_stix_issue *v;
    size_t n, cap, errors, warnings;
};

#endif /* PK_STIX_IMPL_H */

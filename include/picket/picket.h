/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picket.h: the umbrella header.  Include this one file to use the library;
 * each module's API is in its own header next to it.
 */
#ifndef PICKET_H
#define PICKET_H

#include "picket/version.h"
#include "picket/util.h"
#include "picket/stix.h"
#include "picket/store.h"
#include "picket/pattern.h"
#include "picket/privacy.h"
#include "picket/taxii.h"
#include "picket/match.h"

#endif /* PICKET_H */

/* SPDX-License-Identifier: Apache-2.0 */
/* The intake's release job, shared by `picket serve` (on a timer) and
 * `picket report release` (by hand or from cron). */
#ifndef PICKET_CLI_REPORT_RELEASE_H
#define PICKET_CLI_REPORT_RELEASE_H

#include "picket/picket.h"

/** The organisation released objects are written as. */
#define CLI_RELEASE_ORG "anonymous-intake"

/**
 * Publish what `in` has due (observables that k reports share) into the
 * TAXII collection `collection` (id or alias) of the store at `db_path`,
 * then mark it published.  `*sightings` gets the number of aggregated
 * sightings published.
 */
pk_status cli_report_release(pk_intake *in, const char *db_path, const char *collection,
                             size_t *sightings, pk_error *err);

/**
 * Move the reports waiting in the intake's inbox into the TAXII collection
 * `collection` (readable by the hosting organisation's analysts), in the
 * inbox's order (day, then random id), and remove them from the inbox.
 * Run on the same timer as the release, so the collection's date_added says
 * when the job ran, not when a report came.  `*moved` counts reports.
 */
pk_status cli_report_move_inbox(pk_intake *in, const char *db_path, const char *collection,
                                size_t *moved, pk_error *err);

#endif

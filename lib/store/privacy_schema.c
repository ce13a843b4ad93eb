/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anonymous intake's tables (lib/privacy/intake.c), as the store's
 * "privacy" schema module.  WITHOUT ROWID and keyed by hashes or random ids,
 * so that not even the order of submissions is kept.  Append steps; never
 * edit a released one.
 */
#include "store/store_impl.h"

const pki_migration pki_privacy_migrations[] = {
    {1, "CREATE TABLE IF NOT EXISTS privacy_meta(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS privacy_quota(org TEXT, epoch INTEGER, issued INTEGER,"
        " PRIMARY KEY(org, epoch)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS privacy_spent(hash BLOB PRIMARY KEY, epoch INTEGER)"
        " WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS privacy_inbox(id TEXT PRIMARY KEY, day TEXT, bundle TEXT)"
        " WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS privacy_posting(obs TEXT, report TEXT,"
        " PRIMARY KEY(obs, report)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS privacy_release(obs TEXT PRIMARY KEY, count INTEGER,"
        " published INTEGER, first_day TEXT) WITHOUT ROWID;"},
    {0, NULL},
};

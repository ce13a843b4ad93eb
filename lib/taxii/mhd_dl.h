/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd, opened when a server starts.  Only `picket serve` (and the
 * tests that start a server) need it; linked, it and the GnuTLS under it,
 * with nettle, hogweed, gmp, p11-kit, libtasn1, libidn2, libunistring and
 * libffi, loaded into every command: ~4 ms of every start, `picket match`
 * included.  The server calls the MHD_ names as usual: after this header
 * they name the members of the table pki_mhd_load fills.
 */
#ifndef PICKET_TAXII_MHD_DL_H
#define PICKET_TAXII_MHD_DL_H

#include <microhttpd.h>

#include "picket/util.h"

struct pki_mhd {
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_quiesce_daemon) quiesce_daemon;
    __typeof__(&MHD_get_daemon_info) get_daemon_info;
    __typeof__(&MHD_get_connection_info) get_connection_info;
    __typeof__(&MHD_get_connection_values) get_connection_values;
    __typeof__(&MHD_lookup_connection_value) lookup_connection_value;
    __typeof__(&MHD_create_response_from_buffer_with_free_callback)
        create_response_from_buffer_with_free_callback;
    __typeof__(&MHD_create_response_from_buffer_with_free_callback_cls)
        create_response_from_buffer_with_free_callback_cls;
    __typeof__(&MHD_add_response_header) add_response_header;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_destroy_response) destroy_response;
    __typeof__(&MHD_suspend_connection) suspend_connection;
    __typeof__(&MHD_resume_connection) resume_connection;
    __typeof__(&MHD_is_feature_supported) is_feature_supported;
    __typeof__(&MHD_get_version) get_version;
};

extern struct pki_mhd pki_mhd;

/* Load libmicrohttpd once (thread-safe); PK_EIO saying what is missing
 * when it cannot be. */
pk_status pki_mhd_load(pk_error *err);

#define MHD_start_daemon (pki_mhd.start_daemon)
#define MHD_stop_daemon (pki_mhd.stop_daemon)
#define MHD_quiesce_daemon (pki_mhd.quiesce_daemon)
#define MHD_get_daemon_info (pki_mhd.get_daemon_info)
#define MHD_get_connection_info (pki_mhd.get_connection_info)
#define MHD_get_connection_values (pki_mhd.get_connection_values)
#define MHD_lookup_connection_value (pki_mhd.lookup_connection_value)
#define MHD_create_response_from_buffer_with_free_callback                                         \
    (pki_mhd.create_response_from_buffer_with_free_callback)
#define MHD_create_response_from_buffer_with_free_callback_cls                                     \
    (pki_mhd.create_response_from_buffer_with_free_callback_cls)
#define MHD_add_response_header (pki_mhd.add_response_header)
#define MHD_queue_response (pki_mhd.queue_response)
#define MHD_destroy_response (pki_mhd.destroy_response)
#define MHD_suspend_connection (pki_mhd.suspend_connection)
#define MHD_resume_connection (pki_mhd.resume_connection)
#define MHD_is_feature_supported (pki_mhd.is_feature_supported)
#define MHD_get_version (pki_mhd.get_version)

#endif

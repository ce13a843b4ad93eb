# SPDX-License-Identifier: Apache-2.0
# picket serve end to end: the real server on a free loopback port, driven with
# urllib by tests/e2e/taxii_server.py (every endpoint, filter, error status,
# auth and TLP rule, paging under concurrent writers).  The server is always
# stopped by the script (try/finally) before it exits.
command -v python3 >/dev/null 2>&1 || { echo "SKIP taxii: python3 is not installed"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
exec python3 "$PK_SOURCE_DIR/tests/e2e/taxii_server.py"

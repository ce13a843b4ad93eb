# SPDX-License-Identifier: Apache-2.0
# picket serve end to end: the real server on a free loopback port, driven with
# libcurl (pycurl) by tests/e2e/taxii_server.py (every endpoint, filter, error
# status, auth and TLP rule, paging under concurrent writers).  The server is
# always stopped by the script (try/finally) before it exits.
# The Python used is the first on PATH that has pycurl, else Debian's own
# (scripts/deps.txt installs python3-pycurl for it).
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import pycurl' 2>/dev/null; then
        exec "$py" "$PK_SOURCE_DIR/tests/e2e/taxii_server.py"
    fi
done
echo "SKIP taxii: no python3 with pycurl (scripts/install-deps test installs python3-pycurl)"
echo "0 passed, 0 failed, 1 skipped"
exit 0

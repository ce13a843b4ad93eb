# SPDX-License-Identifier: Apache-2.0
# A small harness for tests that drive the picket binary from outside.
# Source it, call `check NAME CMD...` / `check_out NAME EXPECTED CMD...`, end with `finish`.
# Environment from ctest: PICKET (the binary), PK_SOURCE_DIR, PK_BINARY_DIR, PK_TEST_DATA.
set -u
: "${PICKET:?run through ctest (PICKET is the binary)}"
T_PASS=0 T_FAIL=0 T_SKIP=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/picket-e2e.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
ok() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; return 0; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $1: $2"; }
# expect_rc NAME RC CMD...: run CMD, require exit status RC; output kept in $T_TMP/out, $T_TMP/err.
expect_rc() {
    name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"; got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else
        not_ok "$name" "exit $got, expected $want: $*" "stderr: $(head -c 600 "$T_TMP/err")"; fi
}
# expect_file_eq NAME FILE EXPECTED_TEXT
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:      $2" "expected: $3"; fi
}
expect_contains() {
    case $2 in *"$3"*) ok "$1" ;; *) not_ok "$1" "missing: $3" "in: $(printf '%s' "$2" | head -c 600)" ;; esac
}
finish() {
    if [ "$T_SKIP" -gt 0 ]; then echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
    else echo "$T_PASS passed, $T_FAIL failed"; fi
    [ "$T_FAIL" -eq 0 ]
}

# SPDX-License-Identifier: Apache-2.0
# The command line itself: help, version, unknown commands and options, and
# that every subcommand is listed, documented in the man page and has --help.
. "$PK_SOURCE_DIR/tests/harness.sh"

expect_rc "no arguments is a usage error" 2 "$PICKET"
expect_contains "no arguments prints usage" "$(cat "$T_TMP/err")" "Usage: picket COMMAND"
expect_rc "--help succeeds" 0 "$PICKET" --help
help=$(cat "$T_TMP/out")
expect_contains "--help documents exit codes" "$help" "3  internal or store failure"
expect_rc "--version succeeds" 0 "$PICKET" --version
expect_eq "--version prints the version" "$(cut -d' ' -f1 "$T_TMP/out")" "picket"
expect_rc "unknown command exits 2" 2 "$PICKET" frobnicate
expect_eq "unknown command: one-line error and the hint" "$(cat "$T_TMP/err")" \
    "picket: unknown command 'frobnicate'
Try 'picket --help'."
expect_rc "unknown global option exits 2" 2 "$PICKET" --frob
expect_rc "help for an unknown command exits 2" 2 "$PICKET" help frobnicate

verbs=$(ls "$PK_SOURCE_DIR"/cli/cmd_*.c | sed 's|.*/cmd_||; s|\.c$||')
man="$PK_BINARY_DIR/picket.1"
for v in $verbs; do
    line=$(printf '%s\n' "$help" | grep -E "^  $v +[a-z]")
    if [ -n "$line" ]; then ok "--help lists $v"; else not_ok "--help lists $v"; fi
    expect_rc "picket $v --help succeeds" 0 "$PICKET" "$v" --help
    expect_contains "picket $v --help shows its usage" "$(cat "$T_TMP/out")" "Usage: picket $v"
    expect_rc "picket help $v succeeds" 0 "$PICKET" help "$v"
    expect_rc "picket $v rejects an unknown option" 2 "$PICKET" "$v" --no-such-option
    expect_eq "picket $v: unknown option message" "$(head -1 "$T_TMP/err")" \
        "picket $v: unknown option '--no-such-option'"
    if grep -q "^\.SS picket $v" "$man"; then ok "man page documents $v"; else not_ok "man page documents $v"; fi
done
"$PICKET" --version >"$T_TMP/v"
expect_eq "the man page names this version" "$(grep -m1 '^\.TH' "$man")" \
    ".TH PICKET 1 \"\" \"picket $(cut -d' ' -f2 "$T_TMP/v")\" \"User Commands\""
expect_rc "version --json" 0 "$PICKET" version --json
expect_contains "version --json has sqlite" "$(cat "$T_TMP/out")" '"sqlite":"3.'
expect_contains "version --json has pcre2" "$(cat "$T_TMP/out")" '"pcre2":"10.'
# libmicrohttpd and libcurl are opened at run time by the commands that need
# them: version finds both, and a command that needs neither loads neither
# (nor the TLS libraries under them)
expect_contains "version loads libmicrohttpd at run time" "$(cat "$T_TMP/out")" '"libmicrohttpd":"0.9.'
expect_contains "version loads libcurl at run time" "$(cat "$T_TMP/out")" '"libcurl":"'
LD_DEBUG=libs "$PICKET" --version >/dev/null 2>"$T_TMP/ld"
expect_eq "--version loads no HTTP or TLS library" \
    "$(grep -o 'libmicrohttpd[^ ]*\|libcurl[^ ]*\|libgnutls[^ ]*\|libhs[^ ]*' "$T_TMP/ld" | sort -u)" ""
finish

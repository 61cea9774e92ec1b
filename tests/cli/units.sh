#!/usr/bin/env bash
# Sizes the same way in every command: exact bytes when standard output is not a terminal
# (dump's summary too), binary units on a terminal unless --bytes.
set -uo pipefail
: "${MEMLENS:?}" "${ML_SOURCE_DIR:?}"
ML=$MEMLENS
PTY="/usr/bin/python3 $ML_SOURCE_DIR/tests/support/ptyrun.py"
fail() { echo "FAIL: $*"; exit 1; }
T=$(mktemp -d)
source "$ML_SOURCE_DIR/tests/support/cli.sh"
sleep 1000 &
SP=$!
ml_exec_done "$SP" sleep || fail "sleep did not start"
trap 'kill $SP 2>/dev/null; rm -rf "$T"' EXIT
HUMAN='[0-9](\.[0-9])?[KMGT]\b'

# dump's summary: "N captured (N data, N zero/unpopulated[, N unreadable]), N on disk"
SUM='captured \([0-9]+ data, [0-9]+ zero/unpopulated(, [0-9]+ unreadable)?\), [0-9]+ on disk'
"$ML" dump -o "$T/a.mlcore" "$SP" >"$T/o" || fail "dump exit $?"
grep -qE "; [0-9]+ $SUM" "$T/o" || fail "dump summary on a pipe is not in bytes: $(cat "$T/o")"
$PTY stdout "$T/o" "$T/e" "$ML" dump -o "$T/b.mlcore" "$SP" || fail "dump on a terminal exit $?"
grep -qE "$HUMAN captured" "$T/o" || fail "dump summary on a terminal is not in human units: $(cat "$T/o")"
$PTY stdout "$T/o" "$T/e" "$ML" dump --bytes -o "$T/c.mlcore" "$SP" || fail "dump --bytes on a terminal exit $?"
grep -qE "; [0-9]+ $SUM" "$T/o" || fail "dump --bytes on a terminal: $(cat "$T/o")"
# the summary's bytes are the snapshot's (core info says the same, in bytes on a pipe)
"$ML" dump -f -o "$T/a.mlcore" "$SP" >"$T/o" || fail "dump -f exit $?"
data=$(sed -nE 's/.* captured \(([0-9]+) data.*/\1/p' "$T/o")
grep -qE "^memory +data $data," <("$ML" core info "$T/a.mlcore") || fail "dump says $data bytes of data, core info: $("$ML" core info "$T/a.mlcore" | grep ^memory)"

# every table: no human units on a pipe; human units on a terminal
for c in "maps $SP" "pagemap $SP" "core info $T/a.mlcore" "info $SP"; do
  # shellcheck disable=SC2086
  # (the temporary directory's random name, which core info prints, can look like a size: 36T/)
  "$ML" $c | sed "s|$T|TMPDIR|g" >"$T/o" || fail "$c exit $?"
  grep -E "$HUMAN" "$T/o" | grep -vE '^(process|captured|notes|kernel)' | grep -qE "$HUMAN" \
    && fail "$c: human units on a pipe: $(grep -E "$HUMAN" "$T/o" | head -n 3)"
  # shellcheck disable=SC2086
  $PTY stdout "$T/o" "$T/e" "$ML" $c || fail "$c on a terminal exit $?"
  sed -i "s|$T|TMPDIR|g" "$T/o"
  grep -qE "$HUMAN" "$T/o" || fail "$c: no human units on a terminal: $(head -n 5 "$T/o")"
done
"$ML" wss -i 50ms "$SP" >"$T/o" 2>/dev/null || fail "wss exit $?"
tail -n 1 "$T/o" | grep -qE "$HUMAN" && fail "wss: human units on a pipe: $(tail -n 1 "$T/o")"
echo ok
